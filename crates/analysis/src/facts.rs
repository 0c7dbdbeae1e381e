use serde::{Deserialize, Serialize};

/// Where a fact was seen. `line` is 1-based; `None` when the fact comes from
/// a file's existence or name rather than a line in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Which fact this supports: `http`, `language`, `framework`, `port`,
    /// `port_env`, `bind`, `start_command`, `env:<NAME>`, `docker`, `deny`, `subdir`,
    /// `health_path`. A fact about the repository as a whole (nothing
    /// recognised) cites the file `.`.
    pub fact: String,
    pub file: String,
    pub line: Option<u32>,
    /// A short quote or explanation a person can check.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// An environment variable the app reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    /// No default in the code or example file: the app needs it set.
    pub required: bool,
    /// Looks like a credential (KEY, SECRET, TOKEN, PASSWORD, DSN...): passed
    /// as a variable, never written with a value.
    pub secret: bool,
    /// The default value found in code or an example file, when not secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The URL scheme of the default (`postgresql+asyncpg`), kept when the
    /// default itself is not: it says which driver the app connects with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_scheme: Option<String>,
    /// What the value is, by the variable's name.
    #[serde(default)]
    pub kind: VariableKind,
    /// Read by a bundler's configuration (`next.config.js`, `vite.config.ts`,
    /// `nuxt.config.ts`...), which runs when the app is built: the value must
    /// reach the build, not only the running app.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_at_build: bool,
}

/// What an environment variable holds, which says who can give its value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableKind {
    /// A database's or cache's address, or a part of its connection
    /// (`DATABASE_URL`, `DB_HOST`, `DB_PASSWORD`, `REDIS_URL`).
    Datastore,
    /// A key the app itself signs or encrypts with (`SECRET_KEY`,
    /// `JWT_SECRET`, Laravel's `APP_KEY`): any strong random value serves,
    /// so a deployment can generate it.
    AppSecret,
    /// A credential someone else issued (an API key, a token, a password):
    /// only its owner can give it.
    Credential,
    /// The address of another service (`PAYMENTS_API_URL`, `SMTP_HOST`).
    ServiceUrl,
    /// The app's own public address (`BASE_URL`, `NEXTAUTH_URL`, Django's
    /// `ALLOWED_HOSTS`, Phoenix's `PHX_HOST`): known where it is deployed.
    OwnAddress,
    /// A port.
    Port,
    /// Anything else: a setting.
    #[default]
    Setting,
}

/// What address the app binds, as far as the code shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindAddress {
    /// The address seen (`127.0.0.1`, `localhost`, `0.0.0.0`, `::`), if any.
    pub host: Option<String>,
    /// True when the app would listen on loopback only, unreachable from outside.
    pub loopback_only: bool,
    /// How the generated config makes it listen on 0.0.0.0 (a flag, an env
    /// var, or a start command), when it needs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// A Dockerfile or compose file found in the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerFileFacts {
    /// Relative to the repository root.
    pub path: String,
    /// `dockerfile` or `compose`.
    pub kind: String,
    /// Ports the final image EXPOSEs, or compose services' container ports.
    pub ports: Vec<u16>,
    /// Host ports a compose file publishes them on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<u16>,
}

/// A process that runs beside the app from the same code (a Procfile's
/// `worker: celery -A proj worker`, `sidekiq`), which serves no HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    /// Its name in the Procfile (`worker`, `scheduler`).
    pub name: String,
    /// Its command, run in the app's directory.
    pub command: String,
}

/// An app found in a monorepo, with why it was (not) picked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCandidate {
    pub subdir: String,
    pub language: Option<String>,
    pub framework: Option<String>,
    pub http: bool,
}

