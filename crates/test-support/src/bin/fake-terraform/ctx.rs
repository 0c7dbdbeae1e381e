//! What every command gets: the parsed command line, the UI, the control
//! directory, and the scripted hang if one fired for this run.

use std::path::PathBuf;
use std::time::Duration;

use test_support::fake_terraform::protocol::{self, EVENTS_FILE, EventLine};

use crate::backend::{self, Backend};
use crate::cli::Cli;
use crate::config::{self, Config};
use crate::diag::{Diag, Res};
use crate::store::Store;
use crate::ui::Ui;

/// How often a hung run checks that its control directory still exists.
const HANG_CHECK: Duration = Duration::from_secs(1);

pub struct Ctx {
    pub cli: Cli,
    pub ui: Ui,
    pub control: PathBuf,
    pub cwd: PathBuf,
    /// Resources to handle before hanging, when a hang fired for this run.
    pub hang: Option<usize>,
}

/// What a command that reads state works with.
pub struct Workspace {
    pub config: Config,
    pub name: String,
    pub store: Store,
}

impl Ctx {
    /// Loads the configuration, checks `init` ran, opens the workspace's
    /// state and, unless `-lock=false`, takes its lock.
    pub async fn open(&self, lock: bool) -> Res<Workspace> {
        let config = config::load(&self.cwd)?;
        let backend = backend::load(&self.cwd, &config)?;
        let name = backend::workspace(&self.cwd);
        let mut store = self.store(&backend, &name).await?;
        if lock && self.cli.flags.bool("lock", true) {
            store.lock(self.cli.flags.lock_timeout()?).await?;
        }
        Ok(Workspace {
            config,
            name,
            store,
        })
    }

    pub async fn store(&self, backend: &Backend, workspace: &str) -> Res<Store> {
        Store::open(backend, &self.cwd, workspace).await
    }

    /// At most one positional argument.
    pub fn one_positional(&self) -> Res<Option<&str>> {
        match self.cli.positional.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(Diag::new("Too many command line arguments")
                .detail("Expected at most one positional argument.")),
        }
    }

    /// Hangs here if a hang fired and `done` resources have been handled.
    pub async fn maybe_hang(&self, done: usize) {
        if self.hang.is_some_and(|after| done >= after) {
            self.hang_forever().await;
        }
    }

    /// Sleeps until killed, or until the control directory is removed (its
    /// test is gone and nobody will kill this process).
    pub async fn hang_forever(&self) -> ! {
        while self.control.is_dir() {
            tokio::time::sleep(HANG_CHECK).await;
        }
        std::process::exit(137);
    }

    pub fn record(&self, kind: &str, workspace: &Workspace, address: &str, id: &str) {
        let line = EventLine {
            kind: kind.into(),
            workspace: workspace.name.clone(),
            state: workspace.store.location(),
            address: address.into(),
            id: id.into(),
            pid: std::process::id(),
            at_ms: protocol::unix_ms(std::time::SystemTime::now()),
        };
        protocol::append_line(&self.control.join(EVENTS_FILE), &line);
    }
}
