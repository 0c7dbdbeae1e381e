//! The LLM path: an author (in production, the LLM; in tests, a fake) writes
//! the Terraform from the vetted template as skeleton, the policy gate judges
//! it, violations go back for repair a bounded number of times, and the
//! vetted template is used when the author cannot get it right.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{TerraformInputs, render};
use crate::InfraError;
use crate::choose::Target;
use crate::policy::{Policy, PolicyReport, Violation, check};

/// Writes Terraform for a deployment. Implemented over the LLM client by the
/// pipeline, so this crate does not depend on it.
#[async_trait]
pub trait TerraformAuthor: Send + Sync {
    /// File name -> HCL. An error ends the LLM path: the template is used.
    async fn write(&self, request: &AuthorRequest) -> Result<BTreeMap<String, String>, InfraError>;
}

/// Everything an author needs to write (or repair) the Terraform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorRequest {
    pub target: Target,
    pub region: String,
    pub instance_type: String,
    /// What the analysis found, in a few lines (language, port, env var names...).
    pub analysis_summary: String,
    /// The vetted template for this target: the author starts from it.
    pub skeleton: BTreeMap<String, String>,
    /// The gate's rules as sentences ([`Policy::describe`]).
    pub rules: Vec<String>,
    /// 1 for the first request, then one more per repair.
    pub attempt: u32,
    /// The author's previous answer, when this is a repair.
    pub previous_files: Option<BTreeMap<String, String>>,
    /// Why the previous answer was rejected.
    pub previous_violations: Vec<Violation>,
}

/// Who wrote the Terraform that passed the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Llm,
    Template,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptOutcome {
    /// Passed the gate.
    Accepted,
    /// Failed the gate; the violations went back to the author.
    Rejected,
    /// The author returned an error.
    Failed,
}

/// One request to the author and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptReport {
    pub attempt: u32,
    pub outcome: AttemptOutcome,
    pub violations: Vec<Violation>,
    /// The author's error, for [`AttemptOutcome::Failed`].
    pub error: Option<String>,
}

/// The Terraform to apply, who wrote it, the gate's report on it, and the
/// author's attempts (empty without an author).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generated {
    pub files: BTreeMap<String, String>,
    pub source: Source,
    pub report: PolicyReport,
    pub attempts: Vec<AttemptReport>,
}

/// Produces Terraform that passes `policy`: the author's, after at most
/// `max_repairs` repairs, else the vetted template. Fails only when the
/// inputs cannot be rendered or the template itself fails the gate, which
/// would be a bug in the template.
pub async fn generate(
    author: Option<&dyn TerraformAuthor>,
    inputs: &TerraformInputs,
    analysis_summary: &str,
    policy: &Policy,
    max_repairs: u32,
) -> Result<Generated, InfraError> {
    if !inputs.choice.target.is_cloud() {
        // A Docker host runs the bundle itself: there is nothing for Terraform.
        return Ok(Generated {
            files: BTreeMap::new(),
            source: Source::Template,
            report: crate::policy::PolicyReport {
                passed: true,
                violations: Vec::new(),
            },
            attempts: Vec::new(),
        });
    }
    let template = render(inputs)?;
    let template_report = check(&template, policy);
    if !template_report.passed {
        let violations: Vec<String> = template_report
            .violations
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(InfraError::Template(format!(
            "the vetted {} template fails the policy gate: {}",
            inputs.choice.target,
            violations.join("; ")
        )));
    }
    let mut attempts = Vec::new();
    if let Some(author) = author {
        let mut request = AuthorRequest {
            target: inputs.choice.target,
            region: inputs.choice.region.clone(),
            instance_type: inputs.choice.instance_type.clone(),
            analysis_summary: analysis_summary.to_owned(),
            skeleton: template.clone(),
            rules: policy.describe(),
            attempt: 1,
            previous_files: None,
            previous_violations: Vec::new(),
        };
        if let Some(accepted) = ask(author, &mut request, policy, max_repairs, &mut attempts).await
        {
            return Ok(Generated {
                attempts,
                ..accepted
            });
        }
    }
    Ok(Generated {
        files: template,
        source: Source::Template,
        report: template_report,
        attempts,
    })
}

/// Asks, checks and asks again with the violations, up to `1 + max_repairs`
/// times; the first answer that passes is returned.
async fn ask(
    author: &dyn TerraformAuthor,
    request: &mut AuthorRequest,
    policy: &Policy,
    max_repairs: u32,
    attempts: &mut Vec<AttemptReport>,
) -> Option<Generated> {
    for attempt in 1..=max_repairs.saturating_add(1) {
        request.attempt = attempt;
        let files = match author.write(request).await {
            Ok(files) => files,
            Err(error) => {
                attempts.push(AttemptReport {
                    attempt,
                    outcome: AttemptOutcome::Failed,
                    violations: Vec::new(),
                    error: Some(error.to_string()),
                });
                return None;
            }
        };
        let report = check(&files, policy);
        let outcome = if report.passed {
            AttemptOutcome::Accepted
        } else {
            AttemptOutcome::Rejected
        };
        attempts.push(AttemptReport {
            attempt,
            outcome,
            violations: report.violations.clone(),
            error: None,
        });
        if report.passed {
            return Some(Generated {
                files,
                source: Source::Llm,
                report,
                attempts: Vec::new(),
            });
        }
        request.previous_violations = report.violations;
        request.previous_files = Some(files);
    }
    None
}
