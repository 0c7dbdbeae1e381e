//! `apply` → Applied: the policy gate, `terraform init`, a saved plan (parked for
//! approval when asked), `apply` of that plan, `output -json`.
//!
//! Everything a later attempt needs is in the database: the plan file and its
//! summary (artifacts + a memo), the approval (a signal), the state (the `pg`
//! backend, or a local file copied into the artifacts). An attempt that finds the
//! saved plan stale — an earlier attempt applied part of it and died — plans
//! again and applies only if the new plan stays within the approved one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine::{StepContext, StepError, StepOutcome};
use infra::choose::{Choice, Target};
use infra::policy::Policy;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Shared;
use super::clone::checkout;
use crate::failures;
use crate::intake::DeployInput;
use crate::terraform::plan::PlanSummary;
use crate::terraform::runner::{self, ChildLine, CommandError};
use crate::terraform::workdir::{self, BUNDLE_ARCHIVE, PLAN_FILE};
use crate::terraform::{ApplyMode, StateBackend, TerraformConfig};

/// The state a job ends in when apply is skipped.
pub const PLANNED: &str = "Planned";
/// The state a job waits in for `POST /job/{id}/approve`.
pub const AWAITING_APPROVAL: &str = "AwaitingApproval";
/// The state a rejected job ends in.
pub const REJECTED: &str = "Rejected";
/// The signal an approval or rejection is delivered as.
pub const APPROVAL_SIGNAL: &str = "approval";

const PLAN_MEMO: &str = "plan";
const PUSHED_MEMO: &str = "image_pushed";
/// Created (and pushed to) before the rest of a container target's plan.
const ECR_REPOSITORY: &str = "aws_ecr_repository.app";
const APPLYING_MEMO: &str = "applying";
const PLAN_ARTIFACT: &str = "plan/deployflow.tfplan";
const PLAN_JSON_ARTIFACT: &str = "plan/plan.json";
/// The app's keys generated for it (nobody gave them), each sealed: every
/// later plan and apply passes the same values.
const GENERATED_ARTIFACT: &str = "app-env/generated.sealed.json";
const STATE_ARTIFACT: &str = "state/terraform.tfstate";

/// Why a deployment needs an approver whatever the settings: its estimated
/// cost above the ceiling, or an instance type outside the allow-list.
fn beyond_limits(choice: &Choice, tf: &TerraformConfig) -> Option<String> {
    if let Some(ceiling) = tf.max_monthly_cost_usd
        && choice.monthly_cost_usd > ceiling
    {
        return Some(format!(
            "the estimate, ${:.2} a month, is above MAX_MONTHLY_COST_USD (${ceiling:.2}): an approver must agree",
            choice.monthly_cost_usd
        ));
    }
    let allowed = &tf.instance_types_without_approval;
    if !allowed.is_empty()
        && !choice.instance_type.is_empty()
        && matches!(choice.target, Target::Vm | Target::Kubernetes)
        && !allowed.contains(&choice.instance_type)
    {
        return Some(format!(
            "instance type {} is not among INSTANCE_TYPES_WITHOUT_APPROVAL ({}): an approver must agree",
            choice.instance_type,
            allowed.join(", ")
        ));
    }
    None
}

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
}

/// Where the deployment's Terraform state is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum StateReference {
    Pg {
        schema: String,
        workspace: String,
    },
    Local {
        path: String,
        artifact: String,
    },
    /// A compose project on a Docker engine (the `docker-host` target).
    DockerHost {
        project: String,
        engine: String,
    },
}

