//! `apply` → Applied: the policy gate, `terraform init`, a saved plan (parked for
//! approval when asked), the app image of the image targets, `apply` of that
//! plan, `output -json`.
//!
//! Apply is a state machine over one fenced record ([`progress`]): each phase
//! is a small function that reads what the earlier ones kept and returns the
//! next phase, which is saved before the machine moves on. Everything a later
//! attempt needs is in the database: the record, the plan file and its summary
//! (artifacts), the approval (a signal), the state (the `pg` backend, or a
//! local file copied into the artifacts).

mod approval;
mod gate;
mod progress;
mod push;
mod saved_plan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine::{StepContext, StepError, StepOutcome};
use infra::choose::{Choice, Target};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::Shared;
use super::clone::checkout;
use super::terraform_session::Session;
use crate::intake::DeployInput;
use crate::terraform::ApplyMode;
use crate::terraform::plan::PlanSummary;
use crate::terraform::workdir::{self, BUNDLE_ARCHIVE};

pub use super::terraform_session::StateReference;
pub(super) use gate::refused;
pub use progress::PushedImage;
use progress::{Progress, SavedPlan};
pub(super) use saved_plan::IMAGE_TAG_ARTIFACT;

/// The state a job ends in when apply is skipped.
pub const PLANNED: &str = "Planned";
/// The state a job waits in for `POST /job/{id}/approve`.
pub const AWAITING_APPROVAL: &str = "AwaitingApproval";
/// The state a rejected job ends in.
pub const REJECTED: &str = "Rejected";
/// The signal an approval or rejection is delivered as.
pub const APPROVAL_SIGNAL: &str = "approval";

/// The app's keys generated for it (nobody gave them), each sealed: every
/// later plan and apply passes the same values.
pub(super) const GENERATED_ARTIFACT: &str = "app-env/generated.sealed.json";

/// Whether a job's artifact can hold the deployment's secrets: a saved plan
/// or Terraform state carries every sensitive value in the clear.
pub fn artifact_holds_secrets(path: &str) -> bool {
    ["plan/", "state/"].iter().any(|dir| path.starts_with(dir)) || path.ends_with(".tfstate")
}

/// The `apply` step's checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyOutput {
    pub app_url: Option<String>,
    /// Non-sensitive outputs by name; sensitive ones are listed, not shown.
    pub outputs: serde_json::Map<String, Value>,
    pub sensitive_outputs: Vec<String>,
    pub plan: PlanSummary,
    pub state: StateReference,
    /// A second plan was needed because an earlier attempt applied part of the first.
    pub replanned: bool,
    /// The app image the deployment runs (image targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<PushedImage>,
}

/// What approval said.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Approval {
    pub approved: bool,
    #[serde(default)]
    pub comment: Option<String>,
}

/// What every phase of one attempt works with.
struct Attempt<'a> {
    shared: &'a Shared,
    ctx: &'a StepContext,
    choice: &'a Choice,
    /// The Terraform working directory.
    dir: PathBuf,
    /// The repository's checkout.
    code: PathBuf,
    bundle: PathBuf,
    bundle_files: Vec<(String, Vec<u8>)>,
    /// The app's variable values: given with the job, and generated keys.
    values: BTreeMap<String, String>,
    session: Session<'a>,
}

pub(super) async fn run(
    shared: Arc<Shared>,
    ctx: StepContext,
    input: DeployInput,
) -> Result<StepOutcome<ApplyOutput>, StepError> {
    let tf = &shared.config.terraform;
    let choice: Choice = ctx.output_of("choose")?;
    if choice.target == Target::DockerHost {
        return super::docker_host::apply(&shared, &ctx).await;
    }
    if let ApplyMode::PlanOnly { reason } = &tf.mode {
        let message = format!(
            "apply skipped: {reason}. The Docker bundle and Terraform are the job's artifacts \
             (GET /job/{}/artifacts)",
            ctx.job_id
        );
        ctx.info(&message);
        return Ok(StepOutcome::finish_in(PLANNED, message));
    }
    let mut progress = Progress::load(&ctx).await?;
    if let Some(found) = &progress {
        ctx.info(format!(
            "an earlier attempt got as far as {}",
            found.phase()
        ));
    }
    let image_tag = match &progress {
        Some(found) => found.plan().image_tag.clone(),
        None => fresh_image_tag(&ctx.output_of::<crate::CloneOutput>("clone")?.commit),
    };
    let attempt = Attempt::prepare(&shared, &ctx, &choice, &image_tag).await?;
    loop {
        let next = match progress {
            None => Progress::Planned {
                plan: saved_plan::make(&attempt, image_tag.clone()).await?,
            },
            Some(Progress::Planned { plan }) => {
                ctx.info(format!("plan: {}", plan.summary.describe()));
                let asked = input.approve_before_apply;
                match approval::decide(&ctx, &choice, tf, asked, &plan.summary).await? {
                    approval::Decision::Wait(why) => {
                        return Ok(StepOutcome::wait_in(AWAITING_APPROVAL, why));
                    }
                    approval::Decision::Approved => Progress::Approved { plan },
                }
            }
            Some(Progress::Approved { plan }) if choice.target == Target::Vm => {
                // The VM builds its image itself, from the uploaded bundle.
                Progress::Applying {
                    plan,
                    image: None,
                    attempt: ctx.attempt,
                }
            }
            Some(Progress::Approved { plan }) => {
                let image = push::push_image(&attempt, &plan).await?;
                Progress::ImagePushed { plan, image }
            }
            Some(Progress::ImagePushed { plan, image }) => Progress::Applying {
                plan,
                image: Some(image),
                attempt: ctx.attempt,
            },
            Some(Progress::Applying {
                plan,
                image,
                attempt: started_in,
            }) => {
                let interrupted = started_in != ctx.attempt;
                let replanned = saved_plan::apply(&attempt, &plan, interrupted).await?;
                Progress::Applied {
                    plan,
                    image,
                    replanned,
                }
            }
            Some(Progress::Applied {
                plan,
                image,
                replanned,
            }) => return attempt.finish(plan, image, replanned).await,
        };
        next.save(&ctx).await?;
        progress = Some(next);
    }
}

