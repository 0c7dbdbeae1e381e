use serde::{Deserialize, Serialize};

/// How one model call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// A valid answer, from the service or from the memo.
    Ok,
    /// The model kept answering with JSON that is invalid or off-schema.
    InvalidOutput,
    /// A retryable failure (429, 5xx, timeout, transport) outlasted the retries.
    Unavailable,
    /// Refused for good: bad key, rejected request.
    Refused,
}

/// What one model call cost and how it went; kept with the step's output so a
/// person sees every call an analysis made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// What the call was for: `choose_files`, `read_files`, `requirements`…
    pub purpose: String,
    pub model: String,
    /// Tokens billed over all attempts of this call; zero when memoised.
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// Wall time over all attempts, backoff included.
    pub latency_ms: u64,
    /// HTTP requests made; zero when memoised.
    pub attempts: u32,
    /// The answer came from the memo: nothing was sent.
    pub memoised: bool,
    pub outcome: CallOutcome,
}
