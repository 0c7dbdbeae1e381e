//! The `docker-host` target: the bundle runs with compose on a Docker engine
//! the user has (the local one, or `DOCKER_HOST`). Apply is `compose up` of
//! the job's own project on a host port of its own (kept in a memo, so a
//! resumed attempt brings up the same project on the same port: compose
//! then keeps the containers it finds); destroy removes the project's
//! containers, networks, volumes and images by their compose labels.

use std::collections::VecDeque;
use std::time::Duration;

use engine::{StepContext, StepError, StepOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::apply::{ApplyOutput, PLANNED, StateReference};
use super::{Shared, bundle_dir};
use crate::docker::{self, DockerConfig};
use crate::failures;
use crate::plan::GenerateOutput;
use crate::preflight::Project;
use crate::terraform::plan::PlanSummary;

const PORT_MEMO: &str = "docker_host_port";
/// Written by apply: what destroy needs to find the deployment again.
const DEPLOYMENT_ARTIFACT: &str = "docker-host/deployment.json";
/// The generated values (the stores' passwords, the app's keys), each
/// sealed with the secrets key; named for the passwords, which came first.
const PASSWORDS_ARTIFACT: &str = "docker-host/store-passwords.sealed.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Deployment {
    project: String,
    host_port: u16,
    engine: String,
}

