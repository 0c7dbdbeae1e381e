//! The store and engine contract, run against PostgreSQL and SQLite alike.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use engine::follow::{Follow, JobEvent};
use engine::store::{
    AttemptRecord, CancelOutcome, ClaimedJob, JobFilter, Lease, Outcome, Transition,
};
use engine::{
    Catalog, Database, Engine, EngineError, JobStatus, Registry, StepContext, StepError,
    StepOutcome, Worker, WorkerConfig, typed, typed_outcome,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const LEASE: Duration = Duration::from_secs(30);

/// Runs each listed test once on a fresh PostgreSQL database and once on a fresh SQLite file.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = test_support::database::TestPostgres::create().await;
                    super::$name(super::open(&db.url).await).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = test_support::database::TestSqlite::create();
                    super::$name(super::open(&db.url).await).await;
                }
            )*
        }
    };
}

conformance!(
    submit_is_idempotent_per_key,
    submit_rejects_unknown_workflow_and_bad_input,
    claim_takes_a_lease_that_excludes_other_workers,
    stale_lease_cannot_write,
    expired_lease_is_rescued_with_a_higher_epoch,
    checkpoint_advances_state_and_records_attempt_together,
    retry_waits_for_its_backoff,
    cancel_waiting_and_running_jobs,
    retry_resumes_at_failed_step_and_from_step_discards_later_checkpoints,
    list_filters_and_paginates,
    worker_runs_demo_with_retries_to_success,
    worker_fails_job_after_max_attempts,
    permanent_error_fails_without_retry,
    panicking_step_is_a_failed_attempt,
    step_timeout_is_a_retryable_failure,
    worker_cancels_a_running_step,
    job_rescued_too_often_is_parked,
    changed_definition_is_detected_and_from_step_moves_job,
    finished_jobs_leave_the_queue_and_are_purged,
    step_logs_are_stored,
    actions_are_on_the_timeline_and_in_the_log_and_go_with_the_job,
    concurrent_checkpoints_are_fenced_one_by_one,
    running_step_logs_are_written_within_seconds,
    secrets_memos_and_artifacts_survive_a_retry,
    a_step_can_end_the_job_in_a_verdict_state,
    a_waiting_job_holds_no_worker_and_resumes_on_its_signal,
    a_waiting_job_can_be_cancelled_and_not_signalled_twice,
    a_step_can_finish_the_job_early,
    follow_ends_at_a_wait_when_asked_and_otherwise_when_the_job_ends,
    a_job_handed_back_unstarted_is_queued_again_as_if_never_claimed,
    under_load_claims_and_checkpoints_form_batches_and_jobs_are_claimed_ahead,
    jobs_claimed_ahead_behind_a_long_job_are_handed_back_on_time,
    steps_never_outnumber_the_slots_while_checkpoints_commit,
    a_job_between_steps_is_not_overtaken_by_a_new_claim,
);

async fn open(url: &str) -> Database {
    let store = engine::connect(url, 8).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

/// A catalog with the shipped demo workflow and test workflows with special handlers.
fn catalog() -> Arc<Catalog> {
    let mut registry = Registry::new();
    engine::demo::register(&mut registry, None);
    registry.register(
        "test.permanent",
        typed(|_ctx: StepContext, _: Value| async {
            Err::<Value, _>(StepError::permanent("repository not found"))
        }),
    );
    registry.register(
        "test.panic",
        typed(|ctx: StepContext, _: Value| async move {
            if ctx.failures == 0 {
                panic!("boom in step");
            }
            Ok::<_, StepError>(json!({"recovered": true}))
        }),
    );
    registry.register(
        "test.slow",
        typed(|ctx: StepContext, input: Value| async move {
            let ms = input["sleep_ms"].as_u64().unwrap_or(0);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ms)) => Ok(json!({"slept": ms})),
                _ = ctx.cancellation.cancelled() => Err(StepError::retryable("stopped")),
            }
        }),
    );
    registry.register(
        "test.log",
        typed(|ctx: StepContext, _: Value| async move {
            ctx.info("hello from the step");
            Ok::<_, StepError>(json!({}))
        }),
    );
    registry.register(
        "test.jobdata",
        typed(|ctx: StepContext, _: Value| async move {
            let token = ctx.secret("token").await?.unwrap_or_default();
            let memo = match ctx.memo_get("answer").await? {
                Some(found) => found,
                None => {
                    let computed = json!({"computed_in_attempt": ctx.attempt});
                    ctx.memo_put("answer", &computed).await?;
                    computed
                }
            };
            let password = match ctx.memo_get("password").await? {
                Some(kept) => ctx.open("password", &kept)?,
                None => {
                    let made = format!("pw-of-attempt-{}", ctx.attempt);
                    ctx.memo_put("password", &ctx.seal("password", &made)?)
                        .await?;
                    made
                }
            };
            ctx.put_artifact(
                "out/report.txt",
                format!("attempt {}", ctx.attempt).as_bytes(),
            )
            .await?;
            if ctx.failures == 0 {
                return Err(StepError::retryable(
                    "first attempt fails after its side effects",
                ));
            }
            Ok::<_, StepError>(
                json!({"token_len": token.len(), "memo": memo, "password": password}),
            )
        }),
    );
    registry.register(
        "test.verdict",
        typed(|_ctx: StepContext, _: Value| async {
            Err::<Value, _>(StepError::ending_in(
                "Denied",
                "this is a command-line tool",
            ))
        }),
    );
    registry.register(
        "test.gate",
        typed_outcome(|ctx: StepContext, _: Value| async move {
            Ok(match ctx.signal("approval").await? {
                None => StepOutcome::wait_in("AwaitingApproval", "waiting for approval"),
                Some(answer) => {
                    StepOutcome::Completed(json!({"answer": answer, "attempt": ctx.attempt}))
                }
            })
        }),
    );
    registry.register(
        "test.finish",
        typed_outcome(|_ctx: StepContext, _: Value| async {
            Ok::<_, StepError>(StepOutcome::<Value>::finish_in(
                "Planned",
                "apply skipped: no credentials",
            ))
        }),
    );
    registry.register(
        "test.gauged",
        typed(|_ctx: StepContext, input: Value| async move {
            let gauge = input["gauge"].as_str().unwrap_or_default().to_owned();
            let _running = StepGauge::enter(&gauge);
            let ms = input["sleep_ms"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<_, StepError>(json!({}))
        }),
    );
    // The demo workflow only: the deployment workflow's handlers live in `pipeline`.
    let mut catalog = Catalog::empty(registry);
    catalog
        .add_toml("demo.toml", include_str!("../../../workflows/demo.toml"))
        .expect("the shipped demo workflow loads");
    catalog
        .add_toml(
            "permanent.toml",
            "name = \"permanent\"\n[[steps]]\nname = \"clone\"\nhandler = \"test.permanent\"\nmax_attempts = 5\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "panic.toml",
            "name = \"panic\"\n[defaults]\nbackoff = { initial = \"10ms\", max = \"10ms\" }\n[[steps]]\nname = \"only\"\nhandler = \"test.panic\"\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "slow.toml",
            "name = \"slow\"\n[[steps]]\nname = \"wait\"\nhandler = \"test.slow\"\ntimeout = \"300ms\"\nmax_attempts = 2\nbackoff = { initial = \"10ms\", max = \"20ms\" }\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "long.toml",
            "name = \"long\"\n[[steps]]\nname = \"wait\"\nhandler = \"test.slow\"\ntimeout = \"30s\"\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "log.toml",
            "name = \"log\"\n[[steps]]\nname = \"talk\"\nhandler = \"test.log\"\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "jobdata.toml",
            "name = \"jobdata\"\n[defaults]\nbackoff = { initial = \"10ms\", max = \"10ms\" }\n[[steps]]\nname = \"only\"\nhandler = \"test.jobdata\"\nstate = \"Done\"\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "verdict.toml",
            "name = \"verdict\"\n[[steps]]\nname = \"judge\"\nhandler = \"test.verdict\"\nstate = \"Judged\"\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "gate.toml",
            "name = \"gate\"\n[[steps]]\nname = \"first\"\nhandler = \"test.log\"\nstate = \"Prepared\"\n[[steps]]\nname = \"gate\"\nhandler = \"test.gate\"\nstate = \"Approved\"\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "finish.toml",
            "name = \"finish\"\n[[steps]]\nname = \"plan\"\nhandler = \"test.finish\"\nstate = \"Applied\"\n[[steps]]\nname = \"check\"\nhandler = \"test.log\"\nstate = \"Checked\"\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "gauged.toml",
            "name = \"gauged\"\n[[steps]]\nname = \"a\"\nhandler = \"test.gauged\"\n[[steps]]\nname = \"b\"\nhandler = \"test.gauged\"\n[[steps]]\nname = \"c\"\nhandler = \"test.gauged\"\n",
        )
        .unwrap();
    Arc::new(catalog)
}

