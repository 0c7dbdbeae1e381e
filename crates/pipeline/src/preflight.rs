//! Preflight: the bundle built and started on a Docker engine exactly as
//! `make up` would (`compose build`, then `compose up -d`), its health path
//! probed on the published port, everything measured, and the project torn
//! down again — before any cloud spend. A failure says what to fix: the
//! Dockerfile step that failed, the app's last lines when it exits, or
//! where it listens when it does not answer.

pub(crate) mod diagnose;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use engine::{StepContext, StepError};
use serde::{Deserialize, Serialize};

use crate::build_network;
use crate::docker::{self, ComposeCli, DockerConfig, PreflightMode};
use crate::failures;
use crate::probe::{Answers, Probe, describe, probe};
use crate::run_network;
use crate::terraform::runner::{ChildLine, Program, run_program};

/// Lines of the build log and of the app's log kept in the checkpoint.
const TAIL_LINES: usize = 30;
/// What a required variable the user gave no value for is set to.
pub const PLACEHOLDER: &str = "deployflow-preflight-placeholder";

/// The `preflight` step's checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PreflightOutput {
    /// Why nothing was built or started (no engine, `PREFLIGHT=off`…).
    pub skipped: Option<String>,
    /// The engine's version.
    pub engine: Option<String>,
    /// `docker compose` or `docker-compose`.
    pub compose: Option<String>,
    pub build_seconds: f64,
    pub image: Option<String>,
    pub image_size_bytes: Option<u64>,
    pub build_log_tail: Vec<String>,
    /// From `compose up` to the first healthy answer.
    pub start_seconds: f64,
    /// The URL probed (the health path on the published port).
    pub url: Option<String>,
    pub probes: Vec<Probe>,
    pub container_log_tail: Vec<String>,
    /// Required variables that ran with a placeholder value: the app was
    /// probed without their real values, which never reach the cloud.
    pub placeholders: Vec<String>,
}

impl PreflightOutput {
    fn skipped(reason: impl Into<String>) -> Self {
        Self {
            skipped: Some(reason.into()),
            ..Self::default()
        }
    }
}

/// What is built and probed.
pub(crate) struct Subject<'a> {
    /// The repository at the job's commit, with the bundle's files over it.
    pub source: &'a Path,
    /// The compose file `make up` runs, relative to `source`.
    pub compose_file: &'a str,
    pub app_service: &'a str,
    pub container_port: u16,
    pub health_path: Option<&'a str>,
    pub required_variables: &'a [String],
    /// The values the job was given for the app's variables; a required
    /// variable without one runs with a placeholder.
    pub values: &'a std::collections::BTreeMap<String, String>,
    /// The `.env` variables generated for the bundle (the stores'
    /// passwords, the app's own keys): fresh ones for this throwaway
    /// project, unless the job gave a value.
    pub generated_secrets: &'a [String],
    /// The repository's compose file runs in a privileged docker-in-docker
    /// wrapper: not started here.
    pub wrapped: bool,
}

/// The engine's version and Compose, or the step's outcome without them
/// (skipped, or an error when preflight is required).
pub(crate) async fn engine(
    config: &DockerConfig,
) -> Result<(String, ComposeCli), Result<PreflightOutput, StepError>> {
    if config.mode == PreflightMode::Off {
        return Err(Ok(PreflightOutput::skipped(
            "preflight is off (PREFLIGHT=off)",
        )));
    }
    let found = async {
        let version = docker::engine_version(config).await?;
        let compose = docker::compose_cli(config).await?;
        Ok::<_, String>((version, compose))
    }
    .await;
    match found {
        Ok(found) => Ok(found),
        Err(why) if config.mode == PreflightMode::Auto => Err(Ok(PreflightOutput::skipped(
            format!("{why}; the bundle was not built before apply"),
        ))),
        Err(why) => Err(Err(StepError::retryable(format!(
            "{why} (PREFLIGHT=required)"
        ))
        .with_code(failures::PREFLIGHT_UNAVAILABLE))),
    }
}