/// What approval said.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Approval {
    pub approved: bool,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PlanMemo {
    summary: PlanSummary,
    /// The image tag the plan was made with: fresh for every new plan, so a push
    /// never meets a tag of an earlier plan (the repositories' tags are immutable).
    #[serde(default)]
    image_tag: String,
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
    let files = ctx.artifacts_under(ctx.job_id, "terraform/").await?;
    let dir = workdir::prepare(&tf.work_dir, ctx.job_id, &files, &tf.state)?;
    gate(&dir, &choice, &tf.state)?;
    let code = checkout(&shared, &ctx).await?;
    let bundle_files = ctx.artifacts_under(ctx.job_id, "bundle/").await?;
    let bundle = workdir::write_bundle(&dir, Some(&code), &bundle_files)?;
    let clone: crate::CloneOutput = ctx.output_of("clone")?;
    let saved: Option<PlanMemo> = match ctx.memo_get(PLAN_MEMO).await? {
        Some(memo) => Some(serde_json::from_value(memo).map_err(|e| {
            StepError::permanent(format!("unreadable plan memo: {e}"))
                .with_code(failures::WORKER_RECORD_UNREADABLE)
        })?),
        None => None,
    };
    let image_tag = saved
        .as_ref()
        .map(|memo| memo.image_tag.clone())
        .unwrap_or_else(|| image_tag(&clone.commit));
    let variables = match choice.target {
        Target::Vm => vec![bundle_variable(&bundle)],
        _ => vec![format!("-var=image_tag={image_tag}")],
    };
    let mut values = super::app_env::given(&ctx).await?;
    if choice.target != Target::Vm {
        // The VM's `make up` generates them itself, into its own .env.
        let generated: crate::plan::GenerateOutput = ctx.output_of("generate")?;
        let ungiven: Vec<String> = generated
            .generated_secrets
            .into_iter()
            .filter(|name| {
                !values.contains_key(name)
                    && analysis::variable_kind(name) == analysis::VariableKind::AppSecret
            })
            .collect();
        values.extend(super::app_env::generated(&ctx, GENERATED_ARTIFACT, &ungiven).await?);
    }
    let session = Session::new(tf, &ctx, dir.clone(), ctx.job_id, variables)
        .with_app_env(&values)
        .with_plan_gate(gate_policy(&choice, &tf.state));
    session.init().await?;

    let approved = match saved {
        Some(memo) => {
            restore_plan(&ctx, &dir).await?;
            memo.summary
        }
        None => {
            let summary = session.plan(PLAN_FILE, None).await?;
            let plan = std::fs::read(dir.join(PLAN_FILE)).map_err(|e| {
                StepError::retryable(format!("reading the saved plan: {e}"))
                    .with_code(failures::WORKER_IO)
            })?;
            ctx.put_artifact(PLAN_ARTIFACT, &plan).await?;
            ctx.put_artifact(
                PLAN_JSON_ARTIFACT,
                serde_json::to_string_pretty(&summary)
                    .unwrap_or_default()
                    .as_bytes(),
            )
            .await?;
            ctx.memo_put(
                PLAN_MEMO,
                &json!(PlanMemo {
                    summary: summary.clone(),
                    image_tag: image_tag.clone(),
                }),
            )
            .await?;
            summary
        }
    };
    ctx.info(format!("plan: {}", approved.describe()));

    let over_limit = beyond_limits(&choice, tf);
    if input.approve_before_apply || tf.require_approval || over_limit.is_some() {
        match ctx.signal(APPROVAL_SIGNAL).await? {
            None => {
                let why = over_limit.map(|why| format!("{why}; ")).unwrap_or_default();
                return Ok(StepOutcome::wait_in(
                    AWAITING_APPROVAL,
                    format!(
                        "{why}plan: {}; approve with POST /job/{id}/approve or reject with \
                         POST /job/{id}/reject",
                        approved.describe(),
                        id = ctx.job_id
                    ),
                ));
            }
            Some(answer) => {
                let answer: Approval = serde_json::from_value(answer).map_err(|e| {
                    StepError::permanent(format!("unreadable approval signal: {e}"))
                        .with_code(failures::WORKER_RECORD_UNREADABLE)
                })?;
                if !answer.approved {
                    let why = answer.comment.unwrap_or_else(|| "no reason given".into());
                    return Err(StepError::ending_in(
                        REJECTED,
                        format!("the plan was rejected: {why}"),
                    )
                    .with_code(failures::APPROVAL_REJECTED));
                }
                ctx.info("plan approved");
            }
        }
    }

    if choice.target != Target::Vm && ctx.memo_get(PUSHED_MEMO).await?.is_none() {
        // The repository first, so the image is there before what runs it.
        let first = session
            .plan("deployflow-ecr.tfplan", Some(ECR_REPOSITORY))
            .await?;
        first.within(&approved).map_err(|why| {
            StepError::permanent(format!(
                "the image repository plan left the approved one: {why}"
            ))
            .with_code(failures::APPLY_PLAN_STALE)
        })?;
        session
            .apply("deployflow-ecr.tfplan")
            .await
            .map_err(|e| command_error(&ctx, e))?;
        let (outputs, _) = session.outputs().await?;
        let repository = outputs
            .get("ecr_repository_url")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                StepError::permanent("terraform printed no ecr_repository_url output to push to")
                    .with_code(failures::APPLY_NO_OUTPUT)
            })?;
        let image = format!("{repository}:{image_tag}");
        let dockerfile = app_dockerfile(&bundle_files, &code);
        let build_values = build_values(&dockerfile, &values);
        super::image::build_and_push(
            tf,
            &ctx,
            super::image::Push {
                dir: &dir,
                bundle: &bundle,
                image: &image,
                region: &choice.region,
                build_values: &build_values,
                dockerfile: &dockerfile,
                docker: &shared.config.docker,
            },
        )
        .await?;
        ctx.memo_put(PUSHED_MEMO, &json!({ "image": image }))
            .await?;
    }

    let interrupted = ctx.memo_get(APPLYING_MEMO).await?.is_some();
    ctx.memo_put(APPLYING_MEMO, &json!({"attempt": ctx.attempt}))
        .await?;
    if interrupted {
        ctx.warn("an earlier attempt started applying: the saved plan may be stale");
    }
    let mut replanned = false;
    match session.apply(PLAN_FILE).await {
        Ok(()) => {}
        Err(CommandError::Failed { message, .. }) if is_stale_plan(&message) => {
            ctx.warn(
                "the saved plan is stale (an earlier attempt applied part of it): planning \
                 again against the current state",
            );
            let again = session.plan("deployflow-resume.tfplan", None).await?;
            again.within(&approved).map_err(|why| {
                StepError::permanent(format!(
                    "the infrastructure changed since the approved plan: {why}; \
                     retry the job from the apply step to plan afresh"
                ))
                .with_code(failures::APPLY_PLAN_STALE)
            })?;
            ctx.info(format!(
                "re-planned within the approved plan: {}",
                again.describe()
            ));
            session
                .apply("deployflow-resume.tfplan")
                .await
                .map_err(|e| command_error(&ctx, e))?;
            replanned = true;
        }
        Err(error) => {
            session.keep_local_state().await?;
            return Err(command_error(&ctx, error));
        }
    }
    let state = session.keep_local_state().await?;
    let (outputs, sensitive_outputs) = session.outputs().await?;
    let app_url = outputs
        .get("app_url")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(url) = &app_url {
        ctx.info(format!("applied: the app should answer at {url}"));
    }
    Ok(StepOutcome::Completed(ApplyOutput {
        app_url,
        outputs,
        sensitive_outputs,
        plan: approved,
        state,
        replanned,
    }))
}

