use std::time::Duration;

use secrecy::SecretString;

/// How to reach the model and how much one analysis may send and spend. Built
/// by the binary from `OPENAI_API_KEY`, `OPENAI_MODEL` and `OPENAI_BASE_URL`;
/// this crate never reads the environment.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Sent as `Authorization: Bearer …`; Debug prints it redacted.
    pub api_key: SecretString,
    pub model: String,
    /// Base of an OpenAI-compatible API, ending before `/chat/completions`.
    pub base_url: String,
    /// Files the model may ask to read in one analysis.
    pub max_files: usize,
    /// Bytes of one file sent at most; the rest is cut with a marker.
    pub max_file_bytes: usize,
    /// Bytes of file content sent in one analysis, over all calls.
    pub max_total_bytes: usize,
    /// Model calls one analysis makes at most: file choice, reading rounds and
    /// requirements. The floor is three (one reading round); in-call retries
    /// do not count.
    pub max_calls: usize,
    /// Time one HTTP request may take before it counts as a retryable failure.
    pub request_timeout: Duration,
    /// Extra attempts of one call after a retryable error or an unusable answer.
    pub retries: u32,
    /// First backoff delay between attempts after a retryable error; doubles
    /// each time, with jitter.
    pub retry_delay: Duration,
}

impl LlmConfig {
    pub const DEFAULT_MODEL: &'static str = "gpt-4.1-mini";
    pub const DEFAULT_BASE_URL: &'static str = "https://api.openai.com/v1";

    /// The defaults for everything but the key.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            api_key,
            model: Self::DEFAULT_MODEL.to_owned(),
            base_url: Self::DEFAULT_BASE_URL.to_owned(),
            max_files: 12,
            max_file_bytes: 16 * 1024,
            max_total_bytes: 96 * 1024,
            max_calls: 6,
            request_timeout: Duration::from_secs(90),
            retries: 2,
            retry_delay: Duration::from_secs(1),
        }
    }
}
