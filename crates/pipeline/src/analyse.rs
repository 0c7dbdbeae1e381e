//! Detectors first, then (with a model configured) the LLM deepens the facts; the
//! same code runs in the `analyse` step and in `deployflow analyse`.

use analysis::{Analysis, Requirements, Snapshot};
use llm::{CallRecord, Memo};
use serde::{Deserialize, Serialize};

use crate::error::PipelineError;

/// The `analyse` step's checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysed {
    pub analysis: Analysis,
    pub requirements: Requirements,
    /// Every model call made (none without a model), memoised ones included.
    #[serde(default)]
    pub llm_calls: Vec<CallRecord>,
    /// Files whose content was sent to the model.
    #[serde(default)]
    pub files_sent: Vec<String>,
}

/// Analyses `snapshot` for the deployment `description` asks for.
pub async fn analyse_snapshot(
    snapshot: &Snapshot,
    description: &str,
    model: Option<&llm::Client>,
    memo: &dyn Memo,
) -> Result<Analysed, PipelineError> {
    let requirements = analysis::parse_requirements(description);
    let detected = analysis::analyse(snapshot, &requirements);
    let Some(model) = model else {
        return Ok(Analysed {
            analysis: detected,
            requirements,
            llm_calls: Vec::new(),
            files_sent: Vec::new(),
        });
    };
    let deepened = llm::deepen(model, snapshot, &detected, description, memo).await?;
    for call in &deepened.calls {
        tracing::info!(
            purpose = %call.purpose, model = %call.model, prompt_tokens = call.prompt_tokens,
            completion_tokens = call.completion_tokens, latency_ms = call.latency_ms,
            memoised = call.memoised, "model call"
        );
    }
    for conflict in &deepened.conflicts {
        tracing::warn!(%conflict, "detectors and model disagree");
    }
    Ok(Analysed {
        analysis: deepened.analysis,
        requirements: deepened.requirements.unwrap_or(requirements),
        llm_calls: deepened.calls,
        files_sent: deepened.files_sent,
    })
}

/// One log line per fact a person checks first, with its evidence.
pub(crate) fn log_summary(analysis: &Analysis) {
    let evidence_for = |fact: &str| {
        analysis
            .evidence
            .iter()
            .find(|e| e.fact == fact)
            .map(|e| match e.line {
                Some(line) => format!("{}:{line}", e.file),
                None => e.file.clone(),
            })
            .unwrap_or_else(|| "default".to_owned())
    };
    tracing::info!(
        http = analysis.http,
        language = analysis.language.as_deref().unwrap_or("unknown"),
        framework = analysis.framework.as_deref().unwrap_or("unknown"),
        subdir = %analysis.subdir,
        "analysis: {} app in {}",
        analysis.framework.as_deref().unwrap_or("unknown"),
        analysis.subdir
    );
    if let Some(port) = analysis.port {
        tracing::info!(port, port_env = ?analysis.port_env, "listens on port {port} ({})", evidence_for("port"));
    }
    if analysis.bind.loopback_only {
        tracing::warn!(fix = ?analysis.bind.fix, "the app listens on loopback only ({}); the generated config makes it listen on 0.0.0.0", evidence_for("bind"));
    }
    if !analysis.required_env.is_empty() {
        tracing::info!(required_env = ?analysis.required_env, "the app needs environment variables set");
    }
    for note in &analysis.notes {
        tracing::info!("{note}");
    }
}
