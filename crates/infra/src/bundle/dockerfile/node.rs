//! Node and TypeScript: dependencies installed with the repository's package
//! manager and lock file, the build step run when there is one, dev
//! dependencies pruned, and the result copied into a clean final stage.

use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::app_files::AppFiles;
use crate::bundle::health::Probe;
use crate::bundle::images::{NODE, PNPM_VERSION};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Manager {
    Npm { locked: bool },
    YarnClassic,
    YarnBerry,
    Pnpm,
}

pub(super) fn image(inputs: &Inputs) -> Result<Image, InfraError> {
    let command = inputs.require_command()?;
    let files = inputs.files;
    let manager = manager(files);
    let build = build_command(inputs, manager);
    // Without a build step, a TypeScript runner needs the dev dependencies.
    let needs_dev = build.is_none() && ["ts-node", "tsx"].iter().any(|r| command.contains(r));
    let what = match inputs.framework() {
        "" => format!("{} app", inputs.language()),
        framework => format!("{framework} app ({})", inputs.language()),
    };
    let mut text = Text::new(inputs, &what);
    text.line(format!("FROM {NODE} AS build"))
        .line("WORKDIR /app");
    text.line(format!(
        "COPY {} ./",
        manifest_files(files, manager).join(" ")
    ));
    if manager == Manager::YarnBerry && files.dir_exists(".yarn") {
        text.line("COPY .yarn ./.yarn");
    }
    let prod_only = build.is_none() && !needs_dev;
    text.line(format!("RUN {}", install(files, manager, prod_only)));
    text.line("COPY . .");
    if let Some(build) = &build {
        text.line(format!("RUN {build}"));
        if let Some(prune) = prune(manager) {
            text.line(format!("RUN {prune}"));
        }
    }
    text.blank()
        .line(format!("FROM {NODE}"))
        .line("ENV NODE_ENV=production PATH=\"/app/node_modules/.bin:$PATH\"")
        .line("WORKDIR /app")
        .line("COPY --from=build --chown=node:node /app /app");
    Ok(Image {
        dockerfile: text.finish(inputs, "node", &exec_form(command)),
        probe: Probe::Node,
        ignore: &[
            "node_modules",
            "npm-debug.log*",
            ".next",
            ".nuxt",
            ".output",
            "coverage",
        ],
        extra_files: Vec::new(),
        context: None,
        notes: Vec::new(),
    })
}

fn manager(files: &AppFiles) -> Manager {
    let declared = files
        .package_json()
        .and_then(|p| p.get("packageManager")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    if files.exists("pnpm-lock.yaml") || declared.starts_with("pnpm") {
        Manager::Pnpm
    } else if files.exists(".yarnrc.yml")
        || (declared.starts_with("yarn@") && !declared.starts_with("yarn@1"))
    {
        Manager::YarnBerry
    } else if files.exists("yarn.lock") {
        Manager::YarnClassic
    } else {
        Manager::Npm {
            locked: files.exists("package-lock.json") || files.exists("npm-shrinkwrap.json"),
        }
    }
}

fn manifest_files(files: &AppFiles, manager: Manager) -> Vec<&'static str> {
    let candidates: &[&'static str] = match manager {
        Manager::Npm { .. } => &[
            "package.json",
            "package-lock.json",
            "npm-shrinkwrap.json",
            ".npmrc",
        ],
        Manager::YarnClassic => &["package.json", "yarn.lock", ".npmrc", ".yarnrc"],
        Manager::YarnBerry => &["package.json", "yarn.lock", ".yarnrc.yml"],
        Manager::Pnpm => &[
            "package.json",
            "pnpm-lock.yaml",
            "pnpm-workspace.yaml",
            ".npmrc",
        ],
    };
    candidates
        .iter()
        .copied()
        .filter(|f| *f == "package.json" || files.exists(f))
        .collect()
}

fn install(files: &AppFiles, manager: Manager, prod_only: bool) -> String {
    match manager {
        Manager::Npm { locked } => {
            let verb = if locked { "npm ci" } else { "npm install" };
            if prod_only {
                format!("{verb} --omit=dev")
            } else {
                verb.to_owned()
            }
        }
        Manager::YarnClassic => {
            let prod = if prod_only { " --production" } else { "" };
            format!("yarn install --frozen-lockfile{prod}")
        }
        Manager::YarnBerry => "corepack enable && yarn install --immutable".to_owned(),
        Manager::Pnpm => {
            let declared = files
                .package_json()
                .is_some_and(|p| p.get("packageManager").is_some());
            let enable = if declared {
                "corepack enable".to_owned()
            } else {
                format!("corepack enable && corepack prepare pnpm@{PNPM_VERSION} --activate")
            };
            let prod = if prod_only { " --prod" } else { "" };
            format!("{enable} && pnpm install --frozen-lockfile{prod}")
        }
    }
}

fn build_command(inputs: &Inputs, manager: Manager) -> Option<String> {
    if let Some(build) = inputs
        .analysis
        .build_command
        .as_deref()
        .filter(|b| !b.trim().is_empty())
    {
        return Some(build.trim().to_owned());
    }
    inputs.files.npm_script("build")?;
    Some(match manager {
        Manager::Npm { .. } => "npm run build".to_owned(),
        Manager::YarnClassic | Manager::YarnBerry => "yarn run build".to_owned(),
        Manager::Pnpm => "pnpm run build".to_owned(),
    })
}

/// Drops dev dependencies after the build, so the final stage ships only
/// what runs.
fn prune(manager: Manager) -> Option<&'static str> {
    match manager {
        Manager::Npm { .. } => Some("npm prune --omit=dev"),
        Manager::YarnClassic => {
            Some("yarn install --frozen-lockfile --production --ignore-scripts --prefer-offline")
        }
        Manager::Pnpm => Some("pnpm prune --prod"),
        // Yarn 2+ has no prune without the workspace-tools plugin.
        Manager::YarnBerry => None,
    }
}
