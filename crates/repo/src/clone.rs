//! The async entry points: clone a repository, or re-materialise a checkpointed commit.
//!
//! Checkouts live in a directory keyed by commit id (`<dir>/<sha>`), written under a
//! temporary name and renamed into place when complete: a present `<sha>` directory is
//! always a whole checkout of that commit, so [`clone_repo`] and [`materialise`] given
//! the same directory share it as a cache. Treat checkouts as read-only.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gix::ObjectId;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::disk_guard::DiskGuard;
use crate::error::RepoError;
use crate::fetch::{self, Checkout, Request, Target};
use crate::{CloneLimits, RepoUrl};

/// The outcome of [`clone_repo`]: what the clone checkpoint records, plus where the
/// checkout is on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cloned {
    /// Full hexadecimal id of the checked-out commit.
    pub commit: String,
    /// The remote's default branch (`main`), when the server said.
    pub default_branch: Option<String>,
    /// Full name of the checked-out ref (`refs/heads/main`, `refs/tags/v1`); `None` when
    /// a commit id was asked for.
    pub git_ref: Option<String>,
    /// The checkout; `<workdir>/<commit>`.
    pub path: PathBuf,
    /// Total size of the commit's files.
    pub size_bytes: u64,
    pub file_count: usize,
}

/// Clones `url` at `git_ref` (a branch, tag or full commit id; the default branch when
/// `None`), depth 1, into `<workdir>/<commit>`. `token` is sent as HTTP Basic only if the
/// server asks for credentials. Never follows symlinks, runs no hooks, filters or
/// submodules.
pub async fn clone_repo(
    url: &RepoUrl,
    git_ref: Option<&str>,
    token: Option<&SecretString>,
    limits: &CloneLimits,
    workdir: &Path,
) -> Result<Cloned, RepoError> {
    let target = Target::parse(git_ref)?;
    let job = Job::new(url, token, limits, workdir)?;
    let (staging, checkout) = job
        .run(move |job, dest, interrupt| job.fetch(dest, target, interrupt))
        .await?;
    let path = publish(staging, workdir, &checkout.commit.to_string())?;
    tracing::info!(
        repo.url = %url,
        repo.commit = %checkout.commit,
        repo.files = checkout.file_count,
        repo.size_bytes = checkout.size_bytes,
        "repository cloned"
    );
    Ok(Cloned {
        commit: checkout.commit.to_string(),
        default_branch: checkout.default_branch,
        git_ref: checkout.git_ref,
        path,
        size_bytes: checkout.size_bytes,
        file_count: checkout.file_count,
    })
}

/// A checkout of exactly `commit_sha`, as a resuming worker needs it: from `cache_dir`
/// when a previous clone left it there, else fetched again by id at depth 1.
///
/// Fetching by id needs no ref: over smart HTTP git's upload-pack (what GitHub, GitLab
/// and Gitea run) serves any commit reachable from one of its refs however far the
/// branch has moved on, and in protocol v2 any commit it still stores. A commit it
/// refuses is reachable from no ref, so no wider fetch could find it either:
/// [`RepoError::CommitGone`], permanently.
pub async fn materialise(
    url: &RepoUrl,
    commit_sha: &str,
    token: Option<&SecretString>,
    limits: &CloneLimits,
    cache_dir: &Path,
) -> Result<PathBuf, RepoError> {
    let commit = fetch::parse_commit(commit_sha)?;
    let cached = cache_dir.join(commit.to_string());
    if is_checkout_of(&cached, commit).await {
        return Ok(cached);
    }
    let job = Job::new(url, token, limits, cache_dir)?;
    let (staging, _) = job
        .run(move |job, dest, interrupt| {
            job.fetch(dest, Target::Commit(commit), interrupt)
                .map_err(|err| match err {
                    RepoError::RefNotFound { url, .. } => RepoError::CommitGone {
                        url,
                        commit: commit.to_string(),
                    },
                    other => other,
                })
        })
        .await?;
    publish(staging, cache_dir, &commit.to_string())
}

/// Everything one blocking clone needs, owned so it can move to the blocking thread.
struct Job {
    url: RepoUrl,
    token: Option<SecretString>,
    limits: CloneLimits,
    staging: tempfile::TempDir,
}