/// A compose project on the engine for one job, torn down when done.
pub(crate) struct Project<'a> {
    pub config: &'a DockerConfig,
    pub compose: &'a ComposeCli,
    pub name: String,
    pub dir: PathBuf,
    pub compose_file: String,
    /// The override that puts the builds on the isolated build network.
    pub build_override: Option<String>,
    /// The override that runs the services on internal networks, probed
    /// from inside (preflight; see [`run_network`]).
    pub run_override: Option<String>,
    pub env: Vec<(String, String)>,
    /// Remove the build stages this project's builds leave (preflight). A
    /// docker-host deployment keeps them: a re-apply then rebuilds from
    /// cache into the same image, and compose keeps the running container.
    pub remove_build_stages: bool,
}

impl Project<'_> {
    /// Runs `compose -p NAME -f FILE args…`, its lines to the job log and
    /// `tail`.
    pub(crate) async fn run(
        &self,
        ctx: &StepContext,
        args: &[&str],
        timeout: Duration,
        tail: &mut VecDeque<String>,
    ) -> Result<(), String> {
        let mut full = self.file_args();
        full.extend_from_slice(args);
        let args = self.compose.args(&full);
        // The standalone Compose gives up on one engine request after 60 s;
        // creating a container on a loaded vfs engine can take longer.
        let http_timeout = timeout.as_secs().to_string();
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.push(("COMPOSE_HTTP_TIMEOUT", http_timeout.as_str()));
        if self.build_override.is_some() {
            env.extend(build_network::CLASSIC_BUILDER);
        }
        let program = Program {
            bin: &self.compose.bin,
            json_lines: false,
            secret_stdout: false,
        };
        let mut layers = Vec::new();
        let result = run_program(
            &self.config.child(timeout),
            program,
            &self.dir,
            &args,
            &env,
            None,
            &ctx.cancellation,
            |line: ChildLine| {
                ctx.info(format!("docker: {}", line.message));
                if let Some(layer) = built_layer(&line.message) {
                    layers.push(layer.to_owned());
                }
                if tail.len() == TAIL_LINES * 4 {
                    tail.pop_front();
                }
                tail.push_back(line.message);
            },
        )
        .await;
        if self.remove_build_stages {
            self.remove_stage_images(ctx, &layers).await;
        }
        result.map(|_| ()).map_err(|e| e.to_string())
    }

    /// Removes the images of finished build stages among `layers`. The
    /// classic builder leaves each stage that is not the final one (`FROM …
    /// AS build`) as an untagged image nothing refers to, which `compose
    /// down --rmi` does not know of: every build would leave one behind.
    /// Only this build's own layers that are dangling go; images other
    /// builds depend on are refused by the engine and stay.
    async fn remove_stage_images(&self, ctx: &StepContext, layers: &[String]) {
        if layers.is_empty() {
            return;
        }
        let dangling = [
            "image",
            "ls",
            "-q",
            "--no-trunc",
            "--filter",
            "dangling=true",
        ];
        let Ok(listed) = docker::capture(
            self.config,
            &self.config.bin,
            &dangling,
            Duration::from_secs(30),
        )
        .await
        else {
            return;
        };
        let stages: Vec<&str> = listed
            .stdout
            .lines()
            .map(|id| id.trim().trim_start_matches("sha256:"))
            .filter(|id| layers.iter().any(|layer| id.starts_with(layer.as_str())))
            .collect();
        if stages.is_empty() {
            return;
        }
        match self.docker_on(&["image", "rm"], &stages).await {
            Ok(()) => ctx.info(format!(
                "removed {} build-stage image(s) of {}",
                stages.len(),
                self.name
            )),
            Err(error) => ctx.warn(format!("build-stage images of {} stay: {error}", self.name)),
        }
    }

    /// Runs `docker <command> <ids…>` (removals, which may take a while on
    /// vfs storage).
    async fn docker_on(&self, command: &[&str], ids: &[&str]) -> Result<(), String> {
        let mut args = command.to_vec();
        args.extend_from_slice(ids);
        docker::capture(
            self.config,
            &self.config.bin,
            &args,
            Duration::from_secs(120),
        )
        .await
        .map(|_| ())
    }

    /// `compose down` with volumes and the images it built.
    pub(crate) async fn down(&self, ctx: &StepContext) {
        if self.run_override.is_some() {
            run_network::disconnect_prober(self.config, &self.name).await;
        }
        let mut ignored = VecDeque::new();
        let args = ["down", "--volumes", "--rmi", "local", "--remove-orphans"];
        if let Err(error) = self
            .run(ctx, &args, Duration::from_secs(180), &mut ignored)
            .await
        {
            ctx.warn(format!("compose down of {}: {error}", self.name));
        }
        self.remove_labelled_leftovers(ctx).await;
    }

    /// Removes the containers and networks labelled with this project that
    /// `compose down` left: a `compose up` stopped at its timeout can still
    /// have the engine create its container after `down` listed none.
    async fn remove_labelled_leftovers(&self, ctx: &StepContext) {
        let label = format!("label=com.docker.compose.project={}", self.name);
        let kinds: [(&str, &[&str], &[&str]); 3] = [
            (
                "container(s)",
                &["ps", "-aq", "--filter"],
                &["rm", "-f", "-v"],
            ),
            (
                "network(s)",
                &["network", "ls", "-q", "--filter"],
                &["network", "rm"],
            ),
            (
                "volume(s)",
                &["volume", "ls", "-q", "--filter"],
                &["volume", "rm", "-f"],
            ),
        ];
        for (noun, list, remove) in kinds {
            let mut args = list.to_vec();
            args.push(&label);
            let Ok(listed) = docker::capture(
                self.config,
                &self.config.bin,
                &args,
                Duration::from_secs(30),
            )
            .await
            else {
                continue;
            };
            let ids: Vec<&str> = listed.stdout.split_whitespace().collect();
            if ids.is_empty() {
                continue;
            }
            match self.docker_on(remove, &ids).await {
                Ok(()) => ctx.warn(format!(
                    "removed {} {noun} of {} that compose down left",
                    ids.len(),
                    self.name
                )),
                Err(error) => ctx.warn(format!("leftovers of {} stay: {error}", self.name)),
            }
        }
    }

    /// `-p NAME -f FILE [-f OVERRIDE]`.
    fn file_args(&self) -> Vec<&str> {
        let mut args = vec!["-p", self.name.as_str(), "-f", self.compose_file.as_str()];
        for file in [&self.build_override, &self.run_override]
            .into_iter()
            .flatten()
        {
            args.extend(["-f", file.as_str()]);
        }
        args
    }

    /// The id of the service's container.
    async fn container(&self, service: &str) -> Option<String> {
        let mut args = self.file_args();
        args.extend(["ps", "-q", service]);
        let args = self.compose.args(&args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let answer = docker::capture_in(
            self.config,
            &self.compose.bin,
            &args,
            Duration::from_secs(30),
            Some(&self.dir),
            &self.env,
        )
        .await
        .ok()?;
        answer
            .stdout
            .lines()
            .next()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
    }
}

