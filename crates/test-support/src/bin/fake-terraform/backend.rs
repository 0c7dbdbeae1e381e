//! What `init` records in `.terraform/` (the backend, as Terraform's
//! `.terraform/terraform.tfstate` does) and the selected workspace
//! (`.terraform/environment`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::diag::{Diag, Res};
use crate::ui::VERSION;

pub const DEFAULT_WORKSPACE: &str = "default";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backend {
    /// `local` or `pg`.
    #[serde(rename = "type")]
    pub kind: String,
    pub config: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct BackendFile {
    version: u32,
    terraform_version: String,
    backend: Backend,
}

fn data_dir(cwd: &Path) -> PathBuf {
    cwd.join(".terraform")
}

pub fn save(cwd: &Path, backend: &Backend) -> Res<()> {
    std::fs::create_dir_all(data_dir(cwd))?;
    let file = BackendFile {
        version: 3,
        terraform_version: VERSION.into(),
        backend: backend.clone(),
    };
    let text = serde_json::to_string_pretty(&file).expect("backend serialises");
    std::fs::write(data_dir(cwd).join("terraform.tfstate"), text)?;
    Ok(())
}

/// The backend `init` chose; an error like Terraform's when `init` has not
/// run or the configuration names another backend type since.
pub fn load(cwd: &Path, config: &Config) -> Res<Backend> {
    let required = || Diag::new("Backend initialization required, please run \"terraform init\"");
    let text = std::fs::read_to_string(data_dir(cwd).join("terraform.tfstate")).map_err(|_| {
        required().detail("Reason: Initial configuration of the requested backend.")
    })?;
    let file: BackendFile = serde_json::from_str(&text)
        .map_err(|e| required().detail(format!("Reason: unreadable backend state: {e}")))?;
    let configured = config
        .backend
        .as_ref()
        .map_or("local", |(kind, _)| kind.as_str());
    if file.backend.kind != configured {
        return Err(required().detail(format!(
            "Reason: Backend configuration changed from \"{}\" to \"{configured}\".",
            file.backend.kind
        )));
    }
    Ok(file.backend)
}

/// The selected workspace: `TF_WORKSPACE` wins, as in Terraform.
pub fn workspace(cwd: &Path) -> String {
    if let Ok(name) = std::env::var("TF_WORKSPACE") {
        return name;
    }
    std::fs::read_to_string(data_dir(cwd).join("environment"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_WORKSPACE.into())
}

pub fn select_workspace(cwd: &Path, name: &str) -> Res<()> {
    std::fs::create_dir_all(data_dir(cwd))?;
    std::fs::write(data_dir(cwd).join("environment"), name)?;
    Ok(())
}
