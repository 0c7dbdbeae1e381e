//! Jobs claimed before a slot is free for them. When jobs hold their slots only briefly,
//! a freed slot would otherwise wait a claim's round trip for its next job; a few jobs
//! claimed ahead start at once instead, and claims bring back more jobs each.
//!
//! The worker claims ahead only what its running jobs will free soon: as many jobs as
//! its slots turn over within [`HORIZON`] at the recent mean hold time, so a worker of
//! long jobs (a deployment holds its slot for minutes) claims nothing ahead and takes
//! no job another worker could start now. A job waits here at most [`MAX_WAIT`] and a
//! quarter of its lease; one that waited longer is handed back unstarted (its lease
//! dropped, no attempt recorded), as is every job here at shutdown.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::store::{ClaimedJob, Lease};

/// How far ahead the worker plans: jobs its slots free within this time may be claimed.
const HORIZON: Duration = Duration::from_millis(25);

/// The most jobs claimed ahead per slot, however short the jobs.
const MAX_AHEAD_PER_SLOT: usize = 4;

/// The longest a job claimed ahead waits for a slot before it is handed back.
const MAX_WAIT: Duration = Duration::from_secs(1);

pub(crate) struct ClaimedAhead {
    jobs: VecDeque<(ClaimedJob, Instant)>,
    max_wait: Duration,
}

impl ClaimedAhead {
    /// For jobs claimed with leases of `lease`.
    pub fn new(lease: Duration) -> Self {
        Self {
            jobs: VecDeque::new(),
            max_wait: MAX_WAIT.min(lease / 4),
        }
    }

    /// The longest a job waits here before it is handed back.
    #[cfg(test)]
    fn max_wait(&self) -> Duration {
        self.max_wait
    }

    pub fn push(&mut self, job: ClaimedJob) {
        self.jobs.push_back((job, Instant::now()));
    }

    /// When the oldest job here will have waited too long (just past it, so the
    /// check then finds it stale).
    pub fn deadline(&self) -> Option<tokio::time::Instant> {
        let (_, claimed) = self.jobs.front()?;
        let due = *claimed + self.max_wait + Duration::from_millis(1);
        Some(tokio::time::Instant::from_std(due))
    }

    /// The oldest job that has not waited too long to start.
    pub fn next_fresh(&mut self) -> Option<ClaimedJob> {
        match self.jobs.front() {
            Some((_, claimed)) if claimed.elapsed() <= self.max_wait => {
                self.jobs.pop_front().map(|(job, _)| job)
            }
            _ => None,
        }
    }

    /// Removes and returns the leases of the jobs that waited too long.
    pub fn take_stale(&mut self) -> Vec<Lease> {
        let mut stale = Vec::new();
        while let Some((_, claimed)) = self.jobs.front() {
            if claimed.elapsed() <= self.max_wait {
                break;
            }
            let (job, _) = self.jobs.pop_front().expect("a front job");
            stale.push(job.lease);
        }
        stale
    }

    /// Removes and returns every lease held here.
    pub fn take_all(&mut self) -> Vec<Lease> {
        self.jobs.drain(..).map(|(job, _)| job.lease).collect()
    }

    /// How many more jobs to claim ahead of free slots: what `slots` slots holding
    /// jobs for `mean_hold` on average free within the horizon, less those already
    /// here; none before any job was seen to give its slot back.
    pub fn room(&self, slots: usize, mean_hold: Option<Duration>) -> usize {
        let Some(mean_hold) = mean_hold else {
            return 0;
        };
        let turnover = HORIZON.as_secs_f64() / mean_hold.as_secs_f64().max(1e-6);
        let allowance = ((slots as f64) * turnover)
            .floor()
            .min((slots * MAX_AHEAD_PER_SLOT) as f64) as usize;
        allowance.saturating_sub(self.jobs.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_jobs_are_claimed_ahead_and_long_ones_are_not() {
        let ahead = ClaimedAhead::new(Duration::from_secs(30));
        assert_eq!(
            ahead.room(16, None),
            0,
            "nothing ahead before a job was seen"
        );
        assert_eq!(
            ahead.room(16, Some(Duration::from_millis(2))),
            64,
            "at most four per slot"
        );
        assert_eq!(ahead.room(16, Some(Duration::from_millis(100))), 4);
        assert_eq!(ahead.room(16, Some(Duration::from_secs(90))), 0);
    }

    #[test]
    fn a_job_waits_at_most_a_quarter_of_its_lease() {
        assert_eq!(
            ClaimedAhead::new(Duration::from_secs(30)).max_wait(),
            MAX_WAIT
        );
        assert_eq!(
            ClaimedAhead::new(Duration::from_secs(2)).max_wait(),
            Duration::from_millis(500)
        );
    }
}
