//! The blocking gix part of a clone: fetch, check the commit against the limits, check
//! it out. Runs on a blocking thread; `interrupt` stops it between objects and files.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::protocol::handshake::Ref;
use gix::protocol::transport::client::blocking_io::http;
use gix::remote::fetch::Shallow;
use secrecy::{ExposeSecret, SecretString};

use crate::CloneLimits;
use crate::classify::Attempt;
use crate::error::RepoError;
use crate::url::RepoUrl;

/// GitHub's documented user name for a fine-grained personal access token.
const TOKEN_USERNAME: &str = "x-access-token";

/// What to check out.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// The remote's default branch.
    Head,
    /// A branch or tag, short (`main`, `v1.2`) or full (`refs/tags/v1.2`).
    Ref(String),
    /// Exactly this commit, fetched by id.
    Commit(ObjectId),
}

impl Target {
    /// A full hexadecimal id selects a commit; anything else must be a valid ref name.
    pub(crate) fn parse(git_ref: Option<&str>) -> Result<Self, RepoError> {
        let Some(git_ref) = git_ref.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(Self::Head);
        };
        if git_ref.len() == 40 && git_ref.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Self::Commit(parse_commit(git_ref)?));
        }
        let invalid = |reason: &str| RepoError::InvalidRef {
            git_ref: git_ref.to_owned(),
            reason: reason.to_owned(),
        };
        if git_ref.starts_with('-') {
            return Err(invalid("a reference cannot start with '-'"));
        }
        <&gix::refs::PartialNameRef>::try_from(git_ref)
            .map_err(|_| invalid("not a valid branch or tag name"))?;
        Ok(Self::Ref(git_ref.to_owned()))
    }

    fn name(&self) -> Option<String> {
        match self {
            Self::Head => None,
            Self::Ref(name) => Some(name.clone()),
            Self::Commit(id) => Some(id.to_string()),
        }
    }
}

pub(crate) fn parse_commit(sha: &str) -> Result<ObjectId, RepoError> {
    let invalid = || RepoError::InvalidRef {
        git_ref: sha.to_owned(),
        reason: "expected a full 40-character commit id".to_owned(),
    };
    if sha.len() != 40 {
        return Err(invalid());
    }
    ObjectId::from_hex(sha.to_ascii_lowercase().as_bytes()).map_err(|_| invalid())
}

/// One shallow (depth 1) fetch-and-checkout.
pub(crate) struct Request<'a> {
    pub url: &'a RepoUrl,
    pub target: Target,
    pub token: Option<&'a SecretString>,
    pub limits: &'a CloneLimits,
}

/// A finished checkout.
#[derive(Debug)]
pub(crate) struct Checkout {
    pub commit: ObjectId,
    pub default_branch: Option<String>,
    pub git_ref: Option<String>,
    pub size_bytes: u64,
    pub file_count: usize,
}

/// Clones into `dest`, which must not exist or be empty. gix removes it again when the
/// clone fails.
pub(crate) fn clone_into(
    dest: &Path,
    req: &Request<'_>,
    interrupt: &AtomicBool,
) -> Result<Checkout, RepoError> {
    let git_ref = req.target.name();
    let attempt = Attempt {
        url: req.url.as_str(),
        git_ref: git_ref.as_deref(),
        token: req.token,
    };
    let gix_err = |err: gix::Error| attempt.classify(&err);

    let mut prepare = prepare(dest, req).map_err(gix_err)?;
    let (mut checkout, outcome) = prepare
        .fetch_then_checkout(gix::progress::Discard, interrupt)
        .map_err(gix_err)?;
    let repo = checkout.repo();
    let commit = repo.head_id().map_err(gix_err)?.detach();
    let tree = tree_of(repo, commit).map_err(gix_err)?;
    let index = repo
        .index_from_tree(&tree)
        .map_err(|err| attempt.unsafe_tree(&err))?;
    let (file_count, size_bytes) = measure(repo, &index).map_err(gix_err)?;
    check_limits(req, file_count, size_bytes)?;

    checkout
        .main_worktree(gix::progress::Discard, interrupt)
        .map_err(gix_err)?;
    if interrupt.load(Ordering::Relaxed) {
        return Err(RepoError::Git {
            url: req.url.to_string(),
            detail: "the checkout was interrupted".to_owned(),
        });
    }
    let refs = &outcome.ref_map.remote_refs;
    Ok(Checkout {
        commit,
        default_branch: default_branch(refs),
        git_ref: resolved_ref(&req.target, refs),
        size_bytes,
        file_count,
    })
}

