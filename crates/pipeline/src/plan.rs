//! Choosing the target and generating the bundle and Terraform: the `choose` and
//! `generate` steps, and `deployflow plan` without a database, run this same code.

use std::collections::BTreeMap;

use analysis::Snapshot;
use infra::bundle::Bundle;
use infra::choose::Choice;
use infra::policy::Policy;
use infra::terraform::{Generated, TerraformAuthor, TerraformInputs};
use llm::Memo;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::analyse::Analysed;
use crate::author::ModelAuthor;
use crate::error::PipelineError;

/// Where the bundle's files go among the job's artifacts.
pub const BUNDLE_DIR: &str = "bundle";
/// Where the Terraform files go among the job's artifacts.
pub const TERRAFORM_DIR: &str = "terraform";

/// The `generate` step's checkpoint (the files themselves are artifacts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateOutput {
    /// Every artifact written, by path.
    pub artifacts: Vec<String>,
    pub adjustments: Vec<infra::bundle::Adjustment>,
    pub compose_file: String,
    pub app_service: String,
    pub container_port: u16,
    pub required_variables: Vec<String>,
    /// The repository's compose file runs in a docker-in-docker wrapper.
    #[serde(default)]
    pub wrapped: bool,
    /// `llm` or `template`.
    pub terraform_source: infra::terraform::Source,
    pub policy: infra::policy::PolicyReport,
    pub terraform_attempts: Vec<infra::terraform::AttemptReport>,
}

/// The target, by the rules; with a model, it may argue for another known target
/// (accepted only with reasons, and recorded).
pub async fn choose(
    analysed: &Analysed,
    model: Option<&llm::Client>,
    memo: &dyn Memo,
) -> Result<Choice, PipelineError> {
    let rules = infra::choose::choose(&analysed.analysis, &analysed.requirements);
    let Some(model) = model else {
        return Ok(rules);
    };
    let schema = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["target", "reasons"],
        "properties": {
            "target": {"type": "string", "enum": ["vm", "container-service", "serverless", "kubernetes"]},
            "reasons": {"type": "array", "items": {"type": "string"}, "maxItems": 6}
        }
    });
    let user = serde_json::to_string_pretty(&json!({
        "analysis": {
            "language": analysed.analysis.language,
            "framework": analysed.analysis.framework,
            "port": analysed.analysis.port,
            "required_env": analysed.analysis.required_env,
            "dockerized": analysed.analysis.dockerized,
        },
        "requirements": analysed.requirements,
        "rules_choice": {"target": rules.target, "reasons": rules.reasons},
    }))
    .unwrap_or_default();
    let system = "You choose how a web application is deployed on AWS. Targets: vm (one EC2 \
        instance running docker compose), container-service (ECS Fargate behind a load \
        balancer), serverless (Lambda behind a function URL, for stateless HTTP apps), \
        kubernetes (EKS, only when asked for). A rule-based choice is given; keep it unless \
        the requirements clearly call for another target. Answer with the target and short \
        reasons.";
    match model
        .chat_json("choose", system, &user, &schema, memo)
        .await
    {
        Ok((answer, _record)) => {
            let proposed = answer["target"].as_str().unwrap_or_default();
            if proposed == rules.target.to_string() {
                return Ok(rules);
            }
            let reasons = answer["reasons"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Ok(infra::choose::accept_llm_choice(
                rules,
                proposed,
                reasons,
                &analysed.analysis,
                &analysed.requirements,
            ))
        }
        Err(error) if error.is_retryable() => Err(error.into()),
        Err(error) => {
            tracing::warn!(%error, "the model's choice is unusable; the rules' choice stands");
            Ok(rules)
        }
    }
}

/// How `generate` writes the bundle and the Terraform.
#[derive(Debug, Clone, Default)]
pub struct GenerateSettings {
    /// Times the policy gate's findings go back to the model before the
    /// vetted template is used instead.
    pub max_terraform_repairs: u32,
    pub bundle: infra::bundle::BundleOptions,
}

/// The bundle and the Terraform for `choice`, every file as it will be stored.
pub struct Generation {
    pub bundle: Bundle,
    pub terraform: Generated,
}

impl Generation {
    /// Artifact path -> content: the bundle under `bundle/`, Terraform under `terraform/`.
    pub fn files(&self) -> BTreeMap<String, String> {
        let bundle = self
            .bundle
            .files
            .iter()
            .map(|(path, text)| (format!("{BUNDLE_DIR}/{path}"), text.clone()));
        let terraform = self
            .terraform
            .files
            .iter()
            .map(|(path, text)| (format!("{TERRAFORM_DIR}/{path}"), text.clone()));
        bundle.chain(terraform).collect()
    }

    pub fn output(&self) -> GenerateOutput {
        GenerateOutput {
            artifacts: self.files().into_keys().collect(),
            adjustments: self.bundle.adjustments.clone(),
            compose_file: self.bundle.compose_file.clone(),
            app_service: self.bundle.app_service.clone(),
            container_port: self.bundle.container_port,
            required_variables: self.bundle.required_variables.clone(),
            wrapped: self.bundle.wrapped,
            terraform_source: self.terraform.source,
            policy: self.terraform.report.clone(),
            terraform_attempts: self.terraform.attempts.clone(),
        }
    }
}

/// Builds the Docker bundle and the Terraform that passed the policy gate.
pub async fn generate(
    job_id: &str,
    analysed: &Analysed,
    choice: &Choice,
    snapshot: &Snapshot,
    model: Option<&llm::Client>,
    memo: &dyn Memo,
    settings: &GenerateSettings,
) -> Result<Generation, PipelineError> {
    let bundle = infra::bundle::bundle(&analysed.analysis, snapshot, choice, &settings.bundle)?;
    for adjustment in &bundle.adjustments {
        tracing::info!(kind = ?adjustment.kind, path = %adjustment.path, "{adjustment}");
    }
    let inputs = TerraformInputs::new(choice.clone(), job_id, &analysed.analysis);
    let policy = Policy::for_choice(choice);
    let author = model.map(|client| ModelAuthor { client, memo });
    let summary = summary(analysed, &bundle);
    let terraform = infra::terraform::generate(
        author.as_ref().map(|a| a as &dyn TerraformAuthor),
        &inputs,
        &summary,
        &policy,
        settings.max_terraform_repairs,
    )
    .await?;
    for attempt in &terraform.attempts {
        tracing::info!(attempt = attempt.attempt, outcome = ?attempt.outcome,
            violations = attempt.violations.len(), "model-written terraform checked by the policy gate");
        for violation in &attempt.violations {
            tracing::warn!("policy gate: {violation}");
        }
    }
    tracing::info!(source = ?terraform.source, files = terraform.files.len(),
        passed = terraform.report.passed, "terraform for {} in {} generated", choice.target, choice.region);
    Ok(Generation { bundle, terraform })
}

/// What the Terraform author is told about the app, in a few lines.
fn summary(analysed: &Analysed, bundle: &Bundle) -> String {
    let a = &analysed.analysis;
    format!(
        "language: {}\nframework: {}\ncontainer port: {}\nhost port: 8080\nenvironment variables (names only): {}\nrequired variables: {}\nhealth path: {}",
        a.language.as_deref().unwrap_or("unknown"),
        a.framework.as_deref().unwrap_or("unknown"),
        bundle.container_port,
        a.env
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        bundle.required_variables.join(", "),
        a.health_path.as_deref().unwrap_or("/"),
    )
}
