use crate::commands::open_store;
use crate::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    tracing::info!(backend = store.backend(), "database migrated");
    Ok(())
}
