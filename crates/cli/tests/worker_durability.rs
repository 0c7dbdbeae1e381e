//! Process-level durability tests: real `deployflow worker` processes on a real
//! PostgreSQL database, killed, frozen, resumed and stopped with real signals.
//!
//! The demo workflow records every step's start and successful end in an effects file,
//! outside the engine (`DEMO_EFFECTS_FILE`); the tests compare those side effects with
//! what the engine stored: attempts (the timeline) and checkpoints.
//!
//! The tests that run workers take a machine-wide lock (`exclusive_run`) and so run one
//! at a time, also under nextest: their short leases and frozen workers must not compete
//! with one another for a small machine's CPU. Each takes about 5 to 15 s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use engine::store::{JobFilter, Outcome};
use engine::{Catalog, Engine, JobDetails, JobStatus, Registry};
use serde_json::{Value, json};
use test_support::database::TestPostgres;
use test_support::worker_process::{
    Effect, Phase, WorkerProcess, exclusive_run, read_effects, unix_ms, wait_for, wait_until,
    wait_until_polling,
};
use uuid::Uuid;

const STEPS: [&str; 4] = ["prepare", "build", "publish", "verify"];
/// How long a worker may take to connect and log "worker started".
const STARTUP: Duration = Duration::from_secs(20);

fn workflows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../workflows")
        .canonicalize()
        .expect("the repository's workflows directory")
}

/// A fresh database, an engine on it for submitting and inspecting jobs, and a scratch
/// directory for the effects file and the workers' logs.
struct Harness {
    engine: Engine,
    db: TestPostgres,
    dir: tempfile::TempDir,
    effects: PathBuf,
}

impl Harness {
    async fn new() -> Self {
        let db = TestPostgres::create().await;
        let store = engine::connect(&db.url, 10)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate the test database");
        let mut registry = Registry::new();
        engine::demo::register(&mut registry, None);
        let mut catalog = Catalog::empty(registry);
        catalog
            .add_toml("demo.toml", include_str!("../../../workflows/demo.toml"))
            .expect("load the demo workflow");
        let dir = tempfile::tempdir().expect("temp dir");
        let effects = dir.path().join("effects.log");
        Self {
            engine: Engine::new(store, Arc::new(catalog)),
            db,
            dir,
            effects,
        }
    }

    /// Spawns `deployflow worker` on this database, with `settings` on top of the defaults.
    fn worker(&self, name: &str, settings: &[(&str, &str)]) -> WorkerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_deployflow"));
        command
            .arg("worker")
            .env_clear()
            .env("DATABASE_URL", &self.db.url)
            .env("WORKFLOWS_DIR", workflows_dir())
            .env("DEMO_EFFECTS_FILE", &self.effects)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info,sqlx=warn")
            .env("POLL_INTERVAL_MS", "200")
            .env("RETENTION_DAYS", "0");
        for (key, value) in settings {
            command.env(key, value);
        }
        WorkerProcess::spawn(name, command, self.dir.path())
    }

    async fn submit(&self, input: Value) -> Uuid {
        self.engine
            .submit("demo", input, None)
            .await
            .expect("submit a demo job")
            .job
            .id
    }

    async fn details(&self, id: Uuid) -> JobDetails {
        self.engine.details(id).await.expect("job details")
    }

    async fn count(&self, statuses: &[JobStatus]) -> i64 {
        let filter = JobFilter {
            created_by: None,
            statuses: statuses.to_vec(),
            workflow: Some("demo".into()),
            before: None,
            limit: 0,
        };
        self.engine.count(&filter).await.expect("count jobs")
    }

    /// Waits until `jobs` jobs have finished (succeeded, failed or cancelled).
    async fn wait_finished(&self, jobs: i64, timeout: Duration) {
        let finished = [
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ];
        wait_for(&format!("{jobs} jobs to finish"), timeout, async || {
            self.count(&finished).await == jobs
        })
        .await;
    }

    fn effects(&self) -> Vec<Effect> {
        read_effects(&self.effects)
    }

    /// The first effect line matching, if any.
    fn effect(&self, job: Uuid, step: &str, worker: &str, phase: Phase) -> Option<Effect> {
        self.effects()
            .into_iter()
            .find(|e| e.job == job && e.step == step && e.worker == worker && e.phase == phase)
    }
}

