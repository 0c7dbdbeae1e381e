//! Which compose file runs the app: the repository's own, rewritten; the
//! docker-in-docker wrapper around it when it cannot be rewritten safely;
//! else a new one. Whatever is written is validated against the schema.

use super::app_files::{join, parent, relative};
use super::build_env;
use super::compose::{self, APP_SERVICE, AppServiceSpec, Migration};
use super::env::{AppEnv, ComposeEnv, compose_env};
use super::existing_compose::{self, Outcome};
use super::launch::RuntimeEnv;
use super::plan::{ImagePlan, Out};
use super::validate::validate_compose;
use super::wrapper::{self, WRAPPER_FILE, WRAPPER_SERVICE};
use super::{AdjustmentKind, HOST_PORT, yaml};
use crate::InfraError;
use crate::choose::{BackingService, ServicePlan};
use analysis::{Analysis, FileEntry};

const COMPOSE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
/// deployflow's own compose file when the root already has one it leaves alone.
const ALTERNATE_FILE: &str = "compose.deployflow.yaml";

const REWRITTEN_HEADER: &str = "# Rewritten by deployflow from the repository's compose file: the app is published on\n# host port 8080 and the other services are kept (comments of the original are not).\n# Variables written as ${NAME...} come from the environment or a .env file next to\n# this file; secret values are never written here.\n";

pub(super) struct ComposeInputs<'a> {
    pub analysis: &'a Analysis,
    pub app_dir: &'a str,
    pub image: &'a ImagePlan,
    pub port: u16,
    /// The port and bind settings the app's container gets.
    pub launch_env: &'a [RuntimeEnv],
    /// The stores the choice provisions: only a compose file deployflow
    /// writes runs them.
    pub services: &'a ServicePlan,
    pub migration: Option<Migration>,
    /// The repository's SQL file that makes the app's tables (no migrations).
    pub initial_dump: Option<String>,
    pub healthcheck: Option<Vec<String>>,
    /// The registry base images are pulled through (see `BundleOptions`).
    pub base_image_registry: &'a str,
}

pub(super) struct Placed {
    pub path: String,
    pub service: String,
    pub wrapped: bool,
    /// Variables compose refuses to start without.
    pub required_variables: Vec<String>,
    /// The app's keys `make up` generates unless given.
    pub generated_secrets: Vec<String>,
    /// The stores the compose file runs beside the app.
    pub stores: Vec<BackingService>,
    /// The app's variables wired to a store the compose file runs, its own
    /// or deployflow's.
    pub wired: Vec<String>,
}

pub(super) fn place(inputs: &ComposeInputs, out: &mut Out) -> Result<Placed, InfraError> {
    let Some(existing) = existing_compose_file(inputs, out) else {
        return new_compose("compose.yaml", inputs, out);
    };
    let path = existing.path.clone();
    let (reason, front_port) = match rewrite(&path, existing, inputs, out) {
        Ok(placed) => return Ok(placed),
        Err(unsafe_case) => unsafe_case,
    };
    stores_not_added(&path, &inputs.services.provisioned, out);
    if let Some(front_port) = front_port {
        return wrap(&path, front_port, &reason, inputs, out);
    }
    out.note(
        AdjustmentKind::Kept,
        &path,
        format!("The repository's compose file is left unused: {reason}, and which host port it serves the app on is unknown; the app runs from deployflow's own compose file instead."),
    );
    let name = if out.repo.get("compose.yaml").is_some() {
        ALTERNATE_FILE
    } else {
        "compose.yaml"
    };
    new_compose(name, inputs, out)
}

/// The repository's compose file for the app: the app directory's, else the root's.
fn existing_compose_file<'r>(inputs: &ComposeInputs, out: &Out<'r>) -> Option<&'r FileEntry> {
    let dirs = [inputs.app_dir, ""];
    let by_name = dirs
        .iter()
        .flat_map(|dir| COMPOSE_NAMES.iter().map(move |name| join(dir, name)))
        .find_map(|path| out.repo.get(&path));
    by_name.or_else(|| {
        inputs
            .analysis
            .docker_files
            .iter()
            .filter(|p| COMPOSE_NAMES.contains(&p.rsplit('/').next().unwrap_or(p)))
            .find_map(|p| out.repo.get(p))
    })
}

