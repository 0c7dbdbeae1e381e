//! The repo crate's one error type.
//!
//! Policy: the engine only asks [`RepoError::is_retryable`]. Whatever is a property of the
//! repository or of the request (URL refused, repository missing, credentials refused,
//! too large, a tree with paths git will not write, unknown ref, vanished commit) is
//! permanent: trying again gives the same
//! answer. The network, timeouts and the local disk are retryable, and so is a git
//! failure we could not class, since the engine bounds the attempts anyway.
//!
//! Messages reach users as the step's failure: they name the URL (which never carries
//! credentials, see [`crate::RepoUrl`]) and never the token. Details copied from gix are
//! scrubbed of the token before they are stored here.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("invalid repository URL: {0}")]
    InvalidUrl(String),

    #[error("repository {url} not found")]
    NotFound { url: String },

    #[error(
        "repository {url} is private or does not exist: the server asked for credentials and no access token was given"
    )]
    AuthRequired { url: String },

    #[error(
        "access to {url} was refused: the access token is wrong, expired or lacks read access to this repository"
    )]
    AuthRefused { url: String },

    #[error("invalid git reference {git_ref:?}: {reason}")]
    InvalidRef { git_ref: String, reason: String },

    #[error("reference {git_ref:?} not found in {url}")]
    RefNotFound { url: String, git_ref: String },

    #[error(
        "commit {commit} is no longer available from {url}: its history was rewritten or its branch deleted"
    )]
    CommitGone { url: String, commit: String },

    #[error("repository {url} is too large: {detail}")]
    TooLarge { url: String, detail: String },

    #[error("repository {url} cannot be checked out safely: {detail}")]
    UnsafeTree { url: String, detail: String },

    #[error(
        "{url} did not answer as a git repository (a redirect is never followed: a \
         renamed or moved repository needs its new URL)"
    )]
    NotARepository { url: String },

    #[error("cloning {url} timed out after {}s", .limit.as_secs_f32())]
    Timeout { url: String, limit: Duration },

    #[error("network error while cloning {url}: {detail}")]
    Network { url: String, detail: String },

    #[error("git error while cloning {url}: {detail}")]
    Git { url: String, detail: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot read the checkout: {0}")]
    Snapshot(#[from] analysis::AnalysisError),
}

impl RepoError {
    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Network { .. } | Self::Git { .. } | Self::Io { .. } => {
                true
            }
            Self::InvalidUrl(_)
            | Self::NotFound { .. }
            | Self::AuthRequired { .. }
            | Self::AuthRefused { .. }
            | Self::InvalidRef { .. }
            | Self::RefNotFound { .. }
            | Self::CommitGone { .. }
            | Self::TooLarge { .. }
            | Self::UnsafeTree { .. }
            | Self::NotARepository { .. }
            | Self::Snapshot(_) => false,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