/// The image id of a build step the classic builder reports (` ---> 1a2b3c4d5e6f`).
fn built_layer(line: &str) -> Option<&str> {
    let id = line.trim().strip_prefix("---> ")?.trim();
    (id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
}

/// Builds, starts and probes `subject` as project `name`; tears it down.
pub(crate) async fn run(
    config: &DockerConfig,
    (version, compose): (String, ComposeCli),
    ctx: &StepContext,
    name: &str,
    subject: &Subject<'_>,
) -> Result<PreflightOutput, StepError> {
    if subject.wrapped {
        let why = "the bundle runs the repository's own compose file in a privileged docker-in-docker wrapper, which preflight does not start";
        ctx.info(format!("preflight skipped: {why}"));
        return Ok(PreflightOutput::skipped(why));
    }
    if let Some(reach) = reaches_host(subject.source, subject.compose_file) {
        let why = format!(
            "the compose file gives its containers access to the host ({reach}), which preflight does not start next to deployflow's own secrets"
        );
        ctx.warn(format!("preflight skipped: {why}"));
        return Ok(PreflightOutput::skipped(why));
    }
    let build_override = isolate_builds(config, ctx, subject.source, subject.compose_file).await?;
    // With builds isolated, so is the run: the egress proxy is the prober.
    let run_override = match build_override {
        Some(_) => Some(
            run_network::isolate(subject.source, subject.compose_file).map_err(|why| {
                StepError::permanent(format!("preflight: not started: {why}"))
                    .with_code(failures::PREFLIGHT_NOT_ISOLATED)
            })?,
        ),
        None => None,
    };
    ctx.info(format!(
        "preflight on Docker {version} with {}",
        compose.describe()
    ));
    let host_port = free_port(config)?;
    let mut env = vec![(
        infra::bundle::HOST_PORT_VARIABLE.to_owned(),
        host_port.to_string(),
    )];
    let placeholders: Vec<String> = subject
        .required_variables
        .iter()
        .filter(|name| !subject.values.contains_key(name.as_str()))
        .cloned()
        .collect();
    for variable in &placeholders {
        env.push((variable.clone(), PLACEHOLDER.to_owned()));
    }
    env.extend(subject.values.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.extend(
        subject
            .generated_secrets
            .iter()
            .filter(|name| !subject.values.contains_key(name.as_str()))
            .map(|name| (name.clone(), crate::secrets::fresh(name))),
    );
    if !placeholders.is_empty() {
        ctx.warn(format!(
            "preflight runs with placeholder values for {}: the app is probed without their real values",
            placeholders.join(", ")
        ));
    }
    let project = Project {
        config,
        compose: &compose,
        name: name.to_owned(),
        dir: subject.source.to_path_buf(),
        compose_file: subject.compose_file.to_owned(),
        build_override,
        run_override,
        env,
        remove_build_stages: true,
    };
    // A previous attempt that was interrupted may have left the project up.
    project.down(ctx).await;
    let mut output = PreflightOutput {
        engine: Some(version),
        compose: Some(compose.describe()),
        placeholders,
        ..PreflightOutput::default()
    };
    let result = build_start_probe(&project, ctx, subject, host_port, &mut output).await;
    project.down(ctx).await;
    result.map(|()| output)
}

async fn build_start_probe(
    project: &Project<'_>,
    ctx: &StepContext,
    subject: &Subject<'_>,
    host_port: u16,
    output: &mut PreflightOutput,
) -> Result<(), StepError> {
    let config = project.config;
    let mut tail = VecDeque::new();
    let started = Instant::now();
    ctx.info(format!("building the bundle ({})", subject.compose_file));
    // The standalone Compose builds with the classic builder, which keeps the
    // container of a failed step unless told not to. Without the engine's
    // cache: preflight removes its build stages when it is done, and a
    // concurrent build on the same engine that took one of them as a cached
    // layer then fails ("unknown parent image ID"); an uncached build
    // shares no layer but the base images.
    let build: &[&str] = if project.compose.prefix.is_empty() {
        &["build", "--force-rm", "--no-cache"]
    } else {
        &["build", "--no-cache"]
    };
    let built = project
        .run(ctx, build, config.build_timeout, &mut tail)
        .await;
    output.build_seconds = started.elapsed().as_secs_f64();
    let lines: Vec<String> = tail.iter().cloned().collect();
    output.build_log_tail = lines[lines.len().saturating_sub(TAIL_LINES)..].to_vec();
    if let Err(error) = built {
        if ctx.cancellation.is_cancelled() {
            return Err(StepError::retryable(error));
        }
        return Err(StepError::permanent(format!(
            "preflight: {}",
            diagnose::build_failure(&lines)
        ))
        .with_code(failures::PREFLIGHT_BUILD));
    }
    ctx.info(format!("built in {:.1}s", output.build_seconds));

    let started = Instant::now();
    let mut up_tail = VecDeque::new();
    if let Err(error) = project
        .run(
            ctx,
            &["up", "-d", "--no-build"],
            // On vfs storage creating the container copies the image's
            // whole file system, which a busy disk makes slow.
            Duration::from_secs(600),
            &mut up_tail,
        )
        .await
    {
        let lines: Vec<String> = up_tail.into_iter().collect();
        return Err(StepError::permanent(format!(
            "preflight: the bundle did not start: {error}\n{}",
            lines[lines.len().saturating_sub(8)..].join("\n")
        ))
        .with_code(failures::PREFLIGHT_START));
    }
    let container = project.container(subject.app_service).await;
    if let Some(container) = &container {
        let (image, size) = image_of(config, container).await;
        output.image = image;
        output.image_size_bytes = size;
    }
    let path = subject
        .health_path
        .filter(|p| p.starts_with('/'))
        .unwrap_or("/");
    let inside = match (&project.run_override, &container) {
        (Some(_), Some(container)) => Some(inside_address(project, container).await?),
        _ => None,
    };
    let url = match (&inside, &container) {
        (Some(Some(address)), _) => format!("http://{address}:{}{path}", subject.container_port),
        (Some(None), Some(container)) => {
            format!("http://{container}:{}{path}", subject.container_port)
        }
        _ => format!("{}{path}", config.published_url(host_port)),
    };
    output.url = Some(url.clone());
    let prober = match &inside {
        Some(address) => {
            ctx.info(format!(
                "probing {url} from inside the project's isolated network"
            ));
            Prober::Inside {
                address: address.as_deref(),
                port: subject.container_port,
                path,
            }
        }
        None => {
            ctx.info(format!(
                "probing {url} (container port {})",
                subject.container_port
            ));
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|error| {
                    StepError::retryable(format!("no HTTP client: {error}"))
                        .with_code(failures::PREFLIGHT_UNAVAILABLE)
                })?;
            Prober::Host { client, url: &url }
        }
    };
    let answers = Answers::for_health_path(subject.health_path);
    let verdict =
        probe_until_answer(config, ctx, &prober, container.as_deref(), answers, output).await;
    output.start_seconds = started.elapsed().as_secs_f64();
    if let Some(container) = &container {
        output.container_log_tail = container_logs(config, container).await;
    }
    let app_lines = || {
        let tail = &output.container_log_tail;
        if tail.is_empty() {
            "(it printed nothing)".to_owned()
        } else {
            tail[tail.len().saturating_sub(12)..].join("\n")
        }
    };
    let placeholders = if output.placeholders.is_empty() {
        String::new()
    } else {
        format!(
            " (it ran with placeholder values for {})",
            output.placeholders.join(", ")
        )
    };
    match verdict {
        Verdict::Healthy(status) => {
            ctx.info(format!(
                "preflight passed: HTTP {status} from {url} {:.1}s after start{}",
                output.start_seconds,
                answers.note(status)
            ));
            Ok(())
        }
        Verdict::Interrupted => Err(StepError::retryable("preflight interrupted")),
        Verdict::Exited(state) => Err(StepError::permanent(format!(
            "preflight: the app {state}{placeholders}; its last lines:\n{}",
            app_lines()
        ))
        .with_code(failures::PREFLIGHT_EXITED)),
        Verdict::NoAnswer(last) => {
            let why = match &container {
                Some(container) => listening_reason(config, container, subject.container_port)
                    .await
                    .unwrap_or_else(|| format!("last probe: {last}")),
                None => format!("no container runs service `{}`", subject.app_service),
            };
            Err(StepError::permanent(format!(
                "preflight: {url} did not answer within {}s: {why}{placeholders}; the app's last lines:\n{}",
                config.start_deadline.as_secs(),
                app_lines()
            ))
            .with_code(failures::PREFLIGHT_NO_ANSWER))
        }
    }
}

enum Verdict {
    Healthy(u16),
    /// The container stopped or restarts: how, in words.
    Exited(String),
    NoAnswer(String),
    Interrupted,
}

/// The app's address on its isolated network, with the prober joined to
/// it; none when the container has none (it stopped already: the probes
/// then fail and the container's state says why).
async fn inside_address(
    project: &Project<'_>,
    container: &str,
) -> Result<Option<String>, StepError> {
    run_network::connect_prober(project.config, &project.name)
        .await
        .map_err(|why| {
            StepError::retryable(format!("preflight: the app cannot be probed: {why}"))
                .with_code(failures::PREFLIGHT_UNAVAILABLE)
        })?;
    Ok(run_network::address_of(project.config, container).await)
}

/// Where the probes come from.
enum Prober<'a> {
    /// The host, on the published port.
    Host {
        client: reqwest::Client,
        url: &'a str,
    },
    /// The prober container on the project's isolated network.
    Inside {
        /// None when the container has no address.
        address: Option<&'a str>,
        port: u16,
        path: &'a str,
    },
}