fn prepare(dest: &Path, req: &Request<'_>) -> Result<gix::clone::PrepareFetch, gix::Error> {
    // Symlinks are written as plain files holding the link text: nothing in the checkout
    // can point out of it, whoever reads it later.
    let fs_capabilities = gix::fs::Capabilities {
        symlink: false,
        ..gix::fs::Capabilities::probe_dir(dest.parent().unwrap_or(dest))
    };
    let create = gix::create::Options {
        destination_must_be_empty: Some(true),
        fs_capabilities: Some(fs_capabilities),
        object_hash: None,
    };
    // Isolated: no system, global or environment configuration, so nothing on this
    // machine (filter drivers, credential helpers, proxies, url rewrites) takes part.
    let open = gix::open::Options::isolated().config_overrides(config_overrides(req.url));
    let mut prepare = gix::clone::PrepareFetch::new(
        req.url.as_str(),
        dest,
        gix::create::Kind::WithWorktree,
        create,
        open,
    )?;
    prepare = match &req.target {
        Target::Head => prepare,
        Target::Ref(name) => prepare.with_ref_name(Some(name.as_str()))?,
        Target::Commit(id) => prepare.with_revision(Some(id.to_string()))?,
    };
    prepare = prepare.with_shallow(Shallow::DepthAtRemote(NonZeroU32::MIN));
    let credentials = Credentials::new(req);
    let timeout = req.limits.timeout;
    Ok(prepare.configure_connection(move |connection| {
        connection.set_credentials(credentials.callback());
        set_http_options(connection, timeout)
    }))
}

fn config_overrides(url: &RepoUrl) -> Vec<String> {
    let scheme = url.as_str().split("://").next().unwrap_or_default();
    vec![
        "core.symlinks=false".to_owned(),
        // Only the scheme the URL policy admitted, even across redirects.
        "protocol.allow=never".to_owned(),
        format!("protocol.{scheme}.allow=always"),
        // gix follows the handshake's redirect to any host, but the URL policy checked
        // only the one in the URL: a 302 to 169.254.169.254 would be fetched from inside
        // the network. A redirect is an error instead (a renamed repository needs its
        // new URL).
        "http.followRedirects=false".to_owned(),
        "http.userAgent=deployflow".to_owned(),
    ]
}

/// gix's reqwest client has a 30 s total timeout by default, too short for a large
/// clone and unrelated to ours; it is set to the clone's own bound so the blocking
/// thread also ends when a server stalls.
fn set_http_options(
    connection: &mut gix::remote::Connection<
        '_,
        '_,
        '_,
        Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>,
    >,
    timeout: Duration,
) -> gix::Result {
    let remote = connection.remote();
    let Some(url) = remote.url(gix::remote::Direction::Fetch) else {
        return Ok(());
    };
    let Some(mut options) = remote
        .repo()
        .transport_options(url.to_bstring().as_bstr(), None)?
    else {
        return Ok(());
    };
    if let Some(http_options) = options.downcast_mut::<http::Options>() {
        let connect_timeout = timeout.min(Duration::from_secs(15));
        let backend = http::reqwest::Options {
            configure_client: Some(Box::new(move |builder| {
                Ok(builder.timeout(timeout).connect_timeout(connect_timeout))
            })),
            configure_request: None,
        };
        http_options.backend = Some(Arc::new(Mutex::new(backend)));
        connection.set_transport_options(options);
    }
    Ok(())
}

/// Answers the server's request for credentials with the token, as HTTP Basic. gix asks
/// only after a 401, so public repositories never see the token.
#[derive(Clone)]
struct Credentials {
    token: Option<SecretString>,
    /// The host the URL policy admitted; a redirect elsewhere gets no token.
    host: Option<String>,
}

