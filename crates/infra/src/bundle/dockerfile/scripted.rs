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
    let imported_dev = imported_dev_dependency(files);
    let production = if build || imported_dev.is_some() {
        ""
    } else {
        " --production"
    };
    let mut notes = Vec::new();
    if let (Some(package), false) = (&imported_dev, build) {
        notes.push(format!(
            "The app imports `{package}`, which package.json lists in devDependencies: the image installs the dev dependencies too (move it to dependencies for a smaller image)."
        ));
    }
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
        notes,
    })
}

/// A package of `devDependencies` the app's own code imports (not its
/// type packages, which only the type checker reads): a production install
/// would leave it out and the app would fail to start.
fn imported_dev_dependency(files: &crate::bundle::app_files::AppFiles) -> Option<String> {
    let package = files.package_json()?;
    let dev: Vec<String> = package
        .get("devDependencies")?
        .as_object()?
        .keys()
        .filter(|name| !name.starts_with("@types/") && *name != "typescript")
        .cloned()
        .collect();
    let sources: Vec<&str> = [".ts", ".tsx", ".js", ".mjs", ".jsx"]
        .iter()
        .flat_map(|ext| files.with_suffix(ext))
        .filter(|path| {
            !path.contains(".test.") && !path.contains(".spec.") && !path.starts_with("test")
        })
        .filter_map(|path| files.text(path))
        .collect();
    dev.into_iter().find(|name| {
        let quoted = [
            format!("\"{name}\""),
            format!("'{name}'"),
            format!("\"{name}/"),
            format!("'{name}/"),
        ];
        sources.iter().any(|text| {
            text.lines().any(|line| {
                let line = line.trim_start();
                (line.starts_with("import ")
                    || line.contains("require(")
                    || line.contains(" from "))
                    && quoted.iter().any(|q| line.contains(q.as_str()))
            })
        })
    })
}
