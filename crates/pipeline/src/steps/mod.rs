//! The deployment workflow's step handlers, registered under the names
//! `workflows/deploy.toml` gives them.

mod analyse;
mod app_env;
mod apply;
mod bundle_dir;
mod choose;
mod clone;
mod destroy;
mod docker_host;
mod generate;
mod healthcheck;
mod image;
mod preflight;
mod scrub;
mod terraform_session;

use std::sync::Arc;

use engine::{Registry, typed, typed_outcome};

use crate::config::PipelineConfig;
use crate::intake::{DeployInput, DeployRequest};

pub use crate::probe::Probe;
pub use analyse::DENIED;
pub use apply::{
    APPROVAL_SIGNAL, AWAITING_APPROVAL, ApplyOutput, Approval, PLANNED, REJECTED, StateReference,
    artifact_holds_secrets,
};
pub use clone::CloneOutput;
pub use destroy::{DESTROY_WORKFLOW, DestroyInput, DestroyOutput};
pub use healthcheck::HealthOutput;

/// Registers every `deploy.*` handler, and the input check `POST /workflows/deploy/runs`
/// gets (the same fields `POST /request` takes, minus the token).
pub fn register(registry: &mut Registry, config: Arc<PipelineConfig>) {
    let model = config.llm.clone().map(|c| Arc::new(llm::Client::new(c)));
    let shared = Arc::new(Shared { config, model });
    let policy = shared.config.url_policy.clone();
    registry.validate_input::<DeployInput>(crate::WORKFLOW, move |input| {
        DeployRequest {
            repo_url: input.repo_url.clone(),
            description: input.description.clone(),
            git_ref: input.git_ref.clone(),
            github_token: None,
            approve_before_apply: input.approve_before_apply,
            env: Default::default(),
        }
        .validate(&policy)
        .map(|_| ())
        .map_err(|e| e.to_string())
    });
    // Each handler is its module's `run`, sharing the configuration and the model.
    macro_rules! register {
        ($($name:literal => $step:ident),* $(,)?) => {$(
            let s = shared.clone();
            registry.register($name, typed(move |ctx, input| $step::run(s.clone(), ctx, input)));
        )*};
    }
    register!(
        "deploy.clone" => clone,
        "deploy.analyse" => analyse,
        "deploy.choose" => choose,
        "deploy.generate" => generate,
        "deploy.preflight" => preflight,
        "deploy.healthcheck" => healthcheck,
        "deploy.destroy" => destroy,
    );
    // Apply may park the job for approval, or end it at the plan.
    let s = shared.clone();
    registry.register(
        "deploy.apply",
        typed_outcome(move |ctx, input| apply::run(s.clone(), ctx, input)),
    );
}

pub(crate) struct Shared {
    pub config: Arc<PipelineConfig>,
    pub model: Option<Arc<llm::Client>>,
}
