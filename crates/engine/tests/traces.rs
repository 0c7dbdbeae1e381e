//! One trace per job: the spans of every run of a job, by different workers, share the
//! trace id stored at submit, under the job's `job.submit` root. (One test binary: it
//! installs the global subscriber, exporting to memory.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use engine::{
    Catalog, Database, Engine, JobStatus, Registry, StepContext, StepError, Worker, WorkerConfig,
    typed,
};
use opentelemetry::trace::{SpanId, TracerProvider};
use opentelemetry::{KeyValue, Value as OtelValue};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::{Value, json};
use test_support::database::{TestPostgres, TestSqlite};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

/// Set once the first worker has stopped: the `gate` step blocks until then, so the
/// first worker is shut down in the middle of the job and the second one resumes it.
static SECOND_WORKER: AtomicBool = AtomicBool::new(false);

const WORKFLOW: &str = "name = \"traced\"\n\
    [[steps]]\nname = \"first\"\nhandler = \"test.quick\"\n\
    [[steps]]\nname = \"gate\"\nhandler = \"test.gate\"\n\
    [[steps]]\nname = \"last\"\nhandler = \"test.quick\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_runs_of_a_job_share_its_trace() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let postgres = TestPostgres::create().await;
    let sqlite = TestSqlite::create();
    for url in [&postgres.url, &sqlite.url] {
        SECOND_WORKER.store(false, Ordering::SeqCst);
        exporter.reset();
        check_backend(url, &exporter).await;
    }
}

async fn check_backend(url: &str, exporter: &InMemorySpanExporter) {
    let store = engine::connect(url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let catalog = Arc::new(catalog());
    let engine = Engine::new(store.clone(), catalog.clone());

    let request = tracing::info_span!("request");
    let job = engine
        .submit("traced", json!({}), None)
        .instrument(request.clone())
        .await
        .unwrap()
        .job;
    drop(request);
    let trace_id = job.trace_id.clone().expect("a new job has a trace id");
    assert_eq!(trace_id.len(), 32, "{trace_id}");
    let stored = store.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(stored.trace_id.as_deref(), Some(trace_id.as_str()));

    // The first worker runs `first`, then is shut down while `gate` waits: it hands
    // the job back. The second worker resumes at `gate` from the stored context.
    let first = start_worker(store.clone(), catalog.clone(), "worker-a");
    wait_for_step(&store, job.id, "gate").await;
    first.stop().await;
    SECOND_WORKER.store(true, Ordering::SeqCst);
    let second = start_worker(store.clone(), catalog.clone(), "worker-b");
    wait_for_status(&store, job.id, JobStatus::Succeeded).await;
    second.stop().await;

    let spans = finished_spans(exporter, &trace_id).await;
    let in_trace: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.span_context.trace_id().to_string() == trace_id)
        .collect();
    let named = |name: &str| -> Vec<&SpanData> {
        in_trace
            .iter()
            .copied()
            .filter(|s| s.name == name)
            .collect()
    };

    let roots = named("job.submit");
    assert_eq!(roots.len(), 1, "one root: {in_trace:#?}");
    let root = roots[0];
    assert_eq!(root.parent_span_id, SpanId::INVALID);
    assert_eq!(attr(root, "job.id"), Some(job.id.to_string()));

    // The API's request span is outside the job's trace, linked to it both ways.
    let request = spans
        .iter()
        .find(|s| s.name == "request")
        .expect("request span");
    assert_ne!(
        request.span_context.trace_id(),
        root.span_context.trace_id()
    );
    assert_eq!(attr(request, "job.trace_id"), Some(trace_id.clone()));
    assert!(
        root.links
            .links
            .iter()
            .any(|link| link.span_context == request.span_context),
        "the root links to the request: {root:#?}"
    );

    let runs = named("job");
    assert_eq!(
        runs.len(),
        2,
        "one `job` span per worker run: {in_trace:#?}"
    );
    for run in &runs {
        assert_eq!(run.parent_span_id, root.span_context.span_id());
        assert_eq!(attr(run, "job.id"), Some(job.id.to_string()));
        assert_eq!(attr(run, "workflow"), Some("traced".into()));
    }
    let epochs: Vec<_> = runs.iter().map(|r| attr(r, "epoch")).collect();
    assert_ne!(epochs[0], epochs[1], "two leases: {epochs:?}");

    // Each step attempt is a child of the run that executed it; `gate` ran in both.
    let steps = named("step");
    let run_of = |step: &SpanData| {
        runs.iter()
            .position(|run| run.span_context.span_id() == step.parent_span_id)
            .unwrap_or_else(|| panic!("step outside a run: {step:#?}"))
    };
    let mut seen: Vec<(usize, String)> = steps
        .iter()
        .map(|s| (run_of(s), attr(s, "step").unwrap()))
        .collect();
    seen.sort();
    let first_run = run_of(
        steps
            .iter()
            .find(|s| attr(s, "step").unwrap() == "first")
            .unwrap(),
    );
    let second_run = 1 - first_run;
    let mut expected = vec![
        (first_run, "first".to_owned()),
        (first_run, "gate".to_owned()),
        (second_run, "gate".to_owned()),
        (second_run, "last".to_owned()),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    for step in &steps {
        assert!(attr(step, "attempt").is_some(), "{step:#?}");
    }

    // Spans a handler opens nest under its step.
    let work = named("work");
    assert_eq!(work.len(), 3, "one per completed handler run: {work:#?}");
    for span in work {
        assert!(
            steps
                .iter()
                .any(|s| s.span_context.span_id() == span.parent_span_id)
        );
    }
}

/// The spans exported so far, once both runs' `job` spans are among them. A span is
/// exported when its last reference goes, and that can be a moment after the worker
/// that ran it has stopped: sqlx hands each SQLite command to the connection's own
/// thread with the caller's current span, which that thread drops only after it has
/// answered (on a loaded machine, later still).
async fn finished_spans(exporter: &InMemorySpanExporter, trace_id: &str) -> Vec<SpanData> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let spans = exporter.get_finished_spans().unwrap();
        let runs = spans
            .iter()
            .filter(|s| s.name == "job" && s.span_context.trace_id().to_string() == trace_id)
            .count();
        if runs >= 2 || std::time::Instant::now() > deadline {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv: &&KeyValue| kv.key.as_str() == key)
        .map(|kv| match &kv.value {
            OtelValue::String(s) => s.to_string(),
            other => other.to_string(),
        })
}

