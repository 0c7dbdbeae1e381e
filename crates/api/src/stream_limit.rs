//! Open event streams per token. Each stream polls the database twice a
//! second until its job ends, so one token must not be able to open them
//! without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The streams each token has open, shared by the server's requests.
#[derive(Clone, Default)]
pub(crate) struct OpenStreams(Arc<Mutex<HashMap<String, u32>>>);

/// One open stream of a token; closing it (dropping the slot, when the stream
/// ends or the client goes away) frees its place.
pub(crate) struct StreamSlot {
    streams: OpenStreams,
    token: String,
}

impl OpenStreams {
    /// A place for one more stream of `token`, or how many it has open when
    /// that is already `max` (0: no limit).
    pub(crate) fn open(&self, token: &str, max: u32) -> Result<StreamSlot, u32> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(token.to_owned()).or_default();
        if max > 0 && *count >= max {
            return Err(*count);
        }
        *count += 1;
        Ok(StreamSlot {
            streams: self.clone(),
            token: token.to_owned(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.token) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_gets_at_most_max_streams_and_closed_ones_free_their_place() {
        let streams = OpenStreams::default();
        let first = streams.open("alice", 2).unwrap();
        let _second = streams.open("alice", 2).unwrap();
        assert_eq!(streams.open("alice", 2).err(), Some(2));
        assert!(streams.open("bob", 2).is_ok(), "per token");
        drop(first);
        assert!(streams.open("alice", 2).is_ok());
        assert!(streams.open("carol", 0).is_ok() && streams.open("carol", 0).is_ok());
    }
}
