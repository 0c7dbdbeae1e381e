//! The claim loop: keeps up to `max_concurrent_jobs` jobs running, claims more when a
//! slot is free (and, for short jobs, ahead of free slots: `claim_ahead.rs`), starts
//! jobs claimed ahead while the next claim is in flight, sleeps until woken (NOTIFY, a
//! local submit, a slot given back, the next due time, or the poll interval), and on
//! shutdown hands back what it claimed ahead, drains, then hands unfinished jobs back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::catalog::Catalog;
use crate::claim_ahead::ClaimedAhead;
use crate::job_run::{JobRun, Shared};
use crate::secrets::SecretKey;
use crate::slots::Slots;
use crate::store::{ClaimedJob, Database, Lease};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique per process: it is the lease owner.
    pub worker_id: String,
    pub max_concurrent_jobs: usize,
    pub lease: Duration,
    pub heartbeat: Duration,
    /// Longest idle sleep between two claim attempts when no wake-up arrives.
    pub poll_interval: Duration,
    /// A job whose step was interrupted by dying workers more often than this is parked `failed`.
    pub max_recoveries: u32,
    /// On shutdown, how long running steps may take to finish before their jobs are handed back.
    pub shutdown_grace: Duration,
    /// Finished jobs older than this are deleted; `None` keeps them.
    pub retention: Option<Duration>,
    /// Opens the secrets jobs were submitted with; `None` when none are accepted.
    pub secret_key: Option<SecretKey>,
}

impl WorkerConfig {
    pub fn new(worker_id: impl Into<String>) -> Self {
        Self {
            worker_id: worker_id.into(),
            max_concurrent_jobs: 8,
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            poll_interval: Duration::from_secs(5),
            max_recoveries: 3,
            shutdown_grace: Duration::from_secs(30),
            retention: Some(Duration::from_secs(30 * 24 * 3600)),
            secret_key: None,
        }
    }
}

pub struct Worker {
    shared: Arc<Shared>,
    stats: Arc<WorkerStats>,
}

/// What a worker's claims brought back, for benchmarks and tests.
#[derive(Debug, Default)]
pub struct WorkerStats {
    claim_statements: AtomicU64,
    claim_busy_micros: AtomicU64,
    claims: AtomicU64,
    claimed: AtomicU64,
    claimed_ahead: AtomicU64,
    handed_back: AtomicU64,
    runs_ended: AtomicU64,
}

impl WorkerStats {
    /// Claim statements run, whether or not they brought back a job.
    pub fn claim_statements(&self) -> u64 {
        self.claim_statements.load(Ordering::Relaxed)
    }

    /// Time the worker spent waiting for its claim statements.
    pub fn claim_busy(&self) -> Duration {
        Duration::from_micros(self.claim_busy_micros.load(Ordering::Relaxed))
    }

    /// Claim statements that brought back at least one job.
    pub fn claims(&self) -> u64 {
        self.claims.load(Ordering::Relaxed)
    }

    /// Jobs those claims brought back.
    pub fn claimed(&self) -> u64 {
        self.claimed.load(Ordering::Relaxed)
    }

    /// Jobs a claim brought back when no slot was free for them: they waited in the
    /// claimed-ahead buffer.
    pub fn claimed_ahead(&self) -> u64 {
        self.claimed_ahead.load(Ordering::Relaxed)
    }

    /// Jobs claimed ahead that were handed back unstarted.
    pub fn handed_back(&self) -> u64 {
        self.handed_back.load(Ordering::Relaxed)
    }

    /// Job runs that ended here, whatever their end (a job whose lease was lost may
    /// run again elsewhere, so this can exceed the jobs that finished).
    pub fn runs_ended(&self) -> u64 {
        self.runs_ended.load(Ordering::Relaxed)
    }