impl<'a> Attempt<'a> {
    /// The working directory (gated again: its files come from the database),
    /// the checkout and bundle, the app's values, and an initialised session.
    async fn prepare(
        shared: &'a Shared,
        ctx: &'a StepContext,
        choice: &'a Choice,
        image_tag: &str,
    ) -> Result<Self, StepError> {
        let tf = &shared.config.terraform;
        let files = ctx.artifacts_under(ctx.job_id, "terraform/").await?;
        let dir = workdir::prepare(&tf.work_dir, ctx.job_id, &files, &tf.state)?;
        let job_id = ctx.job_id.to_string();
        gate::gate(&dir, choice, &job_id, &tf.state)?;
        let code = checkout(shared, ctx).await?;
        let bundle_files = ctx.artifacts_under(ctx.job_id, "bundle/").await?;
        let bundle = workdir::write_bundle(&dir, Some(&code), &bundle_files)?;
        let variables = match choice.target {
            Target::Vm => vec![bundle_variable(&bundle)],
            _ => vec![format!(
                "-var={}={image_tag}",
                infra::terraform::IMAGE_TAG_VARIABLE
            )],
        };
        let values = app_values(ctx, choice).await?;
        let session = Session::new(tf, ctx, dir.clone(), ctx.job_id, variables)
            .with_app_env(&values)
            .with_plan_gate(gate::gate_policy(choice, &job_id, &tf.state));
        session.init().await?;
        Ok(Self {
            shared,
            ctx,
            choice,
            dir,
            code,
            bundle,
            bundle_files,
            values,
            session,
        })
    }

    /// Reads the outputs into the step's checkpoint.
    async fn finish(
        &self,
        plan: SavedPlan,
        image: Option<PushedImage>,
        replanned: bool,
    ) -> Result<StepOutcome<ApplyOutput>, StepError> {
        let state = self.session.keep_local_state().await?;
        let (outputs, sensitive_outputs) = self.session.outputs().await?;
        let app_url = outputs
            .get("app_url")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(url) = &app_url {
            self.ctx
                .info(format!("applied: the app should answer at {url}"));
        }
        Ok(StepOutcome::Completed(ApplyOutput {
            app_url,
            outputs,
            sensitive_outputs,
            plan: plan.summary,
            state,
            replanned,
            image,
        }))
    }
}

/// The values the app's variables get: those given with the job, and the
/// app's own keys nobody gave, generated once and kept with the job. The VM
/// also gets its stores' passwords so: a replaced instance's `make up`
/// opens the data volume's databases with the password they were made
/// with, where a fresh `.env` would make a new one.
async fn app_values(
    ctx: &StepContext,
    choice: &Choice,
) -> Result<BTreeMap<String, String>, StepError> {
    let mut values = super::app_env::given(ctx).await?;
    let generated: crate::plan::GenerateOutput = ctx.output_of("generate")?;
    let ungiven: Vec<String> = generated
        .generated_secrets
        .into_iter()
        .filter(|name| {
            !values.contains_key(name)
                && (choice.target == Target::Vm
                    || analysis::variable_kind(name) == analysis::VariableKind::AppSecret)
        })
        .collect();
    values.extend(super::app_env::generated(ctx, GENERATED_ARTIFACT, &ungiven).await?);
    Ok(values)
}

/// `-var=bundle_path=<archive>`: where a VM deployment's bundle is.
pub(super) fn bundle_variable(bundle: &Path) -> String {
    debug_assert!(bundle.ends_with(BUNDLE_ARCHIVE));
    format!(
        "-var={}={}",
        infra::terraform::BUNDLE_PATH_VARIABLE,
        bundle.display()
    )
}

/// The commit and a fresh suffix: one tag per plan (tags are immutable).
fn fresh_image_tag(commit: &str) -> String {
    let commit: String = commit.chars().take(12).collect();
    let suffix = Uuid::new_v4().simple().to_string();
    format!("{commit}-{}", &suffix[..8])
}