/// The effect lines of one step of one job.
#[derive(Debug, Default)]
struct StepRuns {
    starts: Vec<Effect>,
    dones: Vec<Effect>,
}

impl StepRuns {
    fn starts_by(&self, worker: &str) -> usize {
        self.starts.iter().filter(|e| e.worker == worker).count()
    }

    fn dones_by(&self, worker: &str) -> usize {
        self.dones.iter().filter(|e| e.worker == worker).count()
    }
}

fn by_step(effects: &[Effect]) -> BTreeMap<(Uuid, String), StepRuns> {
    let mut runs: BTreeMap<(Uuid, String), StepRuns> = BTreeMap::new();
    for effect in effects {
        let run = runs.entry((effect.job, effect.step.clone())).or_default();
        match effect.phase {
            Phase::Start => run.starts.push(effect.clone()),
            Phase::Done => run.dones.push(effect.clone()),
        }
    }
    runs
}

/// Steps `worker` started and has not (yet) finished: (job, step) -> attempt.
fn unfinished(effects: &[Effect], worker: &str) -> BTreeMap<(Uuid, String), u32> {
    let key = |e: &Effect| (e.job, e.step.clone(), e.attempt);
    let of = |phase| {
        effects
            .iter()
            .filter(|e| e.worker == worker && e.phase == phase)
            .map(key)
            .collect::<BTreeSet<_>>()
    };
    let done = of(Phase::Done);
    of(Phase::Start)
        .into_iter()
        .filter(|k| !done.contains(k))
        .map(|(job, step, attempt)| ((job, step), attempt))
        .collect()
}

/// The job succeeded with exactly one checkpoint per step, each matching the one
/// succeeded attempt of its step (same worker, same epoch).
fn assert_succeeded_once_per_step(details: &JobDetails) {
    let id = details.job.id;
    assert_eq!(
        details.job.status,
        JobStatus::Succeeded,
        "job {id}: {details:#?}"
    );
    let names: Vec<&str> = details
        .checkpoints
        .iter()
        .map(|c| c.step_name.as_str())
        .collect();
    assert_eq!(names, STEPS, "job {id}: exactly one checkpoint per step");
    for checkpoint in &details.checkpoints {
        let succeeded: Vec<_> = details
            .attempts
            .iter()
            .filter(|a| a.step_name == checkpoint.step_name && a.outcome == Outcome::Succeeded)
            .collect();
        assert_eq!(
            succeeded.len(),
            1,
            "job {id} step {}: one succeeded attempt: {details:#?}",
            checkpoint.step_name
        );
        assert_eq!(
            (&succeeded[0].worker, succeeded[0].epoch),
            (&checkpoint.worker, checkpoint.epoch),
            "job {id} step {}: the checkpoint and its succeeded attempt come from one lease",
            checkpoint.step_name
        );
    }
}

