//! Deno and Bun: one stage, since their runtimes are also their toolchains.

use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::health::Probe;
use crate::bundle::images::{BUN, DENO};

pub(super) fn deno(inputs: &Inputs) -> Result<Image, InfraError> {
    let command = inputs.require_command()?;
    let files = inputs.files;
    let entry = command.split_whitespace().rev().find(|t| {
        [".ts", ".tsx", ".js", ".mjs"]
            .iter()
            .any(|e| t.ends_with(e))
    });
    // Dependencies are fetched at build time, so the container starts offline.
    let cache = if files.exists("deno.json")
        || files.exists("deno.jsonc")
        || files.exists("package.json")
    {
        Some("deno install".to_owned())
    } else {
        entry.map(|e| format!("deno cache {e}"))
    };
    let mut text = Text::new(inputs, "Deno app");
    // The cache is filled as the user that runs the app, so it may update it.
    text.line(format!("FROM {DENO}"))
        .app_dir("deno")
        .line("COPY --chown=deno:deno . .")
        .line("USER deno");
    if let Some(cache) = cache {
        text.line(format!("RUN {cache}"));
    }
    Ok(Image {
        dockerfile: text.finish(inputs, "deno", &exec_form(command)),
        probe: Probe::Deno,
        ignore: &["node_modules"],
        extra_files: Vec::new(),
        context: None,
        notes: Vec::new(),
    })
}

pub(super) fn bun(inputs: &Inputs) -> Result<Image, InfraError> {
    let command = inputs.require_command()?;
    let files = inputs.files;
    let lock = files.first_of(&["bun.lock", "bun.lockb"]);
    let build = files.npm_script("build").is_some();
    let frozen = if lock.is_some() {
        " --frozen-lockfile"
    } else {
        ""
    };
    let production = if build { "" } else { " --production" };
    let mut text = Text::new(inputs, "Bun app");
    text.line(format!("FROM {BUN}"))
        .app_dir("bun")
        .line(format!(
            "COPY package.json {}./",
            lock.map(|l| format!("{l} ")).unwrap_or_default()
        ))
        .line(format!("RUN bun install{frozen}{production}"))
        .line("COPY --chown=bun:bun . .");
    if build {
        text.line("RUN bun run build");
    }
    text.line("ENV NODE_ENV=production");
    Ok(Image {
        dockerfile: text.finish(inputs, "bun", &exec_form(command)),
        probe: Probe::Bun,
        ignore: &["node_modules"],
        extra_files: Vec::new(),
        context: None,
        notes: Vec::new(),
    })
}
