//! The one way this project asks a model for JSON: memoised, validated against
//! a schema, retried a bounded number of times, and recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use async_openai::config::OpenAIConfig;
use backon::{BackoffBuilder, ExponentialBuilder};
use jsonschema::Validator;
use secrecy::ExposeSecret;
use serde_json::Value;
use tracing::Instrument;

use crate::config::LlmConfig;
use crate::error::LlmError;
use crate::memo::{Memo, memo_key};
use crate::message::ChatMessage;
use crate::record::{CallOutcome, CallRecord};
use crate::transport::{self, Request, SendError};
use crate::validate;

/// How much of an unusable answer is echoed back to the model with the error.
const MAX_ECHOED_ANSWER: usize = 2_000;

/// A client for one OpenAI-compatible service and model. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: async_openai::Client<OpenAIConfig>,
    config: LlmConfig,
    /// Cleared the first time the server rejects `response_format: json_schema`,
    /// so later calls go straight to json_object mode.
    structured: Arc<AtomicBool>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish()
    }
}

/// Tokens and requests spent across the attempts of one call.
#[derive(Default)]
struct Spent {
    prompt_tokens: u32,
    completion_tokens: u32,
    requests: u32,
}

impl Client {
    pub fn new(config: LlmConfig) -> Self {
        let openai = OpenAIConfig::new()
            .with_api_key(config.api_key.expose_secret())
            .with_api_base(config.base_url.trim_end_matches('/'));
        // The default executor retries 429/5xx on its own; a plain service
        // leaves every retry to `attempts`, so `retries` is the real bound.
        let inner = async_openai::Client::with_config(openai)
            .with_http_service(async_openai::middleware::ReqwestService::default());
        Self {
            inner,
            config,
            structured: Arc::new(AtomicBool::new(true)),
        }
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// Asks for one JSON value matching `schema`, given a system and a user
    /// message. See [`Client::converse_json`].
    pub async fn chat_json(
        &self,
        purpose: &str,
        system: &str,
        user: &str,
        schema: &Value,
        memo: &dyn Memo,
    ) -> Result<(Value, CallRecord), LlmError> {
        let messages = [ChatMessage::system(system), ChatMessage::user(user)];
        self.converse_json(purpose, &messages, schema, memo).await
    }

    /// Asks for one JSON value matching `schema` at the end of `messages`.
    /// A memoised answer is returned without a request. Otherwise the reply is
    /// validated; an unusable one is fed back to the model, and 429/5xx/timeouts
    /// are retried with backoff, up to `retries` extra attempts in all.
    pub async fn converse_json(
        &self,
        purpose: &str,
        messages: &[ChatMessage],
        schema: &Value,
        memo: &dyn Memo,
    ) -> Result<(Value, CallRecord), LlmError> {
        let (result, record) = self.call(purpose, messages, schema, memo).await;
        result.map(|value| (value, record))
    }

    /// Like [`Client::converse_json`], but the record is returned on failure too.
    pub(crate) async fn call(
        &self,
        purpose: &str,
        messages: &[ChatMessage],
        schema: &Value,
        memo: &dyn Memo,
    ) -> (Result<Value, LlmError>, CallRecord) {
        // Attribute names of OpenTelemetry's GenAI conventions, so trace viewers show them.
        let span = tracing::info_span!("llm.call", model = %self.config.model, purpose = %purpose,
            gen_ai.request.model = %self.config.model,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty);
        self.call_in_span(purpose, messages, schema, memo)
            .instrument(span)
            .await
    }

    async fn call_in_span(
        &self,
        purpose: &str,
        messages: &[ChatMessage],
        schema: &Value,
        memo: &dyn Memo,
    ) -> (Result<Value, LlmError>, CallRecord) {
        let started = Instant::now();
        let mut spent = Spent::default();
        let key = memo_key(&self.config.model, messages, schema);
        let result = match validate::compile(schema) {
            Err(reason) => Err(LlmError::BadSchema {
                purpose: purpose.to_owned(),
                reason,
            }),
            Ok(validator) => match memo.get(&key).await {
                // An entry is only trusted if it still passes the schema.
                Some(value) if validator.is_valid(&value) => Ok(value),
                _ => {
                    let fresh = self
                        .attempts(purpose, messages, schema, &validator, &mut spent)
                        .await;
                    if let Ok(value) = &fresh {
                        memo.put(&key, value.clone()).await;
                    }
                    fresh
                }
            },
        };
        let record = CallRecord {
            purpose: purpose.to_owned(),
            model: self.config.model.clone(),
            prompt_tokens: spent.prompt_tokens,
            completion_tokens: spent.completion_tokens,
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            attempts: spent.requests,
            memoised: result.is_ok() && spent.requests == 0,
            outcome: outcome_of(&result),
        };
        tracing::Span::current()
            .record("gen_ai.usage.input_tokens", record.prompt_tokens)
            .record("gen_ai.usage.output_tokens", record.completion_tokens);
        log_record(&record);
        count_tokens(&record);
        (result, record)
    }

    async fn attempts(
        &self,
        purpose: &str,
        messages: &[ChatMessage],
        schema: &Value,
        validator: &Validator,
        spent: &mut Spent,
    ) -> Result<Value, LlmError> {
        let mut conversation = messages.to_vec();
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.config.retry_delay)
            .with_max_delay(self.config.retry_delay.saturating_mul(16))
            .with_max_times(self.config.retries as usize)
            .with_jitter()
            .build();
        loop {
            let structured = self.structured.load(Ordering::Relaxed);
            let request = Request {
                model: &self.config.model,
                purpose,
                messages: &conversation,
                schema,
                structured,
                timeout: self.config.request_timeout,
            };
            spent.requests += 1;
            let sent =
                transport::send(&self.inner, self.config.api_key.expose_secret(), &request).await;
            match sent {
                Ok(reply) => {
                    spent.prompt_tokens += reply.prompt_tokens;
                    spent.completion_tokens += reply.completion_tokens;
                    let checked = reply
                        .content
                        .as_deref()
                        .map_err(Clone::clone)
                        .and_then(|text| validate::parse_and_check(validator, text));
                    let reason = match checked {
                        Ok(value) => return Ok(value),
                        Err(reason) => reason,
                    };
                    if delays.next().is_none() {
                        return Err(LlmError::InvalidOutput {
                            purpose: purpose.to_owned(),
                            attempts: spent.requests,
                            reason,
                        });
                    }
                    tracing::warn!(attempt = spent.requests, %reason, "unusable model answer; asking again");
                    if let Ok(text) = &reply.content {
                        conversation.push(ChatMessage::assistant(truncate(text)));
                    }
                    conversation.push(ChatMessage::user(format!(
                        "That answer cannot be used: {reason}. Answer again with only a JSON object that matches the schema."
                    )));
                }
                // Only reported for a structured request, and the flag stays
                // cleared, so this happens once per client.
                Err(SendError::SchemaUnsupported) => {
                    tracing::warn!("the model service rejects json_schema; using json_object");
                    self.structured.store(false, Ordering::Relaxed);
                }
                Err(SendError::Permanent(error)) => return Err(error),
                Err(SendError::Retryable(last)) => match delays.next() {
                    Some(delay) => {
                        tracing::warn!(attempt = spent.requests, error = %last, delay_ms = delay.as_millis() as u64, "model call failed; retrying");
                        tokio::time::sleep(delay).await;
                    }
                    None => {
                        return Err(LlmError::Unavailable {
                            attempts: spent.requests,
                            last,
                        });
                    }
                },
            }
        }
    }
}

