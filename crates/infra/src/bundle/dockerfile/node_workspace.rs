//! A Node app that is one package of a workspace (pnpm, npm or Yarn
//! workspaces, often with Turborepo): its `workspace:*` dependencies are
//! other packages of the repository and its lock file is the workspace's,
//! so it is installed and built from the workspace root, not from its own
//! folder, where npm would refuse `workspace:` and find no lock file.

use super::node::{Manager, PRISMA_OPENSSL, install_step, manager, setup};
use super::node_version::node_image;
use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::app_files::{AppFiles, join, parent};
use crate::bundle::build_env;
use crate::bundle::health::Probe;
use crate::bundle::node_orm::prisma;

/// Where the repository is built inside the image.
const ROOT: &str = "/repo";

/// The workspace root enclosing the app's folder: the nearest folder above
/// it with `pnpm-workspace.yaml`, or a `package.json` with `workspaces`,
/// and a lock file; `None` when the app is no workspace package or keeps a
/// lock file of its own.
pub(super) fn workspace_root(files: &AppFiles) -> Option<String> {
    let subdir = files.subdir();
    if subdir.is_empty() || has_lock_file(files.repo(), subdir) {
        return None;
    }
    let mut dir = parent(subdir).to_owned();
    loop {
        let repo = files.repo();
        let declares = repo.get(&join(&dir, "pnpm-workspace.yaml")).is_some()
            || repo
                .text(&join(&dir, "package.json"))
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .is_some_and(|p| p.get("workspaces").is_some());
        if declares && has_lock_file(repo, &dir) {
            return Some(dir);
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent(&dir).to_owned();
    }
}

fn has_lock_file(repo: &analysis::Snapshot, dir: &str) -> bool {
    [
        "pnpm-lock.yaml",
        "package-lock.json",
        "yarn.lock",
        "npm-shrinkwrap.json",
    ]
    .iter()
    .any(|lock| repo.get(&join(dir, lock)).is_some())
}

/// The image of a workspace package: the whole workspace installed with
/// its lock file, the package (and, with Turborepo, what it depends on)
/// built, and the app started in its own folder.
pub(super) fn image(inputs: &Inputs, root: &str) -> Result<Image, InfraError> {
    let command = inputs.require_command()?;
    let files = inputs.files;
    let workspace = AppFiles::new(files.repo(), root);
    let manager = manager(&workspace);
    let app_dir = format!(
        "{ROOT}/{}",
        files
            .subdir()
            .strip_prefix(root)
            .unwrap_or(files.subdir())
            .trim_start_matches('/')
    );
    let package = files
        .package_json()
        .and_then(|p| p.get("name")?.as_str().map(str::to_owned));
    let build = build_command(inputs, &workspace, &manager, package.as_deref());
    let what = match inputs.framework() {
        "" => "Node workspace package".to_owned(),
        framework => format!("{framework} app, a package of a Node workspace"),
    };
    let (node, version_note) = node_image(files);
    // The package's Prisma client is generated in its own folder, where its
    // schema is: the workspace root has none.
    let prisma = prisma(files).filter(|p| p.has_models);
    let mut text = Text::new(inputs, &what);
    text.line(format!("FROM {node} AS build"))
        .line(format!("WORKDIR {ROOT}"));
    if prisma.is_some() {
        text.line(PRISMA_OPENSSL);
    }
    if let Some(setup) = setup(&manager) {
        text.line(format!("RUN {setup}"));
    }
    text.line("COPY . .")
        .line(format!("RUN {}", install_step(&manager, false)));
    let generate = prisma.as_ref().filter(|p| !p.generated_by_scripts);
    if let Some(prisma) = generate {
        // Prisma 7's `env()` in prisma.config.ts throws when unset.
        let set: String = build_env::named_placeholders(inputs.analysis, &prisma.config_env)
            .iter()
            .map(|(name, value)| format!("{name}={value} "))
            .collect();
        text.line(format!("WORKDIR {app_dir}"))
            .line(format!("RUN {set}npx prisma generate"));
    }
    let placeholders_note = build.as_ref().and_then(|build| {
        text.line(format!("WORKDIR {app_dir}"));
        text.build_step(inputs, build, &[])
    });
    text.blank().line(format!("FROM {node}"));
    if prisma.is_some() {
        text.line(PRISMA_OPENSSL);
    }
    text.line(format!(
        "ENV NODE_ENV=production PATH=\"{app_dir}/node_modules/.bin:{ROOT}/node_modules/.bin:$PATH\""
    ));
    if let Manager::Pnpm { version, .. } = &manager
        && command.split_whitespace().next() == Some("pnpm")
    {
        text.line(format!("RUN npm install -g pnpm@{version}"));
    }
    text.line(format!("COPY --from=build --chown=node:node {ROOT} {ROOT}"))
        .line(format!("WORKDIR {app_dir}"));
    let mut notes = vec![format!(
        "The app is a package of the workspace at {}: the image installs the whole workspace with its lock file and builds the app where it lies, so its `workspace:` dependencies resolve.",
        if root.is_empty() {
            "the repository root"
        } else {
            root
        }
    )];
    notes.extend(version_note);
    if generate.is_some() {
        notes.push(
            "The app imports Prisma's client, which `prisma generate` makes from the package's own schema: the build runs it in the package's folder, and both stages get OpenSSL for Prisma's engines."
                .to_owned(),
        );
    }
    notes.extend(placeholders_note);
    Ok(Image {
        dockerfile: text.finish(inputs, "node", &exec_form(command)),
        probe: Probe::Node,
        ignore: &[
            "node_modules",
            ".next",
            ".nuxt",
            ".output",
            ".turbo",
            "coverage",
        ],
        extra_files: Vec::new(),
        context: Some(root.to_owned()),
        notes,
    })
}

/// With Turborepo, `turbo run build --filter=NAME...` builds the package
/// and the workspace packages it depends on first; otherwise the
/// package's own build script.
fn build_command(
    inputs: &Inputs,
    workspace: &AppFiles,
    manager: &Manager,
    package: Option<&str>,
) -> Option<String> {
    inputs.files.npm_script("build")?;
    let turbo = workspace.exists("turbo.json")
        && workspace
            .package_json()
            .is_some_and(|p| p.pointer("/devDependencies/turbo").is_some());
    if let (true, Some(package)) = (turbo, package) {
        return Some(format!("npx turbo run build --filter={package}..."));
    }
    super::node::build_command(inputs, manager)
}