/// Worker A is SIGKILLed in the middle of steps; worker B takes its jobs over once their
/// leases expire. Steps A checkpointed never run again; the steps A was running run again
/// on B, and the timeline shows them as interrupted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_resume() {
    let _exclusive = exclusive_run().await;
    let h = Harness::new().await;
    let settings = [
        ("MAX_CONCURRENT_JOBS", "4"),
        ("LEASE_SECONDS", "2"),
        ("HEARTBEAT_SECONDS", "0.5"),
    ];
    let mut a = h.worker("A", &settings);
    let a_id = a.worker_id(STARTUP).await;
    let mut jobs = Vec::new();
    for _ in 0..8 {
        jobs.push(h.submit(json!({ "sleep_ms": 400 })).await);
    }

    // Kill A once it has completed some steps, in the middle of others: when no step has
    // started or ended for a while (steps take 400 ms), so that none is between its end and
    // its checkpoint write.
    wait_until_polling(
        "worker A to complete some steps while in the middle of others",
        Duration::from_secs(30),
        Duration::from_millis(10),
        async || {
            let effects = h.effects();
            let done = effects.iter().filter(|e| e.phase == Phase::Done).count();
            let quiet_for = unix_ms() - effects.iter().map(|e| e.at_ms).max()?;
            (done >= 5 && quiet_for >= 80 && !unfinished(&effects, &a_id).is_empty()).then_some(())
        },
    )
    .await;
    a.kill();
    let killed_at = unix_ms();
    // A is dead and reaped: its lines are final.
    let interrupted = unfinished(&h.effects(), &a_id);
    assert!(
        !interrupted.is_empty(),
        "A must die in the middle of a step"
    );

    let mut b = h.worker("B", &settings);
    let b_id = b.worker_id(STARTUP).await;
    h.wait_finished(8, Duration::from_secs(60)).await;

    let runs = by_step(&h.effects());
    let (mut checkpointed_by_a, mut finished_unrecorded) = (0, Vec::new());
    for &job in &jobs {
        let details = h.details(job).await;
        assert_succeeded_once_per_step(&details);
        for attempt in &details.attempts {
            assert!(
                matches!(attempt.outcome, Outcome::Succeeded | Outcome::Interrupted),
                "job {job}: unexpected attempt {attempt:?}"
            );
        }
        // In step order, A's checkpoints come first, then B's, under a later lease.
        let writers: Vec<&str> = details
            .checkpoints
            .iter()
            .map(|c| c.worker.as_str())
            .collect();
        let takeover = writers
            .iter()
            .position(|w| *w != a_id)
            .unwrap_or(writers.len());
        assert!(
            writers[takeover..].iter().all(|w| *w == b_id),
            "job {job}: checkpoint writers {writers:?}"
        );
        if let (Some(a_last), Some(b_first)) = (
            takeover
                .checked_sub(1)
                .map(|i| details.checkpoints[i].epoch),
            details.checkpoints.get(takeover).map(|c| c.epoch),
        ) {
            assert!(
                b_first > a_last,
                "job {job}: B's lease must have a higher epoch than A's"
            );
        }

        for checkpoint in &details.checkpoints {
            let step = &checkpoint.step_name;
            let run = &runs[&(job, step.clone())];
            if checkpoint.worker == a_id {
                // Completed before the crash: it ran exactly once, on A.
                checkpointed_by_a += 1;
                assert_eq!(
                    (run.starts.len(), run.dones.len(), run.dones_by(&a_id)),
                    (1, 1, 1),
                    "job {job} step {step} was checkpointed by A but ran again: {run:#?}"
                );
            } else {
                assert_eq!(
                    (run.starts_by(&b_id), run.dones_by(&b_id)),
                    (1, 1),
                    "job {job} step {step}: B must have run it exactly once: {run:#?}"
                );
                // A `done` of A on a step A did not checkpoint means A died between the
                // step's end and its checkpoint write (at-least-once, not a double run of a
                // completed step): that can only be shortly before the kill (a checkpoint
                // write is given up after one lease length, 2 s).
                for done in run.dones.iter().filter(|e| e.worker == a_id) {
                    finished_unrecorded.push(killed_at - done.at_ms);
                    assert!(
                        killed_at - done.at_ms < 2000,
                        "job {job} step {step} finished on A at {} ms, long before the kill at {killed_at} ms, \
                         yet was not checkpointed and ran again on B",
                        done.at_ms
                    );
                }
            }
        }

        let rescues: Vec<_> = details
            .attempts
            .iter()
            .filter(|r| r.outcome == Outcome::Interrupted)
            .collect();
        assert!(
            rescues.len() <= 1,
            "job {job} was rescued more than once: {rescues:#?}"
        );
        for rescue in rescues {
            assert_eq!(
                rescue.worker, b_id,
                "job {job}: the rescuer records the interrupted attempt"
            );
            let error = rescue.error.as_deref().unwrap_or_default();
            assert!(
                error.contains(&a_id),
                "job {job}: the interrupted attempt names worker A: {rescue:?}"
            );
        }
    }
    assert!(
        checkpointed_by_a > 0,
        "A must have completed some steps before the kill"
    );
    eprintln!(
        "steps checkpointed by A: {checkpointed_by_a}; interrupted mid-step: {}; \
         finished on A but killed before the checkpoint: {} ({finished_unrecorded:?} ms before the kill)",
        interrupted.len(),
        finished_unrecorded.len()
    );

    // The steps A was in the middle of ran again on B, and the timeline says they were interrupted.
    for ((job, step), a_attempt) in &interrupted {
        let run = &runs[&(*job, step.clone())];
        let b_start = run.starts.iter().find(|e| e.worker == b_id);
        assert!(
            b_start.is_some_and(|e| e.attempt > *a_attempt) && run.dones_by(&b_id) == 1,
            "job {job} step {step}, interrupted on A (attempt {a_attempt}), must run again on B: {run:#?}"
        );
        let details = h.details(*job).await;
        let marked = details.attempts.iter().any(|r| {
            r.step_name == *step && r.attempt == *a_attempt && r.outcome == Outcome::Interrupted
        });
        assert!(
            marked,
            "job {job} step {step}: attempt {a_attempt} must show as interrupted: {details:#?}"
        );
    }
}

