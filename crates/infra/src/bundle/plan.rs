//! Putting a bundle together: the image (kept or generated), how the app
//! starts and listens, the compose file, the Makefile.

use super::app_files::{AppFiles, join, parent};
use super::build_env;
use super::dockerfile::{self, Inputs, web_static_port};
use super::dockerignore::{copied_paths, dockerignore};
use super::dotenv_addresses;
use super::health::Probe;
use super::launch::{self, Launch};
use super::plain_http;
use super::{
    Adjustment, AdjustmentKind, Bundle, BundleOptions, compose, compose_plan, images, makefile,
    migrate, normalise, own_stores, secrets, sql_dump, stores, yaml,
};
use crate::InfraError;
use crate::choose::{Choice, Target};
use analysis::{Analysis, Snapshot, is_development_dockerfile, is_dockerfile};
use std::collections::BTreeMap;

/// The bundle's files and adjustments as they are made.
pub(super) struct Out<'a> {
    pub repo: &'a Snapshot,
    pub files: BTreeMap<String, String>,
    pub adjustments: Vec<Adjustment>,
}

impl Out<'_> {
    /// Writes `path`, recorded as added or rewritten depending on whether
    /// the repository has it.
    pub fn write(&mut self, path: &str, content: String, reason: String) {
        let kind = if self.repo.get(path).is_some() {
            AdjustmentKind::Rewritten
        } else {
            AdjustmentKind::Added
        };
        self.files.insert(path.to_owned(), content);
        self.note(kind, path, reason);
    }

    pub fn note(&mut self, kind: AdjustmentKind, path: &str, reason: String) {
        self.adjustments.push(Adjustment {
            kind,
            path: path.to_owned(),
            reason,
        });
    }
}

/// The app's image: where its Dockerfile is and what it can probe with.
pub(super) struct ImagePlan {
    pub dockerfile: String,
    pub context: String,
    pub probe: Probe,
    pub generated: bool,
    /// A command the compose service must run instead of the image's.
    pub command: Option<String>,
    /// The image starts no app of its own (`command` starts it), rather
    /// than starting it on loopback (`command` fixes the bind).
    pub starts_nothing: bool,
    /// The app's variables the Dockerfile declares with `ARG`: compose
    /// passes them to the build.
    pub build_args: Vec<String>,
}

