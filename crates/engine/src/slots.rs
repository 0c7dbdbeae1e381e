//! A worker's `max_concurrent_jobs` places: they bound the steps running in the worker,
//! not the writes in flight. A job holds its slot while a step runs and gives it back
//! before its last write (the completion, the failure, the hand-back for a later
//! retry): that write only waits for a commit, so the worker claims the next job while
//! it is in flight instead of after it.
//!
//! A job moving on to its next step lends its slot while its checkpoint commits: a job
//! already claimed ahead may run a step in it meanwhile, but the claim loop claims
//! nothing new for a lent slot, so a workflow of long steps finds a slot again as soon
//! as its commit is done. Taking it back waits behind the jobs that asked before (the
//! semaphore serves waiters in order, and the claim loop only takes slots nobody waits
//! for).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

pub(crate) struct Slots {
    shared: Arc<SlotsShared>,
}

struct SlotsShared {
    free: Arc<Semaphore>,
    /// Slots lent by jobs whose checkpoint is committing, not taken back yet.
    lent: AtomicUsize,
    given_back: Notify,
    hold: MeanHold,
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
            shared: Arc::new(SlotsShared {
                free: Arc::new(Semaphore::new(count.max(1))),
                lent: AtomicUsize::new(0),
                given_back: Notify::new(),
                hold: MeanHold::default(),
            }),
        }
    }

    /// How long a job has held its slot lately; `None` before the first gave it back.
    pub fn mean_hold(&self) -> Option<Duration> {
        self.shared.hold.get()
    }

    /// Slots a job already claimed may start in now, lent ones included.
    pub fn available(&self) -> usize {
        self.shared.free.available_permits()
    }

    /// Slots free for jobs not claimed yet: lent slots are not.
    pub fn available_to_claim(&self) -> usize {
        self.available()
            .saturating_sub(self.shared.lent.load(Ordering::Acquire))
    }

    /// Takes a free slot; `None` when all are held.
    pub fn take(&self) -> Option<Slot> {
        let permit = self.shared.free.clone().try_acquire_owned().ok()?;
        Some(Slot {
            state: Mutex::new(SlotState::Held(permit, Instant::now())),
            slots: self.shared.clone(),
        })
    }

    /// Resolves once a slot was given back or lent since the last call (or at once if
    /// one was before anyone waited).
    pub async fn given_back(&self) {
        self.shared.given_back.notified().await
    }
}

enum SlotState {
    Held(OwnedSemaphorePermit, Instant),
    Lent,
    GivenBack,
}

/// One job's slot; given back at the latest when dropped.
pub(crate) struct Slot {
    state: Mutex<SlotState>,
    slots: Arc<SlotsShared>,
}

impl Slot {
    /// Frees the slot for good: the job runs no more steps here.
    pub fn give_back(&self) {
        let before =
            std::mem::replace(&mut *self.state.lock().expect("slot"), SlotState::GivenBack);
        self.freed(before);
    }

    /// Frees the slot while the job's checkpoint commits; [`Slot::take_back`] follows.
    pub fn lend(&self) {
        let mut state = self.state.lock().expect("slot");
        if matches!(*state, SlotState::Held(..)) {
            // Counted lent before the permit is free, so no claim sees it as free.
            self.slots.lent.fetch_add(1, Ordering::AcqRel);
            let before = std::mem::replace(&mut *state, SlotState::Lent);
            drop(state);
            self.freed(before);
        }
    }

    /// Takes a lent slot back for the job's next step, waiting behind the jobs that
    /// asked before; at once when the slot was not lent.
    pub async fn take_back(&self) {
        if !matches!(*self.state.lock().expect("slot"), SlotState::Lent) {
            return;
        }
        let permit = self
            .slots
            .free
            .clone()
            .acquire_owned()
            .await
            .expect("the slots' semaphore is never closed");
        let mut state = self.state.lock().expect("slot");
        *state = SlotState::Held(permit, Instant::now());
        self.slots.lent.fetch_sub(1, Ordering::AcqRel);
    }

    fn freed(&self, before: SlotState) {
        match before {
            SlotState::Held(permit, taken_at) => {
                self.slots.hold.record(taken_at.elapsed());
                drop(permit);
                self.slots.given_back.notify_one();
            }
            SlotState::Lent => {
                // The lent slot is free for new claims now.
                self.slots.lent.fetch_sub(1, Ordering::AcqRel);
                self.slots.given_back.notify_one();
            }
            SlotState::GivenBack => {}
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

    #[tokio::test]
    async fn a_lent_slot_serves_jobs_already_claimed_not_new_claims_and_comes_back() {
        let slots = Slots::new(1);
        let advancing = slots.take().expect("one free slot");
        advancing.lend();
        assert_eq!(slots.available(), 1, "a job claimed ahead may run in it");
        assert_eq!(slots.available_to_claim(), 0, "nothing is claimed for it");

        let ahead = slots.take().expect("the lent slot");
        let back = tokio::spawn(async move {
            advancing.take_back().await;
            advancing
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(
            !back.is_finished(),
            "taking it back waits for the step in it"
        );
        ahead.give_back();
        let advancing = tokio::time::timeout(std::time::Duration::from_secs(1), back)
            .await
            .expect("taken back once freed")
            .expect("no panic");
        assert_eq!(slots.available(), 0);
        assert_eq!(slots.available_to_claim(), 0);
        advancing.give_back();
        assert_eq!(slots.available_to_claim(), 1);
    }

    #[test]
    fn a_job_that_ends_while_its_slot_is_lent_frees_it_for_claims() {
        let slots = Slots::new(2);
        let advancing = slots.take().expect("a free slot");
        advancing.lend();
        assert_eq!(slots.available_to_claim(), 1);
        drop(advancing);
        assert_eq!(slots.available_to_claim(), 2);
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
