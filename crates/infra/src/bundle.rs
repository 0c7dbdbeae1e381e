//! The Docker bundle: what makes an analysed repository run with `make up` —
//! a Dockerfile (the repository's own, or one generated per language), a
//! compose file publishing the app on host port 8080, a Makefile — and the
//! list of every change made to the repository, with the reason for each.
//!
//! Paths in a [`Bundle`] are relative to the repository root: the bundle is
//! the checkout with [`Bundle::files`] written over it. Compose files resolve
//! their build contexts from their own directory, so an app in a monorepo
//! subdirectory is built from there.

mod added_stores;
mod app_files;
mod app_networks;
mod bind;
mod bind_mounts;
mod build_env;
mod build_isolation;
mod compose;
mod compose_plan;
mod compose_ports;
mod container_names;
mod dockerfile;
mod dockerignore;
mod dotenv_addresses;
mod env;
mod existing_compose;
mod fastcgi_front;
mod health;
mod host_access;
pub mod images;
mod kept_dockerfile;
mod launch;
pub(crate) use launch::holds_address;
mod makefile;
mod migrate;
mod missing_mounts;
mod mounted_packages;
mod node_orm;
mod normalise;
mod other_apps;
mod own_store_wiring;
mod own_stores;
mod plain_http;
mod plan;
mod postgres_layout;
mod secrets;
mod sql_dump;
mod start;
mod stores;
mod validate;
mod windows_mounts;
mod wrapper;
mod yaml;

use crate::InfraError;
use crate::choose::Choice;
use analysis::{Analysis, Snapshot};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use build_env::declared_args;
pub use build_isolation::{
    BuildFile, IsolatedBuilds, NO_HOST_ADDRESS, NO_PROXY_ARGS, PROXY_ARGS, engine_fetched_sources,
    isolate_builds, isolate_run, source_host,
};
pub use compose::HOST_PORT_VARIABLE;
pub use compose_plan::LocalStores;
pub use host_access::host_access;
pub use secrets::{KEY_BASE_BYTES, RANDOM_BYTES, generated_value};
pub use stores::password_variable;
pub use validate::validate_compose;

/// The host port every bundle publishes the app on.
pub const HOST_PORT: u16 = 8080;

/// The files that make a repository deployable, and what was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// Files to write over the repository checkout, by path relative to the
    /// repository root: added files and rewritten ones, whole.
    pub files: BTreeMap<String, String>,
    /// Every change, in the order made: files added, kept or rewritten, port
    /// mappings, bind-address fixes, environment variables introduced.
    pub adjustments: Vec<Adjustment>,
    /// The compose file `make up` runs.
    pub compose_file: String,
    /// The compose service that runs the app (the wrapper's, when wrapped).
    pub app_service: String,
    /// The port the app listens on in its container; host port 8080 maps to it.
    pub container_port: u16,
    /// The Dockerfile of the app's image, and its build context (`""` for
    /// the root): what the container service, serverless and Kubernetes
    /// targets build.
    pub dockerfile: String,
    pub build_context: String,
    /// Literal settings the app's container gets (port and bind address):
    /// targets that do not run compose must set them too.
    pub runtime_env: BTreeMap<String, String>,
    /// Variables compose refuses to start without (`${NAME:?…}`): the
    /// deployment must provide them, from a secret store or `.env`.
    pub required_variables: Vec<String>,
    /// The repository's own compose file runs unchanged in docker-in-docker.
    pub wrapped: bool,
    /// The `.env` variables whoever starts the bundle generates once and
    /// keeps with the deployment: the passwords of the stores the compose
    /// file runs (`DEPLOYFLOW_POSTGRES_PASSWORD`) and the keys the app signs
    /// with that nobody gave (`SECRET_KEY`); see [`generated_value`].
    #[serde(
        default,
        alias = "store_passwords",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub generated_secrets: Vec<String>,
    /// The container's command when the database is migrated before the
    /// app starts (`sh -c '<migration> && exec "$@"' sh <start…>`), for the
    /// targets that start the image without compose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_with_migration: Option<Vec<String>>,
    /// On a VM whose stores are managed: the compose file that runs them
    /// beside the app instead, which preflight starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_stores: Option<LocalStores>,
}

/// One change made to the repository, for the job's log and checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub kind: AdjustmentKind,
    /// The file concerned, relative to the repository root.
    pub path: String,
    /// Why, as a sentence a person can check.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdjustmentKind {
    /// A file that was not in the repository.
    Added,
    /// A repository file used as it is.
    Kept,
    /// A repository file changed (its new content is in the bundle).
    Rewritten,
    /// A published port added, changed or removed.
    PortMapping,
    /// A change that makes the app listen on all interfaces instead of loopback.
    BindFix,
    /// An environment variable introduced for the app.
    EnvVar,
    /// The repository's compose setup runs inside a docker-in-docker wrapper.
    Wrapper,
    /// Something a person should know that changed no file.
    Note,
}

impl std::fmt::Display for Adjustment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = serde_json::to_value(self.kind).map_err(|_| std::fmt::Error)?;
        let kind = kind.as_str().unwrap_or_default().to_owned();
        write!(f, "[{kind}] {}: {}", self.path, self.reason)
    }
}

/// How bundles are generated, beyond what the analysis and the target say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleOptions {
    /// Prepended to every base image a generated Dockerfile or compose file
    /// names (`registry.internal/dockerhub/`): a registry mirror, or an
    /// air-gapped network's own registry. Empty: the public registries.
    pub base_image_registry: String,
}

/// Builds the bundle for the app the analysis found in `repo`, for the
/// chosen target (serverless images also carry the Lambda Web Adapter).
/// Every compose file in the bundle validates against the Compose
/// Specification schema.
pub fn bundle(
    analysis: &Analysis,
    repo: &Snapshot,
    choice: &Choice,
    options: &BundleOptions,
) -> Result<Bundle, InfraError> {
    plan::build(analysis, repo, choice, options)
}
