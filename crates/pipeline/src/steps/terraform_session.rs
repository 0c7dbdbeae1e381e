//! One job's Terraform commands in its working directory: `init` (and the
//! deployment's workspace), `plan` checked by the policy gate, `apply`,
//! `destroy`, `output -json`, and where the state is kept. Apply and destroy
//! both drive it.

use std::path::PathBuf;

use engine::{StepContext, StepError};
use infra::policy::Policy;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::scrub::Scrub;
use crate::failures;
use crate::terraform::plan::PlanSummary;
use crate::terraform::runner::{self, ChildLine, CommandError};
use crate::terraform::workdir;
use crate::terraform::{StateBackend, TerraformConfig};

const STATE_ARTIFACT: &str = "state/terraform.tfstate";

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

/// A failed command: retryable (the cloud, the lock and the network come back),
/// unless Terraform could not be started at all.
pub(in crate::steps) fn command_error(ctx: &StepContext, error: CommandError) -> StepError {
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
pub(in crate::steps) struct Session<'a> {
    tf: &'a TerraformConfig,
    ctx: &'a StepContext,
    dir: PathBuf,
    deployment: Uuid,
    var_args: Vec<String>,
    /// The app's variable values as JSON, for `var.app_env` (through the
    /// environment: never on a command line).
    app_env: Option<String>,
    /// Takes the app's variable values out of what Terraform prints.
    scrub: Scrub,
    /// The policy every plan's changes are checked against before it is
    /// kept (none for `destroy`).
    plan_gate: Option<Policy>,
}

impl<'a> Session<'a> {
    /// Gives `var.app_env` the job's variable values.
    pub(in crate::steps) fn with_app_env(
        mut self,
        values: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        self.app_env = (!values.is_empty())
            .then(|| serde_json::to_string(values).expect("a map of strings serialises"));
        self.scrub = Scrub::new(values.values());
        self
    }

    /// Checks each plan's changes with the policy gate before it is kept.
    pub(in crate::steps) fn with_plan_gate(mut self, policy: Policy) -> Self {
        self.plan_gate = Some(policy);
        self
    }

    pub(in crate::steps) fn new(
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
            scrub: Scrub::default(),
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
        let scrub = &self.scrub;
        let logged = |line: ChildLine| {
            let message = scrub.apply(&line.message);
            if line.warn {
                ctx.warn(message);
            } else {
                ctx.info(message);
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
        .await
        .map_err(|error| match error {
            CommandError::Failed {
                command,
                code,
                message,
            } => CommandError::Failed {
                command,
                code,
                message: self.scrub.apply(&message),
            },
            other => other,
        })?;
        Ok(output.stdout)
    }

    fn lock_timeout(&self) -> String {
        format!("-lock-timeout={}s", self.tf.lock_timeout.as_secs())
    }

    pub(in crate::steps) async fn init(&self) -> Result<(), StepError> {
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

    pub(in crate::steps) async fn plan(
        &self,
        file: &str,
        target: Option<&str>,
    ) -> Result<PlanSummary, StepError> {
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
            super::apply::refused(
                "the planned changes fail the policy gate",
                &infra::policy::check_plan(&shown, policy),
            )?;
        }
        PlanSummary::from_show_json(&shown)
            .map_err(|why| StepError::retryable(why).with_code(failures::TERRAFORM_COMMAND))
    }

    pub(in crate::steps) async fn apply(&self, file: &str) -> Result<(), CommandError> {
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

    /// `terraform destroy`; `tokens` are the data sources a provider reads
    /// a short-lived token from (the EKS cluster's), read again before a
    /// destroy from the state alone.
    pub(in crate::steps) async fn destroy(&self, tokens: &[String]) -> Result<(), StepError> {
        let args = |refresh: bool| {
            let mut args = vec!["destroy".to_owned(), "-auto-approve".into()];
            if !refresh {
                args.push("-refresh=false".into());
            }
            args.extend([
                "-input=false".into(),
                "-no-color".into(),
                "-json".into(),
                self.lock_timeout(),
            ]);
            args.extend(self.var_args.iter().cloned());
            args
        };
        // The refresh reads the data sources again, the Kubernetes
        // provider's token among them (the one in the state has expired).
        // A configuration that fails when evaluated again (after a date, on
        // what a data source reads later) is destroyed from the state
        // alone, without a refresh, so it can always be taken down.
        match self.command(args(true)).await {
            Ok(_) => Ok(()),
            Err(CommandError::Spawn { bin, source }) => {
                Err(command_error(self.ctx, CommandError::Spawn { bin, source }))
            }
            Err(error) => {
                self.ctx.warn(format!(
                    "terraform destroy failed ({error}); destroying again from the state alone (-refresh=false)"
                ));
                // The state's token has expired by now: only it is read
                // again, so nothing else of the configuration is evaluated.
                for token in tokens {
                    let refreshed = self
                        .command(refresh_only_args(
                            token,
                            &self.lock_timeout(),
                            &self.var_args,
                        ))
                        .await;
                    if let Err(e) = refreshed {
                        self.ctx.warn(format!(
                            "reading {token} again failed ({e}); destroying with the state's"
                        ));
                    }
                }
                self.command(args(false))
                    .await
                    .map(|_| ())
                    .map_err(|e| command_error(self.ctx, e))
            }
        }
    }

    pub(in crate::steps) async fn outputs(
        &self,
    ) -> Result<(serde_json::Map<String, Value>, Vec<String>), StepError> {
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
    pub(in crate::steps) async fn keep_local_state(&self) -> Result<StateReference, StepError> {
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

/// `terraform apply -refresh-only` of the data source at `address` alone:
/// its new value goes into the state, where a destroy with
/// `-refresh=false` reads it.
fn refresh_only_args(address: &str, lock_timeout: &str, var_args: &[String]) -> Vec<String> {
    let mut args = vec![
        "apply".to_owned(),
        "-refresh-only".into(),
        "-auto-approve".into(),
        format!("-target={address}"),
        "-input=false".into(),
        "-no-color".into(),
        "-json".into(),
        lock_timeout.to_owned(),
    ];
    args.extend(var_args.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_token_alone_is_read_again_before_a_destroy_from_the_state() {
        let args = super::refresh_only_args(
            "data.aws_eks_cluster_auth.main",
            "-lock-timeout=300s",
            &["-var=image_tag=abc".to_owned()],
        );
        assert_eq!(args[..3], ["apply", "-refresh-only", "-auto-approve"]);
        assert!(args.contains(&"-target=data.aws_eks_cluster_auth.main".to_owned()));
        assert_eq!(args.last().map(String::as_str), Some("-var=image_tag=abc"));
    }
}
