//! Which repository URLs may be cloned. Parsing is pure and cheap so the API can answer
//! a bad URL with a 400 before a job exists; the clone itself re-uses the parsed value.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use crate::error::RepoError;

/// Longer URLs are never real repositories and only make error messages unwieldy.
const MAX_URL_LEN: usize = 2048;

/// The hosts and schemes a deployment may clone from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Host names (lower case, no port) that `https://` URLs may name.
    pub allowed_hosts: Vec<String>,
    /// Allows `file://` URLs and loopback hosts (`localhost`, `127.0.0.1`, `[::1]`), over
    /// `http://` too. For development and tests only: it lets a user read the worker's disk.
    pub allow_local: bool,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["github.com".to_owned()],
            allow_local: false,
        }
    }
}

/// A clone URL that passed a [`UrlPolicy`]. It carries no credentials: a token is always
/// passed separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoUrl {
    url: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Remote { host: String, https: bool },
    Local(PathBuf),
}

impl RepoUrl {
    /// Parses `input` and checks it against `policy`. The error says what is wrong and,
    /// for a host outside the list, how to widen it.
    pub fn parse(input: &str, policy: &UrlPolicy) -> Result<Self, RepoError> {
        let input = input.trim();
        check_characters(input)?;
        let Some((scheme, rest)) = input.split_once("://") else {
            return Err(reject(if looks_like_scp(input) {
                "ssh URLs are not supported; use https://".to_owned()
            } else {
                format!("{input:?} is not a URL; expected https://<host>/<owner>/<repo>")
            }));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "https" => parse_remote(rest, true, policy),
            "http" => parse_remote(rest, false, policy),
            "file" => parse_local(rest, policy),
            "ssh" | "git" | "git+ssh" | "ssh+git" => Err(reject(format!(
                "{scheme}:// URLs are not supported; use https://"
            ))),
            other => Err(reject(format!(
                "scheme {other:?} is not supported; use https://"
            ))),
        }
    }

    /// The normalised URL, as handed to git and stored in checkpoints.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The host of a network URL; `None` for `file://`.
    pub fn host(&self) -> Option<&str> {
        match &self.kind {
            Kind::Remote { host, .. } => Some(host),
            Kind::Local(_) => None,
        }
    }

    /// The directory of a `file://` URL.
    pub fn local_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Local(path) => Some(path),
            Kind::Remote { .. } => None,
        }
    }

    /// Whether a token may be sent to this URL's server: only over TLS, or to a loopback
    /// server that the policy admitted for tests.
    pub(crate) fn may_carry_credentials(&self) -> bool {
        match &self.kind {
            Kind::Remote { https, host } => *https || is_loopback(host),
            Kind::Local(_) => false,
        }
    }
}

impl fmt::Display for RepoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

fn reject(reason: String) -> RepoError {
    RepoError::InvalidUrl(reason)
}

fn check_characters(input: &str) -> Result<(), RepoError> {
    if input.is_empty() {
        return Err(reject("the repository URL is empty".to_owned()));
    }
    if input.len() > MAX_URL_LEN {
        return Err(reject(format!(
            "the URL is longer than {MAX_URL_LEN} characters"
        )));
    }
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(reject(
            "the URL contains whitespace or control characters".to_owned(),
        ));
    }
    if input.contains(['\\', '%']) {
        return Err(reject(
            "backslashes and percent-encoded characters are not allowed in repository URLs"
                .to_owned(),
        ));
    }
    if input.contains(['?', '#']) {
        return Err(reject(
            "a repository URL has no query or fragment; remove everything from '?' or '#'"
                .to_owned(),
        ));
    }
    Ok(())
}

/// `git@github.com:owner/repo.git`, the scp-like ssh form.
fn looks_like_scp(input: &str) -> bool {
    input
        .split_once(':')
        .is_some_and(|(head, _)| head.contains('@') && !head.contains('/'))
}

