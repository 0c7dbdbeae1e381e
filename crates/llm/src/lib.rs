//! OpenAI-compatible calls that deepen the analysis.
//!
//! [`Client::chat_json`] is the one way the project asks a model for JSON: the
//! answer is validated against a JSON schema, retried a bounded number of
//! times, memoised through a caller-supplied [`Memo`] and recorded as a
//! [`CallRecord`]. [`deepen`] uses it to let the model read chosen files of a
//! repository (never likely secret files, and with secret values redacted) and
//! merge its facts into the detectors'.
//!
//! Configuration arrives as an [`LlmConfig`]; this crate reads no environment.

mod answer;
mod client;
mod config;
mod deepen;
mod error;
mod files;
mod memo;
mod merge;
mod message;
mod prompts;
mod record;
mod requirements;
mod secrets;
mod transport;
mod validate;

pub use client::Client;
pub use config::LlmConfig;
pub use deepen::{Deepened, deepen};
pub use error::LlmError;
pub use memo::{Memo, MemoryMemo, NoMemo, memo_key};
pub use message::{ChatMessage, Role};
pub use record::{CallOutcome, CallRecord};
pub use secrecy::{ExposeSecret, SecretString};
pub use secrets::{is_secret_path, redact};
