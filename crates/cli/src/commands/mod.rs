//! One module per subcommand (or group of client commands), and what they share:
//! opening the store, loading workflows, exit statuses.

pub mod analyse;
pub mod bench;
pub mod client;
pub mod control;
pub mod demo;
pub mod deploy;
pub mod in_process;
pub mod inspect;
pub mod lifecycle;
pub mod migrate;
pub mod output;
pub mod plan;
pub mod policy;
pub mod run;
pub mod serve;
pub mod token;
pub mod worker;

use std::sync::Arc;

use anyhow::Context;
use engine::{Catalog, Database, EngineError, Registry};

use crate::config::Config;

/// Exit status for scripts: 2 for bad configuration or definitions, 3 when the API
/// does not answer, 1 for anything else (an API error answer included).
pub fn exit_code(error: &anyhow::Error) -> u8 {
    match error.downcast_ref::<EngineError>() {
        Some(EngineError::Definition(_)) | Some(EngineError::InvalidDatabaseUrl(_)) => 2,
        _ if error.downcast_ref::<ConfigError>().is_some() => 2,
        _ if error.downcast_ref::<client::ApiUnreachable>().is_some() => 3,
        _ => 1,
    }
}

/// A configuration problem the user must fix (exit status 2).
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Opens the configured store and brings its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Database> {
    let url = config.database_url()?;
    let store = engine::connect(&url, config.db_max_connections())
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                engine::store::redact_url(&url)
            )
        })?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

/// Every step handler this binary provides.
pub fn registry(config: &Config) -> Registry {
    let mut registry = Registry::new();
    engine::demo::register(&mut registry, config.demo_effects_file.clone());
    pipeline::register(&mut registry, Arc::new(config.pipeline()));
    registry
}

/// The repository's `workflows/`, built into the binary so it runs from any
/// directory.
const BUILT_IN_WORKFLOWS: [(&str, &str); 3] = [
    (
        "deploy.toml",
        include_str!("../../../../workflows/deploy.toml"),
    ),
    (
        "destroy.toml",
        include_str!("../../../../workflows/destroy.toml"),
    ),
    ("demo.toml", include_str!("../../../../workflows/demo.toml")),
];

/// Loads and validates the workflow definitions (WORKFLOWS_DIR's, else the
/// built-in ones); any problem stops start-up.
pub fn load_catalog(config: &Config) -> anyhow::Result<Arc<Catalog>> {
    let (catalog, source) = match &config.workflows_dir {
        Some(dir) => (
            Catalog::load(dir, registry(config)).map_err(EngineError::from)?,
            dir.display().to_string(),
        ),
        None => {
            let mut catalog = Catalog::empty(registry(config));
            for (origin, text) in BUILT_IN_WORKFLOWS {
                catalog.add_toml(origin, text).map_err(EngineError::from)?;
            }
            (catalog, "built in".to_owned())
        }
    };
    let names: Vec<&str> = catalog.workflows().map(|w| w.name.as_str()).collect();
    tracing::info!(source = %source, workflows = ?names, "workflow definitions loaded");
    Ok(Arc::new(catalog))
}

/// Turns a configuration problem into an exit-status-2 error.
pub fn config_error(e: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(ConfigError(format!("{e:#}")))
}