impl Job {
    fn new(
        url: &RepoUrl,
        token: Option<&SecretString>,
        limits: &CloneLimits,
        workdir: &Path,
    ) -> Result<Self, RepoError> {
        if let Some(path) = url.local_path()
            && !path.is_dir()
        {
            return Err(RepoError::NotFound {
                url: url.to_string(),
            });
        }
        std::fs::create_dir_all(workdir)
            .map_err(|e| RepoError::io(format!("cannot create {}", workdir.display()), e))?;
        let staging = tempfile::Builder::new()
            .prefix(".clone-")
            .tempdir_in(workdir)
            .map_err(|e| {
                RepoError::io(
                    format!("cannot create a directory in {}", workdir.display()),
                    e,
                )
            })?;
        Ok(Self {
            url: url.clone(),
            token: token.cloned(),
            limits: *limits,
            staging,
        })
    }

    /// Runs `work` on a blocking thread under the time limit, with the disk guard
    /// watching the staging directory. Returns the staging directory holding the
    /// checkout in its `checkout` subdirectory.
    async fn run<T, F>(self, work: F) -> Result<(tempfile::TempDir, T), RepoError>
    where
        T: Send + 'static,
        F: FnOnce(&Job, &Path, &AtomicBool) -> Result<T, RepoError> + Send + 'static,
    {
        let interrupt = Arc::new(AtomicBool::new(false));
        // Dropping the future (a cancelled step) or timing out stops the blocking work.
        let _stop_on_exit = InterruptOnDrop(interrupt.clone());
        let (url, limit) = (self.url.to_string(), self.limits.timeout);
        let task = tokio::task::spawn_blocking({
            let interrupt = interrupt.clone();
            move || {
                let dest = self.staging.path().join("checkout");
                // The pack lands in `.git`; the checked-out files are bounded exactly,
                // before they are written, by the commit's tree.
                let guard =
                    DiskGuard::watch(dest.join(".git"), self.limits.max_bytes, interrupt.clone());
                let result = work(&self, &dest, &interrupt);
                if let Some(size) = guard.exceeded() {
                    return Err(RepoError::TooLarge {
                        url: self.url.to_string(),
                        detail: format!(
                            "the download reached {size} bytes, more than the limit of {}",
                            self.limits.max_bytes
                        ),
                    });
                }
                result.map(|value| (self.staging, value))
            }
        });
        match tokio::time::timeout(limit, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(RepoError::Git {
                url,
                detail: format!("the clone task failed: {join}"),
            }),
            Err(_) => Err(RepoError::Timeout { url, limit }),
        }
    }

    fn fetch(
        &self,
        dest: &Path,
        target: Target,
        interrupt: &AtomicBool,
    ) -> Result<Checkout, RepoError> {
        let request = Request {
            url: &self.url,
            target,
            token: self.token.as_ref(),
            limits: &self.limits,
        };
        fetch::clone_into(dest, &request, interrupt)
    }
}

struct InterruptOnDrop(Arc<AtomicBool>);

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Moves the finished checkout to `<dir>/<sha>`. If another clone of the same commit got
/// there first, that one is kept: a commit's files never differ.
fn publish(staging: tempfile::TempDir, dir: &Path, sha: &str) -> Result<PathBuf, RepoError> {
    let target = dir.join(sha);
    match std::fs::rename(staging.path().join("checkout"), &target) {
        Ok(()) => Ok(target),
        Err(_) if target.join(".git").is_dir() => Ok(target),
        Err(e) => Err(RepoError::io(
            format!("cannot move the checkout to {}", target.display()),
            e,
        )),
    }
}

/// Whether `dir` is a checkout whose HEAD is `commit`. Only complete checkouts are ever
/// renamed into the cache, so HEAD is all there is to check.
async fn is_checkout_of(dir: &Path, commit: ObjectId) -> bool {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        gix::open_opts(&dir, gix::open::Options::isolated())
            .ok()
            .and_then(|repo| repo.head_id().ok().map(|id| id.detach()))
            == Some(commit)
    })
    .await
    .unwrap_or(false)
}
