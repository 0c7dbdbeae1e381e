//! A real Docker engine for the tests, and stand-in base images built from
//! Debian packages (no registry of images is reachable from the test machines).
//!
//! The engine is the one `DOCKER_HOST` names when it answers; otherwise a
//! `dockerd` of the tests' own (overlay2 storage where the kernel allows it,
//! else vfs; its data under the cache directory, its own socket), started
//! once and left running for the next test process. The stand-ins carry the names of the base images generated
//! Dockerfiles use, under the registry prefix [`REGISTRY`] (the bundle's
//! `BASE_IMAGE_REGISTRY`): nothing pretends to be an official image. They are
//! built once and kept in the engine's data, so later runs find them.
//!
//! With `REQUIRE_DOCKER=1` (CI) a test that cannot have an engine fails;
//! otherwise it is told to skip, with the reason.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The registry prefix of the stand-in base images.
pub const REGISTRY: &str = "deployflow-test.local/";

/// The image the build network's egress proxy is built on; every build on
/// the engine goes through that proxy, so every test that builds needs it.
pub const DEBIAN_SLIM: &str = "debian:trixie-slim";

/// The minimal Debian root every stand-in starts from.
const ROOT_IMAGE: &str = "deployflow-test.local/debian-trixie-minbase:1";

/// A running engine the tests may use.
#[derive(Debug, Clone)]
pub struct DockerEngine {
    /// `DOCKER_HOST` for the CLIs.
    pub host: String,
}

/// A stand-in for one base image: its full name under [`REGISTRY`] and the
/// Dockerfile that builds it on the Debian root.
struct StandIn {
    image: &'static str,
    dockerfile: String,
    files: Vec<(&'static str, String)>,
}

/// Labels each stand-in with a digest of its recipe, so a cached image
/// built from an older recipe is rebuilt.
const RECIPE_LABEL: &str = "deployflow.test.recipe";

impl StandIn {
    fn recipe(&self) -> String {
        let mut digest = Sha256::new();
        digest.update(&self.dockerfile);
        for (name, content) in &self.files {
            digest.update(name);
            digest.update(content);
        }
        hex::encode(&digest.finalize()[..8])
    }

    fn is_built(&self, engine: &DockerEngine) -> bool {
        let format = format!("{{{{index .Config.Labels \"{RECIPE_LABEL}\"}}}}");
        engine
            .lines(&[
                "image",
                "inspect",
                "--format",
                &format,
                &format!("{REGISTRY}{}", self.image),
            ])
            .first()
            .is_some_and(|label| *label == self.recipe())
    }
}

/// The engine, or why there is none (the test then skips, unless
/// `REQUIRE_DOCKER=1`, when it panics with the reason).
pub fn engine() -> Option<DockerEngine> {
    match start() {
        Ok(engine) => Some(engine),
        Err(why) if required() => panic!("REQUIRE_DOCKER is set but {why}"),
        Err(why) => {
            eprintln!("skipping: {why}");
            None
        }
    }
}

/// The engine with the stand-ins of `images` (names as generated Dockerfiles
/// write them, without the prefix) built.
pub fn engine_with(images: &[&str]) -> Option<DockerEngine> {
    let engine = engine()?;
    let mut wanted = images.to_vec();
    wanted.push(DEBIAN_SLIM);
    match ensure_images(&engine, &wanted) {
        Ok(()) => Some(engine),
        Err(why) => panic!("the stand-in base images could not be built: {why}"),
    }
}

fn required() -> bool {
    std::env::var("REQUIRE_DOCKER").is_ok_and(|v| v == "1" || v == "true")
}

/// Where the tests' engine keeps its data, the Debian root and the lock.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DEPLOYFLOW_DOCKER_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache/deployflow-docker")
}

