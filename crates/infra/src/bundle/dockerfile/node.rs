//! Node and TypeScript: dependencies installed with the repository's package
//! manager and lock file, the build step run when there is one, dev
//! dependencies pruned, and the result copied into a clean final stage.

use super::node_dev_imports;
use super::node_install_scripts::install_scripts;
use super::node_start::{StartProgram, start_program};
use super::node_version::node_image;
use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::app_files::AppFiles;
use crate::bundle::build_env;
use crate::bundle::health::Probe;
use crate::bundle::images::{PNPM_VERSION, YARN_BERRY_VERSION};
use crate::bundle::node_orm::{migration_tool_in_dev_dependencies, prisma};

/// Packages with a native add-on that node-gyp compiles when no prebuilt
/// binary is found.
const NATIVE_ADDONS: &[&str] = &[
    "bcrypt",
    "argon2",
    "better-sqlite3",
    "sqlite3",
    "canvas",
    "node-sass",
    "libxmljs",
    "libxmljs2",
    "bufferutil",
    "utf-8-validate",
    "cpu-features",
    "ssh2",
    "re2",
    "zeromq",
    "node-gyp",
];

/// Prisma's query engine links OpenSSL, which the slim images lack.
pub(super) const PRISMA_OPENSSL: &str = "RUN apt-get update && apt-get install -y --no-install-recommends openssl && rm -rf /var/lib/apt/lists/*";

/// The first dependency of the app that is a native add-on.
fn native_addon(files: &AppFiles) -> Option<String> {
    let package = files.package_json()?;
    ["dependencies", "devDependencies", "optionalDependencies"]
        .iter()
        .filter_map(|field| package.get(*field)?.as_object())
        .flat_map(|deps| deps.keys())
        .find(|name| NATIVE_ADDONS.contains(&name.as_str()))
        .cloned()
}

/// The package manager and lock file the repository uses; the image installs
/// with the same, so the versions it builds are the ones the lock file holds.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum Manager {
    Npm {
        locked: bool,
    },
    YarnClassic {
        locked: bool,
    },
    /// Yarn 2+; `pnp` when Plug'n'Play replaces `node_modules`.
    YarnBerry {
        version: String,
        locked: bool,
        pnp: bool,
    },
    Pnpm {
        version: String,
        locked: bool,
    },
}

