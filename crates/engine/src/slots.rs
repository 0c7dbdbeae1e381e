//! A worker's `max_concurrent_jobs` places. A job holds its slot while its steps run
//! and gives it back before its last write (the completion, the failure, the hand-back
//! for a later retry): that write only waits for a commit, so the worker claims the
//! next job while it is in flight instead of after it. A job moving on to its next
//! step keeps the slot, since that step runs here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

pub(crate) struct Slots {
    free: Arc<Semaphore>,
    given_back: Arc<Notify>,
    hold: Arc<MeanHold>,
}

/// How long jobs have held their slot lately: an exponentially weighted mean of the
/// last few dozen, in microseconds (0 until one was given back).
#[derive(Default)]
struct MeanHold(AtomicU64);

impl MeanHold {
    fn record(&self, held: Duration) {
        let held = held.as_micros().min(u64::MAX as u128) as u64;
        // Racing updates may lose a sample; it is an estimate.
        let mean = self.0.load(Ordering::Relaxed);
        let next = if mean == 0 {
            held.max(1)
        } else {
            (mean - mean / 16 + held / 16).max(1)
        };
        self.0.store(next, Ordering::Relaxed);
    }

    fn get(&self) -> Option<Duration> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }
}

impl Slots {
    pub fn new(count: usize) -> Self {
        Self {
            free: Arc::new(Semaphore::new(count.max(1))),
            given_back: Arc::new(Notify::new()),
            hold: Arc::default(),
        }
    }

    /// How long a job has held its slot lately; `None` before the first gave it back.
    pub fn mean_hold(&self) -> Option<Duration> {
        self.hold.get()
    }

    pub fn available(&self) -> usize {
        self.free.available_permits()
    }

    /// Takes a free slot; `None` when all are held.
    pub fn take(&self) -> Option<Slot> {
        let permit = self.free.clone().try_acquire_owned().ok()?;
        Some(Slot {
            permit: Mutex::new(Some(permit)),
            given_back: self.given_back.clone(),
            hold: self.hold.clone(),
            taken_at: Instant::now(),
        })
    }

    /// Resolves once a slot was given back since the last call (or at once if one
    /// was given back before anyone waited).
    pub async fn given_back(&self) {
        self.given_back.notified().await
    }
}

/// One job's slot; given back at the latest when dropped.
pub(crate) struct Slot {
    permit: Mutex<Option<OwnedSemaphorePermit>>,
    given_back: Arc<Notify>,
    hold: Arc<MeanHold>,
    taken_at: Instant,
}

impl Slot {
    pub fn give_back(&self) {
        if let Some(permit) = self.permit.lock().expect("slot").take() {
            self.hold.record(self.taken_at.elapsed());
            drop(permit);
            self.given_back.notify_one();
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.give_back();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slot_given_back_early_is_free_again_and_wakes_the_waiter_once() {
        let slots = Slots::new(1);
        let slot = slots.take().expect("one free slot");
        assert!(slots.take().is_none());
        slot.give_back();
        assert_eq!(slots.available(), 1);
        // The wake-up was stored for the next waiter.
        tokio::time::timeout(std::time::Duration::from_secs(1), slots.given_back())
            .await
            .expect("woken by the give-back");
        drop(slot);
        assert_eq!(
            slots.available(),
            1,
            "dropping a given-back slot frees nothing more"
        );
        assert!(slots.mean_hold().is_some());
    }

    #[test]
    fn the_mean_hold_follows_recent_jobs() {
        let hold = MeanHold::default();
        assert_eq!(hold.get(), None);
        hold.record(Duration::from_millis(100));
        assert_eq!(hold.get(), Some(Duration::from_millis(100)));
        for _ in 0..200 {
            hold.record(Duration::from_millis(1));
        }
        let mean = hold.get().expect("a mean");
        assert!(mean < Duration::from_millis(2), "{mean:?}");
    }
}
