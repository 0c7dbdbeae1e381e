//! The deployment workflow (`workflows/deploy.toml`): its request check, its steps
//! over the engine, and the same steps run locally without a database for
//! `deployflow analyse` and `deployflow plan`. The only crate that knows the whole job.

mod analyse;
mod author;
pub mod build_network;
mod checkouts;
mod config;
pub mod docker;
mod error;
pub mod failures;
mod intake;
mod local;
mod memo;
pub mod plan;
mod preflight;
mod probe;
mod public_address;
mod run_network;
mod secrets;
mod steps;
pub mod terraform;

pub use analyse::{Analysed, analyse_snapshot};
pub use config::PipelineConfig;
pub use error::PipelineError;
pub use intake::{
    APP_ENV_SECRET, Accepted, DeployInput, DeployRequest, IntakeError, MAX_DESCRIPTION_CHARS,
    MAX_ENV_VALUE_LEN, MAX_ENV_VARIABLES, MAX_TOKEN_LEN, TOKEN_SECRET,
};
pub use local::LocalSource;
pub use repo::{CloneLimits, UrlPolicy};
pub use steps::{
    APPROVAL_SIGNAL, AWAITING_APPROVAL, ApplyOutput, Approval, CloneOutput, DENIED,
    DESTROY_WORKFLOW, DestroyInput, DestroyOutput, HealthOutput, PLANNED, Probe, REJECTED,
    StateReference, artifact_holds_secrets, register,
};
pub use terraform::{ApplyMode, HealthConfig, StateBackend, TerraformConfig};

/// The deployment workflow's name, as in `workflows/deploy.toml`.
pub const WORKFLOW: &str = "deploy";