impl Prober<'_> {
    async fn probe(&self, config: &DockerConfig) -> Probe {
        match self {
            Prober::Host { client, url } => probe(client, url).await,
            Prober::Inside {
                address: Some(address),
                port,
                path,
            } => run_network::probe(config, address, *port, path).await,
            Prober::Inside { address: None, .. } => Probe {
                at: chrono::Utc::now(),
                status: None,
                latency_ms: 0,
                error: Some("the container has no address on its network".into()),
            },
        }
    }
}

async fn probe_until_answer(
    config: &DockerConfig,
    ctx: &StepContext,
    prober: &Prober<'_>,
    container: Option<&str>,
    answers: Answers,
    output: &mut PreflightOutput,
) -> Verdict {
    let deadline = Instant::now() + config.start_deadline;
    loop {
        let answer = prober.probe(config).await;
        let last = describe(&answer);
        let status = answer.status;
        if output.probes.len() < 200 {
            output.probes.push(answer);
        }
        if let Some(status) = status.filter(|s| answers.shows_up(*s)) {
            return Verdict::Healthy(status);
        }
        if let Some(container) = container
            && let Some(state) = stopped(config, container).await
        {
            return Verdict::Exited(state);
        }
        if Instant::now() >= deadline {
            return Verdict::NoAnswer(last);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(750)) => {}
            _ = ctx.cancellation.cancelled() => return Verdict::Interrupted,
        }
    }
}