fn answers(host: &str) -> bool {
    Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .env("DOCKER_HOST", host)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn start() -> Result<DockerEngine, String> {
    if let Ok(host) = std::env::var("DOCKER_HOST")
        && !host.is_empty()
        && answers(&host)
    {
        return Ok(DockerEngine { host });
    }
    let cache = cache_dir();
    std::fs::create_dir_all(&cache)
        .map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let host = format!("unix://{}", cache.join("docker.sock").display());
    let _lock = lock(&cache.join("engine.lock"))?;
    if answers(&host) {
        return Ok(DockerEngine { host });
    }
    if Command::new("dockerd").arg("--version").output().is_err() {
        return Err("no Docker engine answers and dockerd is not installed (apt-get install docker.io docker-compose debootstrap)".into());
    }
    // overlay2 where the kernel mounts overlays on the cache's file system:
    // vfs copies an image's whole file system for every build step and
    // container (a Node build's seventeen steps took four minutes on vfs,
    // five seconds on overlay2).
    let mut last_error = String::new();
    for driver in STORAGE_DRIVERS {
        match start_daemon(&cache, &host, driver) {
            Ok(engine) => {
                drop_other_drivers_data(&cache, driver);
                return Ok(engine);
            }
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// The storage drivers tried, fastest first.
const STORAGE_DRIVERS: [&str; 2] = ["overlay2", "vfs"];

/// Starts `dockerd` on `driver`; an error when it exits or does not answer.
fn start_daemon(cache: &Path, host: &str, driver: &str) -> Result<DockerEngine, String> {
    let log = File::create(cache.join("dockerd.log")).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(cache.join("docker.sock"));
    let _ = std::fs::remove_file(cache.join("dockerd.pid"));
    // Its own process group: the engine outlives the test process that
    // started it, for the tests that follow.
    use std::os::unix::process::CommandExt;
    let mut daemon = Command::new("dockerd")
        .arg(format!("--storage-driver={driver}"))
        .arg(format!("--data-root={}", cache.join("root").display()))
        .arg(format!("--exec-root={}", cache.join("exec").display()))
        .arg(format!("--pidfile={}", cache.join("dockerd.pid").display()))
        .arg("-H")
        .arg(host)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start dockerd: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if answers(host) {
            return Ok(DockerEngine {
                host: host.to_owned(),
            });
        }
        if let Ok(Some(status)) = daemon.try_wait() {
            return Err(format!(
                "dockerd on {driver} storage exited ({status}); its last lines:\n{}",
                log_tail(cache)
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    Err(format!(
        "dockerd on {driver} storage did not answer within 60s; its last lines:\n{}",
        log_tail(cache)
    ))
}

fn log_tail(cache: &Path) -> String {
    let log = std::fs::read_to_string(cache.join("dockerd.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(15).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// An engine started on another driver than before leaves the old one's
/// layers behind, which it never reads again (on vfs, many gigabytes).
fn drop_other_drivers_data(cache: &Path, driver: &str) {
    for other in STORAGE_DRIVERS.iter().filter(|d| **d != driver) {
        let _ = std::fs::remove_dir_all(cache.join("root").join(other));
        let _ = std::fs::remove_dir_all(cache.join("root/image").join(other));
    }
}

/// An exclusive lock held while the returned file lives: test processes
/// start the engine and build images one at a time.
fn lock(path: &Path) -> Result<File, String> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    file.lock()
        .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    Ok(file)
}

impl DockerEngine {
    /// A `docker` command on this engine.
    pub fn docker(&self) -> Command {
        let mut command = Command::new("docker");
        command.env("DOCKER_HOST", &self.host);
        command
    }

    fn has_image(&self, image: &str) -> bool {
        self.docker()
            .args(["image", "inspect", "--format", "{{.Id}}", image])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Lines of `docker <args>` output (empty on failure).
    pub fn lines(&self, args: &[&str]) -> Vec<String> {
        self.docker()
            .args(args)
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .map(str::to_owned)
                    .filter(|l| !l.trim().is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Containers, networks and volumes of compose project `project`.
    pub fn project_leftovers(&self, project: &str) -> Vec<String> {
        let label = format!("label=com.docker.compose.project={project}");
        let mut left = Vec::new();
        for kind in ["container", "network", "volume"] {
            let mut args = vec![kind, "ls", "-q", "--filter", label.as_str()];
            if kind == "container" {
                args = vec!["ps", "-aq", "--filter", label.as_str()];
            }
            left.extend(
                self.lines(&args)
                    .into_iter()
                    .map(|id| format!("{kind} {id}")),
            );
        }
        left
    }
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let tail: Vec<&str> = text.lines().rev().take(20).collect();
    Err(format!(
        "{what} failed:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

/// Frees what the tests left on the engine: every container, every image
/// but the stand-ins and their Debian root, and the build cache. On vfs
/// storage each image layer is a full copy of its file system, so an engine
/// the suite has used for a while holds many gigabytes. Returns `docker
/// system df` after the clean-up.
pub fn prune(engine: &DockerEngine) -> Result<String, String> {
    let containers = engine.lines(&["ps", "-aq"]);
    if !containers.is_empty() {
        run(
            engine.docker().args(["rm", "-f"]).args(&containers),
            "removing containers",
        )?;
    }
    let keep: Vec<String> = stand_in_names()
        .iter()
        .map(|image| format!("{REGISTRY}{image}"))
        .chain([ROOT_IMAGE.to_owned()])
        .collect();
    let unwanted: Vec<String> = engine
        .lines(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])
        .into_iter()
        // The build network's proxy images are kept too: every build needs one.
        .filter(|name| {
            !name.contains("<none>")
                && !keep.contains(name)
                && !name.starts_with("deployflow-egress-proxy:")
        })
        .collect();
    if !unwanted.is_empty() {
        run(
            engine.docker().args(["image", "rm", "-f"]).args(&unwanted),
            "removing the tests' images",
        )?;
    }
    run(
        engine.docker().args(["image", "prune", "-f"]),
        "removing dangling images",
    )?;
    run(
        engine.docker().args(["builder", "prune", "-af"]),
        "removing the build cache",
    )?;
    Ok(engine.lines(&["system", "df"]).join("\n"))
}

/// Every base image there is a stand-in for.
pub fn stand_in_names() -> Vec<&'static str> {
    stand_ins().into_iter().map(|s| s.image).collect()
}

/// Builds whichever stand-ins of `images` the engine lacks.
pub fn ensure_images(engine: &DockerEngine, images: &[&str]) -> Result<(), String> {
    let wanted: Vec<StandIn> = stand_ins()
        .into_iter()
        .filter(|s| images.contains(&s.image))
        .collect();
    for image in images {
        if !wanted.iter().any(|s| s.image == *image) {
            return Err(format!("there is no stand-in recipe for {image}"));
        }
    }
    if wanted.iter().all(|s| s.is_built(engine)) {
        return Ok(());
    }
    let cache = cache_dir();
    let _lock = lock(&cache.join("images.lock"))?;
    ensure_root(engine, &cache)?;
    for stand_in in wanted {
        let name = format!("{REGISTRY}{}", stand_in.image);
        if stand_in.is_built(engine) {
            continue;
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("Dockerfile"), &stand_in.dockerfile)
            .map_err(|e| e.to_string())?;
        let ca = std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
        std::fs::write(dir.path().join("ca-certificates.crt"), ca).map_err(|e| e.to_string())?;
        for (file, content) in &stand_in.files {
            std::fs::write(dir.path().join(file), content).map_err(|e| e.to_string())?;
        }
        run(
            engine
                .docker()
                .env("DOCKER_BUILDKIT", "0")
                .args(["build", "--network", "host", "-q", "-t", &name])
                .args(["--label", &format!("{RECIPE_LABEL}={}", stand_in.recipe())])
                .arg(dir.path()),
            &format!("building the stand-in {name}"),
        )?;
    }
    Ok(())
}

/// The Debian root image, from `debootstrap --variant=minbase trixie`.
fn ensure_root(engine: &DockerEngine, cache: &Path) -> Result<(), String> {
    if engine.has_image(ROOT_IMAGE) {
        return Ok(());
    }
    let rootfs = cache.join("rootfs-trixie");
    if !rootfs.join("usr/bin/apt-get").exists() {
        let _ = std::fs::remove_dir_all(&rootfs);
        run(
            Command::new("debootstrap")
                .args(["--variant=minbase", "trixie"])
                .arg(&rootfs),
            "debootstrap --variant=minbase trixie",
        )?;
    }
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    run(
        engine
            .docker()
            .args(["import", "-", ROOT_IMAGE])
            .stdin(tar.stdout.expect("tar's stdout is piped")),
        "docker import of the Debian root",
    )
}

/// The host's CA bundle (the registries are reached through a TLS proxy
/// with its own CA), copied in after apt installed ca-certificates.
const CA_LINES: &str = "COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\n\
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
npm_config_cafile=/etc/ssl/certs/ca-certificates.crt\n";

fn apt(packages: &str) -> String {
    format!(
        "FROM {ROOT_IMAGE}\n\
         RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
         --no-install-recommends ca-certificates {packages} && rm -rf /var/lib/apt/lists/*\n\
         {CA_LINES}"
    )
}

/// nginx as the unprivileged image runs it: uid 101, port 8080, pid and
/// temporary files under /tmp, `conf.d/*.conf` included.
const NGINX_CONF: &str = "pid /tmp/nginx.pid;\n\
worker_processes 1;\n\
error_log /dev/stderr warn;\n\
events { worker_connections 256; }\n\
http {\n\
  include /etc/nginx/mime.types;\n\
  access_log /dev/stdout;\n\
  client_body_temp_path /tmp/client_temp;\n\
  proxy_temp_path /tmp/proxy_temp;\n\
  fastcgi_temp_path /tmp/fastcgi_temp;\n\
  uwsgi_temp_path /tmp/uwsgi_temp;\n\
  scgi_temp_path /tmp/scgi_temp;\n\
  include /etc/nginx/conf.d/*.conf;\n\
}\n";

/// Alpine's `adduser -D -H -u UID NAME`, on Debian's useradd.
const BUSYBOX_ADDUSER: &str = "#!/bin/sh\n\
uid=\"\"; home=--create-home\n\
while [ $# -gt 1 ]; do\n\
  case \"$1\" in\n\
    -u) uid=\"--uid $2\"; shift 2;;\n\
    -H) home=--no-create-home; shift;;\n\
    *) shift;;\n\
  esac\n\
done\n\
exec useradd $uid $home \"$1\"\n";

/// The official postgres image's first start: `initdb` with POSTGRES_USER
/// and POSTGRES_PASSWORD (password auth from other hosts), POSTGRES_DB
/// created, the `*.sql` of /docker-entrypoint-initdb.d run in it, then the
/// server on all addresses as the postgres user.
const POSTGRES_ENTRYPOINT: &str = r#"#!/bin/sh
set -e
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
user="${POSTGRES_USER:-postgres}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}"
  pwfile="$(mktemp)"
  printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [ -n "$POSTGRES_DB" ] && [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -c "CREATE DATABASE "$POSTGRES_DB"" >/dev/null
  fi
  for script in /docker-entrypoint-initdb.d/*.sql; do
    [ -f "$script" ] || continue
    echo "running $script"
    psql -v ON_ERROR_STOP=1 -U "$user" -d "${POSTGRES_DB:-$user}" -f "$script" >/dev/null
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
"#;

/// The official mysql image's first start, on Debian's MariaDB: the data
/// directory made, MYSQL_DATABASE created, MYSQL_USER given all of it with
/// MYSQL_PASSWORD from any host, the root password random
/// (MYSQL_RANDOM_ROOT_PASSWORD), the `*.sql` of /docker-entrypoint-initdb.d
/// run in the database; then the server on all addresses as the mysql user.
const MYSQL_ENTRYPOINT: &str = r#"#!/bin/sh
set -e
datadir=/var/lib/mysql
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$datadir" /run/mysqld
  chown -R mysql:mysql "$datadir" /run/mysqld
  exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
fi
if [ ! -d "$datadir/mysql" ]; then
  : "${MYSQL_PASSWORD:?MYSQL_PASSWORD is not set}"
  mariadb-install-db --datadir="$datadir" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  socket=/run/mysqld/init.sock
  mariadbd --datadir="$datadir" --skip-networking --socket="$socket" &
  server=$!
  for _ in $(seq 1 60); do
    mariadb-admin --socket="$socket" -uroot ping --silent 2>/dev/null && break
    sleep 1
  done
  root_password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  mariadb --socket="$socket" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`${MYSQL_DATABASE:-app}\`;
CREATE USER '${MYSQL_USER:-app}'@'%' IDENTIFIED BY '${MYSQL_PASSWORD}';
GRANT ALL ON \`${MYSQL_DATABASE:-app}\`.* TO '${MYSQL_USER:-app}'@'%';
ALTER USER 'root'@'localhost' IDENTIFIED BY '${root_password}';
SQL
  for script in /docker-entrypoint-initdb.d/*.sql; do
    [ -f "$script" ] || continue
    echo "running $script"
    mariadb --socket="$socket" -uroot --password="$root_password" "${MYSQL_DATABASE:-app}" < "$script"
  done
  mariadb-admin --socket="$socket" -uroot --password="$root_password" shutdown
  wait "$server" || true
  echo "MySQL init process complete; ready for start up."
fi
exec mariadbd --datadir="$datadir" --bind-address=0.0.0.0 --port=3306
"#;

/// The official redis image's entrypoint: `redis-server` runs as the redis
/// user in /data. The official image is compiled with protected mode off
/// (it answers other containers without a password); Debian's build is
/// not, so it is turned off on the command line, after a config file.
const REDIS_ENTRYPOINT: &str = r#"#!/bin/sh
set -e
if [ "$1" = redis-server ]; then
  shift
  if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    conf=$1
    shift
    set -- redis-server "$conf" --protected-mode no "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  chown -R redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
"#;

/// Debian's Python with pip and venv. The official image's Python is not
/// marked externally managed.
fn python_stand_in() -> String {
    format!(
        "{}RUN rm -f /usr/lib/python3*/EXTERNALLY-MANAGED\n",
        apt("python3 python3-venv python3-pip python-is-python3 passwd")
    )
}

fn stand_ins() -> Vec<StandIn> {
    vec![
        StandIn {
            image: DEBIAN_SLIM,
            dockerfile: apt(""),
            files: Vec::new(),
        },
        StandIn {
            image: "python:3.12.8-slim-bookworm",
            dockerfile: python_stand_in(),
            files: Vec::new(),
        },
        // Debian trixie's Python is 3.13: the image of a project that pins
        // 3.13 (the engine's cache makes it the same image).
        StandIn {
            image: "python:3.13.1-slim-bookworm",
            dockerfile: python_stand_in(),
            files: Vec::new(),
        },
        StandIn {
            image: "node:22.12.0-bookworm-slim",
            // Yarn 1 on the PATH, as the official image has it.
            dockerfile: format!(
                "{}RUN useradd --create-home --uid 1000 node && npm install -g yarn@1.22.22\n",
                apt("nodejs npm passwd")
            ),
            files: Vec::new(),
        },
        StandIn {
            image: "nginxinc/nginx-unprivileged:1.27.3-alpine",
            dockerfile: format!(
                "{}RUN useradd --system --uid 101 --no-create-home nginx \
                 && rm -f /etc/nginx/sites-enabled/default && mkdir -p /etc/nginx/conf.d\n\
                 COPY nginx.conf /etc/nginx/nginx.conf\n\
                 USER 101\nEXPOSE 8080\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n",
                apt("nginx wget passwd")
            ),
            files: vec![("nginx.conf", NGINX_CONF.to_owned())],
        },
        StandIn {
            image: "php:8.3.14-cli-bookworm",
            dockerfile: apt("php-cli passwd"),
            files: Vec::new(),
        },
        StandIn {
            image: "golang:1.23.4-bookworm",
            dockerfile: apt("golang-go git"),
            files: Vec::new(),
        },
        StandIn {
            // Debian trixie's Rust is 1.85, the version the image is named for.
            image: "rust:1.85.0-slim-bookworm",
            dockerfile: apt("rustc cargo libc6-dev"),
            files: Vec::new(),
        },
        StandIn {
            image: "debian:12.8-slim",
            dockerfile: apt("passwd"),
            files: Vec::new(),
        },
        StandIn {
            image: "ghcr.io/astral-sh/uv:0.5.11",
            // The official image holds the static binary at /uv.
            dockerfile: format!(
                "{}RUN pip install --break-system-packages uv==0.5.11\n\
                 FROM scratch\nCOPY --from=0 /usr/local/bin/uv /uv\n",
                apt("python3-pip")
            ),
            files: Vec::new(),
        },
        StandIn {
            image: "alpine:3.20.3",
            dockerfile: format!(
                "{}COPY adduser /usr/local/sbin/adduser\nRUN chmod 755 /usr/local/sbin/adduser\n",
                apt("wget passwd")
            ),
            files: vec![("adduser", BUSYBOX_ADDUSER.to_owned())],
        },
        StandIn {
            image: "postgres:17.6-bookworm",
            // Debian's server without the cluster its package would create.
            dockerfile: format!(
                "FROM {ROOT_IMAGE}\n\
                 RUN mkdir -p /etc/postgresql-common \
                 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
                 && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                 --no-install-recommends postgresql-17 && rm -rf /var/lib/apt/lists/*\n\
                 ENV PATH=/usr/lib/postgresql/17/bin:$PATH PGDATA=/var/lib/postgresql/data\n\
                 COPY docker-entrypoint.sh /usr/local/bin/\n\
                 RUN chmod 755 /usr/local/bin/docker-entrypoint.sh\n\
                 VOLUME /var/lib/postgresql/data\n\
                 EXPOSE 5432\n\
                 ENTRYPOINT [\"docker-entrypoint.sh\"]\n\
                 CMD [\"postgres\"]\n"
            ),
            files: vec![("docker-entrypoint.sh", POSTGRES_ENTRYPOINT.to_owned())],
        },
        mysql_stand_in("mysql:8.4.6"),
        mysql_stand_in("mariadb:11.4.7"),
        StandIn {
            image: "redis:7.4.5-bookworm",
            dockerfile: format!(
                "FROM {ROOT_IMAGE}\n\
                 RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                 --no-install-recommends redis-server redis-tools && rm -rf /var/lib/apt/lists/* \
                 && mkdir /data && chown redis:redis /data\n\
                 COPY docker-entrypoint.sh /usr/local/bin/\n\
                 RUN chmod 755 /usr/local/bin/docker-entrypoint.sh\n\
                 VOLUME /data\n\
                 WORKDIR /data\n\
                 EXPOSE 6379\n\
                 ENTRYPOINT [\"docker-entrypoint.sh\"]\n\
                 CMD [\"redis-server\"]\n"
            ),
            files: vec![("docker-entrypoint.sh", REDIS_ENTRYPOINT.to_owned())],
        },
    ]
}

/// MySQL's and MariaDB's images: Debian's MariaDB answers MySQL's protocol,
/// with its clients under both names, as the official MySQL image's users
/// call them.
fn mysql_stand_in(image: &'static str) -> StandIn {
    StandIn {
        image,
        // The package's own system tables go: the first start makes them.
        dockerfile: format!(
            "FROM {ROOT_IMAGE}\n\
             RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
             --no-install-recommends mariadb-server mariadb-client && rm -rf /var/lib/apt/lists/* \
             && ln -sf /usr/bin/mariadb-admin /usr/local/bin/mysqladmin \
             && ln -sf /usr/bin/mariadb /usr/local/bin/mysql \
             && rm -rf /var/lib/mysql && install -d -o mysql -g mysql /var/lib/mysql\n\
             COPY docker-entrypoint.sh /usr/local/bin/\n\
             RUN chmod 755 /usr/local/bin/docker-entrypoint.sh\n\
             VOLUME /var/lib/mysql\n\
             EXPOSE 3306\n\
             ENTRYPOINT [\"docker-entrypoint.sh\"]\n\
             CMD [\"mysqld\"]\n"
        ),
        files: vec![("docker-entrypoint.sh", MYSQL_ENTRYPOINT.to_owned())],
    }
}