pub(super) fn build(
    analysis: &Analysis,
    repo: &Snapshot,
    choice: &Choice,
    options: &BundleOptions,
) -> Result<Bundle, InfraError> {
    if !analysis.http {
        let why = analysis
            .deny_reason
            .as_deref()
            .unwrap_or("no HTTP server was found");
        return Err(InfraError::Bundle(format!(
            "there is no HTTP app to deploy: {why}"
        )));
    }
    let files = AppFiles::new(repo, &analysis.subdir);
    let mut out = Out {
        repo,
        files: BTreeMap::new(),
        adjustments: Vec::new(),
    };
    let kept = existing_dockerfile(analysis, &files).filter(|path| {
        let context = kept_context(&files, path);
        let text = files.repo().text(path).unwrap_or_default();
        match super::kept_dockerfile::unusable(path, text, &context, files.repo()) {
            Some(why) => {
                out.note(
                    AdjustmentKind::Note,
                    path,
                    format!("{why}: a Dockerfile was generated for the deployment instead."),
                );
                false
            }
            None => true,
        }
    });
    if kept.is_none()
        && let Some(dev) = analysis
            .docker_files
            .iter()
            .find(|p| is_dockerfile(p) && is_development_dockerfile(p))
    {
        out.note(
            AdjustmentKind::Note,
            dev,
            format!("{dev} is a development image (a development server on mounted sources): a Dockerfile was generated for the deployment instead."),
        );
    }
    let static_site = kept.is_none() && dockerfile::is_static(analysis);
    let port = container_port(analysis, static_site, &files, &mut out)?;
    let launch = if static_site {
        Launch::default()
    } else {
        launch::plan(analysis, &files, port)
    };
    for patch in &launch.patches {
        out.files.insert(patch.path.clone(), patch.content.clone());
        out.note(AdjustmentKind::BindFix, &patch.path, patch.reason.clone());
    }
    if analysis.framework.as_deref() == Some("rails")
        && let Some((path, content, reason)) = plain_http::rails_settings(&files)
    {
        out.files.insert(path.clone(), content);
        out.note(AdjustmentKind::Rewritten, &path, reason);
    }
    for warning in &launch.warnings {
        out.note(
            AdjustmentKind::Note,
            &app_dir_label(&files),
            warning.clone(),
        );
    }
    let image = match kept {
        Some(path) => kept_image(analysis, &files, path, &launch, choice, &mut out),
        None => generated_image(analysis, &files, port, &launch, choice, options, &mut out)?,
    };
    let healthcheck = healthcheck(analysis, image.probe, port, &image.dockerfile, &mut out);
    let migration = migration(analysis, &files, &image, choice, &mut out);
    let initial_dump = initial_dump(analysis, &files, choice, migration.is_some());
    let start_with_migration = migration.as_ref().map(compose::Migration::arguments);
    let placed = compose_plan::place(
        &compose_plan::ComposeInputs {
            analysis,
            app_dir: files.subdir(),
            image: &image,
            port,
            launch_env: &launch.env,
            services: &choice.services,
            migration,
            initial_dump,
            healthcheck,
            base_image_registry: &options.base_image_registry,
        },
        &mut out,
    )?;
    // A need the repository's compose file meets (its own MongoDB) is
    // not the user's to give.
    let compose_text = out.files.get(&placed.path).cloned().unwrap_or_default();
    let compose_services = yaml::parse(&compose_text)
        .ok()
        .and_then(|doc| doc.get("services").and_then(|s| s.as_mapping()).cloned())
        .unwrap_or_default();
    let met = |need: &crate::choose::NotProvisioned| {
        if need.variables.is_empty() {
            // An address written in the code may name the file's own
            // service (`mongodb://mongo:27017`), and a variable with a
            // default is pointed at it.
            let stem = need.kind.trim_end_matches("db");
            return own_stores::runs_file_service(&compose_services, &need.kind)
                || compose_text
                    .lines()
                    .any(|line| line.trim_start().starts_with("image:") && line.contains(stem));
        }
        need.variables
            .iter()
            .all(|v| !placed.required_variables.contains(v))
    };
    for need in choice.services.not_provisioned.iter().filter(|n| !met(n)) {
        out.note(AdjustmentKind::Note, &placed.path, need.reason.clone());
    }
    normalise::normalise(&files, &mut out);
    let plan = makefile::plan(repo);
    if let Some(note) = plan.note {
        out.note(AdjustmentKind::Note, plan.path, note);
    }
    let generated_secrets: Vec<String> = placed
        .stores
        .iter()
        .map(|store| stores::password_variable(store.kind).to_owned())
        .chain(placed.generated_secrets.iter().cloned())
        .collect();
    let env_path = join(parent(&placed.path), ".env");
    let mut env_text = repo.text(&env_path).map(str::to_owned);
    if let Some(text) = leave_out(
        &mut out,
        &env_path,
        env_text.as_deref(),
        &generated_secrets,
        |dropped| {
            format!(
                "The repository commits {env_path} with {dropped}: a value anyone who reads the repository knows signs nothing safely, so it is left out and `make up` generates a new one."
            )
        },
    ) {
        env_text = Some(text);
    }
    let others: Vec<String> = env_text
        .as_deref()
        .map(|text| secrets::others_credentials(text, &placed.required_variables))
        .unwrap_or_default();
    if let Some(text) = leave_out(
        &mut out,
        &env_path,
        env_text.as_deref(),
        &others,
        |dropped| {
            format!(
                "The repository commits {env_path} with {dropped}: the author's own credentials (a key, or an address with a password), which reach the author's account or database, not yours; they are left out, and `make up` stops until you give them."
            )
        },
    ) {
        env_text = Some(text);
    }
    let development: Vec<String> = env_text
        .as_deref()
        .map(super::env::development_settings)
        .unwrap_or_default();
    if let Some(text) = leave_out(
        &mut out,
        &env_path,
        env_text.as_deref(),
        &development,
        |dropped| {
            format!(
                "The repository commits {env_path} with {dropped}, settings for development (debug pages, a development mode): they are left out, so the app runs with its own defaults or what you give."
            )
        },
    ) {
        env_text = Some(text);
    }
    let pointed = env_text.as_deref().and_then(|text| {
        let compose = out.files.get(&placed.path)?;
        dotenv_addresses::point_at_stores(text, compose, &placed.service, &placed.wired)
    });
    if let Some((text, changed)) = pointed {
        out.write(
            &env_path,
            text,
            format!(
                "The repository commits {env_path}, which compose reads first, with {} addressing the developer's own machine or another server: they now name the store beside the app, as its container reaches it (a loopback address keeps the credentials the file sets the store up with; another server's URL is replaced whole).",
                changed.join(", ")
            ),
        );
    }
    let reason = format!(
        "`make up` runs `docker compose -f {} up -d --build`; `make down` and `make logs` stop it and show its logs.",
        placed.path
    );
    out.write(
        plan.path,
        makefile::makefile(&placed.path, &placed.required_variables, &generated_secrets),
        reason,
    );
    Ok(Bundle {
        files: out.files,
        adjustments: out.adjustments,
        compose_file: placed.path,
        app_service: placed.service,
        container_port: port,
        dockerfile: image.dockerfile,
        build_context: image.context,
        runtime_env: launch
            .env
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect(),
        required_variables: placed.required_variables,
        wrapped: placed.wrapped,
        start_with_migration: start_with_migration.filter(|_| !placed.stores.is_empty()),
        generated_secrets,
        local_stores: placed.local_stores,
    })
}