fn catalog() -> Catalog {
    let mut registry = Registry::new();
    registry.register(
        "test.quick",
        typed(|_ctx: StepContext, _: Value| {
            async { Ok::<_, StepError>(json!({})) }.instrument(tracing::info_span!("work"))
        }),
    );
    registry.register(
        "test.gate",
        typed(|ctx: StepContext, _: Value| async move {
            if !SECOND_WORKER.load(Ordering::SeqCst) {
                ctx.cancellation.cancelled().await;
                return Err(StepError::retryable("stopped"));
            }
            tracing::info_span!("work").in_scope(|| Ok::<_, StepError>(json!({})))
        }),
    );
    let mut catalog = Catalog::empty(registry);
    catalog.add_toml("traced.toml", WORKFLOW).unwrap();
    catalog
}

struct Running {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the worker stops")
            .unwrap();
    }
}

fn start_worker(store: Database, catalog: Arc<Catalog>, id: &str) -> Running {
    let mut config = WorkerConfig::new(id);
    config.poll_interval = Duration::from_millis(50);
    config.shutdown_grace = Duration::from_millis(100);
    let shutdown = CancellationToken::new();
    let worker = Worker::new(store, catalog, config);
    let task = tokio::spawn(worker.run(shutdown.clone()));
    Running { shutdown, task }
}

async fn wait_for_step(store: &Database, id: uuid::Uuid, step: &str) {
    for _ in 0..400 {
        let job = store.get_job(id).await.unwrap().unwrap();
        if job.current_step.as_deref() == Some(step) && job.status == JobStatus::Running {
            // The step has been claimed and entered by now or very soon; give it a moment.
            tokio::time::sleep(Duration::from_millis(200)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job never reached step {step}");
}

async fn wait_for_status(store: &Database, id: uuid::Uuid, status: JobStatus) {
    for _ in 0..400 {
        let job = store.get_job(id).await.unwrap().unwrap();
        if job.status == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job never reached {status}");
}
