//! Turns gix's errors into [`RepoError`]s the engine can act on. gix classes many of its
//! errors (`is_not_found`, `is_unauthenticated`, ...), but an HTTP 404 reaches us as an
//! unclassified `reqwest::Error`, so the status is looked up first.

use std::error::Error as StdError;

use secrecy::{ExposeSecret, SecretString};

use crate::error::RepoError;

/// Caps how much of gix's error chain is kept in a message shown to users.
const MAX_DETAIL_CHARS: usize = 600;

/// What was being attempted, for the error message and its class.
pub(crate) struct Attempt<'a> {
    pub url: &'a str,
    pub git_ref: Option<&'a str>,
    pub token: Option<&'a SecretString>,
}

impl Attempt<'_> {
    fn auth(&self) -> RepoError {
        let url = self.url.to_owned();
        match self.token {
            Some(_) => RepoError::AuthRefused { url },
            None => RepoError::AuthRequired { url },
        }
    }

    fn network(&self, err: &gix::Error) -> RepoError {
        RepoError::Network {
            url: self.url.to_owned(),
            detail: self.detail(err),
        }
    }

    /// gix's error chain as one line, without the token should any layer have echoed it.
    pub(crate) fn detail(&self, err: &gix::Error) -> String {
        let mut parts: Vec<String> = Vec::new();
        for part in err.iter_errors().map(|e| e.to_string()) {
            if !parts.iter().any(|seen| seen.contains(&part)) {
                parts.push(part);
            }
        }
        let mut detail = parts.join(": ");
        if let Some(token) = self
            .token
            .map(|t| t.expose_secret())
            .filter(|t| !t.is_empty())
        {
            detail = detail.replace(token, "***");
        }
        if detail.chars().count() > MAX_DETAIL_CHARS {
            detail = detail.chars().take(MAX_DETAIL_CHARS).collect::<String>() + "…";
        }
        detail
    }

    pub(crate) fn classify(&self, err: &gix::Error) -> RepoError {
        if let Some(reqwest) = find::<reqwest::Error>(err) {
            if let Some(status) = reqwest.status() {
                return match status.as_u16() {
                    401 | 403 => self.auth(),
                    404 | 410 => RepoError::NotFound {
                        url: self.url.to_owned(),
                    },
                    408 | 429 | 500.. => self.network(err),
                    _ => self.git(err),
                };
            }
            if reqwest.is_connect() || reqwest.is_timeout() || reqwest.is_request() {
                return self.network(err);
            }
        }
        // The handshake's answer was not git's: a redirect (never followed) or a web
        // page. The same URL will answer the same way.
        if self.detail(err).contains("x-git-upload-pack-advertisement") {
            return RepoError::NotARepository {
                url: self.url.to_owned(),
            };
        }
        // Not `is_permission_denied`: besides HTTP 403 (handled above) gix uses it for a
        // protocol the configuration forbids, which no token would fix.
        if err.is_unauthenticated() {
            return self.auth();
        }
        // git's upload-pack answers a want it will not serve (an unknown id, or an
        // unadvertised one in protocol v0) with "not our ref", which gix passes on as text.
        let refused_want = || self.detail(err).contains("not our ref");
        if let Some(git_ref) = self.git_ref
            && (err.is_not_found() || refused_want())
        {
            return RepoError::RefNotFound {
                url: self.url.to_owned(),
                git_ref: git_ref.to_owned(),
            };
        }
        if err.is_retryable() || has_transient_io(err) {
            return self.network(err);
        }
        self.git(err)
    }

    /// A commit whose tree gix will not index (an entry named `..`, `.git`, or holding a
    /// `/`): the commit never changes, so neither would a retry's answer.
    pub(crate) fn unsafe_tree(&self, err: &gix::Error) -> RepoError {
        RepoError::UnsafeTree {
            url: self.url.to_owned(),
            detail: self.detail(err),
        }
    }

    fn git(&self, err: &gix::Error) -> RepoError {
        RepoError::Git {
            url: self.url.to_owned(),
            detail: self.detail(err),
        }
    }
}

/// The first error of type `T` anywhere in `err`, including inside `std::io::Error`
/// payloads, whose `source()` skips the payload itself.
fn find<T: StdError + 'static>(err: &gix::Error) -> Option<&T> {
    err.iter_errors().find_map(|e| find_in(e))
}

fn find_in<'a, T: StdError + 'static>(mut err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    loop {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(payload) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(found) = find_in::<T>(payload)
        {
            return Some(found);
        }
        if let Some(inner) = err.downcast_ref::<gix::Error>()
            && let Some(found) = find::<T>(inner)
        {
            return Some(found);
        }
        err = err.source()?;
    }
}

fn has_transient_io(err: &gix::Error) -> bool {
    use std::io::ErrorKind::*;
    err.iter_errors()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|io| {
            matches!(
                io.kind(),
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | NotConnected
                    | TimedOut
                    | UnexpectedEof
                    | BrokenPipe
                    | HostUnreachable
                    | NetworkUnreachable
            )
        })
}
