//! The local backend: a state file per workspace, locked with `flock` on
//! `<statefile>.lock`.
//!
//! Paths: without `path`, `terraform.tfstate` for the default workspace and
//! `terraform.tfstate.d/<name>/terraform.tfstate` otherwise (as Terraform); with
//! `path=P`, `P` for the default workspace and `P.<name>` otherwise.

use std::fs::File;
use std::path::{Path, PathBuf};

use test_support::fake_terraform::protocol::write_atomically;

use crate::backend::{Backend, DEFAULT_WORKSPACE};
use crate::diag::{Diag, Res};
use crate::state::State;

const DEFAULT_PATH: &str = "terraform.tfstate";
const WORKSPACE_DIR: &str = "terraform.tfstate.d";

pub struct LocalStore {
    path: PathBuf,
    root: PathBuf,
    explicit: Option<PathBuf>,
    lock: Option<File>,
}

impl LocalStore {
    pub fn new(backend: &Backend, cwd: &Path, workspace: &str) -> Self {
        let explicit = backend.config.get("path").map(|p| cwd.join(p));
        let path = match (&explicit, workspace) {
            (Some(path), DEFAULT_WORKSPACE) => path.clone(),
            (Some(path), name) => PathBuf::from(format!("{}.{name}", path.display())),
            (None, DEFAULT_WORKSPACE) => cwd.join(DEFAULT_PATH),
            (None, name) => cwd.join(WORKSPACE_DIR).join(name).join(DEFAULT_PATH),
        };
        Self {
            path,
            root: cwd.to_owned(),
            explicit,
            lock: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn try_lock(&mut self) -> Res<bool> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let lock_path = PathBuf::from(format!("{}.lock", self.path.display()));
        let file = File::create(&lock_path)?;
        match file.try_lock() {
            Ok(()) => {
                self.lock = Some(file);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    pub fn read(&self) -> Res<Option<State>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                Diag::new("Failed to load state").detail(format!("{}: {e}", self.path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn write(&self, state: &State) -> Res<()> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let text = serde_json::to_string_pretty(state).expect("state serialises");
        write_atomically(&self.path, text.as_bytes());
        Ok(())
    }

    pub fn workspaces(&self) -> Res<Vec<String>> {
        let mut names = vec![DEFAULT_WORKSPACE.to_owned()];
        match &self.explicit {
            Some(path) => {
                let prefix = format!("{}.", file_name(path));
                let dir = path.parent().unwrap_or(Path::new("."));
                for entry in std::fs::read_dir(dir)?.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if let Some(workspace) = name.strip_prefix(&prefix)
                        && workspace != "lock"
                        && !workspace.ends_with(".lock")
                    {
                        names.push(workspace.to_owned());
                    }
                }
            }
            None => {
                if let Ok(entries) = std::fs::read_dir(self.root.join(WORKSPACE_DIR)) {
                    for entry in entries.flatten() {
                        if entry.path().join(DEFAULT_PATH).is_file() {
                            names.push(entry.file_name().to_string_lossy().into_owned());
                        }
                    }
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