/// The repository path of the SQL file that makes the tables of an app
/// without migrations, when the choice provisions its SQL database.
fn initial_dump(
    analysis: &Analysis,
    files: &AppFiles,
    choice: &Choice,
    migrates: bool,
) -> Option<String> {
    if migrates || migrate::has_migrations(analysis, files) {
        return None;
    }
    let kind = choice
        .services
        .provisioned
        .iter()
        .map(|s| s.kind)
        .find(|k| k.is_sql())?;
    sql_dump::find(files, kind).map(|path| files.repo_path(&path))
}

/// The framework's migration, when the choice provisions a SQL database or
/// the app keeps its own SQLite file.
fn migration(
    analysis: &Analysis,
    files: &AppFiles,
    image: &ImagePlan,
    choice: &Choice,
    out: &mut Out,
) -> Option<compose::Migration> {
    let sql = choice
        .services
        .provisioned
        .iter()
        .any(|s| s.kind != crate::choose::StoreKind::Redis);
    let sqlite = !sql && migrate::uses_own_sqlite(analysis, files);
    if !sql && !sqlite {
        return None;
    }
    let dockerfile = out
        .files
        .get(&image.dockerfile)
        .map(String::as_str)
        .or_else(|| files.repo().text(&image.dockerfile))
        .unwrap_or_default();
    match migrate::plan(analysis, files, dockerfile, image.command.as_deref()) {
        Ok(Some(migration)) if sqlite => {
            out.note(
                AdjustmentKind::Note,
                &image.dockerfile,
                format!("The app keeps its data in its own SQLite file: `{}` makes its tables as the container starts. The file lives in the container and is lost when the image is rebuilt; ask for postgres to keep data in a database deployflow runs.", migration.command),
            );
            Some(migration)
        }
        Ok(migration) => migration,
        Err(note) => {
            out.note(AdjustmentKind::Note, &image.dockerfile, note);
            None
        }
    }
}

/// The app directory as an adjustment's path (`.` for the repository root).
fn app_dir_label(files: &AppFiles) -> String {
    match files.subdir() {
        "" => ".".to_owned(),
        dir => dir.to_owned(),
    }
}