impl Credentials {
    fn new(req: &Request<'_>) -> Self {
        Self {
            token: req
                .token
                .filter(|_| req.url.may_carry_credentials())
                .cloned(),
            host: req.url.host().map(str::to_owned),
        }
    }

    fn callback(
        &self,
    ) -> impl FnMut(
        gix::credentials::helper::Action,
    ) -> gix::Result<Option<gix::credentials::protocol::Outcome>>
    + 'static {
        let this = self.clone();
        move |action| {
            let gix::credentials::helper::Action::Get(context) = action else {
                // Store/Erase: there is no credential store to update.
                return Ok(None);
            };
            let (Some(token), true) = (&this.token, this.same_host(&context)) else {
                return Ok(None);
            };
            Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: TOKEN_USERNAME.to_owned(),
                    password: token.expose_secret().to_owned(),
                    oauth_refresh_token: None,
                },
                next: context.into(),
            }))
        }
    }

    fn same_host(&self, context: &gix::credentials::protocol::Context) -> bool {
        let asked = context
            .url
            .as_ref()
            .and_then(|url| gix::url::parse(url.as_bstr()).ok())
            .and_then(|url| url.host().map(str::to_ascii_lowercase));
        let host = self.host.as_deref().map(|h| h.trim_matches(['[', ']']));
        asked.as_deref().map(|h| h.trim_matches(['[', ']'])) == host && host.is_some()
    }
}

fn tree_of(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId, gix::Error> {
    Ok(repo.find_commit(commit)?.tree_id()?.detach())
}

/// Files (symlinks included, submodules not) and their total size in a commit's tree
/// (as an index), from object headers: known before a single file is written.
fn measure(repo: &gix::Repository, index: &gix::index::State) -> Result<(usize, u64), gix::Error> {
    use gix::index::entry::Mode;
    let mut files = 0;
    let mut bytes = 0;
    for entry in index.entries() {
        if matches!(
            entry.mode,
            Mode::FILE | Mode::FILE_EXECUTABLE | Mode::SYMLINK
        ) {
            files += 1;
            bytes += repo.find_header(entry.id)?.size();
        }
    }
    Ok((files, bytes))
}

fn check_limits(req: &Request<'_>, files: usize, bytes: u64) -> Result<(), RepoError> {
    let limits = req.limits;
    let detail = if files > limits.max_files {
        format!("{files} files, more than the limit of {}", limits.max_files)
    } else if bytes > limits.max_bytes {
        format!(
            "{bytes} bytes of files, more than the limit of {}",
            limits.max_bytes
        )
    } else {
        return Ok(());
    };
    Err(RepoError::TooLarge {
        url: req.url.to_string(),
        detail,
    })
}

/// The branch the remote's HEAD names, when the server said (a clone of a given ref
/// may not be told).
fn default_branch(refs: &[Ref]) -> Option<String> {
    refs.iter().find_map(|r| match r {
        Ref::Symbolic {
            full_ref_name,
            target,
            ..
        }
        | Ref::Unborn {
            full_ref_name,
            target,
        } if full_ref_name == "HEAD" => target
            .to_str()
            .ok()
            .map(|t| t.strip_prefix("refs/heads/").unwrap_or(t).to_owned()),
        _ => None,
    })
}

/// The full name of the ref that was checked out: as git does, a short name is a
/// branch before it is a tag.
fn resolved_ref(target: &Target, refs: &[Ref]) -> Option<String> {
    let has = |name: &str| refs.iter().any(|r| r.unpack().0 == name);
    match target {
        Target::Commit(_) => None,
        Target::Head => refs.iter().find_map(|r| match r {
            Ref::Symbolic {
                full_ref_name,
                target,
                ..
            } if full_ref_name == "HEAD" => target.to_str().ok().map(str::to_owned),
            _ => None,
        }),
        Target::Ref(name) if name.starts_with("refs/") => Some(name.clone()),
        Target::Ref(name) => [format!("refs/heads/{name}"), format!("refs/tags/{name}")]
            .into_iter()
            .find(|full| has(full))
            .or_else(|| Some(name.clone())),
    }
}