/// The policy gate, again, on exactly the files `init` will read: they come from
/// the database, and `init`/`plan` already run provider code.
pub(super) fn gate(dir: &Path, choice: &Choice, state: &StateBackend) -> Result<(), StepError> {
    let files = workdir::read_tf_files(dir)?;
    refused(
        "the Terraform fails the policy gate",
        &infra::policy::check(&files, &gate_policy(choice, state)),
    )
}

/// The job's values of the variables the image's Dockerfile declares with
/// `ARG` (build-time variables: Next.js public ones, a repository's own):
/// they reach `docker build` as build arguments.
/// The Dockerfile the app image is built from: the bundle's, else the
/// repository's own.
fn app_dockerfile(bundle_files: &[(String, Vec<u8>)], checkout: &Path) -> String {
    bundle_files
        .iter()
        .find(|(path, _)| path == "bundle/Dockerfile")
        .map(|(_, content)| String::from_utf8_lossy(content).into_owned())
        .or_else(|| std::fs::read_to_string(checkout.join("Dockerfile")).ok())
        .unwrap_or_default()
}

/// The values of the build arguments `dockerfile` declares.
fn build_values(
    dockerfile: &str,
    values: &std::collections::BTreeMap<String, String>,
) -> Vec<(String, String)> {
    infra::bundle::declared_args(dockerfile)
        .into_iter()
        .filter_map(|name| values.get(&name).map(|value| (name, value.clone())))
        .collect()
}

/// The policy the files and the plans of `choice` are held to.
fn gate_policy(choice: &Choice, state: &StateBackend) -> Policy {
    let mut policy = Policy::for_choice(choice);
    policy.allowed_backend = Some(workdir::backend_type(state).to_owned());
    policy
}

/// A permanent failure naming every violation, when the gate refused.
fn refused(what: &str, report: &infra::policy::PolicyReport) -> Result<(), StepError> {
    if report.passed {
        return Ok(());
    }
    let reasons: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
    Err(
        StepError::permanent(format!("{what}: {}", reasons.join("; ")))
            .with_code(failures::POLICY_REFUSED),
    )
}