fn container_port(
    analysis: &Analysis,
    static_site: bool,
    files: &AppFiles,
    out: &mut Out,
) -> Result<u16, InfraError> {
    if static_site {
        let port = web_static_port();
        if let Some(seen) = analysis.port.filter(|p| *p != port) {
            out.note(
                AdjustmentKind::PortMapping,
                &app_dir_label(files),
                format!("The static site is served by nginx on port {port} in its container; port {seen}, which the analysis saw, belongs to a development server and is not used."),
            );
        }
        return Ok(port);
    }
    analysis.port.ok_or_else(|| {
        InfraError::Bundle(
            "the analysis found no port the app listens on; set one in the code or configuration (or a PORT default) and try again".to_owned(),
        )
    })
}

/// The repository's Dockerfile for the app: the app directory's own, else
/// one below it, else (for a dockerized app in a subdirectory) the root's.
/// A Dockerfile in the app directory is never overwritten, whatever the
/// analysis said.
fn existing_dockerfile(analysis: &Analysis, files: &AppFiles) -> Option<String> {
    for name in ["Dockerfile", "Containerfile"] {
        if files.exists(name) {
            return Some(files.repo_path(name));
        }
    }
    if !analysis.dockerized {
        return None;
    }
    let subdir = files.subdir();
    // A development Dockerfile runs a development server on sources it
    // expects mounted: a generated image serves the app better.
    let mut known: Vec<&String> = analysis
        .docker_files
        .iter()
        .filter(|p| is_dockerfile(p) && files.repo().get(p).is_some())
        .filter(|p| !is_development_dockerfile(p))
        .collect();
    // Shallowest first.
    known.sort_by_key(|p| (p.matches('/').count(), p.to_string()));
    let under_app = known
        .iter()
        .find(|p| subdir.is_empty() || p.starts_with(&format!("{subdir}/")));
    // Else one in a directory above the app (a root Dockerfile building a
    // subdirectory), never one belonging to a sibling app.
    let above_app = || {
        known
            .iter()
            .filter(|p| {
                format!("{subdir}/").starts_with(&format!("{}/", parent(p))) || parent(p).is_empty()
            })
            .min_by_key(|p| std::cmp::Reverse(p.matches('/').count()))
    };
    under_app.or_else(above_app).map(|p| (*p).clone())
}

/// The build context of a kept Dockerfile: the app's directory, or the
/// Dockerfile's own when it lies above the app.
fn kept_context(files: &AppFiles, path: &str) -> String {
    let subdir = files.subdir();
    let own = if subdir.is_empty() || path.starts_with(&format!("{subdir}/")) {
        subdir.to_owned()
    } else {
        parent(path).to_owned()
    };
    // `backend/Dockerfile` that copies `uv.lock` and `backend/app` from the
    // repository's root (the full-stack FastAPI template's compose file
    // builds it with `context: .`): the root is its context.
    let text = files.repo().text(path).unwrap_or_default();
    let misses = |context: &str| {
        super::kept_dockerfile::missing_source(path, text, context, files.repo()).is_some()
    };
    if !own.is_empty() && misses(&own) && !misses("") {
        return String::new();
    }
    own
}

/// A committed env file's `text` without the lines that set `names`,
/// written to `path` with why (`why` of the names left out); `None` when
/// it sets none of them.
fn leave_out(
    out: &mut Out,
    path: &str,
    text: Option<&str>,
    names: &[String],
    why: impl Fn(String) -> String,
) -> Option<String> {
    let (text, dropped) = secrets::without_public_values(text?, names)?;
    out.write(path, text.clone(), why(dropped.join(", ")));
    Some(text)
}

