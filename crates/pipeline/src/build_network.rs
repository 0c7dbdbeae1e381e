//! Builds of repository code away from the control plane. A repository's
//! `RUN` steps are code nobody here reviewed; on the engine's default
//! network they reach whatever the host does: the API, the database, the
//! cloud's instance metadata service and the credentials it hands out.
//!
//! So builds run on a network of their own: `--internal` (no route out) and
//! with no address of the host on its bridge (`inhibit_ipv4`), so nothing
//! but the containers on it can be reached. One container is on it and on
//! the default bridge: an HTTP(S) proxy (Debian's tinyproxy) that admits
//! only the hosts of an allow-list, the package registries by default. The
//! builds get it as their `HTTP(S)_PROXY`; what the engine itself fetches
//! (`ADD <url>`) must come from the allow-list too.

use std::path::Path;
use std::time::Duration;

use engine::{StepContext, StepError};
use sha2::{Digest, Sha256};

use crate::docker::{self, DockerConfig};
use crate::failures;

/// The network builds run on.
pub const NETWORK: &str = "deployflow-builds";
/// The egress proxy's image name; its tag and its container's name carry
/// the recipe's digest, so each allow-list has a proxy of its own.
pub const PROXY_NAME: &str = "deployflow-egress-proxy";
const PROXY_PORT: u16 = 3128;
/// The label that marks what this module created on an engine.
const LABEL: &str = "deployflow.build-isolation";

/// The package registries builds reach when nothing else is configured.
pub const DEFAULT_ALLOWED_HOSTS: &[&str] = &[
    // Python
    "pypi.org",
    "files.pythonhosted.org",
    // JavaScript (node-gyp fetches Node's headers from nodejs.org)
    "registry.npmjs.org",
    "registry.yarnpkg.com",
    "repo.yarnpkg.com",
    "nodejs.org",
    // Go
    "proxy.golang.org",
    "sum.golang.org",
    // Rust
    "crates.io",
    "index.crates.io",
    "static.crates.io",
    // Ruby, PHP, .NET, JVM
    "rubygems.org",
    "index.rubygems.org",
    "repo.packagist.org",
    "packagist.org",
    "api.nuget.org",
    "repo.maven.apache.org",
    "repo1.maven.org",
    "plugins.gradle.org",
    "services.gradle.org",
    // Operating-system packages
    "deb.debian.org",
    "security.debian.org",
    "dl-cdn.alpinelinux.org",
    "archive.ubuntu.com",
    "security.ubuntu.com",
    // Release downloads of packages that fetch prebuilt binaries
    "github.com",
    "codeload.github.com",
    "objects.githubusercontent.com",
    "release-assets.githubusercontent.com",
    // Web fonts a framework inlines at build time (Next.js `next/font/google`)
    "fonts.googleapis.com",
    "fonts.gstatic.com",
];

/// How builds are isolated (`BUILD_ISOLATION=on`, the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildIsolation {
    /// Host names builds may reach through the proxy: `name` for that
    /// host only, `.name` for it and its subdomains.
    pub allowed_hosts: Vec<String>,
    /// The image the proxy's image is built on (a Debian with apt).
    pub proxy_base_image: String,
}

impl BuildIsolation {
    /// The default allow-list, the proxy built on `proxy_base_image`.
    pub fn new(proxy_base_image: impl Into<String>) -> Self {
        Self {
            allowed_hosts: DEFAULT_ALLOWED_HOSTS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            proxy_base_image: proxy_base_image.into(),
        }
    }

    /// The proxy as builds name it.
    pub fn proxy_url(&self) -> String {
        format!("http://{}:{PROXY_PORT}", self.proxy_container())
    }

    /// The proxy's container: named by its recipe, so that deployflow
    /// versions or workers with another allow-list sharing one engine each
    /// run their own proxy instead of replacing each other's.
    pub fn proxy_container(&self) -> String {
        format!("{PROXY_NAME}-{}", self.recipe_digest())
    }

    /// Whether builds may reach `host`.
    pub fn admits(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allowed_hosts.iter().any(|allowed| {
            let allowed = allowed.to_ascii_lowercase();
            match allowed.strip_prefix('.') {
                Some(domain) => host == domain || host.ends_with(&format!(".{domain}")),
                None => host == allowed,
            }
        })
    }

