//! Memoisation of model answers, so that a retried or resumed step does not pay
//! twice for a call it already made. The caller owns the storage (the pipeline
//! keeps it in the engine's per-step store); this crate only computes keys.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::message::ChatMessage;

/// A store of validated model answers by request key. Failures are the
/// implementor's to log: a lost `put` or a failed `get` only costs a call.
#[async_trait]
pub trait Memo: Send + Sync {
    async fn get(&self, key: &str) -> Option<Value>;
    async fn put(&self, key: &str, value: Value);
}

/// A process-local memo for tests and the CLI.
#[derive(Debug, Default)]
pub struct MemoryMemo {
    entries: Mutex<HashMap<String, Value>>,
}

impl MemoryMemo {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Memo for MemoryMemo {
    async fn get(&self, key: &str) -> Option<Value> {
        self.entries.lock().unwrap().get(key).cloned()
    }

    async fn put(&self, key: &str, value: Value) {
        self.entries.lock().unwrap().insert(key.to_owned(), value);
    }
}

/// A memo that remembers nothing, for callers that want no reuse.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMemo;

#[async_trait]
impl Memo for NoMemo {
    async fn get(&self, _key: &str) -> Option<Value> {
        None
    }

    async fn put(&self, _key: &str, _value: Value) {}
}

/// The key of one request: SHA-256 over the model, the messages and the
/// schema, so any change to what would be asked is a different key.
pub fn memo_key(model: &str, messages: &[ChatMessage], schema: &Value) -> String {
    let canonical = serde_json::json!({
        "model": model,
        "messages": messages,
        "schema": schema,
    });
    let mut hasher = Sha256::new();
    hasher.update(canonical.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_changes_with_every_part() {
        let messages = vec![ChatMessage::user("hello")];
        let schema = serde_json::json!({"type": "object"});
        let base = memo_key("m", &messages, &schema);
        assert_eq!(base, memo_key("m", &messages, &schema));
        assert_ne!(base, memo_key("other", &messages, &schema));
        assert_ne!(base, memo_key("m", &[ChatMessage::user("hello!")], &schema));
        assert_ne!(
            base,
            memo_key("m", &messages, &serde_json::json!({"type": "array"}))
        );
    }
}
