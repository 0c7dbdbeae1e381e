//! The tree `make up` runs in: the repository at the job's commit with the
//! bundle's files over it, unpacked from the same deterministic archive
//! `apply` builds.

use std::path::{Path, PathBuf};

use engine::{StepContext, StepError};

use super::Shared;
use super::clone::checkout;
use crate::error::PipelineError;
use crate::terraform::workdir;

/// Materialises the bundle under `dir` (emptied first); returns the tree.
pub(super) async fn materialise(
    shared: &Shared,
    ctx: &StepContext,
    dir: &Path,
) -> Result<PathBuf, StepError> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)
        .map_err(|e| PipelineError::io(format!("creating {}", dir.display()), e))?;
    let code = checkout(shared, ctx).await?;
    let bundle_files = ctx.artifacts_under(ctx.job_id, "bundle/").await?;
    let archive = workdir::write_bundle(dir, Some(&code), &bundle_files)?;
    let source = dir.join("source");
    workdir::unpack(&archive, &source)?;
    Ok(source)
}

/// The compose project of job `id` for `purpose` (`preflight`, or none for
/// the deployment itself): short, and the same on every worker.
pub(super) fn project_name(purpose: &str, id: uuid::Uuid) -> String {
    let short = &id.simple().to_string()[..12];
    if purpose.is_empty() {
        format!("deployflow-{short}")
    } else {
        format!("deployflow-{purpose}-{short}")
    }
}