/// The facts deployment decisions are made from. Field names are a public
/// contract: `deployflow analyse --json` prints this object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    /// The app is an HTTP server that can be deployed.
    pub http: bool,
    /// Why it was denied (a person-readable sentence), when `http` is false.
    pub deny_reason: Option<String>,
    /// The language of the app's code: `python`, `javascript`,
    /// `typescript`, `go`, `rust`, `java`, `kotlin`, `ruby`, `php`,
    /// `csharp`, `html` (a plain static site); also `dart`, `swift`,
    /// `elixir` for apps recognised only to be explained.
    pub language: Option<String>,
    /// What runs the code: `node`, `deno`, `bun`, `python`, `go`, `rust`,
    /// `java`, `kotlin`, `ruby`, `php`, `csharp`, `static` (files a web
    /// server serves)... Read it with [`Analysis::runtime`], which also
    /// answers for checkpoints written before this field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Lower-case framework name: `flask`, `fastapi`, `django`, `aiohttp`,
    /// `streamlit`, `gradio`, `express`, `fastify`, `nestjs`, `nextjs`, `koa`,
    /// `nuxt`, `node-http`, `deno`, `bun`, `net-http`, `gin`, `echo`, `fiber`,
    /// `axum`, `actix-web`, `rocket`, `spring-boot`, `ktor`, `quarkus`,
    /// `rails`, `sinatra`, `laravel`, `php`, `aspnet-core`, `static`, `vite`,
    /// `sveltekit`, `astro` (on its Node adapter), `remix`, `react-router`,
    /// `solid-start`;
    /// less common ones are named the same way (`quart`, `sanic`, `hapi`,
    /// `micronaut`, `symfony`, `rack`, `phoenix`...).
    pub framework: Option<String>,
    /// The app's directory relative to the repository root (`.` for the root).
    pub subdir: String,
    /// The port the app listens on inside its container.
    pub port: Option<u16>,
    /// The environment variable that overrides the port, if the app reads one.
    pub port_env: Option<String>,
    pub bind: BindAddress,
    /// The command that starts the app (in `subdir`).
    pub start_command: Option<String>,
    /// The command that builds the app, when it needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_command: Option<String>,
    /// Names of environment variables the app needs set (no default).
    pub required_env: Vec<String>,
    /// Every environment variable found, with defaults and secrecy.
    pub env: Vec<EnvVar>,
    /// The repository already has a Dockerfile for this app.
    pub dockerized: bool,
    /// Dockerfiles and compose files found, relative to the repository root.
    pub docker_files: Vec<String>,
    /// The same files with the ports each exposes or publishes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docker: Vec<DockerFileFacts>,
    /// The databases and caches the app's code uses (`postgres`, `mysql`,
    /// `redis`, `mongodb`), from its drivers and ORM settings; evidence
    /// `datastore:<kind>` says where.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datastores: Vec<String>,
    /// The app's MySQL client logs in only with `mysql_native_password` (the
    /// Node `mysql` package; PyMySQL or aiomysql without `cryptography`),
    /// which MySQL 8.4 no longer offers by default; evidence
    /// `datastore:mysql-native-password` says where.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mysql_native_password: bool,
    /// The app's PostgreSQL client insists on TLS unless its URL says
    /// `sslmode=disable` (Go's lib/pq); evidence `datastore:postgres-tls`
    /// says where.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub postgres_tls_by_default: bool,
    /// A path answering health probes (`/health`, `/healthz`...), if seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_path: Option<String>,
    /// Every app found when the repository holds several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppCandidate>,
    /// The description names the app's folder ("deploy the app in
    /// backend/"): the repository's other apps are not deployed with it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub app_dir_named: bool,
    /// Processes that run beside the app from its code (a Procfile's
    /// non-web entries); evidence `worker:<name>` says where.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<Worker>,
    /// Things a person should know: why an app was picked, conflicts between
    /// sources, guesses made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub evidence: Vec<Evidence>,
}

impl Analysis {
    /// What runs the code (see [`Analysis::runtime`](Self::runtime) the
    /// field); from the language when it is absent: `javascript` and
    /// `typescript` run on Node.js, `html` is served as files.
    pub fn runtime(&self) -> &str {
        if let Some(runtime) = self.runtime.as_deref() {
            return runtime;
        }
        match self.language.as_deref().unwrap_or_default() {
            "javascript" | "typescript" => "node",
            "html" => "static",
            other => other,
        }
    }
}