pub(super) fn image(inputs: &Inputs) -> Result<Image, InfraError> {
    if let Some(root) = super::node_workspace::workspace_root(inputs.files) {
        return super::node_workspace::image(inputs, &root);
    }
    let command = inputs.require_command()?;
    let files = inputs.files;
    let manager = manager(files);
    let build = build_command(inputs, &manager);
    let (node, version_note) = node_image(files);
    let mut notes: Vec<String> = version_note.into_iter().collect();
    let entry = super::ts_entry::compiled_entry(command, files);
    let command = match &entry {
        Some((moved, note)) => {
            notes.push(note.clone());
            moved.as_str()
        }
        None => command,
    };
    let start = start_program(command, files);
    let needs_dev = matches!(start, StartProgram::DevDependency { .. });
    let global = global_install(&start, &manager, &mut notes);
    let what = match inputs.framework() {
        "" => format!("{} app", inputs.runtime()),
        framework => format!("{framework} app ({})", inputs.runtime()),
    };
    let mut text = Text::new(inputs, &what);
    build_stage_start(&mut text, files, &manager, node);
    let prisma = prisma(files);
    if let Some(prisma) = &prisma {
        // Prisma's engines need OpenSSL, which the slim image lacks; and a
        // `postinstall` that generates the client reads the schema, so it
        // is copied before the install.
        text.line(PRISMA_OPENSSL);
        if prisma.dir != "." {
            text.line(format!("COPY {0} ./{0}", prisma.dir));
        }
    }
    if let Some(addon) = native_addon(files) {
        // Its prebuilt binary may not exist for this platform or be out of
        // reach: node-gyp then compiles it, with Python, make and a C++
        // compiler. Only the build stage has them.
        text.line("RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*");
        notes.push(format!(
            "added a compiler toolchain to the build stage: {addon} is a native add-on node-gyp may have to compile"
        ));
    }
    // Generating the client takes the CLI, often a dev dependency; so does
    // the migration run before the app starts.
    let migration_tool = migration_tool_in_dev_dependencies(files);
    if let Some(tool) = migration_tool {
        notes.push(format!(
            "The database migration runs `{tool}`, which is in devDependencies: the image keeps the dev dependencies so it can run (move `{tool}` to dependencies for a smaller image)."
        ));
    }
    let imported_dev = node_dev_imports::imported_dev_dependency(files, inputs.framework());
    if let Some((package, at)) = &imported_dev {
        notes.push(format!(
            "The server imports `{package}` ({at}), which only devDependencies list: the image keeps the dev dependencies so it can start (move `{package}` to dependencies for a smaller image)."
        ));
    }
    let keep_dev = needs_dev || migration_tool.is_some() || imported_dev.is_some();
    let scripts = install_scripts(files);
    for folder in &scripts.folders {
        text.line(format!("COPY {folder} ./{folder}"));
    }
    if let Some(script) = &scripts.needs_sources {
        notes.push(format!(
            "package.json's {script} runs during the install and reads the sources: the build stage copies them before installing."
        ));
        text.line("COPY . .");
    }
    // A dev dependency an install script runs must be installed, and
    // dropped once the install is done.
    let prune_after = build.is_some() || scripts.dev_program.is_some();
    if let Some((script, package)) = &scripts.dev_program
        && !keep_dev
    {
        notes.push(format!(
            "package.json's {script} runs `{package}` from devDependencies during the install: the build stage installs them and prunes them afterwards."
        ));
    }
    let prod_only = !prune_after && !keep_dev && prisma.is_none();
    text.line(format!("RUN {}", install_step(&manager, prod_only)));
    if scripts.needs_sources.is_none() {
        text.line("COPY . .");
    }
    // Prisma 7's `env()` in prisma.config.ts throws when the variable is
    // unset, and `prisma generate` loads that file: it gets placeholders
    // (generate connects to nothing).
    let prisma_env = prisma
        .as_ref()
        .map(|p| build_env::named_placeholders(inputs.analysis, &p.config_env))
        .unwrap_or_default();
    if !prisma_env.is_empty() {
        let names: Vec<&str> = prisma_env.iter().map(|(name, _)| name.as_str()).collect();
        notes.push(format!(
            "prisma.config reads {} with Prisma's env(), which throws when unset: `prisma generate` at build gets a placeholder (it connects to nothing); the app gets the real value when it runs.",
            names.join(", ")
        ));
    }
    if prisma.as_ref().is_some_and(|p| !p.generated_by_scripts) {
        let set: String = prisma_env
            .iter()
            .map(|(name, value)| format!("{name}={value} "))
            .collect();
        text.line(format!("RUN {set}npx prisma generate"));
        notes.push(
            "The app imports Prisma's client, which `prisma generate` makes from its schema: the build runs it before the app is built."
                .to_owned(),
        );
    }
    if let Some(build) = &build {
        // A build script that runs `prisma generate` itself loads the config too.
        let generates = prisma.as_ref().is_some_and(|p| p.generated_by_scripts);
        let tool_env: &[(String, String)] = if generates { &prisma_env } else { &[] };
        notes.extend(text.build_step(inputs, build, tool_env));
    }
    if let Some(prune) = prune(&manager).filter(|_| prune_after && !keep_dev) {
        text.line(format!("RUN {prune}"));
    }
    text.blank().line(format!("FROM {node}"));
    if prisma.is_some() {
        text.line(PRISMA_OPENSSL);
    }
    if let Some(package) = &global {
        text.line(format!("RUN npm install -g --no-fund --no-audit {package}"));
    }
    text.line("ENV NODE_ENV=production PATH=\"/app/node_modules/.bin:$PATH\"");
    if let Manager::YarnBerry { pnp: true, .. } = manager {
        // Plug'n'Play resolves packages through its loader, not node_modules.
        let esm = files
            .package_json()
            .is_some_and(|p| p.get("type").and_then(|t| t.as_str()) == Some("module"));
        let loader = if esm {
            " --experimental-loader /app/.pnp.loader.mjs"
        } else {
            ""
        };
        text.line(format!(
            "ENV NODE_OPTIONS=\"--require /app/.pnp.cjs{loader}\""
        ));
    }
    text.app_dir("node")
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
        notes: {
            notes.insert(0, install_note(&manager, prod_only));
            notes
        },
    })
}

