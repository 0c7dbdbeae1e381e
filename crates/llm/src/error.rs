//! Error policy for the LLM crate.
//!
//! - Every failure of a model call ends up as one [`LlmError`] variant that says
//!   whether retrying the whole step can help ([`LlmError::is_retryable`]): rate
//!   limits, 5xx, timeouts and broken connections can; a refused key, a rejected
//!   request or a model that keeps answering nonsense cannot.
//! - Messages are written for the person reading a job's timeline. They never
//!   contain the API key: the server's text for an auth failure is dropped (OpenAI
//!   echoes part of the key in it) and every other server text is scrubbed of the
//!   key before it is stored.
//! - Retrying inside one call (bounded, with backoff) happens before any of these
//!   is returned; an error here means the in-call attempts are spent.

/// Why a model call (or a whole `deepen`) failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// 401/403: the key is wrong, revoked or lacks access. The server's message is
    /// deliberately not kept.
    #[error("the model service refused the API key (HTTP {status}); check OPENAI_API_KEY")]
    Auth { status: u16 },

    /// A 4xx other than auth or rate limiting: unknown model, bad parameters,
    /// exhausted quota. Retrying the same request cannot succeed.
    #[error("the model service rejected the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },

    /// 429, 5xx, timeouts and transport failures, after the in-call retries ran out.
    #[error("the model service is unavailable after {attempts} attempt(s): {last}")]
    Unavailable { attempts: u32, last: String },

    /// The model kept answering with text that is not JSON or does not match the
    /// schema, after feeding the error back to it.
    #[error("the model's answer for {purpose} was unusable after {attempts} attempt(s): {reason}")]
    InvalidOutput {
        purpose: String,
        attempts: u32,
        reason: String,
    },

    /// The configuration cannot make a request at all (e.g. a malformed base URL).
    #[error("the LLM configuration is invalid: {0}")]
    Config(String),

    /// A schema given to `chat_json` does not compile: a bug in the caller.
    #[error("the JSON schema for {purpose} is invalid: {reason}")]
    BadSchema { purpose: String, reason: String },
}

impl LlmError {
    /// True when running the same step again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LlmError::Unavailable { .. })
    }
}

/// Removes every occurrence of `secret` from `text`; a no-op for an empty secret.
pub(crate) fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "[REDACTED]")
    }
}