pub(super) async fn apply(
    shared: &Shared,
    ctx: &StepContext,
) -> Result<StepOutcome<ApplyOutput>, StepError> {
    let config = &shared.config.docker;
    if !config.deploy {
        let message = "apply skipped: APPLY_MODE=plan. The Docker bundle is the job's artifacts; `make up` runs it".to_owned();
        ctx.info(&message);
        return Ok(StepOutcome::finish_in(PLANNED, message));
    }
    let generated: GenerateOutput = ctx.output_of("generate")?;
    let values = super::app_env::given(ctx).await?;
    let missing = super::app_env::missing(&generated.required_variables, &values);
    if !missing.is_empty() {
        return Err(StepError::permanent(format!(
            "the app needs values for {}: {}",
            missing.join(", "),
            super::app_env::HOW_TO_GIVE
        ))
        .with_code(failures::REQUEST_MISSING_VALUES));
    }
    let unavailable =
        |why: String| StepError::retryable(why).with_code(failures::DOCKER_UNAVAILABLE);
    let version = docker::engine_version(config).await.map_err(unavailable)?;
    let compose = docker::compose_cli(config).await.map_err(unavailable)?;
    // An interrupted attempt's port (memo), else the port of an earlier
    // apply that is still serving (a re-apply keeps the app's URL), else a
    // new one.
    let earlier = deployment_record(ctx, ctx.job_id).await?;
    let host_port = match ctx.memo_get(PORT_MEMO).await? {
        Some(port) => port
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| {
                StepError::permanent(format!("unreadable port memo: {port}"))
                    .with_code(failures::WORKER_RECORD_UNREADABLE)
            })?,
        None => {
            let port = earlier
                .map(|d| d.host_port)
                .unwrap_or_else(|| host_port(config));
            ctx.memo_put(PORT_MEMO, &json!(port)).await?;
            port
        }
    };
    let ungiven: Vec<String> = generated
        .generated_secrets
        .iter()
        .filter(|name| !values.contains_key(name.as_str()))
        .cloned()
        .collect();
    let passwords = super::app_env::generated(ctx, PASSWORDS_ARTIFACT, &ungiven).await?;
    let dir = config.deployments_dir.join(ctx.job_id.to_string());
    let source = bundle_dir::materialise(shared, ctx, &dir).await?;
    if let Some(reach) = crate::preflight::reaches_host(&source, &generated.compose_file) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(StepError::permanent(format!(
            "the compose file gives its containers access to the host ({reach}): deployflow does not start it on a Docker host; if you trust it, run `make up` on that host yourself"
        ))
        .with_code(failures::COMPOSE_HOST_ACCESS));
    }
    let build_override =
        crate::preflight::isolate_builds(config, ctx, &source, &generated.compose_file).await?;
    let project = Project {
        config,
        compose: &compose,
        name: bundle_dir::project_name("", ctx.job_id),
        dir: source,
        compose_file: generated.compose_file.clone(),
        build_override,
        run_override: None,
        env: std::iter::once((
            infra::bundle::HOST_PORT_VARIABLE.to_owned(),
            host_port.to_string(),
        ))
        .chain(values)
        .chain(passwords)
        .collect(),
        remove_build_stages: false,
    };
    ctx.info(format!(
        "starting compose project {} on Docker {version} ({}), host port {host_port}",
        project.name,
        config.docker_host().unwrap_or("the local engine")
    ));
    let mut tail = VecDeque::new();
    let started = std::time::Instant::now();
    project
        .run(
            ctx,
            &["up", "-d", "--build", "--remove-orphans"],
            config.build_timeout,
            &mut tail,
        )
        .await
        .map_err(|error| {
            // Retryable: preflight built this bundle already, so what fails
            // here is the engine or a race with an interrupted attempt's
            // compose, which is still finishing its own `up`.
            let lines: Vec<String> = tail.into_iter().collect();
            StepError::retryable(format!(
                "compose up of {} failed: {error}\n{}",
                project.name,
                lines[lines.len().saturating_sub(10)..].join("\n")
            ))
            .with_code(failures::DOCKER_HOST_UP)
        })?;
    let engine = config
        .docker_host()
        .unwrap_or("the local engine")
        .to_owned();
    let deployment = Deployment {
        project: project.name.clone(),
        host_port,
        engine: engine.clone(),
    };
    let record = serde_json::to_vec_pretty(&deployment).expect("serialises");
    ctx.put_artifact(DEPLOYMENT_ARTIFACT, &record).await?;
    let app_url = format!("{}/", config.published_url(host_port));
    ctx.info(format!("{} is up: {app_url}", project.name));
    let mut outputs = serde_json::Map::new();
    outputs.insert("app_url".into(), Value::from(app_url.clone()));
    outputs.insert("compose_project".into(), Value::from(project.name.clone()));
    outputs.insert("host_port".into(), Value::from(host_port));
    // Build and start together: a re-apply builds from the engine's cache.
    outputs.insert(
        "up_seconds".into(),
        Value::from((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );
    Ok(StepOutcome::Completed(ApplyOutput {
        app_url: Some(app_url),
        outputs,
        sensitive_outputs: Vec::new(),
        plan: PlanSummary::default(),
        state: StateReference::DockerHost {
            project: project.name,
            engine,
        },
        replanned: false,
        image: None,
    }))
}

/// Port 8080 when it is free on a local engine, else a free one; on a
/// remote engine, 8080 (nothing here can see which ports it has free).
fn host_port(config: &DockerConfig) -> u16 {
    if config.published_host() != "127.0.0.1" {
        return infra::bundle::HOST_PORT;
    }
    for port in [infra::bundle::HOST_PORT, 0] {
        if let Ok(listener) = std::net::TcpListener::bind(("0.0.0.0", port))
            && let Ok(address) = listener.local_addr()
        {
            return address.port();
        }
    }
    infra::bundle::HOST_PORT
}

/// Whether job `deployment` was deployed to a Docker host, and as what
/// compose project.
pub(super) async fn deployment_of(
    ctx: &StepContext,
    deployment: Uuid,
) -> Result<Option<String>, StepError> {
    Ok(deployment_record(ctx, deployment).await?.map(|d| d.project))
}

async fn deployment_record(
    ctx: &StepContext,
    deployment: Uuid,
) -> Result<Option<Deployment>, StepError> {
    let files = ctx.artifacts_under(deployment, "docker-host/").await?;
    let Some((_, bytes)) = files.iter().find(|(p, _)| p == DEPLOYMENT_ARTIFACT) else {
        return Ok(None);
    };
    serde_json::from_slice(bytes).map(Some).map_err(|e| {
        StepError::permanent(format!("unreadable {DEPLOYMENT_ARTIFACT}: {e}"))
            .with_code(failures::WORKER_RECORD_UNREADABLE)
    })
}

/// Removes everything of compose project `project`: containers, networks,
/// volumes (by the labels compose puts on them) and the images it built.
/// Returns how many objects went.
pub(super) async fn destroy(
    shared: &Shared,
    ctx: &StepContext,
    deployment: Uuid,
    project: &str,
) -> Result<usize, StepError> {
    let config = &shared.config.docker;
    docker::engine_version(config)
        .await
        .map_err(|why| StepError::retryable(why).with_code(failures::DOCKER_UNAVAILABLE))?;
    let label = format!("label=com.docker.compose.project={project}");
    let mut removed = 0;
    let lists: [(&[&str], &[&str]); 3] = [
        (&["ps", "-aq", "--filter", &label], &["rm", "-f", "-v"]),
        (
            &["network", "ls", "-q", "--filter", &label],
            &["network", "rm"],
        ),
        (
            &["volume", "ls", "-q", "--filter", &label],
            &["volume", "rm", "-f"],
        ),
    ];
    for (list, remove) in lists {
        removed += remove_listed(config, list, remove).await?;
    }
    // Compose names the images it builds <project>_<service> (v1) or
    // <project>-<service> (v2).
    for reference in [format!("{project}_*"), format!("{project}-*")] {
        let filter = format!("reference={reference}");
        removed += remove_listed(
            config,
            &["image", "ls", "-q", "--filter", &filter],
            &["rmi", "-f"],
        )
        .await?;
    }
    let _ = std::fs::remove_dir_all(config.deployments_dir.join(deployment.to_string()));
    ctx.info(format!(
        "removed compose project {project} ({removed} containers, networks, volumes and images)"
    ));
    Ok(removed)
}

async fn remove_listed(
    config: &DockerConfig,
    list: &[&str],
    remove: &[&str],
) -> Result<usize, StepError> {
    let listed = docker_ok(config, list).await?;
    let mut ids: Vec<&str> = listed.split_whitespace().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(0);
    }
    let mut args: Vec<&str> = remove.to_vec();
    args.extend(&ids);
    docker_ok(config, &args).await?;
    Ok(ids.len())
}

/// `docker args…`'s stdout, or a retryable error with what it said.
async fn docker_ok(config: &DockerConfig, args: &[&str]) -> Result<String, StepError> {
    let answer = docker::capture(config, &config.bin, args, Duration::from_secs(120))
        .await
        .map_err(|why| StepError::retryable(why).with_code(failures::DOCKER_UNAVAILABLE))?;
    if !answer.success {
        return Err(StepError::retryable(format!(
            "docker {} failed: {}",
            args.iter().take(3).copied().collect::<Vec<_>>().join(" "),
            answer.stderr.trim()
        ))
        .with_code(failures::DOCKER_COMMAND));
    }
    Ok(answer.stdout)
}
