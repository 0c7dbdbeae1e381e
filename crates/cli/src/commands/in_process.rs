//! Running one job to its end in this process, on the configured store, with
//! a worker of its own and each step's attempts and log lines printed as they
//! come: `deployflow deploy` and `deployflow destroy --here`.

use std::time::Duration;

use engine::Engine;
use engine::follow::{Follow, JobEvent};
use engine::store::JobRecord;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::commands::worker::worker_config;
use crate::commands::{config_error, load_catalog, open_store};
use crate::config::Config;

/// An engine on the configured store, with what a worker of its own needs.
pub struct Here {
    pub engine: Engine,
    store: engine::Database,
    catalog: std::sync::Arc<engine::Catalog>,
    worker: engine::WorkerConfig,
}

impl Here {
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let mut worker = worker_config(config).map_err(config_error)?;
        let secret_key = config.secret_key().map_err(config_error)?;
        worker.secret_key = secret_key.clone();
        let catalog = load_catalog(config)?;
        let store = open_store(config).await?;
        let engine = Engine::new(store.clone(), catalog.clone()).with_secret_key(secret_key);
        Ok(Self {
            engine,
            store,
            catalog,
            worker,
        })
    }

    /// Runs job `id` with a worker of this process until it ends or parks
    /// (waiting for a signal), printing what happens; its record then.
    pub async fn run_to_end(&self, id: Uuid) -> anyhow::Result<JobRecord> {
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(
            engine::Worker::new(
                self.store.clone(),
                self.catalog.clone(),
                self.worker.clone(),
            )
            .run(shutdown.clone()),
        );
        let followed = self.print_until_settled(id).await;
        shutdown.cancel();
        let _ = running.await;
        followed?;
        Ok(self.engine.job(id).await?)
    }

    async fn print_until_settled(&self, id: Uuid) -> anyhow::Result<()> {
        // A job parked for approval holds no worker: nothing more happens here.
        let mut events = std::pin::pin!(
            self.engine.follow(
                id,
                Follow::default()
                    .with_attempts()
                    .until_waiting()
                    .every(Duration::from_millis(200)),
            )
        );
        while let Some(event) = events.next().await {
            match event? {
                JobEvent::Log(line) => {
                    println!("  {:<5} {}", line.line.level.as_str(), line.line.message);
                }
                JobEvent::Attempt(attempt) => {
                    let ms = (attempt.finished_at - attempt.started_at).num_milliseconds();
                    println!(
                        "[{}] attempt {} {} in {ms} ms{}",
                        attempt.step_name,
                        attempt.attempt,
                        attempt.outcome.as_str(),
                        attempt
                            .error
                            .as_deref()
                            .map(|e| format!(": {e}"))
                            .unwrap_or_default()
                    );
                }
                JobEvent::Status(_) => {}
            }
        }
        Ok(())
    }
}

/// " [code]\nwhat to do: …" for a failed job's error code, as the failure
/// catalogue explains it.
pub fn advice(job: &JobRecord) -> String {
    job.error_code
        .as_deref()
        .map(|code| match pipeline::failures::describe(code) {
            Some(entry) => format!(" [{code}]\nwhat to do: {}", entry.suggestion),
            None => format!(" [{code}]"),
        })
        .unwrap_or_default()
}