/// The app's service; `with_stores` for a compose file deployflow writes,
/// which runs the provisioned stores beside it.
fn spec(inputs: &ComposeInputs, compose_dir: &str, with_stores: bool) -> (AppServiceSpec, AppEnv) {
    let image = inputs.image;
    let dockerfile = relative_file(&image.context, &image.dockerfile);
    let none = ServicePlan::default();
    let services = if with_stores { inputs.services } else { &none };
    let mut app_env = compose_env(inputs.analysis, inputs.launch_env, services);
    let env = std::mem::take(&mut app_env.entries);
    let spec = AppServiceSpec {
        build_context: relative(compose_dir, &image.context),
        dockerfile: (dockerfile != "Dockerfile").then_some(dockerfile),
        port: inputs.port,
        build_args: build_env::build_args(&env, &image.build_args),
        env,
        command: image.command.clone(),
        starts_nothing: image.starts_nothing,
        healthcheck: inputs.healthcheck.clone(),
        // Managed stores on the VM are Terraform's, not compose services.
        stores: if services.managed_on_vm {
            Vec::new()
        } else {
            services.provisioned.clone()
        },
        migration: inputs.migration.clone().filter(|_| with_stores),
        workers: if with_stores {
            inputs.analysis.workers.clone()
        } else {
            Vec::new()
        },
        initial_dump: inputs
            .initial_dump
            .as_deref()
            .filter(|_| with_stores)
            .map(|dump| {
                let name = dump.rsplit('/').next().unwrap_or(dump);
                match relative(compose_dir, parent(dump)).as_str() {
                    "." => format!("./{name}"),
                    dir if dir.starts_with('.') => format!("{dir}/{name}"),
                    dir => format!("./{dir}/{name}"),
                }
            }),
    };
    (spec, app_env)
}

/// `file` as the compose `dockerfile:` of a build in `context`.
fn relative_file(context: &str, file: &str) -> String {
    let name = file.rsplit('/').next().unwrap_or(file);
    match relative(context, parent(file)).as_str() {
        "." => name.to_owned(),
        dir => format!("{}/{name}", dir.trim_start_matches("./")),
    }
}

/// Rewrites the file in place, or says why it cannot be (and the host port
/// the file serves the app on, when known).
fn rewrite(
    path: &str,
    existing: &FileEntry,
    inputs: &ComposeInputs,
    out: &mut Out,
) -> Result<Placed, (String, Option<u16>)> {
    let text = existing
        .content
        .as_deref()
        .ok_or_else(|| ("it is too large or not text".to_owned(), None))?;
    let document = yaml::parse(text).map_err(|e| (e.to_string(), None))?;
    let (spec, variables) = spec(inputs, parent(path), false);
    let other_apps: Vec<String> = if inputs.analysis.app_dir_named {
        inputs
            .analysis
            .apps
            .iter()
            .map(|app| app.subdir.clone())
            .filter(|dir| {
                !dir.is_empty()
                    && dir != "."
                    && *dir != inputs.app_dir
                    && !inputs.app_dir.starts_with(&format!("{dir}/"))
            })
            .collect()
    } else {
        Vec::new()
    };
    let target = existing_compose::Target {
        path,
        app_dir: inputs.app_dir,
        spec: &spec,
        generated_dockerfile: inputs.image.generated,
        repo: out.repo,
        stores: &inputs.services.provisioned,
        migration: inputs.migration.as_ref(),
        not_provisioned: &inputs.services.not_provisioned,
        other_apps: &other_apps,
        base_image_registry: inputs.base_image_registry,
    };
    match existing_compose::rewrite(document, &target) {
        Outcome::Unsafe { reason, front_port } => Err((reason, front_port)),
        Outcome::Rewritten {
            document,
            service,
            adjustments,
            wired,
            unmatched,
            added,
            generated,
        } => {
            let rendered = yaml::render(REWRITTEN_HEADER, &document);
            validate_compose(&rendered)
                .map_err(|e| (format!("the rewritten file would not be valid ({e})"), None))?;
            out.write(
                path,
                rendered.clone(),
                format!("The repository's compose file now publishes the app (service `{service}`) on host port {HOST_PORT}; its other services are kept."),
            );
            out.adjustments.extend(adjustments);
            stores_not_added(path, &unmatched, out);
            // A variable the file no longer names reaches the app from an
            // `env_file` of the repository: nothing asks for it.
            let required_variables = variables
                .required
                .into_iter()
                .filter(|name| !wired.contains(name) && !generated.contains(name))
                .filter(|name| rendered.contains(name.as_str()))
                .collect();
            let mut generated_secrets = variables.generated;
            generated_secrets.extend(generated);
            generated_secrets.sort();
            generated_secrets.dedup();
            Ok(Placed {
                path: path.to_owned(),
                service,
                wrapped: false,
                required_variables,
                generated_secrets,
                stores: added,
                wired,
            })
        }
    }
}

/// The stores the choice provisions that the repository's compose file,
/// kept, runs none of: deployflow does not add its own to that file.
fn stores_not_added(path: &str, stores: &[BackingService], out: &mut Out) {
    if stores.is_empty() {
        return;
    }
    let kinds: Vec<&str> = stores.iter().map(|s| s.kind.label()).collect();
    out.note(
        AdjustmentKind::Note,
        path,
        format!("The repository's compose file runs the app's own services: deployflow adds no {} of its own to it; give the app's connection variables with the deployment if that file does not set them.", kinds.join(" or ")),
    );
}

