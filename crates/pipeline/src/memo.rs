//! The LLM's memo kept in the engine's per-step store, so a retried or resumed
//! step finds the answers an earlier attempt paid for.

use async_trait::async_trait;
use engine::StepContext;
use serde_json::Value;

pub(crate) struct StepMemo<'a>(pub &'a StepContext);

#[async_trait]
impl llm::Memo for StepMemo<'_> {
    async fn get(&self, key: &str) -> Option<Value> {
        match self.0.memo_get(key).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "step memo unreadable; the call will be made again");
                None
            }
        }
    }

    async fn put(&self, key: &str, value: Value) {
        if let Err(error) = self.0.memo_put(key, &value).await {
            tracing::warn!(%error, "step memo not written; a retry would pay for this call again");
        }
    }
}