fn kept_image(
    analysis: &Analysis,
    files: &AppFiles,
    path: String,
    launch: &Launch,
    choice: &Choice,
    out: &mut Out,
) -> ImagePlan {
    let context = kept_context(files, &path);
    out.note(
        AdjustmentKind::Kept,
        &path,
        "The repository's own Dockerfile builds the app; it is used as it is.".to_owned(),
    );
    if choice.target == Target::Serverless {
        out.note(
            AdjustmentKind::Note,
            &path,
            "Lambda runs this image only with the Lambda Web Adapter (/opt/extensions/lambda-adapter), which the repository's Dockerfile does not add.".to_owned(),
        );
    }
    let starts_nothing =
        super::kept_dockerfile::starts_nothing(files.repo().text(&path).unwrap_or_default(), files);
    let command = kept_command(
        files,
        &path,
        launch,
        starts_nothing,
        analysis.start_command.as_deref(),
        out,
    );
    let dockerfile_text = files.repo().text(&path).unwrap_or_default();
    // `COPY . .` would take the `.env` that `make up` fills with secrets.
    let ignore_path = join(&context, ".dockerignore");
    let (ignore, _) = super::dockerignore::env_files_ignored(
        files.repo().text(&ignore_path),
        &copied_paths(dockerfile_text),
    );
    if let Some(text) = ignore {
        out.write(
            &ignore_path,
            text,
            "Keeps .env files, where make up writes the stores' passwords and the app's keys, out of the image the repository's Dockerfile builds.".to_owned(),
        );
    }
    if let Some((text, image)) = super::kept_dockerfile::on_archived_debian(dockerfile_text) {
        out.write(
            &path,
            text,
            format!("It builds on {image}, a Debian release past its end of life whose packages only archive.debian.org still serves (`apt update` fails on its mirrors): apt reads them there."),
        );
    }
    let declared = build_env::declared_app_args(analysis, dockerfile_text);
    for name in &declared.withheld {
        out.note(
            AdjustmentKind::Note,
            &path,
            build_env::DeclaredArgs::withheld_note(name),
        );
    }
    let build_args = declared.passed;
    ImagePlan {
        probe: Probe::for_runtime(analysis.runtime()),
        dockerfile: path,
        context,
        generated: false,
        command,
        starts_nothing,
        build_args,
    }
}

/// The app's start command, when the image starts nothing of its own; the
/// fixed one, when the bind fix changed it and the image's ENTRYPOINT
/// would not swallow it.
fn kept_command(
    files: &AppFiles,
    path: &str,
    launch: &Launch,
    starts_nothing: bool,
    analysis_start: Option<&str>,
    out: &mut Out,
) -> Option<String> {
    if starts_nothing {
        // As the repository starts it (`yarn start`): the repository's
        // image has the package manager, which puts the packages'
        // programs (`pm2`) on the path; the script's own text would not
        // find them. A bind fix changed the command itself.
        if launch.command_changed() {
            return launch.command.clone();
        }
        return files
            .text("package.json")
            .and(analysis_start.map(str::to_owned))
            .or_else(|| launch.command.clone());
    }
    if launch.bind_fixes.is_empty() || !launch.command_changed() {
        return None;
    }
    let has_entrypoint = files.repo().text(path).is_some_and(|t| {
        t.lines().any(|l| {
            l.trim_start()
                .to_ascii_uppercase()
                .starts_with("ENTRYPOINT")
        })
    });
    if has_entrypoint {
        out.note(
            AdjustmentKind::Note,
            path,
            format!(
                "The app's start command listens on loopback only ({}), but the Dockerfile's ENTRYPOINT prevents replacing it from the compose file; change it in the Dockerfile.",
                launch.bind_fixes.join(" ")
            ),
        );
        return None;
    }
    launch.command.clone()
}