async fn restore_plan(ctx: &StepContext, dir: &Path) -> Result<(), StepError> {
    let saved = ctx.artifacts_under(ctx.job_id, PLAN_ARTIFACT).await?;
    let Some((_, content)) = saved.into_iter().find(|(p, _)| p == PLAN_ARTIFACT) else {
        return Err(StepError::permanent(
            "the saved plan is missing from the job's artifacts; retry the job from the apply step",
        )
        .with_code(failures::APPLY_PLAN_MISSING));
    };
    std::fs::write(dir.join(PLAN_FILE), content).map_err(|e| {
        StepError::retryable(format!("restoring the saved plan: {e}"))
            .with_code(failures::WORKER_IO)
    })
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
fn image_tag(commit: &str) -> String {
    let commit: String = commit.chars().take(12).collect();
    let suffix = Uuid::new_v4().simple().to_string();
    format!("{commit}-{}", &suffix[..8])
}

fn is_stale_plan(message: &str) -> bool {
    message.to_ascii_lowercase().contains("saved plan is stale")
}

/// A failed command: retryable (the cloud, the lock and the network come back),
/// unless Terraform could not be started at all.
pub(super) fn command_error(ctx: &StepContext, error: CommandError) -> StepError {
    let message = error.to_string();
    ctx.warn(&message);
    match error {
        CommandError::Spawn { .. } => {
            StepError::permanent(message).with_code(failures::TERRAFORM_MISSING)
        }
        _ if message.contains("Error acquiring the state lock") => {
            StepError::retryable(message).with_code(failures::APPLY_STATE_LOCKED)
        }
        _ => StepError::retryable(message).with_code(failures::TERRAFORM_COMMAND),
    }
}

/// One job's Terraform commands in its working directory.
pub(super) struct Session<'a> {
    tf: &'a TerraformConfig,
    ctx: &'a StepContext,
    dir: PathBuf,
    deployment: Uuid,
    var_args: Vec<String>,
    /// The app's variable values as JSON, for `var.app_env` (through the
    /// environment: never on a command line).
    app_env: Option<String>,
    /// The policy every plan's changes are checked against before it is
    /// kept (none for `destroy`).
    plan_gate: Option<Policy>,
}

impl<'a> Session<'a> {
    /// Gives `var.app_env` the job's variable values.
    pub(super) fn with_app_env(
        mut self,
        values: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        self.app_env = (!values.is_empty())
            .then(|| serde_json::to_string(values).expect("a map of strings serialises"));
        self
    }

    /// Checks each plan's changes with the policy gate before it is kept.
    pub(super) fn with_plan_gate(mut self, policy: Policy) -> Self {
        self.plan_gate = Some(policy);
        self
    }

    pub(super) fn new(
        tf: &'a TerraformConfig,
        ctx: &'a StepContext,
        dir: PathBuf,
        deployment: Uuid,
        var_args: Vec<String>,
    ) -> Self {
        Self {
            tf,
            ctx,
            dir,
            deployment,
            var_args,
            app_env: None,
            plan_gate: None,
        }
    }

    async fn command(&self, args: Vec<String>) -> Result<String, CommandError> {
        let conn_str;
        let mut env: Vec<(&str, &str)> = Vec::new();
        if let StateBackend::Postgres {
            conn_str: secret, ..
        } = &self.tf.state
        {
            conn_str = secret.expose_secret().to_owned();
            env.push(("PG_CONN_STR", conn_str.as_str()));
        }
        if let Some(values) = &self.app_env {
            env.push(("TF_VAR_app_env", values.as_str()));
        }
        let ctx = self.ctx;
        let logged = |line: ChildLine| {
            if line.warn {
                ctx.warn(line.message);
            } else {
                ctx.info(line.message);
            }
        };
        let subcommand = args.first().map(String::as_str).unwrap_or("");
        tracing::info!(command = %subcommand, "terraform");
        let span = tracing::info_span!("terraform", otel.name = %format!("terraform {subcommand}"),
            terraform.command = %subcommand);
        let output = tracing::Instrument::instrument(
            runner::run(
                self.tf,
                &self.dir,
                &args,
                &env,
                &self.ctx.cancellation,
                logged,
            ),
            span,
        )
        .await?;
        Ok(output.stdout)
    }

    fn lock_timeout(&self) -> String {
        format!("-lock-timeout={}s", self.tf.lock_timeout.as_secs())
    }

    pub(super) async fn init(&self) -> Result<(), StepError> {
        let (args, workspace) = workdir::init_args(&self.tf.state, self.deployment);
        self.command(args)
            .await
            .map_err(|e| command_error(self.ctx, e))?;
        if let Some(workspace) = workspace {
            self.command(vec![
                "workspace".into(),
                "select".into(),
                "-or-create=true".into(),
                workspace,
            ])
            .await
            .map_err(|e| command_error(self.ctx, e))?;
        }
        Ok(())
    }

