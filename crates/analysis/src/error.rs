//! Errors of the analysis crate.
//!
//! Policy: analysis itself never fails (a repository it does not understand is
//! a result, `http = false` with a reason). Only loading a snapshot from disk
//! can fail, and every error says which limit or path caused it so the caller
//! can show it to a person unchanged. All of these are permanent for the job:
//! retrying the same commit hits the same limit.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("repository has more than {limit} files (limit {limit})")]
    TooManyFiles { limit: usize },

    #[error("repository files total more than {limit} bytes (limit {limit})")]
    TooLarge { limit: u64 },

    #[error("{} is not a directory", path.display())]
    NotADirectory { path: PathBuf },

    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