fn outcome_of(result: &Result<Value, LlmError>) -> CallOutcome {
    match result {
        Ok(_) => CallOutcome::Ok,
        Err(LlmError::InvalidOutput { .. }) => CallOutcome::InvalidOutput,
        Err(e) if e.is_retryable() => CallOutcome::Unavailable,
        Err(_) => CallOutcome::Refused,
    }
}

fn log_record(record: &CallRecord) {
    tracing::info!(
        llm.model = %record.model,
        llm.purpose = %record.purpose,
        llm.prompt_tokens = record.prompt_tokens,
        llm.completion_tokens = record.completion_tokens,
        llm.attempts = record.attempts,
        llm.memoised = record.memoised,
        llm.outcome = ?record.outcome,
        duration_ms = record.latency_ms,
        "llm call"
    );
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHOED_ANSWER) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Tokens billed, for the process's metrics (a no-op unless the binary installed a
/// recorder). Models are few and named by configuration, so the series stay few.
fn count_tokens(record: &CallRecord) {
    for (kind, tokens) in [
        ("prompt", record.prompt_tokens),
        ("completion", record.completion_tokens),
    ] {
        let labels = [("model", record.model.clone()), ("kind", kind.to_owned())];
        metrics::counter!("deployflow_llm_tokens_total", &labels).increment(u64::from(tokens));
    }
}