/// The package the final stage installs globally so the start command's
/// program exists there, and what the plan says about the program.
fn global_install(
    start: &StartProgram,
    manager: &Manager,
    notes: &mut Vec<String>,
) -> Option<String> {
    match start {
        StartProgram::Provided => None,
        StartProgram::DevDependency { program, package } => {
            notes.push(format!(
                "The start command runs `{program}`, which `{package}` in devDependencies provides: the image keeps the dev dependencies so it can start (move `{package}` to dependencies for a smaller image)."
            ));
            None
        }
        StartProgram::Missing { program, package } => {
            // The final stage starts from the plain Node image: the package
            // manager installed in the build stage is not there.
            let package = match manager {
                Manager::Pnpm { version, .. } if package == "pnpm" => format!("pnpm@{version}"),
                _ => package.clone(),
            };
            notes.push(format!(
                "The start command runs `{program}`, which the repository's package.json does not list: the image installs `{package}` globally (add it to dependencies to pin its version)."
            ));
            Some(package)
        }
        StartProgram::Unknown { program } => {
            notes.push(format!(
                "The start command runs `{program}`, which is neither in package.json nor a tool of the Node image: if no dependency provides it, the container will not start."
            ));
            None
        }
    }
}

/// The build stage up to the install: the package manager itself and the
/// files it installs from.
pub(super) fn build_stage_start(text: &mut Text, files: &AppFiles, manager: &Manager, node: &str) {
    text.line(format!("FROM {node} AS build"))
        .line("WORKDIR /app");
    text.line(format!(
        "COPY {} ./",
        manifest_files(files, manager).join(" ")
    ));
    if matches!(manager, Manager::YarnBerry { .. }) && files.dir_exists(".yarn") {
        text.line("COPY .yarn ./.yarn");
    }
    if let Some(setup) = setup(manager) {
        text.line(format!("RUN {setup}"));
    }
}

pub(super) fn manager(files: &AppFiles) -> Manager {
    let declared = files
        .package_json()
        .and_then(|p| p.get("packageManager")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    // `pnpm@9.15.0+sha512.…` → `9.15.0`
    let declared_version = |name: &str| {
        declared
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('@'))
            .map(|v| v.split('+').next().unwrap_or(v).to_owned())
            .filter(|v| !v.is_empty())
    };
    let yarn_lock = files.exists("yarn.lock");
    if files.exists("pnpm-lock.yaml") || declared.starts_with("pnpm@") {
        Manager::Pnpm {
            version: declared_version("pnpm").unwrap_or_else(|| PNPM_VERSION.to_owned()),
            locked: files.exists("pnpm-lock.yaml"),
        }
    } else if files.exists(".yarnrc.yml")
        || (declared.starts_with("yarn@") && !declared.starts_with("yarn@1"))
    {
        Manager::YarnBerry {
            version: declared_version("yarn").unwrap_or_else(|| YARN_BERRY_VERSION.to_owned()),
            locked: yarn_lock,
            pnp: files.text(".yarnrc.yml").is_none_or(plug_n_play),
        }
    } else if yarn_lock || declared.starts_with("yarn@") {
        Manager::YarnClassic { locked: yarn_lock }
    } else {
        Manager::Npm {
            locked: files.exists("package-lock.json") || files.exists("npm-shrinkwrap.json"),
        }
    }
}

/// Whether a `.yarnrc.yml` leaves Yarn on its default linker, Plug'n'Play.
fn plug_n_play(yarnrc: &str) -> bool {
    yarnrc
        .lines()
        .filter_map(|line| line.trim().strip_prefix("nodeLinker:"))
        .map(|value| value.trim().trim_matches(['"', '\'']))
        .next_back()
        .is_none_or(|linker| linker == "pnp")
}