/// How the container stopped, if it did (exited, or restarting after exits).
async fn stopped(config: &DockerConfig, container: &str) -> Option<String> {
    let answer = docker::capture(
        config,
        &config.bin,
        &[
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}",
            container,
        ],
        Duration::from_secs(20),
    )
    .await
    .ok()?;
    let text = answer.stdout.trim().to_owned();
    let mut fields = text.split_whitespace();
    let status = fields.next()?;
    let code = fields.next().unwrap_or("?");
    let restarts: u32 = fields.next().and_then(|r| r.parse().ok()).unwrap_or(0);
    match status {
        "exited" | "dead" => Some(format!("exited with code {code} at start")),
        "restarting" => Some(format!(
            "exits at start (exit code {code}) and is being restarted"
        )),
        _ if restarts > 0 => Some(format!(
            "exited at start (exit code {code}) and was restarted {restarts} time(s)"
        )),
        _ => None,
    }
}

async fn container_logs(config: &DockerConfig, container: &str) -> Vec<String> {
    let tail = TAIL_LINES.to_string();
    match docker::capture(
        config,
        &config.bin,
        &["logs", "--tail", &tail, container],
        Duration::from_secs(30),
    )
    .await
    {
        Ok(answer) => {
            let lines: Vec<String> = answer.lines().iter().map(|l| without_ansi(l)).collect();
            lines[lines.len().saturating_sub(TAIL_LINES)..].to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Where the app listens inside its container, when that explains why the
/// published port gets no answer.
async fn listening_reason(config: &DockerConfig, container: &str, port: u16) -> Option<String> {
    let answer = docker::capture(
        config,
        &config.bin,
        &["exec", container, "cat", "/proc/net/tcp", "/proc/net/tcp6"],
        Duration::from_secs(20),
    )
    .await
    .ok()?;
    if answer.stdout.trim().is_empty() {
        return None;
    }
    diagnose::not_answering(&diagnose::listening(&answer.stdout), port)
}

async fn image_of(config: &DockerConfig, container: &str) -> (Option<String>, Option<u64>) {
    let image = docker::capture(
        config,
        &config.bin,
        &[
            "inspect",
            "--format",
            "{{.Config.Image}} {{.Image}}",
            container,
        ],
        Duration::from_secs(20),
    )
    .await
    .ok()
    .map(|a| a.stdout.trim().to_owned());
    let Some(image) = image.filter(|i| !i.is_empty()) else {
        return (None, None);
    };
    let (name, id) = image
        .split_once(' ')
        .unwrap_or((image.as_str(), image.as_str()));
    let size = docker::capture(
        config,
        &config.bin,
        &["image", "inspect", "--format", "{{.Size}}", id],
        Duration::from_secs(20),
    )
    .await
    .ok()
    .and_then(|a| a.stdout.trim().parse().ok());
    (Some(name.to_owned()), size)
}

/// How the compose file at `source/compose_file` reaches the host, if it
/// does (see `infra::bundle::host_access`).
pub(crate) fn reaches_host(source: &Path, compose_file: &str) -> Option<String> {
    let text = match std::fs::read_to_string(source.join(compose_file)) {
        Ok(text) => text,
        Err(error) => return Some(format!("{compose_file} cannot be read: {error}")),
    };
    let found = infra::bundle::host_access(&text);
    (!found.is_empty()).then(|| found.join("; "))
}

/// Puts the builds of the compose file at `source/compose_file` on the
/// isolated build network (see [`build_network`]) and returns the override
/// file that does so; `None` when builds are not isolated.
pub(crate) async fn isolate_builds(
    config: &DockerConfig,
    ctx: &StepContext,
    source: &Path,
    compose_file: &str,
) -> Result<Option<String>, StepError> {
    let prepared = build_network::prepare(config, ctx, |isolation| {
        build_network::isolate_project(isolation, source, compose_file)
    })
    .await?;
    Ok(prepared.map(|(_, override_file)| override_file))
}

/// A host port for the app: a free one on a local engine; on a remote one,
/// one from a range deployments do not use.
fn free_port(config: &DockerConfig) -> Result<u16, StepError> {
    if config.published_host() != "127.0.0.1" {
        return Ok(20000 + (rand_u16() % 10000));
    }
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| {
        StepError::retryable(format!("no free port for the preflight: {e}"))
            .with_code(failures::WORKER_IO)
    })?;
    listener.local_addr().map(|a| a.port()).map_err(|e| {
        StepError::retryable(format!("no free port for the preflight: {e}"))
            .with_code(failures::WORKER_IO)
    })
}

fn rand_u16() -> u16 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u16::from_le_bytes([bytes[0], bytes[1]])
}

/// `line` without terminal colour and cursor sequences (`ESC [ … letter`),
/// which apps print to their log and a reader of the timeline cannot use.
fn without_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn colour_sequences_are_removed_from_log_lines() {
        assert_eq!(
            super::without_ansi("\u{1b}[31m\u{1b}[1mWARNING: dev server\u{1b}[0m done"),
            "WARNING: dev server done"
        );
    }

    #[test]
    fn build_step_images_are_read_from_the_classic_builder_output() {
        assert_eq!(
            super::built_layer(" ---> 4d09b5cf7384"),
            Some("4d09b5cf7384")
        );
        assert_eq!(super::built_layer(" ---> Running in 0f1e2d3c4b5a"), None);
        assert_eq!(super::built_layer(" ---> Using cache"), None);
        assert_eq!(super::built_layer("Step 3/9 : RUN npm ci"), None);
    }
}
