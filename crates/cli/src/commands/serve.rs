//! `deployflow serve`: the HTTP API and, unless `--no-worker`, a worker in the same
//! process (the embedded, zero-setup mode); both stop on SIGTERM or SIGINT.

use anyhow::Context;
use engine::{Engine, Worker};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::commands::worker::{stop_on_signal, worker_config};
use crate::commands::{ConfigError, config_error, load_catalog, open_store};
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Serve the API only; jobs run on separate `deployflow worker` processes.
    #[arg(long)]
    pub no_worker: bool,
}

pub async fn run(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    // Before the worker starts, so its first claims are counted.
    let metrics = api::metrics::install_recorder().context("metrics recorder")?;
    let worker_config = if args.no_worker {
        None
    } else {
        Some(worker_config(config).map_err(config_error)?)
    };
    let catalog = load_catalog(config)?;
    let secret_key = config.secret_key().map_err(config_error)?;
    let worker_config = worker_config.map(|mut worker| {
        worker.secret_key = secret_key.clone();
        worker
    });
    let store = open_store(config).await?;
    if secret_key.is_none() {
        tracing::warn!("no SECRETS_KEY: requests with a github_token are refused");
    }
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on LISTEN_ADDR {}", config.listen))?;
    let address = listener.local_addr().context("listening address")?;
    let auth = config.auth_config(address).map_err(ConfigError)?;
    if auth.disabled {
        tracing::warn!(listen = %address, "AUTH=off: every request acts as an admin (loopback only)");
    } else if Engine::new(store.clone(), catalog.clone())
        .tokens()
        .await
        .map(|t| t.is_empty())
        .unwrap_or(false)
    {
        tracing::warn!(
            "no API token exists yet: create one with `deployflow token create --role admin --name NAME` \
             (same DATABASE_URL / DATA_DIR), then send it as `Authorization: Bearer <token>`, \
             sign in to the dashboard with it, or set DEPLOYFLOW_TOKEN for the CLI"
        );
    }
    tracing::info!(listen = %address, worker = !args.no_worker, auth = if auth.disabled { "off" } else { "tokens" }, "HTTP API listening");

    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let worker = worker_config.map(|worker_config| {
        tokio::spawn(
            Worker::new(store.clone(), catalog.clone(), worker_config).run(shutdown.clone()),
        )
    });
    let engine = Engine::new(store, catalog).with_secret_key(secret_key);
    let api_config = api::ApiConfig {
        url_policy: config.url_policy(),
        metrics: Some(metrics),
        auth,
    };
    let served = api::serve(listener, engine, api_config, shutdown.clone()).await;
    // If the server stopped on its own (an I/O error), the worker stops with it.
    shutdown.cancel();
    if let Some(worker) = worker {
        worker.await.context("the worker task failed")?;
    }
    served.context("the HTTP server failed")
}