fn generated_image(
    analysis: &Analysis,
    files: &AppFiles,
    port: u16,
    launch: &Launch,
    choice: &Choice,
    options: &BundleOptions,
    out: &mut Out,
) -> Result<ImagePlan, InfraError> {
    let serverless = choice.target == Target::Serverless;
    let mut image = dockerfile::generate(&Inputs {
        analysis,
        files,
        port,
        command: launch.command.as_deref(),
        env: &launch.env,
        build_args: &build_env::generated_build_args(analysis),
        serverless,
    })?;
    // The generated Dockerfile declares no secret (generated_build_args).
    let build_args = build_env::declared_app_args(analysis, &image.dockerfile).passed;
    image.dockerfile = images::rewrite_dockerfile(&image.dockerfile, &options.base_image_registry);
    let mut needed = copied_paths(&image.dockerfile);
    let path = files.repo_path("Dockerfile");
    let context = image
        .context
        .clone()
        .unwrap_or_else(|| files.subdir().to_owned());
    let what = match (analysis.framework.as_deref(), analysis.language.as_deref()) {
        (Some(framework), Some(language)) if framework != language => {
            format!("{framework} ({language})")
        }
        (_, Some(language)) => language.to_owned(),
        (Some(framework), None) => framework.to_owned(),
        (None, None) => "HTTP".to_owned(),
    };
    out.write(
        &path,
        image.dockerfile,
        format!("The repository has no Dockerfile: generated one for this {what} app (multi-stage where it pays, non-root user, pinned base images)."),
    );
    for note in std::mem::take(&mut image.notes) {
        out.note(AdjustmentKind::Note, &path, note);
    }
    for reason in launch.bind_fixes.iter().chain(&launch.port_fixes) {
        let kind = if launch.bind_fixes.contains(reason) {
            AdjustmentKind::BindFix
        } else {
            AdjustmentKind::Note
        };
        out.note(kind, &path, format!("Start command: {reason}"));
    }
    if serverless {
        out.note(
            AdjustmentKind::Note,
            &path,
            "The image carries the Lambda Web Adapter, so Lambda can run the app as an ordinary HTTP server.".to_owned(),
        );
    }
    for (rel, content) in image.extra_files {
        let extra = files.repo_path(&rel);
        out.write(
            &extra,
            content,
            "Configuration the generated Dockerfile copies into the image.".to_owned(),
        );
    }
    let ignore_path = join(&context, ".dockerignore");
    if context == files.subdir() {
        // The files the start command names (`node server.js`), which `COPY . .` brings.
        let command = launch.command.as_deref().unwrap_or_default();
        needed.extend(
            command
                .split_whitespace()
                .filter(|word| files.exists(word))
                .map(str::to_owned),
        );
    }
    let existing = files.repo().text(&ignore_path);
    let (text, re_included) = dockerignore(existing, image.ignore, &needed);
    if let Some(text) = text {
        out.write(
            &ignore_path,
            text,
            "Keeps .env files, keys, version control data and local build output out of the image."
                .to_owned(),
        );
    }
    for path in re_included {
        out.note(
            AdjustmentKind::Note,
            &ignore_path,
            format!("The repository's .dockerignore excludes {path}, which the generated Dockerfile needs: re-included with `!{path}`."),
        );
    }
    for name in &build_args {
        out.note(
            AdjustmentKind::Note,
            &path,
            format!("{name} is read when the app is built (the bundler writes its value into the pages): it reaches the build as a build argument, from the environment or .env."),
        );
    }
    Ok(ImagePlan {
        dockerfile: path,
        context,
        probe: image.probe,
        generated: true,
        command: None,
        starts_nothing: false,
        build_args,
    })
}

/// The compose healthcheck, when the analysis knows a health path and the
/// image has something to probe it with.
fn healthcheck(
    analysis: &Analysis,
    probe: Probe,
    port: u16,
    dockerfile: &str,
    out: &mut Out,
) -> Option<Vec<String>> {
    let path = analysis.health_path.as_deref()?;
    let safe = path.starts_with('/')
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c));
    if !safe {
        out.note(
            AdjustmentKind::Note,
            dockerfile,
            format!("The health path {path:?} has characters a probe command cannot carry safely; no healthcheck was added."),
        );
        return None;
    }
    let test = probe.test(port, path);
    if test.is_none() {
        out.note(
            AdjustmentKind::Note,
            dockerfile,
            format!("The image has no known HTTP client to probe {path} with; no healthcheck was added (the deployment's own health check still runs)."),
        );
    }
    test
}
