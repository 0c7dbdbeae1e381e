//! `clone` → Cloned: resolve the ref to a commit and record the file tree.

use std::sync::Arc;

use engine::{StepContext, StepError};
use repo::{RepoUrl, SecretString, TreeEntry};
use serde::{Deserialize, Serialize};

use super::Shared;
use crate::error::PipelineError;
use crate::intake::{DeployInput, TOKEN_SECRET};

/// Most tree entries the checkpoint keeps; the rest is counted, not listed.
const MAX_TREE_ENTRIES: usize = 2000;
/// How deep the checkpoint's tree goes.
const TREE_DEPTH: usize = 4;

/// The `clone` step's checkpoint: the commit every later step reads the code at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloneOutput {
    pub repo_url: String,
    pub commit: String,
    pub default_branch: Option<String>,
    pub git_ref: Option<String>,
    pub size_bytes: u64,
    pub file_count: usize,
    pub tree: Vec<TreeEntry>,
    #[serde(default)]
    pub tree_truncated: bool,
}

pub(super) async fn run(
    shared: Arc<Shared>,
    ctx: StepContext,
    input: DeployInput,
) -> Result<CloneOutput, StepError> {
    let config = &shared.config;
    let url = RepoUrl::parse(&input.repo_url, &config.url_policy).map_err(PipelineError::from)?;
    let token = job_token(&ctx).await?;
    tracing::info!(url = %url.as_str(), git_ref = ?input.git_ref, private = token.is_some(), "cloning");
    let span = tracing::info_span!("git.clone", url.full = %url.as_str(), git.ref = ?input.git_ref);
    let clone = repo::clone_repo(
        &url,
        input.git_ref.as_deref(),
        token.as_ref(),
        &config.clone_limits,
        &config.checkouts_dir,
    );
    let cloned = tokio::select! {
        cloned = tracing::Instrument::instrument(clone, span) => cloned.map_err(PipelineError::from)?,
        _ = ctx.cancellation.cancelled() => return Err(StepError::retryable("clone interrupted")),
    };
    crate::checkouts::touch(&cloned.path);
    let (dir, max_idle) = (config.checkouts_dir.clone(), config.checkout_max_idle);
    let pruned = tokio::task::spawn_blocking(move || crate::checkouts::prune(&dir, max_idle))
        .await
        .unwrap_or(0);
    if pruned > 0 {
        tracing::info!(
            pruned,
            "removed checkouts unused for over {}s",
            max_idle.as_secs()
        );
    }
    let snapshot = repo::read_snapshot(&cloned.path, &config.snapshot_limits)
        .await
        .map_err(PipelineError::from)?;
    let mut tree = repo::file_tree(&snapshot, TREE_DEPTH);
    let tree_truncated = tree.len() > MAX_TREE_ENTRIES;
    tree.truncate(MAX_TREE_ENTRIES);
    tracing::info!(
        commit = %cloned.commit, files = cloned.file_count, bytes = cloned.size_bytes,
        "cloned {} at {}", url.as_str(), &cloned.commit[..cloned.commit.len().min(12)]
    );
    Ok(CloneOutput {
        repo_url: url.as_str().to_owned(),
        commit: cloned.commit,
        default_branch: cloned.default_branch,
        git_ref: cloned.git_ref,
        size_bytes: cloned.size_bytes,
        file_count: cloned.file_count,
        tree,
        tree_truncated,
    })
}

/// The job's clone token, if it was submitted with one.
pub(super) async fn job_token(ctx: &StepContext) -> Result<Option<SecretString>, StepError> {
    Ok(ctx.secret(TOKEN_SECRET).await?.map(SecretString::from))
}

/// The checkout of the cloned commit on this machine: from the cache, or fetched again
/// (a resuming worker never relies on another worker's disk).
pub(super) async fn checkout(
    shared: &Shared,
    ctx: &StepContext,
) -> Result<std::path::PathBuf, StepError> {
    let cloned: CloneOutput = ctx.output_of("clone")?;
    let config = &shared.config;
    let url = RepoUrl::parse(&cloned.repo_url, &config.url_policy).map_err(PipelineError::from)?;
    let token = job_token(ctx).await?;
    let path = repo::materialise(
        &url,
        &cloned.commit,
        token.as_ref(),
        &config.clone_limits,
        &config.checkouts_dir,
    )
    .await
    .map_err(PipelineError::from)?;
    crate::checkouts::touch(&path);
    Ok(path)
}