    fn timed_claim(&self, took: Duration) {
        self.claim_statements.fetch_add(1, Ordering::Relaxed);
        self.claim_busy_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    fn record(&self, jobs: usize) {
        if jobs > 0 {
            self.claims.fetch_add(1, Ordering::Relaxed);
            self.claimed.fetch_add(jobs as u64, Ordering::Relaxed);
        }
    }
}

/// How often finished jobs past retention are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// How long jobs handed back at shutdown get to record that before the process exits.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

impl Worker {
    pub fn new(database: Database, catalog: Arc<Catalog>, config: WorkerConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                store: database.queue().clone(),
                catalog,
                config,
                release: CancellationToken::new(),
                running: Default::default(),
            }),
            stats: Arc::default(),
        }
    }

    /// The worker's claim counters, readable while it runs.
    pub fn stats(&self) -> Arc<WorkerStats> {
        self.stats.clone()
    }

    /// Runs until `shutdown` is cancelled, then drains within the grace period.
    pub async fn run(self, shutdown: CancellationToken) {
        let shared = self.shared;
        let stats = self.stats;
        let config = &shared.config;
        shared.store.start_listening();
        let notifier = shared.store.work_notifier();
        tokio::spawn(forward_cancel_signals(shared.clone(), shutdown.clone()));
        let slots = Slots::new(config.max_concurrent_jobs);
        let mut ahead = ClaimedAhead::new(config.lease);
        let mut running = JoinSet::new();
        let mut error_delay = Duration::from_millis(100);
        let mut next_purge = tokio::time::Instant::now();
        tracing::info!(worker.id = %config.worker_id, max_concurrent_jobs = config.max_concurrent_jobs,
            lease_ms = config.lease.as_millis() as u64, backend = shared.store.backend(), "worker started");

        // At most one claim is in flight, as a task of its own; the loop keeps starting
        // jobs claimed ahead in slots that free up meanwhile, instead of waiting for it.
        let mut claim: Option<JoinHandle<Claimed>> = None;
        // No claim before this: the queue looked empty, or the database failed.
        let mut resume_at = tokio::time::Instant::now();
        let mut backing_off = false;
        // Registered before each claim, so a wake-up sent while it runs is not missed.
        let mut woken = Box::pin(notifier.notified());
        // Work was announced while the claim was in flight, which may have looked too
        // early to see it: claim again at once rather than go idle.
        let mut woken_during_claim = false;
        // Jobs claimed ahead went stale: the mean hold time is out of date (the slots
        // hold long jobs now), so claim none ahead until a slot is given back.
        let mut ahead_paused = false;
        while !shutdown.is_cancelled() {
            let reaped = reap(&mut running);
            stats.runs_ended.fetch_add(reaped as u64, Ordering::Relaxed);
            if reaped > 0 && !backing_off {
                resume_at = tokio::time::Instant::now();
            }
            if tokio::time::Instant::now() >= next_purge {
                purge(&shared).await;
                next_purge = tokio::time::Instant::now() + PURGE_EVERY;
            }
            let stale = ahead.take_stale();
            if !stale.is_empty() {
                ahead_paused = true;
                hand_back(&shared, &stats, stale).await;
            }
            start_claimed_ahead(&shared, &slots, &mut ahead, &mut running);
            let free = slots.available_to_claim();
            let room = if ahead_paused {
                0
            } else {
                ahead.room(config.max_concurrent_jobs, slots.mean_hold())
            };
            if claim.is_none() && free + room > 0 && tokio::time::Instant::now() >= resume_at {
                woken.as_mut().enable();
                woken_during_claim = false;
                claim = Some(tokio::spawn(timed_claim(shared.clone(), free + room)));
            }
            let ahead_due = ahead.deadline();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                claimed = async { claim.as_mut().expect("a claim in flight").await }, if claim.is_some() => {
                    claim = None;
                    let claimed = match claimed {
                        Ok(claimed) => claimed,
                        Err(e) => {
                            tracing::error!(error = %e, "the claim task ended abnormally");
                            backing_off = true;
                            resume_at = tokio::time::Instant::now() + error_delay;
                            continue;
                        }
                    };
                    stats.timed_claim(claimed.took);
                    match claimed.jobs {
                        Ok(jobs) => {
                            backing_off = false;
                            error_delay = Duration::from_millis(100);
                            let count = jobs.len();
                            stats.record(count);
                            crate::metrics::claimed(&jobs);
                            for job in jobs {
                                match slots.take() {
                                    Some(slot) => {
                                        running.spawn(JobRun::new(shared.clone(), job, slot).run());
                                    }
                                    None => {
                                        stats.claimed_ahead.fetch_add(1, Ordering::Relaxed);
                                        ahead.push(job);
                                    }
                                }
                            }
                            if count < claimed.wanted && !woken_during_claim {
                                resume_at = tokio::time::Instant::now() + idle_sleep(&shared).await;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, retry_in_ms = error_delay.as_millis() as u64, "claim failed");
                            backing_off = true;
                            resume_at = tokio::time::Instant::now() + error_delay;
                            error_delay = (error_delay * 2).min(Duration::from_secs(5));
                        }
                    }
                }
                _ = &mut woken => {
                    woken = Box::pin(notifier.notified());
                    woken_during_claim = claim.is_some();
                    if !backing_off {
                        resume_at = tokio::time::Instant::now();
                    }
                }
                _ = slots.given_back() => {
                    ahead_paused = false;
                    if !backing_off {
                        resume_at = tokio::time::Instant::now();
                    }
                }
                Some(ended) = running.join_next(), if !running.is_empty() => {
                    stats.runs_ended.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = ended {
                        tracing::error!(error = %e, "a job task ended abnormally");
                    }
                    if !backing_off {
                        resume_at = tokio::time::Instant::now();
                    }
                }
                _ = tokio::time::sleep_until(resume_at),
                    if claim.is_none() && resume_at > tokio::time::Instant::now() => {}
                // A job claimed ahead that waited too long goes back on time.
                _ = tokio::time::sleep_until(ahead_due.unwrap_or(resume_at)), if ahead_due.is_some() => {}
            }
        }
        // The jobs of a claim still in flight go back with those claimed ahead.
        if let Some(claim) = claim {
            let abort = claim.abort_handle();
            match tokio::time::timeout(config.shutdown_grace, claim).await {
                Ok(Ok(Claimed { jobs: Ok(jobs), .. })) => {
                    stats.record(jobs.len());
                    jobs.into_iter().for_each(|job| ahead.push(job));
                }
                Ok(_) => {}
                Err(_) => {
                    abort.abort();
                    tracing::warn!(
                        "the claim in flight at shutdown did not answer; any job it took returns when its lease expires"
                    );
                }
            }
        }
        hand_back(&shared, &stats, ahead.take_all()).await;
        drain(&shared, running).await;
    }
}

