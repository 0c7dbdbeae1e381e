//! Where a workspace's state lives, and its lock: a local file or a row of
//! the pg backend's `states` table.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::diag::{Diag, Res};
use crate::local::LocalStore;
use crate::pg::PgStore;
use crate::state::State;

/// How often a lock that is held elsewhere is tried again.
pub const LOCK_RETRY: Duration = Duration::from_millis(100);

pub enum Store {
    Local(LocalStore),
    Pg(PgStore),
}

impl Store {
    pub async fn open(backend: &Backend, cwd: &Path, workspace: &str) -> Res<Store> {
        match backend.kind.as_str() {
            "local" => Ok(Store::Local(LocalStore::new(backend, cwd, workspace))),
            "pg" => Ok(Store::Pg(PgStore::connect(backend, workspace).await?)),
            other => Err(Diag::new("Unsupported backend type").detail(format!(
                "fake-terraform knows the local and pg backends, not {other:?}"
            ))),
        }
    }

    /// Takes the state lock, retrying until `timeout`; held until the process ends.
    pub async fn lock(&mut self, timeout: Duration) -> Res<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let taken = match self {
                Store::Local(store) => store.try_lock()?,
                Store::Pg(store) => store.try_lock().await?,
            };
            if taken {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(lock_error(&self.location()));
            }
            tokio::time::sleep(LOCK_RETRY).await;
        }
    }

    pub async fn read(&mut self) -> Res<Option<State>> {
        match self {
            Store::Local(store) => store.read(),
            Store::Pg(store) => store.read().await,
        }
    }

    pub async fn write(&mut self, state: &State) -> Res<()> {
        match self {
            Store::Local(store) => store.write(state),
            Store::Pg(store) => store.write(state).await,
        }
    }

    /// Every workspace that has state, `default` always.
    pub async fn workspaces(&mut self) -> Res<Vec<String>> {
        match self {
            Store::Local(store) => store.workspaces(),
            Store::Pg(store) => store.workspaces().await,
        }
    }

    /// `pg:<schema>` or `local:<path>`, for the event log.
    pub fn location(&self) -> String {
        match self {
            Store::Local(store) => format!("local:{}", store.path().display()),
            Store::Pg(store) => format!("pg:{}", store.schema()),
        }
    }
}

fn lock_error(location: &str) -> Diag {
    Diag::new("Error acquiring the state lock").detail(format!(
        "Error message: the state at {location} is locked by another process\n\n\
         Terraform acquires a state lock to protect the state from being written\n\
         by multiple users at the same time. Please resolve the issue above and try\n\
         again. For most commands, you can disable locking with the \"-lock=false\"\n\
         flag, but this is not recommended."
    ))
}
