//! `init`, `validate` and `version`.

use std::collections::BTreeMap;

use serde_json::json;

use crate::backend::{self, Backend, DEFAULT_WORKSPACE};
use crate::config;
use crate::ctx::Ctx;
use crate::diag::{Diag, Res};
use crate::ui::VERSION;

/// Chooses the backend (the configuration's block, else local), merges
/// `-backend-config=k=v` into its arguments, prepares its storage (the pg
/// table) and records it in `.terraform/`.
pub async fn init(ctx: &Ctx) -> Res<i32> {
    let config = config::load(&ctx.cwd)?;
    let (kind, mut arguments) = config
        .backend
        .clone()
        .unwrap_or_else(|| ("local".into(), BTreeMap::new()));
    for raw in ctx.cli.flags.all("backend-config") {
        let (key, value) = raw.split_once('=').ok_or_else(|| {
            Diag::new("Invalid backend configuration argument").detail(format!(
                "fake-terraform takes -backend-config=KEY=VALUE only, not a file ({raw:?})"
            ))
        })?;
        arguments.insert(key.trim().to_owned(), value.to_owned());
    }
    let chosen = Backend {
        kind,
        config: arguments,
    };
    ctx.ui.version_line();
    ctx.ui
        .event("init_output", "Initializing the backend...", json!({}));
    ctx.store(&chosen, DEFAULT_WORKSPACE).await?;
    backend::save(&ctx.cwd, &chosen)?;
    if config.backend.is_some() {
        let message = format!(
            "Successfully configured the backend \"{}\"! Terraform will automatically\n\
             use this backend unless the backend configuration changes.",
            chosen.kind
        );
        ctx.ui.event("init_output", &message, json!({}));
    }
    ctx.ui.event(
        "init_output",
        "Terraform has been successfully initialized!",
        json!({}),
    );
    Ok(0)
}

pub fn validate(ctx: &Ctx) -> Res<i32> {
    let json_mode = ctx.cli.flags.bool("json", false);
    let problem = config::load(&ctx.cwd).err();
    if json_mode {
        let diagnostics: Vec<_> = problem
            .iter()
            .map(|d| json!({"severity": "error", "summary": d.summary, "detail": d.detail}))
            .collect();
        let report = json!({
            "format_version": "1.0",
            "valid": problem.is_none(),
            "error_count": diagnostics.len(),
            "warning_count": 0,
            "diagnostics": diagnostics,
        });
        println!("{report}");
        return Ok(if problem.is_some() { 1 } else { 0 });
    }
    match problem {
        Some(diag) => Err(diag),
        None => {
            println!("Success! The configuration is valid.");
            Ok(0)
        }
    }
}

pub fn version(ctx: &Ctx) -> i32 {
    if ctx.cli.flags.bool("json", false) {
        let report = json!({
            "terraform_version": VERSION,
            "platform": "linux_amd64",
            "provider_selections": {},
            "terraform_outdated": false,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("version serialises")
        );
    } else {
        println!("Terraform v{VERSION}\non linux_amd64");
    }
    0
}