/// Counts the steps of one test running at once (tests of both stores may share the
/// process, so each names its own gauge), and the most seen.
struct StepGauge(String);

static GAUGES: std::sync::Mutex<Vec<(String, usize, usize)>> = std::sync::Mutex::new(Vec::new());

impl StepGauge {
    fn enter(name: &str) -> Self {
        let mut gauges = GAUGES.lock().unwrap();
        match gauges.iter_mut().find(|(n, ..)| n == name) {
            Some((_, running, most)) => {
                *running += 1;
                *most = (*most).max(*running);
            }
            None => gauges.push((name.to_owned(), 1, 1)),
        }
        Self(name.to_owned())
    }

    fn most(name: &str) -> usize {
        let gauges = GAUGES.lock().unwrap();
        gauges.iter().find(|(n, ..)| n == name).map_or(0, |g| g.2)
    }
}

impl Drop for StepGauge {
    fn drop(&mut self) {
        let mut gauges = GAUGES.lock().unwrap();
        if let Some((_, running, _)) = gauges.iter_mut().find(|(n, ..)| *n == self.0) {
            *running -= 1;
        }
    }
}

fn engine_for(store: &Database) -> Engine {
    Engine::new(store.clone(), catalog())
}

/// Claims for `worker` until a job is handed out: waits for the database's clock to
/// pass a lease or a backoff without guessing how long the machine takes to get there.
async fn claim_once_due(store: &Database, worker: &str) -> ClaimedJob {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(job) = store.claim(worker, 1, LEASE).await.unwrap().pop() {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing became due within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn attempt(step: &str, index: usize, outcome: Outcome) -> AttemptRecord {
    AttemptRecord {
        step_index: index,
        step_name: step.into(),
        attempt: 1,
        started_at: Utc::now(),
        finished_at: Utc::now(),
        outcome,
        error: None,
        error_code: None,
    }
}

fn advance(next_index: usize, next_step: &str) -> Transition {
    Transition::Advance {
        output: json!({"ok": true}),
        state: "Prepared".into(),
        next_index,
        next_step: next_step.into(),
    }
}

fn fast_worker(id: &str) -> WorkerConfig {
    let mut config = WorkerConfig::new(id);
    config.max_concurrent_jobs = 4;
    config.lease = Duration::from_secs(5);
    config.heartbeat = Duration::from_millis(100);
    config.poll_interval = Duration::from_millis(50);
    config.shutdown_grace = Duration::from_millis(200);
    config
}

/// Runs a worker in this process until no job is queued or running, or
/// panics after a minute; returns its counters.
async fn run_worker_until_the_queue_is_empty(
    store: &Database,
    engine: &Engine,
    config: WorkerConfig,
) -> Arc<engine::WorkerStats> {
    let worker = Worker::new(store.clone(), engine.catalog().clone(), config);
    let stats = worker.stats();
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(worker.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while store.queue_depth().await.unwrap() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "jobs left undone");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    handle.await.unwrap();
    stats
}

/// Runs a worker in this process until the job has ended, or panics after `limit`.
async fn run_worker_to_end(
    engine: &Engine,
    config: WorkerConfig,
    job: uuid::Uuid,
    limit: Duration,
) -> engine::store::JobRecord {
    run_worker_while(engine, config, job, limit, |j| j.status.is_terminal()).await
}

/// Runs a worker in this process until `done` holds for the job, then stops it;
/// panics after `limit`.
async fn run_worker_while(
    engine: &Engine,
    config: WorkerConfig,
    job: uuid::Uuid,
    limit: Duration,
    done: impl Fn(&engine::store::JobRecord) -> bool,
) -> engine::store::JobRecord {
    let shutdown = CancellationToken::new();
    let worker = Worker::new(engine.store().clone(), engine.catalog().clone(), config);
    let handle = tokio::spawn(worker.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + limit;
    let record = loop {
        let record = engine.job(job).await.unwrap();
        if done(&record) {
            break record;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job stuck in {:?}: {record:?}",
            record.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    shutdown.cancel();
    handle.await.unwrap();
    record
}

async fn submit_demo(engine: &Engine, input: Value) -> uuid::Uuid {
    engine.submit("demo", input, None).await.unwrap().job.id
}

async fn submit_is_idempotent_per_key(store: Database) {
    let engine = engine_for(&store);
    let first = engine
        .submit("demo", json!({}), Some("key-1".into()))
        .await
        .unwrap();
    let again = engine
        .submit("demo", json!({"sleep_ms": 5}), Some("key-1".into()))
        .await
        .unwrap();
    let other = engine
        .submit("demo", json!({}), Some("key-2".into()))
        .await
        .unwrap();
    assert!(first.created);
    assert!(!again.created);
    assert_eq!(first.job.id, again.job.id);
    assert_ne!(first.job.id, other.job.id);
    assert_eq!(first.job.status, JobStatus::Queued);
    assert_eq!(
        first.job.steps,
        vec!["prepare", "build", "publish", "verify"]
    );
    assert_eq!(first.job.current_step.as_deref(), Some("prepare"));
    assert_eq!(store.queue_depth().await.unwrap(), 2);
}

async fn submit_rejects_unknown_workflow_and_bad_input(store: Database) {
    let engine = engine_for(&store);
    let unknown = engine.submit("nope", json!({}), None).await.unwrap_err();
    assert!(
        matches!(unknown, EngineError::UnknownWorkflow(ref w) if w == "nope"),
        "{unknown}"
    );
    let not_object = engine.submit("demo", json!([1]), None).await.unwrap_err();
    assert!(
        matches!(not_object, EngineError::InvalidInput(_)),
        "{not_object}"
    );
    let bad_field = engine
        .submit("demo", json!({"sleep_ms": "soon"}), None)
        .await
        .unwrap_err();
    assert!(
        bad_field.to_string().contains("sleep_ms")
            || bad_field.to_string().contains("invalid type"),
        "{bad_field}"
    );
    let unknown_field = engine
        .submit("demo", json!({"sleep": 1}), None)
        .await
        .unwrap_err();
    assert!(
        unknown_field.to_string().contains("unknown field"),
        "{unknown_field}"
    );
    let long_key = engine
        .submit("demo", json!({}), Some("k".repeat(500)))
        .await
        .unwrap_err();
    assert!(matches!(long_key, EngineError::InvalidInput(_)));
    assert_eq!(
        store.queue_depth().await.unwrap(),
        0,
        "rejected submits create nothing"
    );
    let all = JobFilter {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.count_jobs(&all).await.unwrap(), 0);
}

async fn claim_takes_a_lease_that_excludes_other_workers(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let claimed = store.claim("w1", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let job = &claimed[0];
    assert_eq!(job.lease.job_id, id);
    assert_eq!(job.lease.owner, "w1");
    assert_eq!(job.lease.epoch, 1);
    assert_eq!((job.step_index, job.attempt, job.failures), (0, 1, 0));
    assert!(job.rescued_from.is_none());
    assert!(
        store.claim("w2", 10, LEASE).await.unwrap().is_empty(),
        "a leased job is not claimable"
    );
    assert_eq!(engine.job(id).await.unwrap().status, JobStatus::Running);
}

async fn stale_lease_cannot_write(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let mut lease = store.claim("w1", 1, LEASE).await.unwrap().remove(0).lease;
    let stale = Lease {
        epoch: lease.epoch - 1,
        ..lease.clone()
    };
    let impostor = Lease {
        owner: "w2".into(),
        ..lease.clone()
    };
    for bad in [&stale, &impostor] {
        let err = store
            .finish_attempt(
                bad,
                &attempt("prepare", 0, Outcome::Succeeded),
                &advance(1, "build"),
                &[],
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, EngineError::LeaseLost { job_id } if job_id == id),
            "{err}"
        );
        let err = store.heartbeat(bad, LEASE, &[]).await.unwrap_err();
        assert!(matches!(err, EngineError::LeaseLost { .. }));
    }
    assert!(
        store.checkpoints(id).await.unwrap().is_empty(),
        "nothing written by stale leases"
    );
    assert!(store.attempts(id).await.unwrap().is_empty());
    lease.duration = LEASE;
    store
        .finish_attempt(
            &lease,
            &attempt("prepare", 0, Outcome::Succeeded),
            &advance(1, "build"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(store.checkpoints(id).await.unwrap().len(), 1);
}

async fn expired_lease_is_rescued_with_a_higher_epoch(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let first = store
        .claim("dead-worker", 1, Duration::from_millis(800))
        .await
        .unwrap()
        .remove(0);
    assert!(store.claim("w2", 1, LEASE).await.unwrap().is_empty());
    let rescued = claim_once_due(&store, "w2").await;
    assert_eq!(rescued.lease.job_id, id);
    assert_eq!(rescued.lease.epoch, first.lease.epoch + 1);
    assert_eq!(rescued.recoveries, 1);
    assert_eq!(rescued.attempt, 2, "the interrupted attempt counts");
    let rescue = rescued.rescued_from.expect("rescue recorded");
    assert_eq!(rescue.previous_owner, "dead-worker");
    assert_eq!(rescue.attempt, 1);
    let err = store.heartbeat(&first.lease, LEASE, &[]).await.unwrap_err();
    assert!(
        matches!(err, EngineError::LeaseLost { .. }),
        "the dead worker's lease is void"
    );
}

async fn checkpoint_advances_state_and_records_attempt_together(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let lease = store.claim("w1", 1, LEASE).await.unwrap().remove(0).lease;
    let answer = store
        .finish_attempt(
            &lease,
            &attempt("prepare", 0, Outcome::Succeeded),
            &advance(1, "build"),
            &[],
        )
        .await
        .unwrap();
    assert!(!answer.cancel_requested);
    let job = engine.job(id).await.unwrap();
    assert_eq!(job.state.as_deref(), Some("Prepared"));
    assert_eq!(job.current_step.as_deref(), Some("build"));
    assert_eq!(job.status, JobStatus::Running);
    let checkpoints = store.checkpoints(id).await.unwrap();
    assert_eq!(checkpoints.len(), 1);
    assert_eq!(checkpoints[0].step_name, "prepare");
    assert_eq!(checkpoints[0].output, json!({"ok": true}));
    assert_eq!(checkpoints[0].worker, "w1");
    let attempts = store.attempts(id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, Outcome::Succeeded);
    assert_eq!(attempts[0].epoch, lease.epoch);
    // The same step cannot be checkpointed twice.
    let twice = store
        .finish_attempt(
            &lease,
            &attempt("prepare", 0, Outcome::Succeeded),
            &advance(1, "build"),
            &[],
        )
        .await;
    assert!(twice.is_err(), "a second checkpoint of one step is refused");
    assert_eq!(store.checkpoints(id).await.unwrap().len(), 1);
    assert_eq!(
        store.attempts(id).await.unwrap().len(),
        1,
        "the refused write left nothing"
    );
    let outputs = store.load_outputs(id).await.unwrap();
    assert_eq!(outputs["prepare"], json!({"ok": true}));
    // The last step completes the job and takes it out of the queue.
    let finish = Transition::Complete {
        output: json!({}),
        state: "Verified".into(),
    };
    store
        .finish_attempt(
            &lease,
            &attempt("verify", 3, Outcome::Succeeded),
            &finish,
            &[],
        )
        .await
        .unwrap();
    let job = engine.job(id).await.unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(job.state.as_deref(), Some("Verified"));
    assert!(job.finished_at.is_some());
    assert_eq!(store.queue_depth().await.unwrap(), 0);
}

async fn retry_waits_for_its_backoff(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let lease = store.claim("w1", 1, LEASE).await.unwrap().remove(0).lease;
    let retry = Transition::RetryAfter {
        delay: Duration::from_millis(1000),
    };
    store
        .finish_attempt(&lease, &attempt("prepare", 0, Outcome::Failed), &retry, &[])
        .await
        .unwrap();
    assert!(
        store.claim("w2", 1, LEASE).await.unwrap().is_empty(),
        "not due before its backoff"
    );
    let due = store.next_due().await.unwrap().expect("a due time");
    assert!(due > Utc::now());
    let again = claim_once_due(&store, "w2").await;
    assert_eq!(again.lease.job_id, id);
    assert_eq!((again.attempt, again.failures), (2, 1));
    assert!(
        again.rescued_from.is_none(),
        "a scheduled retry is not a rescue"
    );
}

async fn cancel_waiting_and_running_jobs(store: Database) {
    let engine = engine_for(&store);
    let waiting = submit_demo(&engine, json!({})).await;
    assert_eq!(
        engine.cancel(waiting).await.unwrap(),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        engine.job(waiting).await.unwrap().status,
        JobStatus::Cancelled
    );
    let err = engine.cancel(waiting).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Conflict(ref m) if m.contains("cancelled")),
        "{err}"
    );

    let running = submit_demo(&engine, json!({})).await;
    let lease = store.claim("w1", 1, LEASE).await.unwrap().remove(0).lease;
    assert_eq!(
        engine.cancel(running).await.unwrap(),
        CancelOutcome::Requested
    );
    assert!(
        store
            .heartbeat(&lease, LEASE, &[])
            .await
            .unwrap()
            .cancel_requested
    );
    let missing = engine.cancel(uuid::Uuid::new_v4()).await.unwrap_err();
    assert!(matches!(missing, EngineError::JobNotFound(_)));
}

async fn retry_resumes_at_failed_step_and_from_step_discards_later_checkpoints(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let lease = store.claim("w1", 1, LEASE).await.unwrap().remove(0).lease;
    store
        .finish_attempt(
            &lease,
            &attempt("prepare", 0, Outcome::Succeeded),
            &advance(1, "build"),
            &[],
        )
        .await
        .unwrap();
    let fail = Transition::End {
        status: JobStatus::Failed,
        error: Some("boom".into()),
        state: None,
    };
    let failing = AttemptRecord {
        error: Some("boom".into()),
        error_code: Some("build.exploded".into()),
        ..attempt("build", 1, Outcome::Failed)
    };
    store
        .finish_attempt(&lease, &failing, &fail, &[])
        .await
        .unwrap();
    let failed = engine.job(id).await.unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.failed_step.as_deref(), Some("build"));
    assert_eq!(failed.error.as_deref(), Some("boom"));
    assert_eq!(failed.error_code.as_deref(), Some("build.exploded"));
    let attempts = store.attempts(id).await.unwrap();
    let codes: Vec<_> = attempts.iter().map(|a| a.error_code.as_deref()).collect();
    assert_eq!(codes, [None, Some("build.exploded")], "{attempts:?}");

    let conflict = engine
        .retry(submit_demo(&engine, json!({})).await, None)
        .await
        .unwrap_err();
    assert!(
        matches!(conflict, EngineError::Conflict(_)),
        "a queued job cannot be retried"
    );

    let retried = engine.retry(id, None).await.unwrap();
    assert_eq!(retried.status, JobStatus::Queued);
    assert_eq!(retried.error_code, None, "a retried job has no failure yet");
    assert_eq!(retried.current_step.as_deref(), Some("build"));
    let claims = store.claim("w2", 10, LEASE).await.unwrap();
    let again = claims.into_iter().find(|c| c.lease.job_id == id).unwrap();
    assert_eq!(again.step_index, 1, "resumes at the failed step");
    assert_eq!(
        (again.attempt, again.failures),
        (1, 0),
        "with fresh attempts"
    );
    assert!(again.lease.epoch > lease.epoch, "epochs never go back");
    assert_eq!(
        store.checkpoints(id).await.unwrap().len(),
        1,
        "completed steps are kept"
    );

    let stale = store
        .finish_attempt(
            &lease,
            &attempt("build", 1, Outcome::Succeeded),
            &advance(2, "publish"),
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(stale, EngineError::LeaseLost { .. }),
        "the old run's lease stays void"
    );

    store
        .finish_attempt(
            &again.lease,
            &attempt("build", 1, Outcome::Succeeded),
            &advance(2, "publish"),
            &[],
        )
        .await
        .unwrap();
    let cancel = Transition::End {
        status: JobStatus::Cancelled,
        error: None,
        state: None,
    };
    store
        .finish_attempt(
            &again.lease,
            &attempt("publish", 2, Outcome::Cancelled),
            &cancel,
            &[],
        )
        .await
        .unwrap();
    let unknown = engine.retry(id, Some("deploy")).await.unwrap_err();
    assert!(
        matches!(unknown, EngineError::InvalidInput(ref m) if m.contains("deploy")),
        "{unknown}"
    );
    let from_prepare = engine.retry(id, Some("prepare")).await.unwrap();
    assert_eq!(from_prepare.current_step.as_deref(), Some("prepare"));
    assert_eq!(from_prepare.state, None);
    assert!(
        store.checkpoints(id).await.unwrap().is_empty(),
        "from_step discards it and later checkpoints"
    );
}

async fn list_filters_and_paginates(store: Database) {
    let engine = engine_for(&store);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(submit_demo(&engine, json!({})).await);
    }
    engine.cancel(ids[1]).await.unwrap();
    let first = engine
        .list(&JobFilter {
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        first.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3]],
        "newest first"
    );
    let second = engine
        .list(&JobFilter {
            limit: 2,
            before: first.next_cursor,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        second.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
    let third = engine
        .list(&JobFilter {
            limit: 2,
            before: second.next_cursor,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(third.jobs.len(), 1);
    assert_eq!(third.next_cursor, None, "last page has no cursor");
    let cancelled = engine
        .list(&JobFilter {
            statuses: vec![JobStatus::Cancelled],
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(cancelled.jobs.len(), 1);
    assert_eq!(cancelled.jobs[0].id, ids[1]);
    let other = engine
        .list(&JobFilter {
            workflow: Some("slow".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(other.jobs.is_empty());
}

async fn worker_runs_demo_with_retries_to_success(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(
        &engine,
        json!({"sleep_ms": 5, "fail_step": "build", "fail_times": 2}),
    )
    .await;
    let job = run_worker_to_end(&engine, fast_worker("w1"), id, Duration::from_secs(20)).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(job.state.as_deref(), Some("Verified"));
    let attempts = store.attempts(id).await.unwrap();
    let timeline: Vec<(String, u32, Outcome)> = attempts
        .iter()
        .map(|a| (a.step_name.clone(), a.attempt, a.outcome))
        .collect();
    assert_eq!(
        timeline,
        vec![
            ("prepare".into(), 1, Outcome::Succeeded),
            ("build".into(), 1, Outcome::Failed),
            ("build".into(), 2, Outcome::Failed),
            ("build".into(), 3, Outcome::Succeeded),
            ("publish".into(), 1, Outcome::Succeeded),
            ("verify".into(), 1, Outcome::Succeeded),
        ]
    );
    assert!(
        attempts[1]
            .error
            .as_deref()
            .unwrap()
            .contains("demo failure 1 of 2")
    );
    let gap = attempts[2].started_at - attempts[1].finished_at;
    assert!(
        gap.num_milliseconds() >= 100,
        "the retry waited for its backoff ({gap})"
    );
    assert_eq!(store.checkpoints(id).await.unwrap().len(), 4);
}

async fn worker_fails_job_after_max_attempts(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({"fail_step": "prepare", "fail_times": 99})).await;
    let mut config = fast_worker("w1");
    config.max_concurrent_jobs = 1;
    let job = run_worker_to_end(&engine, config, id, Duration::from_secs(30)).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.failed_step.as_deref(), Some("prepare"));
    let error = job.error.unwrap();
    assert!(error.contains("after 4 attempts"), "{error}");
    assert_eq!(
        store.attempts(id).await.unwrap().len(),
        4,
        "demo.toml allows 4 attempts"
    );
    assert_eq!(store.queue_depth().await.unwrap(), 0);
}

async fn permanent_error_fails_without_retry(store: Database) {
    let engine = engine_for(&store);
    let id = engine
        .submit("permanent", json!({}), None)
        .await
        .unwrap()
        .job
        .id;
    let job = run_worker_to_end(&engine, fast_worker("w1"), id, Duration::from_secs(10)).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.error.unwrap().contains("repository not found"));
    assert_eq!(
        store.attempts(id).await.unwrap().len(),
        1,
        "no retry of a permanent error"
    );
}

async fn panicking_step_is_a_failed_attempt(store: Database) {
    let engine = engine_for(&store);
    let id = engine
        .submit("panic", json!({}), None)
        .await
        .unwrap()
        .job
        .id;
    let job = run_worker_to_end(&engine, fast_worker("w1"), id, Duration::from_secs(10)).await;
    assert_eq!(
        job.status,
        JobStatus::Succeeded,
        "the worker survived the panic and retried"
    );
    let attempts = store.attempts(id).await.unwrap();
    assert_eq!(attempts[0].outcome, Outcome::Failed);
    assert!(
        attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("boom in step")
    );
    assert_eq!(attempts[1].outcome, Outcome::Succeeded);
}

async fn step_timeout_is_a_retryable_failure(store: Database) {
    let engine = engine_for(&store);
    let id = engine
        .submit("slow", json!({"sleep_ms": 5000}), None)
        .await
        .unwrap()
        .job
        .id;
    let job = run_worker_to_end(&engine, fast_worker("w1"), id, Duration::from_secs(10)).await;
    assert_eq!(job.status, JobStatus::Failed);
    let attempts = store.attempts(id).await.unwrap();
    assert_eq!(attempts.len(), 2, "timed out twice: max_attempts = 2");
    assert!(attempts.iter().all(|a| a.outcome == Outcome::TimedOut));
    assert!(
        attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("timed out after 300ms")
    );
}

async fn worker_cancels_a_running_step(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({"sleep_ms": 20_000})).await;
    let runner = engine.clone();
    let job_handle = tokio::spawn(async move {
        let mut config = fast_worker("w1");
        // Heartbeats too rare to notice the request in time: the cancel hint must.
        config.lease = Duration::from_secs(30);
        config.heartbeat = Duration::from_secs(10);
        run_worker_to_end(&runner, config, id, Duration::from_secs(15)).await
    });
    while engine.job(id).await.unwrap().status != JobStatus::Running {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let requested = std::time::Instant::now();
    assert_eq!(engine.cancel(id).await.unwrap(), CancelOutcome::Requested);
    let job = job_handle.await.unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    assert!(
        requested.elapsed() < Duration::from_secs(3),
        "the running step stopped promptly, not at the next heartbeat ({:?})",
        requested.elapsed()
    );
    let attempts = store.attempts(id).await.unwrap();
    assert_eq!(attempts.last().unwrap().outcome, Outcome::Cancelled);
    assert_eq!(attempts.last().unwrap().step_name, "prepare");
}

async fn job_rescued_too_often_is_parked(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let short = Duration::from_millis(30);
    for n in 0..3 {
        let claimed = store.claim(&format!("dying-{n}"), 1, short).await.unwrap();
        assert_eq!(claimed.len(), 1);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let mut config = fast_worker("w-final");
    config.max_recoveries = 2;
    let job = run_worker_to_end(&engine, config, id, Duration::from_secs(10)).await;
    assert_eq!(job.status, JobStatus::Failed);
    let error = job.error.unwrap();
    assert!(error.contains("MAX_RECOVERIES=2"), "{error}");
    // Each claim recorded the attempt of the worker it took over from; the last row
    // is the refused attempt.
    let attempts = store.attempts(id).await.unwrap();
    let interrupted: Vec<String> = attempts
        .iter()
        .filter(|a| a.outcome == Outcome::Interrupted)
        .map(|a| a.error.clone().unwrap_or_default())
        .collect();
    assert_eq!(interrupted.len(), 3, "{attempts:#?}");
    for (n, error) in interrupted.iter().enumerate() {
        assert!(error.contains(&format!("dying-{n}")), "{error}");
    }
    let last = attempts.last().unwrap();
    assert_eq!(last.outcome, Outcome::Failed);
    assert!(last.error.as_deref().unwrap().contains("MAX_RECOVERIES=2"));
}

async fn changed_definition_is_detected_and_from_step_moves_job(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let lease = store.claim("w1", 1, LEASE).await.unwrap().remove(0).lease;
    store
        .finish_attempt(
            &lease,
            &attempt("prepare", 0, Outcome::Succeeded),
            &advance(1, "build"),
            &[],
        )
        .await
        .unwrap();
    store
        .finish_attempt(
            &lease,
            &attempt("build", 1, Outcome::Released),
            &Transition::Release,
            &[],
        )
        .await
        .unwrap();

    // The workflow is redeployed with a step renamed.
    let mut registry = Registry::new();
    engine::demo::register(&mut registry, None);
    let mut changed = Catalog::empty(registry);
    changed
        .add_toml(
            "demo.toml",
            "name = \"demo\"\n[[steps]]\nname = \"prepare\"\nhandler = \"demo.step\"\nstate = \"Prepared\"\n\
             [[steps]]\nname = \"compile\"\nhandler = \"demo.step\"\n[[steps]]\nname = \"verify\"\nhandler = \"demo.step\"\n",
        )
        .unwrap();
    let new_engine = Engine::new(store.clone(), Arc::new(changed));
    let job = run_worker_to_end(&new_engine, fast_worker("w2"), id, Duration::from_secs(10)).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.error
            .as_deref()
            .unwrap()
            .contains("changed since this job was submitted"),
        "{job:?}"
    );

    let plain = new_engine.retry(id, None).await.unwrap_err();
    assert!(
        matches!(plain, EngineError::Conflict(ref m) if m.contains("from_step")),
        "{plain}"
    );
    let moved = new_engine.retry(id, Some("compile")).await.unwrap();
    assert_eq!(moved.steps, vec!["prepare", "compile", "verify"]);
    assert_ne!(moved.workflow_version, job.workflow_version);
    let done = run_worker_to_end(&new_engine, fast_worker("w3"), id, Duration::from_secs(10)).await;
    assert_eq!(done.status, JobStatus::Succeeded);
    let names: Vec<String> = store
        .checkpoints(id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.step_name)
        .collect();
    assert_eq!(
        names,
        vec!["prepare", "compile", "verify"],
        "prepare kept, new steps run"
    );
}

async fn finished_jobs_leave_the_queue_and_are_purged(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let job = run_worker_to_end(&engine, fast_worker("w1"), id, Duration::from_secs(10)).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(
        store.queue_depth().await.unwrap(),
        0,
        "the claim table holds only live jobs"
    );
    assert_eq!(
        store
            .purge_finished(Utc::now() - chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_finished(Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert!(store.get_job(id).await.unwrap().is_none());
    assert!(
        store.attempts(id).await.unwrap().is_empty(),
        "history goes with the job"
    );
}

async fn step_logs_are_stored(store: Database) {
    let engine = engine_for(&store);
    let id = engine.submit("log", json!({}), None).await.unwrap().job.id;
    run_worker_to_end(&engine, fast_worker("w1"), id, Duration::from_secs(10)).await;
    let logs = store.logs(id, None, 100).await.unwrap();
    let line = logs
        .iter()
        .find(|l| l.line.message == "hello from the step")
        .expect("the step's line");
    assert_eq!(line.line.step.as_deref(), Some("talk"));
    assert_eq!(line.line.attempt, Some(1));
    let after = store.logs(id, Some(line.id), 100).await.unwrap();
    assert!(
        after.iter().all(|l| l.id > line.id),
        "paging after a cursor"
    );
    let extra: Vec<engine::logs::LogLine> = (0..5)
        .map(|n| engine::logs::LogLine {
            step: None,
            attempt: None,
            level: engine::logs::LogLevel::Info,
            message: format!("note {n}"),
            at: Utc::now(),
        })
        .collect();
    store.append_logs(id, &extra).await.unwrap();
    let tail: Vec<String> = store
        .tail_logs(id, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line.message)
        .collect();
    assert_eq!(
        tail,
        vec!["note 3", "note 4"],
        "the newest lines, oldest first"
    );
}

async fn actions_are_on_the_timeline_and_in_the_log_and_go_with_the_job(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({})).await;
    let job = run_worker_to_end(&engine, fast_worker("w1"), id, Duration::from_secs(10)).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    let at = Utc::now();
    for (action, actor) in [("retried", "alice"), ("destroy requested", "root")] {
        let action = engine::store::JobAction {
            action: action.to_owned(),
            actor: actor.to_owned(),
            role: "admin".to_owned(),
            at,
        };
        engine.record_action(id, &action).await.unwrap();
    }
    let details = engine.details(id).await.unwrap();
    let taken: Vec<(&str, &str)> = details
        .actions
        .iter()
        .map(|a| (a.action.as_str(), a.actor.as_str()))
        .collect();
    assert_eq!(taken, [("retried", "alice"), ("destroy requested", "root")]);
    assert_eq!(
        details.actions[0].at.timestamp_millis(),
        at.timestamp_millis()
    );
    let logs = store.tail_logs(id, 2).await.unwrap();
    let lines: Vec<&str> = logs.iter().map(|l| l.line.message.as_str()).collect();
    assert_eq!(
        lines,
        [
            "retried by alice (admin)",
            "destroy requested by root (admin)"
        ]
    );
    store
        .purge_finished(Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert!(
        store.actions(id).await.unwrap().is_empty(),
        "actions go with the job"
    );
}

async fn concurrent_checkpoints_are_fenced_one_by_one(store: Database) {
    let engine = engine_for(&store);
    for _ in 0..24 {
        submit_demo(&engine, json!({})).await;
    }
    let claimed = store.claim("w1", 24, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 24);
    let leases: Vec<Lease> = claimed.iter().map(|c| c.lease.clone()).collect();
    let log = |i: usize, step: &str| engine::logs::LogLine {
        step: Some(step.into()),
        attempt: Some(1),
        level: engine::logs::LogLevel::Info,
        message: format!("{step} of job {i}"),
        at: Utc::now(),
    };

    // Round 1: every job checkpoints `prepare` at once; job 7 presents a stale lease.
    let stale = Lease {
        epoch: leases[7].epoch - 1,
        ..leases[7].clone()
    };
    let round = leases.iter().enumerate().map(|(i, lease)| {
        let (store, line) = (store.clone(), log(i, "prepare"));
        let lease = if i == 7 { stale.clone() } else { lease.clone() };
        async move {
            let record = attempt("prepare", 0, Outcome::Succeeded);
            store
                .finish_attempt(&lease, &record, &advance(1, "build"), &[line])
                .await
        }
    });
    let results = futures::future::join_all(round).await;
    for (i, result) in results.iter().enumerate() {
        if i == 7 {
            assert!(
                matches!(result, Err(EngineError::LeaseLost { .. })),
                "{result:?}"
            );
        } else {
            assert!(result.is_ok(), "job {i}: {result:?}");
        }
    }

    // Round 2: job 3 checkpoints `prepare` a second time, which must fail for it alone.
    let round = leases
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 7)
        .map(|(i, lease)| {
            let store = store.clone();
            let lease = lease.clone();
            let (step, index) = if i == 3 { ("prepare", 0) } else { ("build", 1) };
            let line = log(i, step);
            async move {
                let record = attempt(step, index, Outcome::Succeeded);
                let result = store
                    .finish_attempt(&lease, &record, &advance(index + 1, "publish"), &[line])
                    .await;
                (i, result)
            }
        });
    for (i, result) in futures::future::join_all(round).await {
        assert_eq!(result.is_ok(), i != 3, "job {i}: {result:?}");
    }

    for (i, lease) in leases.iter().enumerate() {
        let id = lease.job_id;
        let expected = match i {
            7 => 0,
            3 => 1,
            _ => 2,
        };
        assert_eq!(
            store.checkpoints(id).await.unwrap().len(),
            expected,
            "job {i}"
        );
        assert_eq!(store.attempts(id).await.unwrap().len(), expected, "job {i}");
        let logs: Vec<String> = store
            .logs(id, None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.line.message)
            .collect();
        let prepare_lines = logs
            .iter()
            .filter(|m| **m == format!("prepare of job {i}"))
            .count();
        // Job 7's write was fenced off; job 3's second, refused checkpoint left no line.
        assert_eq!(prepare_lines, usize::from(i != 7), "job {i}: {logs:?}");
    }
}

async fn running_step_logs_are_written_within_seconds(store: Database) {
    let engine = engine_for(&store);
    let id = submit_demo(&engine, json!({"sleep_ms": 20_000})).await;
    let mut config = fast_worker("w1");
    config.lease = Duration::from_secs(30);
    config.heartbeat = Duration::from_secs(10);
    let shutdown = CancellationToken::new();
    let worker = Worker::new(store.clone(), engine.catalog().clone(), config);
    let handle = tokio::spawn(worker.run(shutdown.clone()));
    while engine.job(id).await.unwrap().status != JobStatus::Running {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = std::time::Instant::now();
    let line = loop {
        let logs = store.logs(id, None, 10).await.unwrap();
        if let Some(line) = logs
            .into_iter()
            .find(|l| l.line.message.contains("sleeping 20000 ms"))
        {
            break line;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "a running step's log line must not wait for the 10 s heartbeat"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(line.line.step.as_deref(), Some("prepare"));
    assert_eq!(
        engine.job(id).await.unwrap().status,
        JobStatus::Running,
        "written while running"
    );
    engine.cancel(id).await.unwrap();
    shutdown.cancel();
    handle.await.unwrap();
}

async fn secrets_memos_and_artifacts_survive_a_retry(store: Database) {
    let without_key = engine_for(&store);
    let refused = without_key
        .submit_with_secrets("jobdata", json!({}), None, &[("token", "ghp_abc")])
        .await;
    assert!(
        matches!(refused, Err(EngineError::SecretsUnavailable)),
        "{refused:?}"
    );
    assert_eq!(
        store.count_jobs(&JobFilter::default()).await.unwrap(),
        0,
        "a refused submit creates nothing"
    );

    let key = engine::SecretKey::from_hex(&engine::SecretKey::generate_hex()).unwrap();
    let engine = engine_for(&store).with_secret_key(Some(key.clone()));
    let id = engine
        .submit_with_secrets("jobdata", json!({}), None, &[("token", "ghp_abc")])
        .await
        .unwrap()
        .job
        .id;
    let sealed = store.sealed_secret(id, "token").await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("ghp_abc"));
    assert!(
        !engine
            .job(id)
            .await
            .unwrap()
            .input
            .to_string()
            .contains("ghp_abc")
    );

    let mut config = fast_worker("w1");
    config.secret_key = Some(key);
    let job = run_worker_to_end(&engine, config, id, Duration::from_secs(10)).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let output = &store.load_outputs(id).await.unwrap()["only"];
    assert_eq!(output["token_len"], 7, "the step read the secret back");
    assert_eq!(
        output["memo"]["computed_in_attempt"], 1,
        "the second attempt reused the first attempt's memo"
    );
    assert_eq!(
        output["password"], "pw-of-attempt-1",
        "the second attempt opened what the first attempt sealed"
    );
    let stored = store
        .memo_get(id, "only", "password")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored.to_string().contains("pw-of-attempt"),
        "a sealed value is stored sealed: {stored}"
    );
    let artifacts = engine.artifacts(id).await.unwrap();
    assert_eq!(artifacts.len(), 1, "rewriting a path replaces it");
    let report = engine.artifact(id, "out/report.txt").await.unwrap();
    assert_eq!(report.content, b"attempt 2");
    assert_eq!(report.meta.step, "only");
    assert!(matches!(
        engine.artifact(id, "missing").await,
        Err(EngineError::ArtifactNotFound { .. })
    ));

    // An artifact write without the lease is refused.
    let stale = Lease {
        job_id: id,
        owner: "nobody".into(),
        epoch: 1,
        duration: LEASE,
    };
    assert!(matches!(
        store.put_artifact(&stale, "only", "x", b"y").await,
        Err(EngineError::LeaseLost { .. })
    ));
    // So is a memo write: it would overwrite what the current attempt recorded.
    assert!(matches!(
        store
            .memo_put(
                &stale,
                "only",
                "answer",
                &json!({"computed_in_attempt": 99})
            )
            .await,
        Err(EngineError::LeaseLost { .. })
    ));
    assert_eq!(
        store.memo_get(id, "only", "answer").await.unwrap().unwrap()["computed_in_attempt"],
        1
    );
    assert_eq!(
        store
            .purge_finished(Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert!(store.list_artifacts(id).await.unwrap().is_empty());
    assert!(
        store
            .memo_get(id, "only", "answer")
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_step_can_end_the_job_in_a_verdict_state(store: Database) {
    let engine = engine_for(&store);
    let id = engine
        .submit("verdict", json!({}), None)
        .await
        .unwrap()
        .job
        .id;
    let job = run_worker_to_end(&engine, fast_worker("w1"), id, Duration::from_secs(10)).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.state.as_deref(), Some("Denied"));
    assert!(job.error.unwrap().contains("command-line tool"));
    assert_eq!(store.attempts(id).await.unwrap().len(), 1);
}

/// Runs a worker until `done` holds for the job, then stops it.
async fn run_worker_until(
    engine: &Engine,
    job: uuid::Uuid,
    done: impl Fn(&engine::store::JobRecord) -> bool,
) -> engine::store::JobRecord {
    run_worker_while(
        engine,
        fast_worker("w1"),
        job,
        Duration::from_secs(10),
        done,
    )
    .await
}

async fn a_waiting_job_holds_no_worker_and_resumes_on_its_signal(store: Database) {
    let engine = engine_for(&store);
    let id = engine.submit("gate", json!({}), None).await.unwrap().job.id;
    let parked = run_worker_until(&engine, id, |j| j.status == JobStatus::Waiting).await;
    assert_eq!(parked.state.as_deref(), Some("AwaitingApproval"));
    assert_eq!(parked.current_step.as_deref(), Some("gate"));
    assert!(parked.finished_at.is_none(), "{parked:?}");
    // Parked, it is not claimable: no worker holds it and nothing is due.
    assert!(store.claim("w2", 10, LEASE).await.unwrap().is_empty());
    assert_eq!(store.queue_depth().await.unwrap(), 0);
    let attempts = store.attempts(id).await.unwrap();
    assert_eq!(attempts.last().unwrap().outcome, Outcome::Waiting);

    let resumed = engine
        .signal(id, "approval", json!({"approved": true, "by": "ops"}))
        .await
        .unwrap();
    assert_eq!(resumed.status, JobStatus::Queued);
    assert_eq!(resumed.state.as_deref(), Some("Prepared"));
    let done = run_worker_until(&engine, id, |j| j.status.is_terminal()).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(done.state.as_deref(), Some("Approved"));
    let outputs = store.load_outputs(id).await.unwrap();
    assert_eq!(
        outputs["gate"]["answer"],
        json!({"approved": true, "by": "ops"})
    );
    // The first step ran once: the signal resumed the parked step, not the job.
    let attempts = store.attempts(id).await.unwrap();
    assert_eq!(
        attempts.iter().filter(|a| a.step_name == "first").count(),
        1
    );
}

async fn a_waiting_job_can_be_cancelled_and_not_signalled_twice(store: Database) {
    let engine = engine_for(&store);
    let id = engine.submit("gate", json!({}), None).await.unwrap().job.id;
    run_worker_until(&engine, id, |j| j.status == JobStatus::Waiting).await;
    assert!(matches!(
        engine.cancel(id).await.unwrap(),
        CancelOutcome::Cancelled
    ));
    let job = engine.job(id).await.unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    assert!(job.finished_at.is_some());
    let refused = engine
        .signal(id, "approval", json!(true))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, EngineError::Conflict(m) if m.contains("not waiting")),
        "{refused}"
    );
    // A retry parks it again: the approval was never given.
    engine.retry(id, None).await.unwrap();
    let parked = run_worker_until(&engine, id, |j| j.status == JobStatus::Waiting).await;
    assert_eq!(parked.state.as_deref(), Some("AwaitingApproval"));
}

async fn a_step_can_finish_the_job_early(store: Database) {
    let engine = engine_for(&store);
    let id = engine
        .submit("finish", json!({}), None)
        .await
        .unwrap()
        .job
        .id;
    let job = run_worker_to_end(&engine, fast_worker("w1"), id, Duration::from_secs(10)).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(job.state.as_deref(), Some("Planned"));
    let attempts = store.attempts(id).await.unwrap();
    assert_eq!(attempts.len(), 1, "the later step never ran");
    assert_eq!(attempts[0].outcome, Outcome::Succeeded);
    assert_eq!(
        attempts[0].error.as_deref(),
        Some("apply skipped: no credentials")
    );
}

/// Everything `follow` yields until it ends by itself (within 10 s).
async fn followed(engine: &Engine, id: uuid::Uuid, follow: Follow) -> Vec<JobEvent> {
    use futures::StreamExt;
    let stream = engine.follow(id, follow.every(Duration::from_millis(20)));
    tokio::time::timeout(Duration::from_secs(10), stream.collect::<Vec<_>>())
        .await
        .expect("the stream ends by itself")
        .into_iter()
        .map(|event| event.expect("a follow read"))
        .collect()
}

async fn follow_ends_at_a_wait_when_asked_and_otherwise_when_the_job_ends(store: Database) {
    let engine = engine_for(&store);
    let id = engine.submit("gate", json!({}), None).await.unwrap().job.id;
    let shutdown = CancellationToken::new();
    let worker = Worker::new(store.clone(), engine.catalog().clone(), fast_worker("w1"));
    let running = tokio::spawn(worker.run(shutdown.clone()));

    let parked = followed(
        &engine,
        id,
        Follow::default().with_attempts().until_waiting(),
    )
    .await;
    let statuses: Vec<JobStatus> = parked
        .iter()
        .filter_map(|e| match e {
            JobEvent::Status(job) => Some(job.status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses.last(), Some(&JobStatus::Waiting), "{parked:#?}");
    // A status event is sent when what it shows changed: the status, or the
    // step and state within one status (running the first step, then the gate).
    let shown: Vec<_> = parked
        .iter()
        .filter_map(|e| match e {
            JobEvent::Status(job) => {
                Some((job.status, job.state.clone(), job.current_step.clone()))
            }
            _ => None,
        })
        .collect();
    let mut seen = shown.clone();
    seen.dedup();
    assert_eq!(seen, shown, "a status is sent only when it changed");
    let attempts: Vec<(&str, Outcome)> = parked
        .iter()
        .filter_map(|e| match e {
            JobEvent::Attempt(a) => Some((a.step_name.as_str(), a.outcome)),
            _ => None,
        })
        .collect();
    assert_eq!(
        attempts,
        [("first", Outcome::Succeeded), ("gate", Outcome::Waiting)]
    );
    let cursor = parked.iter().rev().find_map(|e| match e {
        JobEvent::Log(line) => Some(line.id),
        _ => None,
    });
    assert!(
        parked
            .iter()
            .any(|e| matches!(e, JobEvent::Log(l) if l.line.message == "hello from the step")),
        "{parked:#?}"
    );

    engine.signal(id, "approval", json!(true)).await.unwrap();
    let rest = followed(&engine, id, Follow::default().after_log(cursor)).await;
    let Some(JobEvent::Status(last)) = rest.last() else {
        panic!("the stream ends with the job's record: {rest:#?}");
    };
    assert_eq!(last.status, JobStatus::Succeeded, "{rest:#?}");
    assert!(
        rest.iter().all(|e| match e {
            JobEvent::Log(line) => Some(line.id) > cursor,
            JobEvent::Attempt(_) => false,
            JobEvent::Status(_) => true,
        }),
        "no line before the cursor, no attempts unless asked: {rest:#?}"
    );
    shutdown.cancel();
    running.await.unwrap();
}

async fn a_job_handed_back_unstarted_is_queued_again_as_if_never_claimed(store: Database) {
    let engine = engine_for(&store);
    let first = submit_demo(&engine, json!({})).await;
    let second = submit_demo(&engine, json!({})).await;
    let claimed = store.claim("w1", 2, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let lease_of = |id| {
        claimed
            .iter()
            .find(|c| c.lease.job_id == id)
            .unwrap()
            .lease
            .clone()
    };
    let stale = Lease {
        epoch: lease_of(second).epoch - 1,
        ..lease_of(second)
    };
    let handed_back = store
        .hand_back_unstarted("w1", &[lease_of(first), stale])
        .await
        .unwrap();
    assert_eq!(handed_back, 1, "only the lease still held is handed back");
    let first_record = engine.job(first).await.unwrap();
    assert_eq!(first_record.status, JobStatus::Queued);
    assert_eq!(first_record.started_at, None, "it never started");
    assert_eq!(engine.job(second).await.unwrap().status, JobStatus::Running);
    assert!(
        store.attempts(first).await.unwrap().is_empty(),
        "nothing ran"
    );

    let again = store.claim("w2", 2, LEASE).await.unwrap();
    assert_eq!(again.len(), 1, "the job still leased to w1 stays with it");
    let again = &again[0];
    assert_eq!(again.lease.job_id, first);
    assert!(
        again.rescued_from.is_none(),
        "a job handed back is not a dead worker's"
    );
    assert_eq!((again.attempt, again.recoveries), (1, 0));
    assert!(
        store
            .hand_back_unstarted("w1", &[lease_of(first)])
            .await
            .unwrap()
            == 0,
        "w1's lease is void once w2 holds the job"
    );
}

async fn under_load_claims_and_checkpoints_form_batches_and_jobs_are_claimed_ahead(
    store: Database,
) {
    const JOBS: usize = 120;
    let engine = engine_for(&store);
    let mut ids = Vec::with_capacity(JOBS);
    for _ in 0..JOBS {
        ids.push(engine.submit("log", json!({}), None).await.unwrap().job.id);
    }
    let batches_before = store.checkpoint_batches().expect("counted");
    let mut config = fast_worker("w1");
    config.max_concurrent_jobs = 8;
    let stats = run_worker_until_the_queue_is_empty(&store, &engine, config).await;
    for id in ids {
        assert_eq!(engine.job(id).await.unwrap().status, JobStatus::Succeeded);
    }

    let written = store
        .checkpoint_batches()
        .expect("counted")
        .since(&batches_before);
    let (statements, checkpoints) = (written.statements, written.checkpoints);
    assert_eq!(checkpoints, JOBS as u64, "one checkpoint per job");
    assert!(
        statements < checkpoints,
        "checkpoints of concurrent jobs share commits: {statements} commits for {checkpoints}"
    );
    assert_eq!(stats.claimed(), JOBS as u64);
    assert!(
        stats.claims() < stats.claimed(),
        "claims bring back several jobs: {} claims for {}",
        stats.claims(),
        stats.claimed()
    );
    assert!(
        stats.claimed_ahead() > 0,
        "short jobs are claimed before a slot frees for them"
    );
    assert_eq!(stats.handed_back(), 0, "every job claimed ahead started");
}

async fn jobs_claimed_ahead_behind_a_long_job_are_handed_back_on_time(store: Database) {
    let engine = engine_for(&store);
    let mut short = Vec::new();
    for _ in 0..30 {
        short.push(engine.submit("log", json!({}), None).await.unwrap().job.id);
    }
    let long = engine
        .submit("long", json!({"sleep_ms": 4000}), None)
        .await
        .unwrap()
        .job
        .id;
    for _ in 0..10 {
        short.push(engine.submit("log", json!({}), None).await.unwrap().job.id);
    }
    let mut config = fast_worker("w1");
    config.max_concurrent_jobs = 1;
    config.lease = Duration::from_secs(4);
    let worker = Worker::new(store.clone(), engine.catalog().clone(), config);
    let stats = worker.stats();
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(worker.run(shutdown.clone()));

    // The short jobs before the long one teach the worker to claim ahead; those it
    // claimed behind the long one must go back within a quarter of the lease (1 s),
    // while the long job still holds the only slot.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while engine.job(long).await.unwrap().status != JobStatus::Running {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the long job never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        engine.job(long).await.unwrap().status,
        JobStatus::Running,
        "the long job still runs"
    );
    assert!(
        stats.claimed_ahead() > 0,
        "short jobs were claimed ahead of the only slot"
    );
    assert!(
        stats.handed_back() > 0,
        "jobs claimed behind the long one were handed back while it ran"
    );
    let queued = JobFilter {
        created_by: None,
        statuses: vec![JobStatus::Running],
        workflow: Some("log".into()),
        before: None,
        limit: 100,
    };
    assert_eq!(
        store.count_jobs(&queued).await.unwrap(),
        0,
        "no short job waits leased behind the long one"
    );

    while !engine.job(long).await.unwrap().status.is_terminal() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the long job never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for id in &short {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !engine.job(*id).await.unwrap().status.is_terminal() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} never ended"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    shutdown.cancel();
    handle.await.unwrap();
    for id in short.iter().chain([&long]) {
        assert_eq!(engine.job(*id).await.unwrap().status, JobStatus::Succeeded);
        let attempts = store.attempts(*id).await.unwrap();
        assert_eq!(
            attempts.len(),
            1,
            "job {id} ran once, nothing interrupted: {attempts:?}"
        );
    }
}

async fn steps_never_outnumber_the_slots_while_checkpoints_commit(store: Database) {
    const JOBS: usize = 40;
    let engine = engine_for(&store);
    let gauge = uuid::Uuid::new_v4().to_string();
    let mut ids = Vec::with_capacity(JOBS);
    for _ in 0..JOBS {
        let input = json!({"gauge": gauge, "sleep_ms": 3});
        ids.push(engine.submit("gauged", input, None).await.unwrap().job.id);
    }
    let mut config = fast_worker("w1");
    config.max_concurrent_jobs = 3;
    run_worker_until_the_queue_is_empty(&store, &engine, config).await;
    for id in ids {
        assert_eq!(engine.job(id).await.unwrap().status, JobStatus::Succeeded);
        assert_eq!(store.checkpoints(id).await.unwrap().len(), 3);
    }
    let most = StepGauge::most(&gauge);
    assert!(
        (2..=3).contains(&most),
        "steps ran {most} at once on a worker of 3 slots"
    );
}

async fn a_job_between_steps_is_not_overtaken_by_a_new_claim(store: Database) {
    let engine = engine_for(&store);
    let gauge = uuid::Uuid::new_v4().to_string();
    let input = json!({"gauge": gauge, "sleep_ms": 150});
    let first = engine
        .submit("gauged", input.clone(), None)
        .await
        .unwrap()
        .job
        .id;
    let mut config = fast_worker("w1");
    config.max_concurrent_jobs = 1;
    let worker = Worker::new(store.clone(), engine.catalog().clone(), config);
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(worker.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while engine.job(first).await.unwrap().status != JobStatus::Running {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first job never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Queued while the first job runs its first step: it must wait for all three,
    // though the slot is lent each time a checkpoint commits.
    let second = engine.submit("gauged", input, None).await.unwrap().job.id;
    while !engine.job(second).await.unwrap().status.is_terminal() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second job never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    handle.await.unwrap();
    let first_attempts = store.attempts(first).await.unwrap();
    let second_started = store.attempts(second).await.unwrap()[0].started_at;
    assert_eq!(first_attempts.len(), 3);
    for attempt in &first_attempts {
        assert!(
            attempt.finished_at <= second_started,
            "step {} of the first job ended at {} after the second job started at {second_started}",
            attempt.step_name,
            attempt.finished_at
        );
    }
    assert_eq!(StepGauge::most(&gauge), 1);
}