fn manifest_files(files: &AppFiles, manager: &Manager) -> Vec<&'static str> {
    let candidates: &[&'static str] = match manager {
        Manager::Npm { .. } => &[
            "package.json",
            "package-lock.json",
            "npm-shrinkwrap.json",
            ".npmrc",
        ],
        Manager::YarnClassic { .. } => &["package.json", "yarn.lock", ".npmrc", ".yarnrc"],
        Manager::YarnBerry { .. } => &["package.json", "yarn.lock", ".yarnrc.yml"],
        Manager::Pnpm { .. } => &[
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

/// Installs the package manager itself. From the npm registry rather than
/// through corepack: registry mirrors often lack the signatures corepack
/// checks, and newer Node images no longer ship corepack.
pub(super) fn setup(manager: &Manager) -> Option<String> {
    match manager {
        Manager::Npm { .. } | Manager::YarnClassic { .. } => None,
        Manager::Pnpm { version, .. } => Some(format!("npm install -g pnpm@{version}")),
        // `--force`: the Node image's own Yarn 1 holds the `yarn` command.
        Manager::YarnBerry { version, .. } => Some(format!(
            "npm install -g --force @yarnpkg/cli-dist@{version}"
        )),
    }
}

/// The install as the Dockerfile runs it. Yarn 2+ reads no `HTTP_PROXY`
/// or `HTTPS_PROXY` (npm, pnpm and Yarn 1 do), only its own
/// `YARN_HTTP(S)_PROXY`: given the build's proxy, it goes through it
/// rather than straight to a registry an isolated build cannot reach.
pub(super) fn install_step(manager: &Manager, prod_only: bool) -> String {
    let command = install(manager, prod_only);
    match manager {
        Manager::YarnBerry { .. } => format!(
            "env ${{HTTP_PROXY:+YARN_HTTP_PROXY=$HTTP_PROXY}} ${{HTTPS_PROXY:+YARN_HTTPS_PROXY=$HTTPS_PROXY}} {command}"
        ),
        _ => command,
    }
}

pub(super) fn install(manager: &Manager, prod_only: bool) -> String {
    match manager {
        Manager::Npm { locked } => {
            let verb = if *locked { "npm ci" } else { "npm install" };
            if prod_only {
                format!("{verb} --omit=dev")
            } else {
                verb.to_owned()
            }
        }
        Manager::YarnClassic { locked } => {
            let frozen = if *locked { " --frozen-lockfile" } else { "" };
            let prod = if prod_only { " --production" } else { "" };
            format!("yarn install{frozen}{prod}")
        }
        Manager::YarnBerry { locked, pnp, .. } => {
            let immutable = if *locked { " --immutable" } else { "" };
            // Plug'n'Play reads packages from their archives at run time: they
            // must be in the project (copied to the final stage), not in
            // Yarn's global cache under the build stage's home.
            let cache = if *pnp {
                "YARN_ENABLE_GLOBAL_CACHE=false "
            } else {
                ""
            };
            format!("{cache}yarn install{immutable}")
        }
        Manager::Pnpm { locked, .. } => {
            let frozen = if *locked {
                " --frozen-lockfile"
            } else {
                " --no-frozen-lockfile"
            };
            let prod = if prod_only { " --prod" } else { "" };
            format!("pnpm install{frozen}{prod}")
        }
    }
}

/// What the plan says about the install: the tool, the lock file it
/// follows, or that there is none.
pub(super) fn install_note(manager: &Manager, prod_only: bool) -> String {
    let (tool, lock) = match manager {
        Manager::Npm { locked } => ("npm".to_owned(), locked.then_some("package-lock.json")),
        Manager::YarnClassic { locked } => ("Yarn 1".to_owned(), locked.then_some("yarn.lock")),
        Manager::YarnBerry {
            version,
            locked,
            pnp,
        } => (
            format!("Yarn {version}{}", if *pnp { " (Plug'n'Play)" } else { "" }),
            locked.then_some("yarn.lock"),
        ),
        Manager::Pnpm { version, locked } => (
            format!("pnpm {version}"),
            locked.then_some("pnpm-lock.yaml"),
        ),
    };
    let command = install(manager, prod_only);
    match lock {
        Some(lock) => {
            format!("Node dependencies: {tool} installs exactly what {lock} pins (`{command}`).")
        }
        None => format!(
            "Node dependencies: the repository has no lock file, so {tool} resolves versions at build time (`{command}`); commit a lock file for repeatable builds."
        ),
    }
}

pub(super) fn build_command(inputs: &Inputs, manager: &Manager) -> Option<String> {
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
        Manager::YarnClassic { .. } | Manager::YarnBerry { .. } => "yarn run build".to_owned(),
        Manager::Pnpm { .. } => "pnpm run build".to_owned(),
    })
}

/// Drops dev dependencies after the build, so the final stage ships only
/// what runs.
fn prune(manager: &Manager) -> Option<&'static str> {
    match manager {
        Manager::Npm { .. } => Some("npm prune --omit=dev"),
        Manager::YarnClassic { locked: true } => {
            Some("yarn install --frozen-lockfile --production --ignore-scripts --prefer-offline")
        }
        Manager::YarnClassic { locked: false } => {
            Some("yarn install --production --ignore-scripts --prefer-offline")
        }
        Manager::Pnpm { .. } => Some("pnpm prune --prod"),
        // Yarn 2+ has no prune without the workspace-tools plugin.
        Manager::YarnBerry { .. } => None,
    }
}