/// Three worker processes share one database and 300 short jobs: every step of every job
/// runs exactly once, on one worker, and the work is spread over several workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contention() {
    const JOBS: usize = 300;
    let _exclusive = exclusive_run().await;
    let h = Harness::new().await;
    let mut workers: Vec<WorkerProcess> = ["W1", "W2", "W3"]
        .iter()
        .map(|name| h.worker(name, &[("MAX_CONCURRENT_JOBS", "8")]))
        .collect();
    let mut worker_ids = BTreeSet::new();
    for worker in &mut workers {
        worker_ids.insert(worker.worker_id(STARTUP).await);
    }

    let mut jobs = Vec::with_capacity(JOBS);
    for i in 0..JOBS {
        jobs.push(h.submit(json!({ "sleep_ms": i % 6 })).await);
    }
    h.wait_finished(JOBS as i64, Duration::from_secs(90)).await;
    assert_eq!(
        h.count(&[JobStatus::Succeeded]).await,
        JOBS as i64,
        "every job must succeed"
    );

    let effects = h.effects();
    let runs = by_step(&effects);
    assert_eq!(
        runs.len(),
        JOBS * STEPS.len(),
        "every step of every job ran"
    );
    for ((job, step), run) in &runs {
        let workers: BTreeSet<&str> = run.starts.iter().map(|e| e.worker.as_str()).collect();
        assert_eq!(
            workers.len(),
            1,
            "job {job} step {step} ran on several workers: {run:#?}"
        );
        assert_eq!(
            (run.starts.len(), run.dones.len()),
            (1, 1),
            "job {job} step {step} ran more than once: {run:#?}"
        );
        assert_eq!(run.starts[0].worker, run.dones[0].worker);
    }

    let mut steps_per_worker: BTreeMap<String, usize> = BTreeMap::new();
    for &job in &jobs {
        let details = h.details(job).await;
        assert_succeeded_once_per_step(&details);
        assert_eq!(
            details.attempts.len(),
            STEPS.len(),
            "job {job}: one attempt per step: {details:#?}"
        );
        for checkpoint in &details.checkpoints {
            let run = &runs[&(job, checkpoint.step_name.clone())];
            assert_eq!(
                run.dones[0].worker, checkpoint.worker,
                "job {job}: the worker that ran the step wrote its checkpoint"
            );
            assert!(
                worker_ids.contains(&checkpoint.worker),
                "unknown worker {}",
                checkpoint.worker
            );
            *steps_per_worker
                .entry(checkpoint.worker.clone())
                .or_default() += 1;
        }
    }
    eprintln!("steps run per worker: {steps_per_worker:?}");
    assert!(
        steps_per_worker.len() > 1,
        "the work must be spread over several workers: {steps_per_worker:?}"
    );
}