/// A claim's answer, with what was asked and how long it took.
struct Claimed {
    jobs: crate::Result<Vec<ClaimedJob>>,
    wanted: usize,
    took: Duration,
}

async fn timed_claim(shared: Arc<Shared>, wanted: usize) -> Claimed {
    let started = Instant::now();
    let jobs = shared
        .store
        .claim(&shared.config.worker_id, wanted, shared.config.lease)
        .await;
    Claimed {
        jobs,
        wanted,
        took: started.elapsed(),
    }
}

/// Starts jobs claimed ahead in the slots that are free.
fn start_claimed_ahead(
    shared: &Arc<Shared>,
    slots: &Slots,
    ahead: &mut ClaimedAhead,
    running: &mut JoinSet<()>,
) {
    // Only this loop takes slots, so one seen free stays free until taken.
    while slots.available() > 0 {
        let Some(job) = ahead.next_fresh() else {
            return;
        };
        let slot = slots.take().expect("a slot seen free");
        running.spawn(JobRun::new(shared.clone(), job, slot).run());
    }
}

/// Hands jobs claimed ahead back unstarted; if that fails, their leases expire and
/// another worker takes them over as from a dead one.
async fn hand_back(shared: &Shared, stats: &WorkerStats, leases: Vec<Lease>) {
    if leases.is_empty() {
        return;
    }
    match shared
        .store
        .hand_back_unstarted(&shared.config.worker_id, &leases)
        .await
    {
        Ok(n) => {
            stats.handed_back.fetch_add(n, Ordering::Relaxed);
            tracing::debug!(
                jobs = n,
                "handed back jobs claimed ahead that did not start"
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, jobs = leases.len(), "could not hand back jobs claimed ahead; their leases will expire")
        }
    }
}

/// Stops running steps as soon as their job's cancellation is requested, instead of at
/// the next heartbeat.
async fn forward_cancel_signals(shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut signals = shared.store.cancel_signals();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            signal = signals.recv() => match signal {
                Ok(job_id) => shared.cancel_running(job_id),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// How long to sleep with nothing to claim: until the next due job, at most the poll interval.
async fn idle_sleep(shared: &Shared) -> Duration {
    let poll = shared.config.poll_interval;
    match shared.store.next_due().await {
        Ok(Some(due)) => (due - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(poll),
        Ok(None) => poll,
        Err(_) => poll,
    }
    .max(Duration::from_millis(5))
}

/// Collects the job tasks that ended; returns how many.
fn reap(running: &mut JoinSet<()>) -> usize {
    let mut ended = 0;
    while let Some(result) = running.try_join_next() {
        ended += 1;
        if let Err(e) = result {
            tracing::error!(error = %e, "a job task ended abnormally");
        }
    }
    ended
}

async fn purge(shared: &Shared) {
    let Some(retention) = shared.config.retention else {
        return;
    };
    let Ok(retention) = chrono::Duration::from_std(retention) else {
        return;
    };
    match shared.store.purge_finished(Utc::now() - retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "purged finished jobs past retention"),
        Err(e) => tracing::warn!(error = %e, "purging finished jobs failed"),
    }
}

async fn drain(shared: &Shared, mut running: JoinSet<()>) {
    let grace = shared.config.shutdown_grace;
    if !running.is_empty() {
        tracing::info!(
            jobs = running.len(),
            grace_ms = grace.as_millis() as u64,
            "shutting down: letting running steps finish"
        );
    }
    let finished = tokio::time::timeout(grace, async {
        while running.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            jobs = running.len(),
            "grace period over: handing unfinished jobs back"
        );
        shared.release.cancel();
        let _ = tokio::time::timeout(RELEASE_WAIT, async {
            while running.join_next().await.is_some() {}
        })
        .await;
    }
    tracing::info!(worker.id = %shared.config.worker_id, "worker stopped");
}
