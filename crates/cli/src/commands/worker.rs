use engine::{Worker, WorkerConfig};
use tokio_util::sync::CancellationToken;

use crate::commands::{config_error, load_catalog, open_store};
use crate::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let mut worker_config = worker_config(config).map_err(config_error)?;
    worker_config.secret_key = config.secret_key().map_err(config_error)?;
    let catalog = load_catalog(config)?;
    let store = open_store(config).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    Worker::new(store, catalog, worker_config)
        .run(shutdown)
        .await;
    Ok(())
}

pub fn worker_config(config: &Config) -> anyhow::Result<WorkerConfig> {
    if config.max_concurrent_jobs == 0 {
        anyhow::bail!("MAX_CONCURRENT_JOBS must be at least 1");
    }
    let mut worker = WorkerConfig::new(worker_id());
    worker.max_concurrent_jobs = config.max_concurrent_jobs;
    worker.lease = config.lease()?;
    worker.heartbeat = config.heartbeat()?;
    worker.poll_interval = std::time::Duration::from_millis(config.poll_interval_ms.max(10));
    worker.max_recoveries = config.max_recoveries;
    worker.shutdown_grace = config.shutdown_grace()?;
    worker.retention = config.retention();
    Ok(worker)
}

/// `host-pid-random`: unique per process, and says where to look when a job was rescued from it.
fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "worker".into());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &suffix[..6])
}

/// Cancels `shutdown` on SIGTERM or SIGINT; a second signal exits at once.
pub async fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot install signal handlers; stop the worker with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("signal received: stopping (send it again to exit at once)");
    shutdown.cancel();
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    std::process::exit(130);
}