/// Worker A is frozen (SIGSTOP) in the middle of a long step until its lease expires and
/// worker B has taken the job over and is running that step again. A is then woken
/// (SIGCONT) after its own run of the step has finished: its late result must be refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fencing() {
    const SLEEP_MS: i64 = 3000;
    let _exclusive = exclusive_run().await;
    let h = Harness::new().await;
    let settings = [("LEASE_SECONDS", "1.5"), ("HEARTBEAT_SECONDS", "0.4")];
    let mut a = h.worker("A", &settings);
    let a_id = a.worker_id(STARTUP).await;
    let job = h.submit(json!({ "sleep_ms": SLEEP_MS })).await;

    let a_start = wait_until(
        "A to start the first step",
        Duration::from_secs(15),
        async || h.effect(job, "prepare", &a_id, Phase::Start),
    )
    .await;
    a.freeze();

    let mut b = h.worker("B", &settings);
    let b_id = b.worker_id(STARTUP).await;
    wait_until(
        "B to take the job over and start the first step again",
        Duration::from_secs(15),
        async || h.effect(job, "prepare", &b_id, Phase::Start),
    )
    .await;
    // Wake A only once its own run of the step is over, so that it tries to record the
    // result while B is still running the step.
    let a_step_over = a_start.at_ms + SLEEP_MS + 300;
    tokio::time::sleep(Duration::from_millis(
        (a_step_over - unix_ms()).max(0) as u64
    ))
    .await;
    let before_wake = h.details(job).await;
    assert!(
        before_wake.checkpoints.is_empty(),
        "scenario: B must still be running the first step when A wakes: {before_wake:#?}"
    );
    a.resume();

    h.wait_finished(1, Duration::from_secs(40)).await;
    // Give A time for any late write it might still attempt.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let details = h.details(job).await;
    assert_succeeded_once_per_step(&details);
    for checkpoint in &details.checkpoints {
        assert_eq!(
            checkpoint.worker, b_id,
            "A's late result must not be checkpointed: {checkpoint:?}"
        );
    }
    let by_a: Vec<_> = details
        .attempts
        .iter()
        .filter(|r| r.worker == a_id)
        .collect();
    assert!(
        by_a.is_empty(),
        "A wrote to the timeline after losing its lease: {by_a:#?}"
    );
    let rescue = details
        .attempts
        .iter()
        .find(|r| r.outcome == Outcome::Interrupted)
        .unwrap_or_else(|| panic!("B must record A's attempt as interrupted: {details:#?}"));
    assert_eq!(
        (
            rescue.step_name.as_str(),
            rescue.attempt,
            rescue.worker.as_str()
        ),
        ("prepare", 1, b_id.as_str())
    );
    assert!(
        rescue.error.as_deref().unwrap_or_default().contains(&a_id),
        "{rescue:?}"
    );
    assert!(
        a.exited().is_none(),
        "A must survive losing its lease:\n{}",
        a.log()
    );
    assert!(
        a.log().contains("lease lost"),
        "A must notice it lost its lease:\n{}",
        a.log()
    );
    let a_done = h.effect(job, "prepare", &a_id, Phase::Done);
    eprintln!(
        "A's run of the step {} after waking",
        if a_done.is_some() {
            "finished (its side effect happened; its result was refused)"
        } else {
            "was stopped"
        }
    );
}

/// SIGTERM with a short grace period: the worker hands its unfinished job back (attempt
/// `released`) and exits by itself; another worker then starts the job at once, without
/// waiting for the (30 s) lease to expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_hands_back() {
    let _exclusive = exclusive_run().await;
    let h = Harness::new().await;
    let settings = [("LEASE_SECONDS", "30"), ("SHUTDOWN_GRACE_SECONDS", "0.5")];
    let mut a = h.worker("A", &settings);
    let a_id = a.worker_id(STARTUP).await;
    let job = h.submit(json!({ "sleep_ms": 2000 })).await;
    wait_until(
        "A to start the first step",
        Duration::from_secs(15),
        async || h.effect(job, "prepare", &a_id, Phase::Start),
    )
    .await;

    a.terminate();
    let status = a
        .wait_exit(Duration::from_secs(5))
        .await
        .unwrap_or_else(|| panic!("A must exit by itself within 5 s of SIGTERM:\n{}", a.log()));
    assert!(
        status.success(),
        "A exits cleanly after handing the job back: {status}\n{}",
        a.log()
    );
    assert!(
        h.effect(job, "prepare", &a_id, Phase::Done).is_none(),
        "A's step was stopped, not finished"
    );
    let released = h.details(job).await;
    let outcomes: Vec<_> = released
        .attempts
        .iter()
        .map(|r| (r.step_name.as_str(), r.outcome, r.worker.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [("prepare", Outcome::Released, a_id.as_str())],
        "{released:#?}"
    );

    let b_spawned = unix_ms();
    let mut b = h.worker("B", &settings);
    let b_id = b.worker_id(STARTUP).await;
    let b_start = wait_until(
        "B to start the handed-back job",
        Duration::from_secs(10),
        async || h.effect(job, "prepare", &b_id, Phase::Start),
    )
    .await;
    assert!(
        b_start.at_ms - b_spawned < 10_000 && b_start.attempt == 2,
        "B must pick the released job up at once, as attempt 2: {b_start:?}"
    );
    h.wait_finished(1, Duration::from_secs(20)).await;

    let details = h.details(job).await;
    assert_succeeded_once_per_step(&details);
    assert!(
        details.checkpoints.iter().all(|c| c.worker == b_id),
        "{details:#?}"
    );
    let outcomes: Vec<_> = details
        .attempts
        .iter()
        .map(|r| (r.step_name.as_str(), r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("prepare", Outcome::Released),
            ("prepare", Outcome::Succeeded),
            ("build", Outcome::Succeeded),
            ("publish", Outcome::Succeeded),
            ("verify", Outcome::Succeeded),
        ],
        "a released job is not a rescued one: no interrupted attempt"
    );
}