    /// tinyproxy's filter: one extended regular expression per allowed host.
    fn filter(&self) -> String {
        self.allowed_hosts
            .iter()
            .map(|allowed| {
                let lower = allowed.to_ascii_lowercase();
                match lower.strip_prefix('.') {
                    Some(domain) => format!("(^|\\.){}$\n", regex_escape(domain)),
                    None => format!("^{}$\n", regex_escape(&lower)),
                }
            })
            .collect()
    }

    /// The proxy image's build context: Dockerfile, configuration, filter.
    fn proxy_context(&self) -> [(&'static str, String); 3] {
        let dockerfile = format!(
            "FROM {}\n\
             RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
             --no-install-recommends tinyproxy curl && rm -rf /var/lib/apt/lists/*\n\
             COPY tinyproxy.conf allowed-hosts /etc/tinyproxy/\n\
             USER nobody\n\
             EXPOSE {PROXY_PORT}\n\
             CMD [\"tinyproxy\", \"-d\", \"-c\", \"/etc/tinyproxy/tinyproxy.conf\"]\n",
            self.proxy_base_image
        );
        let config = format!(
            "Port {PROXY_PORT}\n\
             Listen 0.0.0.0\n\
             Timeout 600\n\
             MaxClients 200\n\
             LogLevel Connect\n\
             DisableViaHeader Yes\n\
             Filter \"/etc/tinyproxy/allowed-hosts\"\n\
             FilterType ere\n\
             FilterDefaultDeny Yes\n\
             FilterURLs Off\n\
             ConnectPort 443\n"
        );
        [
            ("Dockerfile", dockerfile),
            ("tinyproxy.conf", config),
            ("allowed-hosts", self.filter()),
        ]
    }

    /// The proxy image's name: its recipe's digest as the tag, so a changed
    /// allow-list makes a new image and a new proxy.
    fn proxy_image(&self) -> String {
        format!("{PROXY_NAME}:{}", self.recipe_digest())
    }

    fn recipe_digest(&self) -> String {
        let mut digest = Sha256::new();
        for (name, content) in self.proxy_context() {
            digest.update(name);
            digest.update(content);
        }
        hex::encode(&digest.finalize()[..6])
    }
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = !(c.is_ascii_alphanumeric() || c == '-');
            escape.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Readies a build for the isolated network: `check` first (what it refuses
/// is a permanent failure: the repository must change), then the network
/// and its proxy (a failure there is the engine's, worth retrying). `None`,
/// with a warning in the job's log, when builds are not isolated.
pub(crate) async fn prepare<'a, T>(
    config: &'a DockerConfig,
    ctx: &StepContext,
    check: impl FnOnce(&BuildIsolation) -> Result<T, String>,
) -> Result<Option<(&'a BuildIsolation, T)>, StepError> {
    let Some(isolation) = &config.isolation else {
        ctx.warn(
            "builds are not isolated (BUILD_ISOLATION=off): the repository's build steps reach whatever the engine's host reaches",
        );
        return Ok(None);
    };
    let checked = check(isolation).map_err(|why| {
        StepError::permanent(format!("not built: {why}")).with_code(failures::BUILD_FETCH_REFUSED)
    })?;
    ensure(config, isolation, ctx).await.map_err(|why| {
        StepError::retryable(format!("the isolated build network is not ready: {why}"))
            .with_code(failures::BUILD_NETWORK)
    })?;
    ctx.info(format!(
        "the build runs on the isolated network {NETWORK} through the egress proxy"
    ));
    Ok(Some((isolation, checked)))
}

/// One set-up at a time in this process; other processes that race it are
/// met by checking again what the engine has.
static SETTING_UP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Makes sure the engine has the build network and a running proxy on it.
pub(crate) async fn ensure(
    config: &DockerConfig,
    isolation: &BuildIsolation,
    ctx: &StepContext,
) -> Result<(), String> {
    let _one_at_a_time = SETTING_UP.lock().await;
    let image = isolation.proxy_image();
    let container = isolation.proxy_container();
    if !succeeds(config, &["image", "inspect", &image]).await {
        ctx.info(format!(
            "building the build network's egress proxy {image} on {}",
            isolation.proxy_base_image
        ));
        build_proxy_image(config, isolation, &image).await?;
    }
    ensure_network(config).await?;
    if proxy_running(config, &image, &container).await {
        return Ok(());
    }
    ctx.info(format!("starting the egress proxy {container}"));
    let _ = docker(config, &["rm", "-f", &container]).await;
    let label = format!("{LABEL}=proxy");
    let created = docker(
        config,
        &[
            "create",
            "--name",
            &container,
            "--label",
            &label,
            "--restart",
            "unless-stopped",
            "--network",
            NETWORK,
            &image,
        ],
    )
    .await;
    if let Err(error) = created {
        // Another worker process on the same engine made it meanwhile: the
        // lock above serialises this process only.
        if error.contains("is already in use")
            && proxy_started_by_another(config, &image, &container).await
        {
            return Ok(());
        }
        return Err(error);
    }
    docker(config, &["network", "connect", "bridge", &container]).await?;
    docker(config, &["start", &container]).await?;
    Ok(())
}

/// The proxy container runs the current proxy image.
async fn proxy_running(config: &DockerConfig, image: &str, container: &str) -> bool {
    let running = docker(
        config,
        &[
            "container",
            "inspect",
            "--format",
            "{{.Config.Image}} {{.State.Running}}",
            container,
        ],
    )
    .await;
    running.as_deref().map(str::trim) == Ok(&format!("{image} true"))
}

/// Waits a few seconds for the proxy another process is creating to run.
async fn proxy_started_by_another(config: &DockerConfig, image: &str, container: &str) -> bool {
    for _ in 0..10 {
        if proxy_running(config, image, container).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// The network, created when missing; one of that name that is not
/// isolated is refused rather than built on.
async fn ensure_network(config: &DockerConfig) -> Result<(), String> {
    let inspect = [
        "network",
        "inspect",
        "--format",
        "{{.Internal}} {{index .Options \"com.docker.network.bridge.inhibit_ipv4\"}}",
        NETWORK,
    ];
    if docker(config, &inspect).await.is_err() {
        let label = format!("{LABEL}=network");
        let created = docker(
            config,
            &[
                "network",
                "create",
                "--driver",
                "bridge",
                "--internal",
                "--opt",
                "com.docker.network.bridge.inhibit_ipv4=true",
                "--label",
                &label,
                NETWORK,
            ],
        )
        .await;
        // Another worker may have created it meanwhile: what counts is
        // what the engine has now.
        if let Err(error) = created
            && docker(config, &inspect).await.is_err()
        {
            return Err(format!(
                "cannot create the build network {NETWORK}: {error}"
            ));
        }
    }
    let settings = docker(config, &inspect).await?;
    if settings.trim() != "true true" {
        return Err(format!(
            "the engine has a network named {NETWORK} that is not isolated (internal and without a host address: `{}`); remove it and deployflow creates its own",
            settings.trim()
        ));
    }
    Ok(())
}

async fn build_proxy_image(
    config: &DockerConfig,
    isolation: &BuildIsolation,
    image: &str,
) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("no scratch directory: {e}"))?;
    for (name, content) in isolation.proxy_context() {
        std::fs::write(dir.path().join(name), content)
            .map_err(|e| format!("writing the proxy's {name}: {e}"))?;
    }
    let label = format!("{LABEL}=proxy-image");
    let context = dir.path().to_string_lossy().into_owned();
    // The classic builder, as for the app's own builds: a CLI that defaults
    // to BuildKit refuses to build at all when its buildx plugin is missing.
    let classic: Vec<(String, String)> = CLASSIC_BUILDER
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    let built = docker::capture_in(
        config,
        &config.bin,
        &["build", "-q", "--label", &label, "-t", image, &context],
        Duration::from_secs(600),
        None,
        &classic,
    )
    .await?;
    if built.success {
        return Ok(());
    }
    Err(format!(
        "the egress proxy could not be built on {}: {}",
        isolation.proxy_base_image,
        crate::preflight::diagnose::build_failure(&built.lines())
    ))
}

/// Runs `docker args…`; its standard output, or why it failed.
async fn docker(config: &DockerConfig, args: &[&str]) -> Result<String, String> {
    let answer = docker::capture(config, &config.bin, args, Duration::from_secs(60)).await?;
    if answer.success {
        Ok(answer.stdout)
    } else {
        Err(format!(
            "`docker {}`: {}",
            args.iter().take(2).copied().collect::<Vec<_>>().join(" "),
            answer.stderr.trim()
        ))
    }
}

async fn succeeds(config: &DockerConfig, args: &[&str]) -> bool {
    docker(config, args).await.is_ok()
}

/// Writes the override that puts `compose_file`'s builds on the network
/// beside it and returns its file name, after checking that nothing the
/// engine fetches for those builds (`ADD <url>`) is outside the
/// allow-list: the engine fetches from the host's network.
pub(crate) fn isolate_project(
    isolation: &BuildIsolation,
    source: &Path,
    compose_file: &str,
) -> Result<String, String> {
    let compose_path = source.join(compose_file);
    let text = std::fs::read_to_string(&compose_path)
        .map_err(|e| format!("{compose_file} cannot be read: {e}"))?;
    let isolated = infra::bundle::isolate_builds(&text, NETWORK, &isolation.proxy_url())
        .map_err(|e| format!("{compose_file}: {e}"))?;
    let compose_dir = compose_path.parent().unwrap_or(source);
    for dockerfile in &isolated.dockerfiles {
        match dockerfile {
            infra::bundle::BuildFile::Inline(text) => {
                check_engine_fetches(isolation, "an inline Dockerfile", text)?;
            }
            infra::bundle::BuildFile::Path(path) => {
                let text = std::fs::read_to_string(compose_dir.join(path)).unwrap_or_default();
                check_engine_fetches(isolation, &path.display().to_string(), &text)?;
            }
        }
    }
    let file_name = Path::new(compose_file)
        .with_file_name("deployflow.build-network.yml")
        .to_string_lossy()
        .into_owned();
    std::fs::write(source.join(&file_name), isolated.override_yaml)
        .map_err(|e| format!("writing {file_name}: {e}"))?;
    Ok(file_name)
}

/// Refuses a Dockerfile (`named` in the message) that has the engine fetch
/// a source from a host off the allow-list: the engine fetches `ADD <url>`
/// from the host's own network, around the build network.
pub(crate) fn check_engine_fetches(
    isolation: &BuildIsolation,
    named: &str,
    dockerfile: &str,
) -> Result<(), String> {
    for fetched in infra::bundle::engine_fetched_sources(dockerfile) {
        let admitted =
            infra::bundle::source_host(&fetched).is_some_and(|host| isolation.admits(&host));
        if !admitted {
            return Err(format!(
                "{named} has the engine fetch {fetched} (`ADD` of a URL), which the engine does from the host's own network and which is not on the build network's allow-list; download it in a `RUN` step from an allowed host, or add the host to BUILD_EGRESS_ALLOW if you trust it"
            ));
        }
    }
    Ok(())
}

/// The environment that makes both Compose flavours build with the classic
/// builder, the one that can run `RUN` steps on a network of the engine.
pub(crate) const CLASSIC_BUILDER: [(&str, &str); 2] =
    [("DOCKER_BUILDKIT", "0"), ("COMPOSE_DOCKER_CLI_BUILD", "0")];

/// `docker build` arguments that put a build on the network with the proxy.
pub(crate) fn build_arguments(isolation: &BuildIsolation) -> Vec<String> {
    let proxy = isolation.proxy_url();
    let mut args = vec!["--network".to_owned(), NETWORK.to_owned()];
    for name in infra::bundle::PROXY_ARGS {
        args.extend(["--build-arg".to_owned(), format!("{name}={proxy}")]);
    }
    // As in the compose override: no exception sends a request around it.
    for name in infra::bundle::NO_PROXY_ARGS {
        args.extend(["--build-arg".to_owned(), format!("{name}=")]);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_admitted_by_exact_name_or_by_domain() {
        let mut isolation = BuildIsolation::new("debian:trixie-slim");
        isolation.allowed_hosts = vec!["pypi.org".into(), ".internal.example".into()];
        for host in [
            "pypi.org",
            "PyPI.org.",
            "internal.example",
            "a.b.internal.example",
        ] {
            assert!(isolation.admits(host), "{host}");
        }
        for host in [
            "evilpypi.org",
            "pypi.org.evil.example",
            "169.254.169.254",
            "xinternal.example",
        ] {
            assert!(!isolation.admits(host), "{host}");
        }
        assert_eq!(
            isolation.filter(),
            "^pypi\\.org$\n(^|\\.)internal\\.example$\n"
        );
    }

    #[test]
    fn the_proxy_image_changes_with_the_allow_list() {
        let default = BuildIsolation::new("debian:trixie-slim");
        let mut wider = default.clone();
        wider.allowed_hosts.push("git.internal.example".into());
        assert_ne!(default.proxy_image(), wider.proxy_image());
        assert_ne!(default.proxy_container(), wider.proxy_container());
        assert!(
            default
                .proxy_image()
                .starts_with("deployflow-egress-proxy:")
        );
        let tag = default.proxy_image()["deployflow-egress-proxy:".len()..].to_owned();
        assert_eq!(
            default.proxy_container(),
            format!("deployflow-egress-proxy-{tag}")
        );
        assert_eq!(
            default.proxy_url(),
            format!("http://deployflow-egress-proxy-{tag}:3128")
        );
    }
}