    async fn plan(&self, file: &str, target: Option<&str>) -> Result<PlanSummary, StepError> {
        let mut args = vec![
            "plan".to_owned(),
            "-input=false".into(),
            "-no-color".into(),
            "-json".into(),
            self.lock_timeout(),
            format!("-out={file}"),
        ];
        args.extend(target.map(|t| format!("-target={t}")));
        args.extend(self.var_args.iter().cloned());
        self.command(args)
            .await
            .map_err(|e| command_error(self.ctx, e))?;
        let shown = self
            .command(vec!["show".into(), "-json".into(), file.into()])
            .await
            .map_err(|e| command_error(self.ctx, e))?;
        if let Some(policy) = &self.plan_gate {
            refused(
                "the planned changes fail the policy gate",
                &infra::policy::check_plan(&shown, policy),
            )?;
        }
        PlanSummary::from_show_json(&shown)
            .map_err(|why| StepError::retryable(why).with_code(failures::TERRAFORM_COMMAND))
    }

    async fn apply(&self, file: &str) -> Result<(), CommandError> {
        self.command(vec![
            "apply".into(),
            "-input=false".into(),
            "-no-color".into(),
            "-json".into(),
            self.lock_timeout(),
            file.into(),
        ])
        .await
        .map(|_| ())
    }

    pub(super) async fn destroy(&self) -> Result<(), StepError> {
        let mut args = vec![
            "destroy".to_owned(),
            "-auto-approve".into(),
            "-input=false".into(),
            "-no-color".into(),
            "-json".into(),
            self.lock_timeout(),
        ];
        args.extend(self.var_args.iter().cloned());
        self.command(args)
            .await
            .map(|_| ())
            .map_err(|e| command_error(self.ctx, e))
    }

    async fn outputs(&self) -> Result<(serde_json::Map<String, Value>, Vec<String>), StepError> {
        let printed = self
            .command(vec!["output".into(), "-json".into(), "-no-color".into()])
            .await
            .map_err(|e| command_error(self.ctx, e))?;
        let all: serde_json::Map<String, Value> =
            serde_json::from_str(printed.trim()).map_err(|e| {
                StepError::retryable(format!("terraform output -json: {e}"))
                    .with_code(failures::TERRAFORM_COMMAND)
            })?;
        let mut shown = serde_json::Map::new();
        let mut sensitive = Vec::new();
        for (name, output) in all {
            if output.get("sensitive").and_then(Value::as_bool) == Some(true) {
                sensitive.push(name);
            } else {
                shown.insert(name, output.get("value").cloned().unwrap_or(Value::Null));
            }
        }
        Ok((shown, sensitive))
    }

    /// The state reference for the checkpoint; on local state, the state file is
    /// copied into the job's artifacts too.
    pub(super) async fn keep_local_state(&self) -> Result<StateReference, StepError> {
        match &self.tf.state {
            StateBackend::Postgres { schema, .. } => Ok(StateReference::Pg {
                schema: schema.clone(),
                workspace: format!("job-{}", self.deployment),
            }),
            StateBackend::Local { dir } => {
                let path = workdir::local_state_path(dir, self.deployment);
                if let Ok(content) = std::fs::read(&path) {
                    self.ctx.put_artifact(STATE_ARTIFACT, &content).await?;
                }
                Ok(StateReference::Local {
                    path: path.display().to_string(),
                    artifact: STATE_ARTIFACT.to_owned(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(instance_type: &str, monthly_cost_usd: f64) -> Choice {
        Choice {
            target: Target::Vm,
            reasons: Vec::new(),
            region: "us-east-1".into(),
            instance_type: instance_type.into(),
            memory_mib: None,
            cpu_units: None,
            replicas: 1,
            disk_gb: 20,
            monthly_cost_usd,
            cost_breakdown: Vec::new(),
            decided_by: "rules".into(),
            services: Default::default(),
        }
    }

    #[test]
    fn cost_above_the_ceiling_or_an_unlisted_instance_type_needs_an_approver() {
        let mut tf = TerraformConfig::plan_only(PathBuf::from("/tmp"), "test");
        assert_eq!(
            beyond_limits(&vm("m5.24xlarge", 3000.0), &tf),
            None,
            "no limits set"
        );
        tf.max_monthly_cost_usd = Some(50.0);
        assert_eq!(beyond_limits(&vm("t3.small", 15.0), &tf), None);
        let why = beyond_limits(&vm("t3.small", 75.5), &tf).unwrap();
        assert!(why.contains("$75.50") && why.contains("$50.00"), "{why}");
        tf.instance_types_without_approval = vec!["t3.small".into(), "t3.medium".into()];
        assert_eq!(beyond_limits(&vm("t3.medium", 30.0), &tf), None);
        let why = beyond_limits(&vm("c5.large", 40.0), &tf).unwrap();
        assert!(why.contains("c5.large"), "{why}");
    }
}
