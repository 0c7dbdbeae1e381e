//! The LLM pass over a repository: the model picks files to read from the tree
//! and the detector facts, reads them over as many calls as the limits allow,
//! and answers with facts that are merged into the detectors'.

use std::collections::BTreeSet;

use analysis::{Analysis, Requirements, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::answer::{self, FileChoice, LlmFacts};
use crate::client::Client;
use crate::error::LlmError;
use crate::files::{self, Budget};
use crate::memo::Memo;
use crate::merge::{self, Merged};
use crate::message::ChatMessage;
use crate::prompts;
use crate::record::CallRecord;
use crate::requirements;

/// What the LLM pass produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deepened {
    /// The detector facts with the model's merged in; `notes` tell what
    /// changed, what disagreed and what was withheld.
    pub analysis: Analysis,
    /// The description in structured form; `None` when the description is
    /// empty or the model's answer was unusable (the caller then falls back
    /// to `analysis::parse_requirements`).
    pub requirements: Option<Requirements>,
    /// Each disagreement between detectors and model, and which side was kept.
    pub conflicts: Vec<String>,
    /// Every model call made, in order, memoised ones included.
    pub calls: Vec<CallRecord>,
    /// Files whose (redacted, bounded) contents were sent.
    pub files_sent: Vec<String>,
}

/// Deepens `detected` with the model. Fails only when the service refuses the
/// key (permanent) or stays unavailable (retryable); an unusable answer falls
/// back to the detector facts with a note.
pub async fn deepen(
    client: &Client,
    snapshot: &Snapshot,
    detected: &Analysis,
    description: &str,
    memo: &dyn Memo,
) -> Result<Deepened, LlmError> {
    let mut run = Run {
        client,
        memo,
        calls: Vec::new(),
        notes: Vec::new(),
        files_sent: Vec::new(),
    };
    let facts = run.facts(snapshot, detected).await?;
    let requirements = run.requirements(description, detected).await?;
    let (mut analysis, conflicts) = match &facts {
        Some(facts) => {
            let Merged {
                analysis,
                conflicts,
            } = merge::merge(detected, facts, snapshot);
            (analysis, conflicts)
        }
        None => {
            run.notes
                .push("the LLM gave no usable facts; kept the detector facts alone".to_owned());
            (detected.clone(), Vec::new())
        }
    };
    analysis.notes.extend(run.notes);
    Ok(Deepened {
        analysis,
        requirements,
        conflicts,
        calls: run.calls,
        files_sent: run.files_sent,
    })
}

struct Run<'a> {
    client: &'a Client,
    memo: &'a dyn Memo,
    calls: Vec<CallRecord>,
    notes: Vec<String>,
    files_sent: Vec<String>,
}

impl Run<'_> {
    /// The model's final facts, or `None` when its answers were unusable.
    async fn facts(
        &mut self,
        snapshot: &Snapshot,
        detected: &Analysis,
    ) -> Result<Option<LlmFacts>, LlmError> {
        let config = self.client.config();
        let mut conversation = vec![
            ChatMessage::system(prompts::ANALYST),
            ChatMessage::user(prompts::choose_files(
                &files::tree_listing(snapshot),
                detected,
                config.max_files,
            )),
        ];
        let schema = answer::file_choice_schema();
        let Some(choice) = self.ask("choose_files", &conversation, &schema).await? else {
            return Ok(None);
        };
        let Some(parsed) = self.read::<FileChoice>("choose_files", &choice) else {
            return Ok(None);
        };
        conversation.push(ChatMessage::assistant(choice.to_string()));
        let mut requested = parsed.files;
        requested.truncate(config.max_files);
        self.reading_rounds(snapshot, conversation, requested).await
    }

    /// Sends the requested files and asks for facts, again while the model
    /// wants more files and the limits allow.
    async fn reading_rounds(
        &mut self,
        snapshot: &Snapshot,
        mut conversation: Vec<ChatMessage>,
        mut requested: Vec<String>,
    ) -> Result<Option<LlmFacts>, LlmError> {
        let config = self.client.config();
        let mut budget = Budget {
            files_left: config.max_files,
            bytes_left: config.max_total_bytes,
            max_file_bytes: config.max_file_bytes,
            sent: BTreeSet::new(),
        };
        // One call picks files and one reads the description.
        let rounds = config.max_calls.saturating_sub(2).max(1);
        let schema = answer::facts_schema();
        let mut facts: Option<LlmFacts> = None;
        for round in 0..rounds {
            let batch = files::batch(snapshot, &requested, &mut budget);
            for path in &batch.withheld {
                self.notes.push(format!(
                    "the LLM asked for {path}; withheld because it may hold secrets"
                ));
            }
            if round > 0 && batch.sent.is_empty() {
                break;
            }
            self.files_sent.extend(batch.sent.iter().cloned());
            conversation.push(ChatMessage::user(prompts::read_files(
                &batch,
                budget.files_left,
                budget.bytes_left,
            )));
            let Some(answer) = self.ask("read_files", &conversation, &schema).await? else {
                break;
            };
            let Some(parsed) = self.read::<LlmFacts>("read_files", &answer) else {
                break;
            };
            conversation.push(ChatMessage::assistant(answer.to_string()));
            requested = parsed.more_files.clone();
            facts = Some(parsed);
            if requested.is_empty() || budget.exhausted() {
                break;
            }
            if round + 1 == rounds {
                self.notes.push(format!(
                    "the LLM wanted more files ({}) but the call limit was reached",
                    requested.join(", ")
                ));
            }
        }
        Ok(facts)
    }

    async fn requirements(
        &mut self,
        description: &str,
        detected: &Analysis,
    ) -> Result<Option<Requirements>, LlmError> {
        if description.trim().is_empty() {
            return Ok(None);
        }
        let apps: Vec<String> = detected.apps.iter().map(|a| a.subdir.clone()).collect();
        let conversation = [
            ChatMessage::system(prompts::REQUIREMENTS),
            ChatMessage::user(prompts::requirements(description, &apps)),
        ];
        let schema = answer::requirements_schema();
        let Some(answer) = self.ask("requirements", &conversation, &schema).await? else {
            return Ok(None);
        };
        match requirements::read(answer, description) {
            Ok(requirements) => Ok(Some(requirements)),
            Err(reason) => {
                self.notes.push(reason);
                Ok(None)
            }
        }
    }

    /// One call. `None` (with a note) when the answer cannot be used but the
    /// analysis can go on without it; an error when the service itself fails.
    async fn ask(
        &mut self,
        purpose: &str,
        conversation: &[ChatMessage],
        schema: &Value,
    ) -> Result<Option<Value>, LlmError> {
        let (result, record) = self
            .client
            .call(purpose, conversation, schema, self.memo)
            .await;
        self.calls.push(record);
        match result {
            Ok(value) => Ok(Some(value)),
            Err(error @ (LlmError::InvalidOutput { .. } | LlmError::Rejected { .. })) => {
                tracing::warn!(%error, "LLM answer unusable; going on without it");
                self.notes.push(format!("LLM {purpose}: {error}"));
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    fn read<T: for<'de> Deserialize<'de>>(&mut self, purpose: &str, answer: &Value) -> Option<T> {
        match serde_json::from_value(answer.clone()) {
            Ok(parsed) => Some(parsed),
            Err(e) => {
                self.notes
                    .push(format!("LLM {purpose}: answer has the wrong shape: {e}"));
                None
            }
        }
    }
}