fn wrap(
    inner: &str,
    front_port: u16,
    reason: &str,
    inputs: &ComposeInputs,
    out: &mut Out,
) -> Result<Placed, InfraError> {
    let AppEnv {
        entries,
        required,
        generated,
    } = compose_env(inputs.analysis, inputs.launch_env, &ServicePlan::default());
    let user_env: Vec<ComposeEnv> = entries.into_iter().filter(|e| !e.runtime).collect();
    let rendered = yaml::render(
        wrapper::HEADER,
        &wrapper::wrapper(inner, front_port, &user_env, inputs.base_image_registry),
    );
    validate_compose(&rendered)?;
    out.note(
        AdjustmentKind::Wrapper,
        inner,
        format!("The repository's compose file cannot be rewritten safely ({reason}); it runs unchanged inside docker-in-docker (a privileged container with its own Docker daemon), and host port {HOST_PORT} maps to port {front_port}, where it serves the app."),
    );
    out.write(
        WRAPPER_FILE,
        rendered,
        format!("The docker-in-docker wrapper that runs {inner} unchanged with the app on host port {HOST_PORT}."),
    );
    Ok(Placed {
        path: WRAPPER_FILE.to_owned(),
        service: WRAPPER_SERVICE.to_owned(),
        wrapped: true,
        required_variables: required,
        generated_secrets: generated,
        stores: Vec::new(),
        wired: Vec::new(),
    })
}

fn new_compose(path: &str, inputs: &ComposeInputs, out: &mut Out) -> Result<Placed, InfraError> {
    let (spec, variables) = spec(inputs, parent(path), true);
    let rendered = yaml::render(
        compose::HEADER,
        &compose::new_file(&spec, inputs.base_image_registry),
    );
    validate_compose(&rendered)?;
    out.write(
        path,
        rendered,
        format!(
            "The app runs with docker compose as service `{APP_SERVICE}`, built from {}.",
            inputs.image.dockerfile
        ),
    );
    out.note(
        AdjustmentKind::PortMapping,
        path,
        format!(
            "Host port {HOST_PORT} is published to the app's port {} in its container.",
            inputs.port
        ),
    );
    for env in &spec.env {
        out.note(AdjustmentKind::EnvVar, path, env.reason.clone());
    }
    if let Some(dump) = inputs
        .initial_dump
        .as_ref()
        .filter(|_| inputs.services.managed_on_vm)
    {
        out.note(
            AdjustmentKind::Note,
            dump,
            format!("The app ships no migrations: {dump} makes its tables, and the managed database starts empty: load it once (`psql` or `mysql` from the VM, with the URL its boot script sets)."),
        );
    }
    if let (Some(dump), Some(store)) = (
        &inputs.initial_dump,
        spec.stores.iter().find(|s| s.kind.is_sql()),
    ) {
        out.note(
            AdjustmentKind::Note,
            dump,
            format!("The app ships no migrations: {dump} makes its tables, so the {} service loads it on its first start (its image runs /docker-entrypoint-initdb.d; a database that already holds data is left as it is).", store.kind.label()),
        );
    }
    if let Some(command) = &spec.command {
        let kind = if spec.starts_nothing {
            AdjustmentKind::Rewritten
        } else {
            AdjustmentKind::BindFix
        };
        out.note(
            kind,
            path,
            super::compose::command_reason(command, spec.starts_nothing),
        );
    }
    if spec.healthcheck.is_some() {
        out.note(
            AdjustmentKind::Note,
            path,
            "The service has a healthcheck on the app's health path.".to_owned(),
        );
    }
    for store in &spec.stores {
        out.note(
            AdjustmentKind::Added,
            path,
            format!(
                "{} runs beside the app as service `{}` ({}): {} Its data is kept in the volume `{}`; its password is generated into .env by `make up`, never written here.",
                store.kind.label(),
                super::stores::service_name(store.kind),
                store.reasons.join(" "),
                "The app starts once it answers its health check.",
                super::stores::volume_name(store.kind),
            ),
        );
    }
    if let Some(migration) = &spec.migration {
        out.note(
            AdjustmentKind::Note,
            path,
            format!(
                "`{}` runs in the app's container before the app starts, so the database is migrated.",
                migration.command
            ),
        );
    }
    for worker in &spec.workers {
        out.note(
            AdjustmentKind::Added,
            path,
            format!(
                "The Procfile's `{}` process (`{}`) runs beside the app as service `{}`, from the app's image with its environment and stores.",
                worker.name,
                worker.command,
                super::compose::worker_service_name(worker)
            ),
        );
    }
    Ok(Placed {
        path: path.to_owned(),
        service: APP_SERVICE.to_owned(),
        wrapped: false,
        required_variables: variables.required,
        generated_secrets: variables.generated,
        stores: spec.stores.clone(),
        wired: inputs
            .services
            .provisioned
            .iter()
            .flat_map(|store| store.wiring.iter().map(|wire| wire.name.clone()))
            .collect(),
    })
}
