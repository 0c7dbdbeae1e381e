//! Clones repositories with gix under limits, and materialises a commit as a file snapshot.
//!
//! - [`RepoUrl::parse`] checks a URL against a [`UrlPolicy`] (pure, for 400s in the API).
//! - [`clone_repo`] makes a shallow checkout of a ref; [`materialise`] gives back exactly a
//!   checkpointed commit on any worker. Both run gix on a blocking thread under
//!   [`CloneLimits`], isolated from the machine's git configuration.
//! - [`read_snapshot`] turns a checkout into an [`analysis::Snapshot`] and [`file_tree`]
//!   into the clone checkpoint's tree.
//!
//! Tokens are [`SecretString`]s: sent only as HTTP Basic when the server asks, and never
//! written to a URL, the repository's config, a log line or an error.

mod classify;
mod clone;
mod disk_guard;
mod error;
mod fetch;
mod limits;
mod tree;
mod url;

use std::path::Path;

pub use analysis::{Snapshot, SnapshotLimits};
pub use clone::{Cloned, clone_repo, materialise};
pub use error::RepoError;
pub use limits::CloneLimits;
pub use secrecy::{ExposeSecret, SecretString};
pub use tree::{TreeEntry, file_tree};
pub use url::{RepoUrl, UrlPolicy};

/// Reads a checkout (see [`Cloned::path`]) into a snapshot, on a blocking thread.
/// Symlinks are not followed and `.git` is skipped.
pub async fn read_snapshot(
    checkout: &Path,
    limits: &SnapshotLimits,
) -> Result<Snapshot, RepoError> {
    let (checkout, limits) = (checkout.to_owned(), *limits);
    tokio::task::spawn_blocking(move || Snapshot::from_dir(&checkout, &limits))
        .await
        .map_err(|join| RepoError::io("reading the checkout failed", std::io::Error::other(join)))?
        .map_err(RepoError::from)
}