/// `deployflow worker` with one bad definition file must refuse to start: exit status 2
/// and a message naming the file, the step and the problem.
async fn assert_definition_stops_startup(file: &str, steps: &str, step: &str, problem: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let workflows = dir.path().join("workflows");
    std::fs::create_dir(&workflows).expect("workflows dir");
    let definition = format!(
        "name = \"broken\"\n\n[[steps]]\nname = \"prepare\"\nhandler = \"demo.step\"\n\n{steps}"
    );
    std::fs::write(workflows.join(file), definition).expect("write the definition");

    let mut command = Command::new(env!("CARGO_BIN_EXE_deployflow"));
    command
        .arg("worker")
        .env_clear()
        .env("WORKFLOWS_DIR", &workflows)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/deployflow.db", dir.path().display()),
        )
        .env("LOG_FORMAT", "json");
    let mut worker = WorkerProcess::spawn("bad-definitions", command, dir.path());
    let status = worker
        .wait_exit(Duration::from_secs(15))
        .await
        .unwrap_or_else(|| panic!("the worker must refuse to start:\n{}", worker.log()));
    let log = worker.log();
    assert_eq!(
        status.code(),
        Some(2),
        "exit status for a bad definition:\n{log}"
    );
    for needed in [file, &format!("step {step:?}"), problem] {
        assert!(
            log.contains(needed),
            "the error must mention {needed:?}:\n{log}"
        );
    }
    assert!(!log.contains("worker started"), "{log}");
}

#[tokio::test]
async fn bad_definition_zero_max_attempts_stops_startup() {
    let steps = "[[steps]]\nname = \"build\"\nhandler = \"demo.step\"\nmax_attempts = 0\n";
    assert_definition_stops_startup(
        "zero_attempts.toml",
        steps,
        "build",
        "max_attempts must be at least 1",
    )
    .await;
}

#[tokio::test]
async fn bad_definition_unknown_handler_stops_startup() {
    let steps = "[[steps]]\nname = \"build\"\nhandler = \"no.such.handler\"\n";
    assert_definition_stops_startup(
        "unknown_handler.toml",
        steps,
        "build",
        "unknown step handler \"no.such.handler\"",
    )
    .await;
}

#[tokio::test]
async fn bad_definition_duplicate_step_stops_startup() {
    let steps = "[[steps]]\nname = \"prepare\"\nhandler = \"demo.step\"\n";
    assert_definition_stops_startup(
        "duplicate_step.toml",
        steps,
        "prepare",
        "duplicate step name",
    )
    .await;
}

#[tokio::test]
async fn bad_definition_bad_duration_stops_startup() {
    let steps = "[[steps]]\nname = \"build\"\nhandler = \"demo.step\"\ntimeout = \"5 parsecs\"\n";
    assert_definition_stops_startup(
        "bad_duration.toml",
        steps,
        "build",
        "bad duration \"5 parsecs\"",
    )
    .await;
}