fn parse_remote(rest: &str, https: bool, policy: &UrlPolicy) -> Result<RepoUrl, RepoError> {
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(reject(
            "credentials in the URL are not allowed; pass the access token separately".to_owned(),
        ));
    }
    let (host, port) = split_host_port(authority)?;
    check_host(&host, https, policy)?;
    let path = normalise_path(path)?;
    if host == "github.com" {
        check_github_path(&path)?;
    }
    // The scheme's default port is dropped, as URL parsers do, so one
    // repository has one spelling.
    let default_port = if https { 443 } else { 80 };
    let authority = match port.filter(|p| *p != default_port) {
        Some(port) => format!("{}:{port}", bracket_ipv6(&host)),
        None => bracket_ipv6(&host),
    };
    let scheme = if https { "https" } else { "http" };
    Ok(RepoUrl {
        url: format!("{scheme}://{authority}{path}"),
        kind: Kind::Remote { host, https },
    })
}

fn parse_local(rest: &str, policy: &UrlPolicy) -> Result<RepoUrl, RepoError> {
    if !policy.allow_local {
        return Err(reject(
            "file:// URLs are not allowed: local repositories are disabled".to_owned(),
        ));
    }
    let Some(path) = rest.strip_prefix('/') else {
        return Err(reject(
            "a file:// URL needs an absolute path, as in file:///srv/repo".to_owned(),
        ));
    };
    let path = normalise_path(&format!("/{path}"))?;
    if path == "/" {
        return Err(reject(
            "a file:// URL must name a repository directory".to_owned(),
        ));
    }
    Ok(RepoUrl {
        url: format!("file://{path}"),
        kind: Kind::Local(PathBuf::from(path)),
    })
}

/// Splits `host[:port]` or `[v6][:port]`; the host comes back lower case without brackets.
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), RepoError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| reject("unterminated IPv6 address in the URL".to_owned()))?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(reject(format!("malformed host {authority:?}"))),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = port
        .map(|p| {
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| reject(format!("invalid port {p:?}")))
        })
        .transpose()?;
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err(reject("the URL has no host".to_owned()));
    }
    let valid = host.parse::<Ipv6Addr>().is_ok()
        || host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !valid {
        return Err(reject(format!("invalid host name {host:?}")));
    }
    Ok((host, port))
}

fn check_host(host: &str, https: bool, policy: &UrlPolicy) -> Result<(), RepoError> {
    let loopback = is_loopback(host);
    if loopback || host.parse::<IpAddr>().is_ok() || host.ends_with(".localhost") {
        if !policy.allow_local {
            return Err(reject(format!(
                "host {host} is a local or IP address, which is not allowed; allowed hosts: {}",
                allowed_list(policy)
            )));
        }
        if !loopback {
            return Err(reject(format!(
                "host {host}: only loopback addresses are allowed as IP hosts"
            )));
        }
        return Ok(());
    }
    if !https {
        return Err(reject(format!(
            "http:// is not allowed for {host}; use https://"
        )));
    }
    if !policy
        .allowed_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host))
    {
        return Err(reject(format!(
            "host {host} is not allowed; allowed hosts: {} (set ALLOWED_GIT_HOSTS to widen)",
            allowed_list(policy)
        )));
    }
    Ok(())
}

fn allowed_list(policy: &UrlPolicy) -> String {
    if policy.allowed_hosts.is_empty() {
        "none".to_owned()
    } else {
        policy.allowed_hosts.join(", ")
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Drops a trailing slash and duplicate slashes; refuses `.` and `..` segments so the
/// URL cannot climb out of the repository it names.
fn normalise_path(path: &str) -> Result<String, RepoError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err(reject(
            "'.' and '..' path segments are not allowed".to_owned(),
        ));
    }
    Ok(format!("/{}", segments.join("/")))
}

/// GitHub repositories live at exactly `/<owner>/<repo>`; anything else (a tree, a blob,
/// an organisation page) is a browser URL pasted by mistake.
fn check_github_path(path: &str) -> Result<(), RepoError> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let expected = || {
        reject(format!(
            "expected https://github.com/<owner>/<repo>, got a path of {path:?}"
        ))
    };
    let [owner, repo] = segments.as_slice() else {
        return Err(expected());
    };
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    let owner_ok = owner.len() <= 39
        && !owner.is_empty()
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let repo_ok = !matches!(repo, "" | "." | "..")
        && repo.len() <= 100
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if owner_ok && repo_ok {
        Ok(())
    } else {
        Err(expected())
    }
}
