//! The steps run in-process without a database, for `deployflow analyse` and
//! `deployflow plan`: the same functions the workflow's steps call.

use std::path::{Path, PathBuf};

use analysis::Snapshot;
use repo::{RepoUrl, SecretString};

use crate::config::PipelineConfig;
use crate::error::PipelineError;

/// A repository's files on this machine: a directory given as is, or a fresh clone
/// (removed when this is dropped).
pub struct LocalSource {
    pub path: PathBuf,
    /// The commit, when the source was cloned.
    pub commit: Option<String>,
    _clone_dir: Option<tempfile::TempDir>,
}

impl LocalSource {
    /// `source` is a directory, or a URL `config.url_policy` allows.
    pub async fn open(
        source: &str,
        git_ref: Option<&str>,
        token: Option<&SecretString>,
        config: &PipelineConfig,
    ) -> Result<Self, PipelineError> {
        let as_path = Path::new(source);
        if !source.contains("://") {
            if as_path.is_dir() {
                return Ok(Self {
                    path: as_path.to_owned(),
                    commit: None,
                    _clone_dir: None,
                });
            }
            return Err(PipelineError::Source(format!(
                "{source:?} is neither a directory nor a repository URL (https://github.com/<owner>/<repo>)"
            )));
        }
        let url = RepoUrl::parse(source, &config.url_policy)?;
        let clone_dir = tempfile::Builder::new()
            .prefix("deployflow-clone-")
            .tempdir()
            .map_err(|e| PipelineError::io("cannot create a directory for the clone", e))?;
        let cloned =
            repo::clone_repo(&url, git_ref, token, &config.clone_limits, clone_dir.path()).await?;
        Ok(Self {
            path: cloned.path,
            commit: Some(cloned.commit),
            _clone_dir: Some(clone_dir),
        })
    }

    pub async fn snapshot(&self, config: &PipelineConfig) -> Result<Snapshot, PipelineError> {
        Ok(repo::read_snapshot(&self.path, &config.snapshot_limits).await?)
    }
}
