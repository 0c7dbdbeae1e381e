//! Environment variables an app reads: from `.env.example`-style files and
//! from env reads in code and config, with whether each has a default.
//!
//! A variable is required when nothing gives it a default: no default in
//! the read, no real value in an example file, no ENV in the app's
//! Dockerfile. An example file's empty value or placeholder is not a default.

use std::collections::BTreeMap;

use super::scan::{Spot, hits, line_at, line_text, quote};
use super::view::{AppView, file_name};
use crate::facts::{EnvVar, Evidence};
use crate::snapshot::FileEntry;

/// One place a variable is read or declared.
#[derive(Debug, Clone)]
pub(crate) struct EnvRead {
    pub name: String,
    /// `Some` when this read supplies a value if the variable is unset
    /// (an empty string for reads that tolerate absence, like comparisons).
    pub default: Option<String>,
    /// Listed in an example file (`.env.example`), not read by code.
    pub example: bool,
    /// The app fails when it is unset (`os.environ["X"]`, `ENV.fetch("X")`,
    /// a schema field, `|| raise`): an example file's value is no default.
    pub strict: bool,
    /// A check at the top level of a module stops it loading when the
    /// variable is unset (`if (!process.env.X) process.exit(1)`): the app
    /// cannot start, whatever other reads cope with.
    pub stops_at_load: bool,
    pub at: Spot,
}

/// The default of a read the app copes without (a settings field's `=
/// None`, a variable only migrations read) but has no value to hand it.
pub(crate) const COPES_WITHOUT: &str = "None";

/// Set by the platform or the runtime; never asked of the user.
const PLATFORM: &[&str] = &[
    "PORT",
    "HOST",
    "HOSTNAME",
    "NODE_ENV",
    "PATH",
    "HOME",
    "PWD",
    "USER",
    "SHELL",
    "TERM",
    "LANG",
    "TZ",
    "CI",
    "DEBUG",
    "ENV",
    "ENVIRONMENT",
    "APP_ENV",
    "RAILS_ENV",
    "RACK_ENV",
    "FLASK_ENV",
    "FLASK_DEBUG",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "DYNO",
    "K_SERVICE",
    "BUNDLE_GEMFILE",
    "RAILS_MAX_THREADS",
    "RAILS_MIN_THREADS",
    "WEB_CONCURRENCY",
    "PIDFILE",
    "JAVA_HOME",
    "GOPATH",
    "ASPNETCORE_ENVIRONMENT",
    "DOTNET_ENVIRONMENT",
    "GIN_MODE",
    "GO_ENV",
    "MIX_ENV",
];

/// Whether a variable's name says it holds a credential (`*_SECRET`,
/// `*_TOKEN`, `*_PASSWORD`, `*_KEY`, `DATABASE_URL`...).
pub fn is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    // How long a token lives, how a password is hashed: a setting about a
    // secret (`ACCESS_TOKEN_EXPIRE_MINUTES=30`, `BCRYPT_SALT_ROUNDS=10`).
    if re!(
        r"_(?:EXPIRES?(?:_IN)?|EXPIRY|EXPIRATION(?:_TIME)?|EXPIRE_(?:MINUTES|HOURS|DAYS|SECONDS|TIME)|TTL|LIFETIME|DURATION|TIMEOUT|MAX_AGE|AGE|LENGTH|ROUNDS|MINUTES|HOURS|DAYS|SECONDS|ALGORITHM)$"
    )
    .is_match(&upper)
    {
        return false;
    }
    [
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
        "DSN",
        "AUTH",
        "SALT",
        "WEBHOOK",
    ]
    .iter()
    .any(|w| upper.contains(w))
        || upper.ends_with("_KEY")
        || upper == "KEY"
        || upper.contains("DATABASE_URL")
        || upper.ends_with("_DB_URL")
        || (upper.ends_with("_URI")
            && ["MONGO", "DATABASE", "REDIS"]
                .iter()
                .any(|w| upper.contains(w)))
}

fn is_example_file(name: &str) -> bool {
    re!(r"^(?:\.env|env)(?:\.[\w-]+)*\.(?:example|sample|template|tmpl|dist|defaults)$|^(?:example|sample)\.env$|^\.env$")
        .is_match(name)
}

/// Every env read in the app's files, plus example files at the repository
/// root when the app lives in a subdirectory.
pub(crate) fn scan(
    view: &AppView<'_>,
    root_files: &[&FileEntry],
    skip_dirs: &[&str],
) -> Vec<EnvRead> {
    let mut reads = Vec::new();
    // Prisma's CLI loads `prisma/.env`; to an app without Prisma it is a
    // leftover no code reads.
    let uses_prisma = view
        .text("package.json")
        .is_some_and(|p| p.contains("\"prisma\"") || p.contains("\"@prisma/client\""));
    let prisma_in_use = super::datastores::prisma_in_use(view);
    // The URLs an unused schema names (`env("DATABASE_URL")`): an example
    // file lists them for Prisma's CLI, not for the app.
    let unused_schema_urls: Vec<String> = if prisma_in_use {
        Vec::new()
    } else {
        view.files
            .iter()
            .filter(|f| f.path.ends_with(".prisma"))
            .filter_map(|f| f.content.as_deref())
            .flat_map(|text| {
                re!(r#"\benv\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)"#)
                    .captures_iter(text)
                    .map(|c| c[1].to_owned())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let helpers = super::env_helpers::strict_helpers(view.files.iter().copied());
    let loaded = loaded_examples(&view.files);
    let files = view.files.iter().copied().chain(root_files.iter().copied());
    let mut assigned: Vec<(String, Spot)> = Vec::new();
    for file in files {
        let name = file_name(&file.path);
        let rel = view.rel(&file.path);
        let prisma_leftover = !uses_prisma && rel.starts_with("prisma/") && is_example_file(name);
        // A schema without models reads its URL for nothing.
        let unused_schema = name.ends_with(".prisma") && !prisma_in_use;
        if skip_dirs.iter().any(|d| rel.starts_with(d))
            || prisma_leftover
            || unused_schema
            || is_not_runtime(rel)
            || rel == "config/cable.yml" && !uses_action_cable(view)
        {
            continue;
        }
        if is_example_file(name) && loaded.iter().any(|l| l == name) {
            reads.extend(example_file(file).into_iter().map(|mut read| {
                // The app loads the file itself: its values are the app's.
                read.example = false;
                read.default.get_or_insert_with(String::new);
                read.at.detail = format!("the app loads {name}, which sets it");
                read
            }));
        } else if is_example_file(name) {
            reads.extend(
                example_file(file)
                    .into_iter()
                    .filter(|read| !unused_schema_urls.contains(&read.name)),
            );
        } else if name == "database.yml" {
            reads.extend(url_carries_parts(file, code_reads(file)));
        } else {
            reads.extend(code_reads(file));
            reads.extend(super::env_helpers::calls(file, &helpers));
            assigned.extend(assignments(file));
        }
    }
    // What the app sets itself is no variable it needs given.
    for read in reads.iter_mut() {
        if let Some(at) = assigned
            .iter()
            .find(|(name, _)| *name == read.name)
            .map(|(_, at)| at)
            && read.default.is_none()
        {
            read.default = Some(String::new());
            read.strict = false;
            read.at.detail = format!("the app sets it itself ({})", at.cite());
        }
    }
    super::env_guards::mark_setting_guarded(&view.files, &mut reads);
    reads.extend(rails_master_key(view));
    reads.extend(rails_secret_key_base(view));
    reads.extend(super::env_frameworks::spring_without_datasource(view));
    reads.extend(super::env_frameworks::laravel_jwt_secret(view));
    reads.extend(super::env_frameworks::laravel_app_key(view));
    reads
}

/// Variables the code sets: `process.env.X = …`, `os.environ["X"] = …`,
/// `os.environ.setdefault("X", …)`, `ENV["X"] ||= …`.
fn assignments(file: &FileEntry) -> Vec<(String, Spot)> {
    let set = re!(
        r#"(?:\bprocess\.env(?:\.(\w+)|\[\s*["'](\w+)["']\s*\])|\b(?:os\.environ|ENV)\[\s*["'](\w+)["']\s*\])\s*(?:=[^=~>]|\|\|=|\?\?=)|\bos\.environ\.setdefault\(\s*["'](\w+)["']"#
    );
    hits(file, set)
        .filter_map(|hit| {
            let name = (1..=4).find_map(|i| hit.group(i))?;
            Some((name.to_owned(), hit.spot()))
        })
        .collect()
}

/// Variables the image's start command expands (`ENTRYPOINT java -jar
/// app.jar --spring.datasource.url=$DB_URL`): the app gets an empty
/// argument without them. A `${X:-d}` has its default; what the Dockerfile
/// sets itself with `ENV` is provided when its value works there (see
/// [`image_provides`]: an example database's host and credentials do not).
pub(crate) fn command_reads(dockerfile: &super::docker::Dockerfile) -> Vec<EnvRead> {
    let Some(command) = &dockerfile.command else {
        return Vec::new();
    };
    re!(r"(:)?\$\{([A-Z][A-Z0-9_]*)(?::?-([^}]*))?\}|(:)?\$([A-Z][A-Z0-9_]*)")
        .captures_iter(&command.value)
        .filter_map(|c| {
            let name = c.get(2).or(c.get(5))?.as_str();
            // After a colon (`--listen=:$PORT`, `host:$PORT`) it is a port:
            // the image's own value is its default, a bare number.
            let port_position = c.get(1).or(c.get(4)).is_some();
            let image_value = dockerfile
                .env
                .get(name)
                .filter(|_| port_position)
                .map(|v| v.value.clone());
            (!PLATFORM.contains(&name)).then(|| EnvRead {
                name: name.to_owned(),
                default: c.get(3).map(|d| d.as_str().to_owned()).or(image_value),
                example: false,
                strict: false,
                stops_at_load: false,
                at: command
                    .at
                    .with_detail(format!("the start command expands ${name}")),
            })
        })
        .collect()
}

/// A `database.yml` environment whose `url:` comes from the environment
/// (`url: <%= ENV["DATABASE_URL"] %>`) takes the host, user and password
/// from that URL: the block's other connection reads are optional.
fn url_carries_parts(file: &FileEntry, mut reads: Vec<EnvRead>) -> Vec<EnvRead> {
    let text = file.content.as_deref().unwrap_or_default();
    // (first line, last line) of each top-level block whose url is read.
    let mut blocks: Vec<(u32, u32)> = Vec::new();
    let mut start = 0;
    let mut url_read = false;
    let mut last = 0;
    for (line, n) in text.lines().zip(1u32..) {
        last = n;
        if !line.starts_with([' ', '\t', '#']) && !line.trim().is_empty() {
            if url_read {
                blocks.push((start, n - 1));
            }
            start = n;
            url_read = false;
        }
        if re!(r"^\s+url:\s*<%=?\s*ENV").is_match(line) {
            url_read = true;
        }
    }
    if url_read {
        blocks.push((start, last));
    }
    for read in &mut reads {
        let line = read.at.line.unwrap_or_default();
        let part = re!(r"(?:PASSWORD|PASS|USERNAME|USER|HOST|PORT)$")
            .is_match(&read.name.to_ascii_uppercase());
        if part && blocks.iter().any(|(a, b)| (*a..=*b).contains(&line)) {
            read.default = Some(String::new());
            read.strict = false;
        }
    }
    reads
}

/// Every Rails app is generated with `config/cable.yml` (and its
/// `REDIS_URL`); it is read only when the app has channels of its own.
fn uses_action_cable(view: &AppView<'_>) -> bool {
    view.files.iter().any(|file| {
        let rel = view.rel(&file.path);
        rel.starts_with("app/channels/")
            && !rel.starts_with("app/channels/application_cable/")
            && rel.ends_with(".rb")
    })
}

/// A Rails app with no encrypted credentials and no `config/secrets.yml`
/// takes its `secret_key_base` in production from `SECRET_KEY_BASE` alone,
/// and raises on boot or on the first request without it.
fn rails_secret_key_base(view: &AppView<'_>) -> Option<EnvRead> {
    let rails = view.has("config/application.rb")
        && view
            .text("Gemfile")
            .is_some_and(|g| re!(r#"(?m)^\s*gem\s+["']rails["']"#).is_match(g));
    let keyed = [
        "config/credentials.yml.enc",
        "config/credentials/production.yml.enc",
        "config/secrets.yml",
    ]
    .into_iter()
    .any(|path| view.has(path));
    (rails && !keyed).then(|| EnvRead {
        name: "SECRET_KEY_BASE".to_owned(),
        default: None,
        example: false,
        strict: true,
        stops_at_load: false,
        at: Spot::file(
            &view.path("config/application.rb"),
            "no encrypted credentials: production reads secret_key_base from SECRET_KEY_BASE",
        ),
    })
}

/// Rails decrypts `config/credentials.yml.enc` with `config/master.key`,
/// which is never committed: in production `RAILS_MASTER_KEY` must be set.
fn rails_master_key(view: &AppView<'_>) -> Option<EnvRead> {
    let credentials = [
        "config/credentials.yml.enc",
        "config/credentials/production.yml.enc",
    ]
    .into_iter()
    .find(|path| view.has(path))?;
    if view.has("config/master.key") || view.has("config/credentials/production.key") {
        return None;
    }
    Some(EnvRead {
        name: "RAILS_MASTER_KEY".to_owned(),
        default: None,
        example: false,
        strict: true,
        stops_at_load: false,
        at: Spot::file(
            &view.path(credentials),
            "encrypted credentials are committed without their key",
        ),
    })
}

/// Configuration of tests, development or build tools: what it reads the
/// deployed app never needs.
fn is_not_runtime(rel: &str) -> bool {
    let name = file_name(rel);
    let build_tool = re!(
        r"^(?:rollup|vite|vitest|webpack|jest|playwright|cypress|tailwind|postcss|eslint|babel|drizzle|karma|gulpfile|gruntfile|postgrator)(?:[.-]config)?\.(?:[cm]?[jt]s)$"
    );
    // Run by hand, not by the deployed app: discord.js's
    // `deploy-commands.js`, which registers slash commands, and test files.
    // (Django's management commands are often run at start by an
    // entrypoint: `manage.py admininit`.)
    let by_hand = re!(
        r"(?:^|/)(?:deploy-commands\.[cm]?[jt]s|[^/]*[.-](?:test|spec)\.[cm]?[jt]sx?|test\.[cm]?[jt]s)$"
    );
    // Packaging and task scripts, and database seeding: run by hand or by
    // tooling, never by the deployed app.
    let seeding = re!(r"(?:^|/)(?:seeds?|seeders?)(?:/|\.[cm]?[jt]s$|\.py$|\.rb$)");
    // A settings module for tests or development beside the production
    // one (`app/core/settings/test.py`, `config/environments/dev.rb`):
    // its defaults are not the deployed app's.
    let other_environment = re!(
        r"(?:^|/)(?:settings|config|configs|environments)/(?:test|tests|testing|local|dev|development)\.(?:py|rb|exs|[cm]?[jt]s)$"
    );
    // Python files in a `templates` folder are code the app writes out
    // for something else (a bot it generates), not code it runs.
    let code_template = re!(r"(?:^|/)templates?/(?:[^/]+/)*[^/]+\.py$");
    build_tool.is_match(&name.to_ascii_lowercase())
        || by_hand.is_match(rel)
        || code_template.is_match(rel)
        || matches!(name, "setup.py" | "noxfile.py" | "fabfile.py")
        || seeding.is_match(rel)
        || other_environment.is_match(rel)
        || matches!(
            rel,
            "config/test.exs"
                | "config/dev.exs"
                | "config/environments/test.rb"
                | "config/environments/development.rb"
                | "config/settings/test.py"
                | "config/settings/local.py"
                | "config/settings/dev.py"
        )
}

/// Example files the app's code loads itself
/// (`process.loadEnvFile('.env.example')`, `dotenv.config({ path:
/// '.env.example' })`, `load_dotenv(".env.example")`), by file name.
fn loaded_examples(files: &[&FileEntry]) -> Vec<String> {
    let load = re!(
        r#"\b(?:loadEnvFile|load_dotenv|config)\(\s*(?:\{\s*path\s*:\s*)?(?:dotenv_path\s*=\s*)?(?:path\.(?:join|resolve)\([^'"`)]*,\s*)?["'`](?:\./)?([^"'`/]+)["'`]"#
    );
    files
        .iter()
        .filter(|f| !is_example_file(file_name(&f.path)))
        .filter_map(|f| f.content.as_deref())
        .flat_map(|text| load.captures_iter(text).map(|c| c[1].to_owned()))
        .filter(|name| is_example_file(name) && name != ".env")
        .collect()
}

fn example_file(file: &FileEntry) -> Vec<EnvRead> {
    let text = file.content.as_deref().unwrap_or_default();
    let re = re!(r"(?m)^[ \t]*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)$");
    re.captures_iter(text)
        .filter_map(|c| {
            let name = c.get(1)?;
            let raw = c.get(2).map_or("", |m| m.as_str());
            let value = raw
                .split(" #")
                .next()
                .unwrap_or(raw)
                .trim()
                .trim_matches(['"', '\'']);
            let line = line_at(text, name.start());
            Some(EnvRead {
                name: name.as_str().to_owned(),
                default: (!is_placeholder(value)).then(|| value.to_owned()),
                example: true,
                strict: false,
                stops_at_load: false,
                at: Spot::at(
                    &file.path,
                    line,
                    format!("{} lists it", file_name(&file.path)),
                ),
            })
        })
        .collect()
}

/// The value an example file of the app (`.env.example`, `.env.template`…)
/// gives `name`, with where it says so; placeholders do not count.
pub(crate) fn example_value(view: &AppView<'_>, name: &str) -> Option<(String, Spot)> {
    view.files
        .iter()
        .filter(|file| is_example_file(file_name(&file.path)))
        .flat_map(|file| example_file(file))
        .find(|read| read.name == name && read.default.is_some())
        .and_then(|read| Some((read.default?, read.at)))
}

/// `""`, `<your key>`, `changeme`, `xxx`, `your-api-key-here`, `sk-...`.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.is_empty()
        || lower.starts_with('<')
        || lower.starts_with("your")
        || lower.contains("changeme")
        || lower.contains("change-me")
        || lower.contains("change_me")
        || lower.contains("replace")
        // `TODO: set me`; not `Todo API` or a database named `todo`.
        || value.starts_with("TODO")
        || lower.contains("...")
        || lower.chars().all(|c| c == 'x' || c == '*')
}

/// What follows a read decides whether it has a default.
#[derive(Clone, Copy)]
enum Tail {
    /// A fallback operator may follow (`process.env.X || "d"`, `ENV["X"] || "d"`).
    Operators,
    /// A second argument is the default (`os.getenv("X", "d")`); group 2.
    Argument,
    /// Rust: `.unwrap_or(...)` and friends after the call.
    RustResult,
    /// Go: `x := os.Getenv("X")` then `if x == "" { x = "d" }`.
    GoFallback,
    /// Go: `x, ok := os.LookupEnv("X")` then `if !ok { … }`.
    GoLookup,
}

fn patterns() -> [(&'static [&'static str], &'static regex::Regex, Tail); 19] {
    const PY: &[&str] = &[".py"];
    const JS: &[&str] = &[
        ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx", ".vue", ".svelte",
    ];
    const GO: &[&str] = &[".go"];
    const RS: &[&str] = &[".rs"];
    const JVM: &[&str] = &[".java", ".kt"];
    const JVM_CONFIG: &[&str] = &[
        "application.properties",
        "application.yml",
        "application.yaml",
    ];
    const RB: &[&str] = &[".rb", ".ru", ".yml", ".erb"];
    const PHP: &[&str] = &[".php"];
    const CS: &[&str] = &[".cs"];
    const EX: &[&str] = &[".ex", ".exs"];
    [
        (
            PY,
            re!(r#"\bos\.environ\[\s*["'](\w+)["']\s*\]"#),
            Tail::Operators,
        ),
        (
            PY,
            re!(
                r#"\b(?:os\.environ\.get|os\.getenv|environ\.get|getenv)\(\s*["'](\w+)["']\s*(?:,\s*([^)]*))?\)"#
            ),
            Tail::Argument,
        ),
        (
            PY,
            re!(r#"\b(?:env(?:\.\w+)?|config)\(\s*["']([A-Za-z]\w*)["']\s*(?:,\s*([^)]*))?\)"#),
            Tail::Argument,
        ),
        (
            JS,
            re!(
                r#"\b(?:process\.env|import\.meta\.env|Bun\.env)(?:\.(\w+)|\[\s*["'](\w+)["']\s*\])"#
            ),
            Tail::Operators,
        ),
        (
            JS,
            re!(r#"\bDeno\.env\.get\(\s*["'](\w+)["']\s*\)"#),
            Tail::Operators,
        ),
        (
            GO,
            re!(r#"\bos\.Getenv\(\s*"(\w+)"\s*\)"#),
            Tail::GoFallback,
        ),
        (
            GO,
            re!(r#"\bos\.LookupEnv\(\s*"(\w+)"\s*\)"#),
            Tail::GoLookup,
        ),
        (
            GO,
            re!(r#"\b\w*[gG]et[eE]nv\w*\(\s*"(\w+)"\s*,\s*([^)]*)\)"#),
            Tail::Argument,
        ),
        (
            RS,
            // The dotenv crates' `var` reads the environment too.
            re!(r#"\b(?:std::)?(?:dotenvy?::var|env::var)(?:_os)?\(\s*"(\w+)"\s*\)"#),
            Tail::RustResult,
        ),
        (
            JVM,
            re!(r#"\bSystem\.getenv\(\s*"(\w+)"\s*\)"#),
            Tail::Operators,
        ),
        (
            JVM,
            re!(r#"\bgetenv\(\)\.getOrDefault\(\s*"(\w+)"\s*,\s*([^)]*)\)"#),
            Tail::Argument,
        ),
        // The environment as a map: `System.getenv()["X"]` (Kotlin),
        // `System.getenv().get("X")`.
        (
            JVM,
            re!(r#"\bSystem\.getenv\(\)(?:\[\s*"(\w+)"\s*\]|\.get\(\s*"(\w+)"\s*\))"#),
            Tail::Operators,
        ),
        (
            JVM_CONFIG,
            re!(r"\$\{([A-Z][A-Z0-9_]*)(:[^}]*)?\}"),
            Tail::Argument,
        ),
        (RB, re!(r#"\bENV\[\s*["'](\w+)["']\s*\]"#), Tail::Operators),
        (
            RB,
            re!(r#"\bENV\.fetch\(\s*["'](\w+)["']\s*(?:,\s*([^)]*))?\)"#),
            Tail::Argument,
        ),
        (
            PHP,
            re!(r#"\b(?:env|getenv)\(\s*["'](\w+)["']\s*(?:,\s*([^)]*))?\)"#),
            Tail::Argument,
        ),
        (
            PHP,
            re!(r#"\$_ENV\[\s*["'](\w+)["']\s*\]"#),
            Tail::Operators,
        ),
        (
            CS,
            re!(r#"\bEnvironment\.GetEnvironmentVariable\(\s*"(\w+)"\s*\)"#),
            Tail::Operators,
        ),
        (
            EX,
            re!(r#"\bSystem\.(?:get_env|fetch_env!)\(\s*"(\w+)"\s*(?:,\s*([^)]*))?\)"#),
            Tail::Argument,
        ),
    ]
}

fn code_reads(file: &FileEntry) -> Vec<EnvRead> {
    let name = file_name(&file.path);
    let mut reads = destructured(file);
    reads.extend(super::env_schema::reads(file));
    reads.extend(super::env_frameworks::reads(file));
    reads.extend(super::env_sdks::reads(file));
    if name.ends_with(".py") {
        reads.extend(pydantic_settings(file));
    }
    // decouple and environs read the name as written: `config("db_url")`
    // reads `db_url`. Elsewhere a lower-case `config("…")` is no env read.
    let reads_names_as_written = re!(
        r"(?m)^\s*(?:from\s+(?:decouple|environs)\s+import\b|import\s+(?:decouple|environs)\b)"
    )
    .is_match(file.content.as_deref().unwrap_or_default());
    for (exts, re, tail) in patterns() {
        let applies = exts.iter().any(|e| {
            if e.starts_with('.') {
                name.ends_with(e)
            } else {
                name == *e
            }
        });
        if !applies {
            continue;
        }
        for hit in hits(file, re) {
            let Some(var) = hit
                .group(1)
                .or_else(|| hit.group(2).filter(|_| matches!(tail, Tail::Operators)))
            else {
                continue;
            };
            let called = re.as_str().contains("|config)");
            if called
                && var.starts_with(|c: char| c.is_ascii_lowercase())
                && !reads_names_as_written
            {
                continue;
            }
            let after = &hit.text[hit.end()..];
            let mut lines = after.splitn(3, '\n');
            let first = lines.next().unwrap_or_default();
            // `System.get_env("X") ||` with its fallback on the next line.
            let joined;
            let rest = if re!(r"(?:\|\||\?\?|\bor)\s*\\?\s*$").is_match(first) {
                joined = format!("{first} {}", lines.next().unwrap_or_default().trim());
                joined.as_str()
            } else {
                first
            };
            // Rails' `ENV["X"].presence || default`: blank is unset, and
            // the fallback follows as it would without it.
            let rest = rest.strip_prefix(".presence").unwrap_or(rest);
            // `os.environ["X"] = ...` and `ENV["X"] ||= ...` set, not read.
            if re!(r"^\s*(?:=[^=]|\|\|=)").is_match(rest) {
                continue;
            }
            let line_start = hit.text[..hit.start()].rfind('\n').map_or(0, |n| n + 1);
            let before = &hit.text[line_start..hit.start()];
            // Kotlin's `?: throw`, `?: error(…)` and `!!` fail when it is unset.
            let raises = re!(
                r"^\s*\)?\s*(?:\|\||\bor\b|\?:)\s*(?:raise|throw|fail)\b|^\s*\?:\s*error\(|^\s*!!"
            )
            .is_match(rest);
            let lookup = matches!(tail, Tail::GoLookup)
                .then(|| go_lookup(hit.text, hit.start(), before, rest));
            // Rust's `env::var_os("X").is_none()`, `env::var("X").is_ok()`.
            let rust_check = re!(r"^\s*\.(is_none|is_some|is_err|is_ok)\(\)")
                .captures(rest)
                .and_then(|c| c.get(1))
                .map(|m| matches!(m.as_str(), "is_none" | "is_err"));
            let presence_check =
                rust_check.is_some() || is_presence_check(before, rest) && !dereferences(rest);
            let asks_unset = match rust_check {
                Some(unset) => unset != is_negated(before),
                None => is_negated(before),
            };
            let exits_when_unset = presence_check
                && asks_unset
                && block_exits(
                    &hit.text[hit.end()..],
                    before.len() - before.trim_start().len(),
                );
            // `X = os.getenv("X")`, then `if not X: raise …` (or only a
            // warning) on the name the value was given.
            let aliased = alias_check(hit.text, hit.end(), before);
            let exits_when_unset = exits_when_unset || aliased == Some(true);
            // `process.env.KEY || process.env.LEGACY_KEY`: the second name
            // is an alternative; the first one is what the app asks for.
            let default = if is_alternative(before) {
                Some(String::new())
            } else if exits_when_unset || raises {
                None
            } else if aliased == Some(false)
                || presence_check
                || only_compared(hit.text, hit.start()..hit.end(), before, rest)
                || only_logged(before, rest)
                    // `print(os.environ["X"])` still fails when it is unset.
                    && !re!(r"os\\\.environ\\\[|ENV\\\.fetch|fetch_env!|\\\$\\\{")
                        .is_match(re.as_str())
            {
                Some(String::new())
            } else if matches!(tail, Tail::Operators) && dereferences(rest)
                || is_secret(var) && falls_back_to_empty(hit.group(2), rest)
            {
                None
            } else {
                match tail {
                    Tail::Operators => operator_default(rest),
                    Tail::Argument => argument_default(hit.group(2), rest),
                    Tail::RustResult => rust_default(rest),
                    Tail::GoFallback => go_default(hit.text, hit.start()),
                    Tail::GoLookup => lookup.as_ref().and_then(|l| l.default.clone()),
                }
            };
            // Elixir's `System.get_env("X")` gives nil: releases read what
            // they require with `fetch_env!` or `|| raise`, the rest is optional.
            let elixir_get_env = hit.group(0).is_some_and(|h| h.contains("System.get_env"));
            let default = if elixir_get_env && default.is_none() && !raises {
                Some(String::new())
            } else {
                default
            };
            let fails_when_unset = (!elixir_get_env
                && re!(r"os\\\.environ\\\[|ENV\\\.fetch|fetch_env!|env::var|\\\$\\\{")
                    .is_match(re.as_str()))
                || raises
                || exits_when_unset
                || dereferences(rest)
                || converted(before)
                || lookup.is_some_and(|l| l.fails_when_unset)
                || matches!(tail, Tail::GoFallback) && go_parse_fails(hit.text, hit.start());
            let top_level = before.len() == before.trim_start().len();
            let stops_at_load = top_level && default.is_none() && (exits_when_unset || raises);
            reads.push(EnvRead {
                name: var.to_owned(),
                strict: default.is_none() && fails_when_unset,
                stops_at_load,
                default,
                example: false,
                at: Spot::at(
                    &file.path,
                    hit.line(),
                    quote(line_text(hit.text, hit.start())),
                ),
            });
        }
    }
    super::env_guards::mark_guarded(file.content.as_deref().unwrap_or_default(), &mut reads);
    reads
}

/// Fields of a pydantic `BaseSettings` class: each reads the env var of its
/// upper-cased name (after the class's `env_prefix`); a field with no
/// default must be set.
fn pydantic_settings(file: &FileEntry) -> Vec<EnvRead> {
    let text = file.content.as_deref().unwrap_or_default();
    // `BaseSettings` itself, or an app's own base of it (`class
    // AppSettings(BaseAppSettings)`), named like it.
    let class = re!(r"(?m)^class\s+\w+\s*\(\s*(?:\w+\.)*\w*Settings\s*\)\s*:[ \t]*\r?$");
    let field = re!(r"^([A-Za-z]\w*)\s*:\s*[^=]+?(?:=\s*(.+))?$");
    let mut reads = Vec::new();
    for m in class.find_iter(text) {
        let body_start = m.end() + 1;
        let body: Vec<(usize, &str)> = text[body_start.min(text.len())..]
            .split('\n')
            .scan(body_start, |offset, line| {
                let at = *offset;
                *offset += line.len() + 1;
                Some((at, line))
            })
            .take_while(|(_, line)| line.trim().is_empty() || line.starts_with([' ', '\t']))
            .collect();
        let indent = body
            .iter()
            .find(|(_, l)| !l.trim().is_empty())
            .map_or(0, |(_, l)| l.len() - l.trim_start().len());
        let prefix = body
            .iter()
            .find_map(|(_, l)| {
                re!(r#"env_prefix\s*=\s*["']([^"']*)["']"#)
                    .captures(l)?
                    .get(1)
            })
            .map_or(String::new(), |p| p.as_str().to_ascii_uppercase());
        for (offset, line) in &body {
            if line.len() - line.trim_start().len() != indent {
                continue;
            }
            let Some(caps) = field.captures(line.trim()) else {
                continue;
            };
            let Some(name) = caps.get(1).map(|n| n.as_str()) else {
                continue;
            };
            if name == "model_config" || name.starts_with('_') {
                continue;
            }
            let default = caps
                .get(2)
                .map(|d| d.as_str().trim())
                .filter(|d| !d.starts_with("Field(...") && *d != "...");
            // `X: str = os.getenv("X", "d")`: the read itself is the field's
            // source, and the code reader takes it with its own default.
            if default.is_some_and(|d| re!(r"\b(?:getenv|environ)\b").is_match(d)) {
                continue;
            }
            reads.push(EnvRead {
                name: format!("{prefix}{}", name.to_ascii_uppercase()),
                // A list or dict is written as pydantic parses it (JSON);
                // `AppEnvTypes.prod` is the app's own value, no text for it.
                default: default.map(|d| {
                    if d.starts_with(['[', '{']) || d == COPES_WITHOUT {
                        d.to_owned()
                    } else {
                        literal_default(d)
                    }
                }),
                example: false,
                // pydantic refuses to build the settings without it.
                strict: default.is_none(),
                stops_at_load: false,
                at: Spot::at(&file.path, line_at(text, *offset), quote(line)),
            });
        }
    }
    reads
}

/// `const { A, B = "d" } = process.env`.
fn destructured(file: &FileEntry) -> Vec<EnvRead> {
    let re = re!(r"\{([^}]*)\}\s*=\s*(?:process|Bun)\.env\b");
    hits(file, re)
        .flat_map(|hit| {
            let at = Spot::at(&file.path, hit.line(), hit.quote());
            let fields = hit.group(1).unwrap_or_default();
            fields
                .split(',')
                .filter_map(|field| {
                    let (key, default) = field
                        .split_once('=')
                        .map_or((field, None), |(k, d)| (k, Some(d)));
                    let key = key.split(':').next().unwrap_or(key).trim();
                    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                        .then(|| EnvRead {
                            name: key.to_owned(),
                            example: false,
                            strict: false,
                            stops_at_load: false,
                            default: default
                                .map(|d| d.trim().trim_matches(['"', '\'', '`']).to_owned()),
                            at: at.clone(),
                        })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `if (process.env.X)`, `unless ENV["X"]`, `!process.env.X`,
/// `process.env.X ? a : b`: the read only asks whether it is set.
fn is_presence_check(before: &str, rest: &str) -> bool {
    // An operand of `or`/`and` in an `if` condition is tested, not used.
    let operand =
        re!(r"^\s*(?:if|elif|while|unless)\b.*(?:\bor|\band|\|\||&&)\s*\(?\s*(?:not\s+)?$")
            .is_match(before);
    (operand
        || re!(
            r"(?:\bif\s*\(?\s*(?:not\s+)?!*\s*|\bunless\s+|\belif\s+(?:not\s+)?|![\s(]*|&&\s*)$"
        )
        .is_match(before))
        && !re!(r"^\s*\)?\s*(?:===?|!==?|==|!=)").is_match(rest)
        || re!(r"^\s*\?\s*[^?.:\s]").is_match(rest)
}

/// `if (!process.env.X`, `if not os.environ.get("X")`, `unless ENV["X"]`.
fn is_negated(before: &str) -> bool {
    re!(r"(?:!\s*|\bnot\s+|\bunless\s+)$").is_match(before)
}

/// The block a presence check guards ends the program: `process.exit()`,
/// `throw`, `raise`, `sys.exit`, `abort`, `log.Fatal`. Read from the lines
/// after the read up to the block's end (a closing brace, `else`, or a line
/// dedented back to the check's own), at most eight of them.
fn block_exits(after: &str, indent: usize) -> bool {
    // A Python `if …:` ends at the first line back at its own indent; a
    // condition over several lines continues at the same indent.
    let python = after
        .split('\n')
        .next()
        .is_some_and(|l| l.trim_end().ends_with(':'));
    let indent = if python { indent + 1 } else { indent };
    let exits = re!(
        r"\b(?:process\.exit|sys\.exit|abort|log\.Fatal\w*|os\.Exit|die)\b|(?:^|[^.\w])(?:throw|raise)\b|\bexit\(|\bpanic!"
    );
    let ends_block = |line: &str| {
        let trimmed = line.trim_start();
        let dedented = !trimmed.is_empty()
            && line.len() - trimmed.len() < indent
            && !re!(r"^(?:\)|\|\||&&|or\b|and\b)").is_match(trimmed);
        dedented || trimmed.starts_with('}') || re!(r"^(?:else|elif|elsif)\b").is_match(trimmed)
    };
    after
        .split('\n')
        .take(8)
        .enumerate()
        .take_while(|(index, line)| *index == 0 || !ends_block(line))
        .any(|(_, line)| exits.is_match(line))
}

/// A read that is the fallback of another variable's read on its line
/// (`process.env.A || process.env.B`, `os.getenv("A") or os.getenv("B")`).
fn is_alternative(before: &str) -> bool {
    re!(r#"(?:process\.env|import\.meta\.env|Bun\.env|getenv|environ|\bENV\b|Getenv|\benv)[^;\n]*(?:\|\||\?\?|\bor|\?:)\s*$"#)
        .is_match(before)
}

/// A value given a name (`KEY = os.getenv("KEY")`, `const key =
/// process.env.KEY`) whose absence the code checks later through that name
/// (`if not KEY or not SECRET:`, `if (!key)`): `Some(true)` when the
/// check's block ends the program, `Some(false)` when it only warns or
/// skips, `None` without such a check.
fn alias_check(text: &str, read_end: usize, before: &str) -> Option<bool> {
    let alias = re!(r"^\s*(?:(?:const|let|var)\s+)?([A-Za-z_]\w*)\s*(?::\s*[\w\[\]|]+\s*)?=\s*$")
        .captures(before)?
        .get(1)?
        .as_str();
    let after = &text[read_end.min(text.len())..];
    let check = regex::Regex::new(&format!(
        r"(?m)^([ \t]*)(?:if|elif)\b[^\n]*(?:\bnot\s+|!\s*){}\b[^\n]*$",
        regex::escape(alias)
    ))
    .ok()?;
    // Any check that ends the program makes the value necessary.
    let mut checked = None;
    for found in check.captures_iter(after) {
        let (Some(indent), Some(line)) = (found.get(1), found.get(0)) else {
            continue;
        };
        let indent = indent.as_str().len();
        if block_exits(&after[line.start() + indent..], indent) {
            return Some(true);
        }
        checked = Some(false);
    }
    checked
}

/// `MODE = os.getenv("MODE")` (`const mode = process.env.MODE`,
/// `mode := os.Getenv("MODE")`) whose every later use compares it with a
/// literal (`if MODE == "render":`): a switch, and unset is one of its
/// settings.
fn only_compared(text: &str, read: std::ops::Range<usize>, before: &str, rest: &str) -> bool {
    let assigned = re!(r"^\s*(?:(?:const|let|var)\s+)?([A-Za-z_]\w*)\s*(?::=|=)\s*$");
    let Some(ident) = assigned.captures(before).and_then(|c| c.get(1)) else {
        return false;
    };
    let first = rest.lines().next().unwrap_or_default();
    if !re!(r"^\s*\)?\s*;?\s*(?:#.*|//.*)?$").is_match(first) {
        return false;
    }
    let Ok(word) = regex::Regex::new(&format!(
        r"(?-u:\b){}(?-u:\b)",
        regex::escape(ident.as_str())
    )) else {
        return false;
    };
    // The assignment line up to the end of the read names the variable too.
    let assignment = read.start - before.len()..read.end;
    // Against a non-empty literal: `== ""` asks whether it is set at all.
    let compared = re!(r#"^\s*(?:===?|!==?)\s*["'`][^"'`]"#);
    let compared_before = re!(r#"[^"'`]["'`]\s*(?:===?|!==?)\s*$"#);
    let line_before = |at: usize| &text[text[..at].rfind('\n').map_or(0, |n| n + 1)..at];
    let mut uses = word
        .find_iter(text)
        .filter(|m| !assignment.contains(&m.start()))
        .peekable();
    uses.peek().is_some()
        && uses.all(|m| {
            compared.is_match(&text[m.end()..]) || compared_before.is_match(line_before(m.start()))
        })
}

/// `os.getenv("API_KEY", "")`, `process.env.TOKEN || ""`, Spring's
/// `${CLIENT_SECRET:}` or `${CLIENT_SECRET:""}`: a credential whose
/// fallback is the empty string has no value to work with.
fn falls_back_to_empty(argument: Option<&str>, rest: &str) -> bool {
    let empty = re!(r#"^(?:""|''|``)$"#);
    argument.is_some_and(|a| {
        let a = a.trim();
        match a.strip_prefix(':') {
            Some(spring) => spring.trim().is_empty() || empty.is_match(spring.trim()),
            None => empty.is_match(a),
        }
    }) || re!(r#"^\s*\)?\s*(?:\|\||\?\?|\bor\b)\s*(?:""|''|``)"#).is_match(rest)
}

/// `int(os.getenv("X"))`: Python's number conversions raise on the `None`
/// an unset variable reads as.
fn converted(before: &str) -> bool {
    re!(r"\b(?:int|float)\(\s*$").is_match(before)
}

/// `process.env.X.split(",")`, `os.environ.get("X").lower()`: a member of the
/// value is used with no fallback, which throws when the variable is unset.
/// `log.Printf("ENV: %s", os.Getenv("ENV"))`, `console.log(process.env.X)`:
/// an argument of a log or print call, printed empty when unset, and not
/// used to unwrap or dereference.
fn only_logged(before: &str, rest: &str) -> bool {
    let Some(call) = re!(
        r"(?:\b(?:log|logger|logging|fmt|console|slog|logrus|zap|sugar)\.(?:Print\w*|print\w*|Info\w*|info|Debug\w*|debug|Warn\w*|warn\w*|log|Error\w*|error)|\bprintln!|\bprint!|\beprintln!|\bprint|\bputs)\s*\("
    )
    .find_iter(before)
    .last() else {
        return false;
    };
    let inside = &before[call.start()..];
    let open = inside.matches('(').count() > inside.matches(')').count();
    open && !dereferences(rest) && !re!(r"^\s*\.(?:unwrap|expect)\(|^\s*\?|^\s*!").is_match(rest)
}

fn dereferences(rest: &str) -> bool {
    // Ruby's nil answers these: `ENV["X"].present?`, `ENV["X"].to_i`.
    let nil_safe =
        re!(r"^\.(?:present\?|blank\?|nil\?|to_s|to_i|to_f|to_a|to_h|inspect)(?:$|[^\w?])");
    re!(r"^\)?\.[A-Za-z_]\w*").is_match(rest) && !nil_safe.is_match(rest)
}

/// `|| "d"`, `?? "d"`, `?: "d"`, `or "d"`; a comparison reads a flag and
/// tolerates absence. A fallback that fails (`|| raise "…"`) is no default.
pub(crate) fn operator_default(rest: &str) -> Option<String> {
    // `parseInt(process.env.X, 10) || 3000`: a radix, then the call's end;
    // Python's `… or \` goes on on the next line.
    let op = re!(
        r#"^\s*(?:,\s*\d+\s*)?\)?\s*(?:\|\||\?\?|\?:|\bor\b)\s*(?:\\\s*)?(["'`]?)([^"'`,;)\s]*)"#
    );
    if let Some(c) = op.captures(rest) {
        let quoted = c.get(1).is_some_and(|m| !m.as_str().is_empty());
        let fallback = c.get(2).map_or("", |m| m.as_str());
        if re!(
            r"^(?:raise|throw|die|abort|exit|sys\.exit|process\.exit|panic!?|fail|log\.Fatal\w*)\b"
        )
        .is_match(fallback)
        {
            return None;
        }
        // `or 'sqlite:///' + os.path.join(basedir, 'app.db')`: the app
        // computes its default, and the literal is only its start.
        let after = &rest[c.get(0).map_or(0, |m| m.end())..];
        let concatenated = quoted && re!(r#"^["'`]\s*\+"#).is_match(after);
        return Some(if concatenated {
            String::new()
        } else if quoted {
            fallback.to_owned()
        } else {
            literal_default(fallback)
        });
    }
    re!(r"^\s*(?:===?|!==?|\.present\?|\.nil\?|\.blank\?)")
        .is_match(rest)
        .then(String::new)
}

fn argument_default(argument: Option<&str>, rest: &str) -> Option<String> {
    if let Some(arg) = argument.map(str::trim).filter(|a| !a.is_empty()) {
        // decouple's `config("X", cast=int)` has no default; `default=` does.
        // django-environ's `env("X", bool)`: the second argument is the cast.
        if arg.starts_with("cast=")
            || re!(r"^(?:bool|int|str|float|list|dict|tuple|json)$").is_match(arg)
        {
            return None;
        }
        let arg = arg
            .strip_prefix("default=")
            .unwrap_or(arg)
            .trim_start_matches(':');
        // Ruby's `ENV.fetch("X", nil)` and Laravel's `env('X', null)` say
        // outright that the app does without it.
        if arg == "nil" || arg == "null" {
            return Some(String::new());
        }
        if arg == "None" {
            return None;
        }
        let value = literal_default(arg);
        // A default the app computes with a call (`root_url.chomp("/")`,
        // `url_for("index")`) is its own value, an address included: it
        // copes without. A bare word is no call: Spring's
        // `${REDIS_HOST:localhost}` writes its literal default so.
        let computed = value.is_empty()
            && !arg.starts_with(['"', '\'', '`', '['])
            && re!(r"^[\w.:]+\(").is_match(arg);
        return Some(if computed {
            COPES_WITHOUT.to_owned()
        } else {
            value
        });
    }
    // Ruby's `ENV.fetch("X") { 3000 }`, PHP's `getenv("X") ?: "d"`.
    if let Some(c) = re!(r"^\s*\{\s*([^}]*)\}").captures(rest) {
        return Some(literal_default(c.get(1).map_or("", |m| m.as_str())));
    }
    operator_default(rest)
}

/// A bundler's configuration file, which runs when the app is built.
fn is_build_config(path: &str) -> bool {
    let name = file_name(path);
    [
        "next.config.",
        "nuxt.config.",
        "vite.config.",
        "astro.config.",
        "svelte.config.",
        "gatsby-config.",
        "remix.config.",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}

/// A default written in code as its value: a quoted string's text, a number
/// or a boolean as written. Anything else (`dirname(__DIR__)`, a constant, a
/// call) is computed by the app, so its text is no value to hand it back:
/// empty, which says "the app has its own default".
pub(super) fn literal_default(text: &str) -> String {
    let text = text.trim();
    let unquoted = ['"', '\'', '`'].iter().find_map(|q| {
        text.strip_prefix(*q)
            .and_then(|t| t.strip_suffix(*q))
            .filter(|inner| !inner.contains(*q))
    });
    match unquoted {
        Some(inner) => inner.to_owned(),
        None if re!(r"^(?:-?\d+(?:\.\d+)?|true|false|True|False)$").is_match(text) => {
            text.to_owned()
        }
        None => String::new(),
    }
}

fn rust_default(rest: &str) -> Option<String> {
    let c = re!(r#"^\s*\.(?:unwrap_or(?:_else|_default)?|ok|is_ok|is_err|map_or(?:_else)?)\b\s*\(?\s*(?:\|_\|\s*)?["']?([^"')]*)"#).captures(rest)?;
    Some(c.get(1).map_or("", |m| m.as_str()).to_owned())
}

/// `x := os.Getenv("X")` followed within a few lines by `if x == "" { x = "d" }`.
fn go_default(text: &str, start: usize) -> Option<String> {
    let line = line_text(text, start);
    let var = re!(r"(\w+)\s*:?=\s*os\.Getenv")
        .captures(line)?
        .get(1)?
        .as_str()
        .to_owned();
    let after: String = text[start..]
        .lines()
        .skip(1)
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    let check = format!("{var} == \"\"");
    if !after.contains(&check) {
        return None;
    }
    let fallback = re!(r#"(\w+)\s*=\s*"([^"]*)""#);
    fallback
        .captures_iter(&after)
        .find(|c| c.get(1).is_some_and(|m| m.as_str() == var))
        .and_then(|c| c.get(2))
        .map(|m| m.as_str().to_owned())
}

/// `port := os.Getenv("DB_PORT")` parsed with `strconv` a few lines on,
/// whose error ends the program (`panic`, `log.Fatal`, `os.Exit`): an
/// unset variable is an empty text, which does not parse.
fn go_parse_fails(text: &str, start: usize) -> bool {
    let line = line_text(text, start);
    let Some(var) = re!(r"(\w+)\s*:?=\s*os\.Getenv")
        .captures(line)
        .and_then(|c| c.get(1))
    else {
        return false;
    };
    let Ok(parse) = regex::Regex::new(&format!(
        r"\bstrconv\.(?:Atoi|ParseInt|ParseUint|ParseFloat|ParseBool)\(\s*{}\b",
        regex::escape(var.as_str())
    )) else {
        return false;
    };
    let after: Vec<&str> = text[start..].lines().skip(1).take(12).collect();
    let Some(at) = after.iter().position(|l| parse.is_match(l)) else {
        return false;
    };
    let checked = after[at + 1..]
        .iter()
        .take(2)
        .any(|l| re!(r"\bif\s+err\s*!=\s*nil\s*\{").is_match(l));
    checked
        && after[at + 1..]
            .iter()
            .take(5)
            .any(|l| re!(r"\b(?:panic|log\.Fatal\w*|os\.Exit)\(").is_match(l))
}

/// What the code does with `os.LookupEnv`'s second result.
struct GoLookup {
    default: Option<String>,
    fails_when_unset: bool,
}

/// `v, ok := os.LookupEnv("X")` and the `if !ok { … }` within the next few
/// lines: a block that assigns `v = "d"` gives the default, one that ends
/// the program or returns (an error, to a caller that stops) makes `X`
/// required, any other makes it optional. `if _, ok := os.LookupEnv("X");
/// ok {` and `if ok {` read it only when it is set. Unchecked, it is read
/// as `os.Getenv` is.
fn go_lookup(text: &str, start: usize, before: &str, rest: &str) -> GoLookup {
    let unset = |fails: bool| GoLookup {
        default: (!fails).then(String::new),
        fails_when_unset: fails,
    };
    let after = &text[start..];
    let line_end = after.find('\n').map_or(after.len(), |n| n + 1);
    // `if v, ok := os.LookupEnv("X"); !ok {`: the check on the read's line.
    if let Some(c) = re!(r"^\s*\)?\s*;\s*(!?)\s*\w+\s*\{").captures(rest) {
        return unset(!c[1].is_empty() && lookup_block_exits(&after[line_end..]));
    }
    let Some(names) = re!(r"(\w+)\s*,\s*(\w+)\s*:?=\s*$").captures(before) else {
        return GoLookup {
            default: None,
            fails_when_unset: false,
        };
    };
    let (value, ok) = (&names[1], &names[2]);
    let lines: Vec<&str> = after[line_end..].split('\n').take(12).collect();
    let checked_at = |negated: bool| {
        let test = regex::Regex::new(&format!(
            r"^\s*if\s+{}{}\s*(?:\{{|&&|\|\|)",
            if negated { "!\\s*" } else { "" },
            regex::escape(ok)
        ))
        .ok()?;
        lines.iter().take(4).position(|line| test.is_match(line))
    };
    if let Some(at) = checked_at(true) {
        let body: Vec<&str> = lines[at + 1..]
            .iter()
            .take_while(|line| !line.trim_start().starts_with('}'))
            .copied()
            .collect();
        let assign = regex::Regex::new(&format!(r#"^\s*{}\s*=\s*"([^"]*)""#, regex::escape(value)));
        if let Some(c) = assign
            .ok()
            .and_then(|assign| body.iter().find_map(|line| assign.captures(line)))
        {
            return GoLookup {
                default: Some(c[1].to_owned()),
                fails_when_unset: false,
            };
        }
        return unset(lookup_block_exits(&body.join("\n")));
    }
    if ok != "_" && checked_at(false).is_some() {
        return unset(false);
    }
    GoLookup {
        default: None,
        fails_when_unset: false,
    }
}

/// The block after `if !ok {` ends the program, or returns to a caller
/// (`return nil, errors.New("TOKEN is empty")`, `return fmt.Errorf(…)`).
fn lookup_block_exits(block: &str) -> bool {
    block
        .split('\n')
        .take(8)
        .take_while(|line| !line.trim_start().starts_with('}'))
        .any(|line| {
            re!(r"\b(?:log\.Fatal\w*|os\.Exit|panic)\(|^\s*return\b.*\b(?:errors\.New|fmt\.Errorf|err\w*)\b")
                .is_match(line)
        })
}

/// Alembic's `env.py`, which `alembic upgrade head` runs.
fn is_migration_environment(file: &str) -> bool {
    file == "alembic/env.py" || file.ends_with("/alembic/env.py")
}

/// Folds reads into one entry per variable: required when no read or
/// declaration supplies a value that works where the app is deployed.
///
/// An example file's value is a sample: it stands as the default only for
/// plain settings, not for credentials or the address of another service
/// (whose samples are test values or `localhost`), nor for a variable the
/// app fails without. A default that points only at this machine
/// (`postgres://localhost/app`) does not count for an address. Variables of
/// optional integrations (`AWS_*`, `SENTRY_*`, mail...) are required only
/// when the app fails without them.
pub(crate) fn summarise(
    reads: &[EnvRead],
    provided: &[String],
    not_required: &[&str],
) -> (Vec<EnvVar>, Vec<Evidence>) {
    let mut by_name: BTreeMap<&str, Vec<&EnvRead>> = BTreeMap::new();
    for read in reads {
        by_name.entry(read.name.as_str()).or_default().push(read);
    }
    let mut vars: Vec<EnvVar> = Vec::new();
    let mut evidence = Vec::new();
    let mut sampled_parts = Vec::new();
    // The code connects to its database through variables of its own
    // (`DATABASE_URL`, `DB_USER`...): an example file's `POSTGRES_PASSWORD`
    // beside them sets up the database's image, not the app.
    let code_connects = reads.iter().any(|r| {
        !r.example && !is_database_image_setting(&r.name) && is_database_connection(&r.name)
    });
    for (name, reads) in by_name {
        let secret = is_secret(name);
        let address = is_service_address(name) && !is_browser_origin(name);
        let read_by_code = reads.iter().any(|r| !r.example);
        let strict = reads.iter().any(|r| r.strict);
        let counts = |read: &EnvRead| match read.default.as_deref() {
            None => false,
            Some(value) if read.example => {
                // `sqlite:///app.db` names a file in the app's container,
                // holding no credential: a value the deployment can keep.
                if read_by_code {
                    is_file_database(value) || !(strict || secret || address)
                } else {
                    // `DB_DATABASE=laravel`: a sample of the database to name.
                    !(is_database_part(name) || address && is_local_only(value))
                }
            }
            Some(value) => {
                !(address
                    && (is_local_only(value)
                        || names_nothing(name, value)
                        || is_example_domain(value)))
            }
        };
        // A check that stops the app loading when the value is missing outweighs
        // another that only copes without one (a warning, an empty fallback).
        let stops_without = reads.iter().any(|r| r.stops_at_load && !r.example);
        let copes_only = |read: &EnvRead| {
            read.default
                .as_deref()
                .is_some_and(|d| d.is_empty() || d == COPES_WITHOUT)
        };
        let has_default = reads
            .iter()
            .any(|r| counts(r) && !(stops_without && copes_only(r)));
        // An unset database port leaves the driver on the standard one.
        let optional_integration =
            !strict && (is_optional_integration(name) || is_database_port(name));
        // The image's own `ENV` is the value where nothing else sets one:
        // the code's default would override it from a compose file; only
        // the image's command's own reads of it say it.
        let image_sets = provided.iter().any(|p| p == name);
        let default = reads
            .iter()
            .filter(|r| !image_sets || file_name(&r.at.file).contains("Dockerfile"))
            .find_map(|r| r.default.clone())
            // Unset, a port written into a URL (`mongodb://${host}:${port}`)
            // is `undefined`: the store's standard port is what a driver
            // takes without one.
            .or_else(|| {
                is_database_port(name)
                    .then(|| standard_port(name))
                    .flatten()
            });
        let images_own = code_connects && !read_by_code && is_database_image_setting(name);
        let asked = !optional_integration
            && !images_own
            && !provided.iter().any(|p| p == name)
            && !PLATFORM.contains(&name)
            // npm sets `npm_package_version` and its kin for every script it runs.
            && !name.starts_with("npm_")
            && !not_required.contains(&name);
        // Alembic's environment runs before the app at every deploy (the bundle runs
        // `alembic upgrade head`): a read it cannot do without is needed whatever
        // default the app's own settings give.
        let needed_to_migrate = reads
            .iter()
            .any(|r| r.strict && !r.example && is_migration_environment(&r.at.file));
        let required = (!has_default || needed_to_migrate) && asked;
        if has_default && asked && database_credential(name).is_some() {
            sampled_parts.push(vars.len());
        }
        vars.push(EnvVar {
            name: name.to_owned(),
            required,
            secret,
            url_scheme: default.as_deref().and_then(url_scheme),
            default: default.filter(|d| {
                (!secret || is_file_database(d)) && !d.is_empty() && d != COPES_WITHOUT
            }),
            kind: super::env_kind::variable_kind(name),
            read_at_build: reads.iter().any(|r| is_build_config(&r.at.file)),
        });
        let cited = reads.iter().find(|r| !r.example).unwrap_or(&reads[0]);
        evidence.push(cited.at.evidence(&format!("env:{name}")));
    }
    // `host: "localhost"` next to `user: "postgres"`: once the database's
    // host must be given, its user, password and name defaults are the
    // developer's local database, not the deployed one.
    let required_hosts: Vec<String> = vars
        .iter()
        .filter(|v| v.required)
        .filter_map(|v| database_host(&v.name))
        .collect();
    for index in sampled_parts {
        let var = &mut vars[index];
        if database_credential(&var.name).is_some_and(|prefix| required_hosts.contains(&prefix)) {
            var.required = true;
        }
    }
    // An OAuth client is an id and a secret: when the secret must be given,
    // an id with no value of its own (`${CLIENT_ID:}`) must be too.
    let required_secrets: Vec<String> = vars
        .iter()
        .filter(|v| v.required)
        .filter_map(|v| v.name.strip_suffix("CLIENT_SECRET").map(str::to_owned))
        .collect();
    for var in &mut vars {
        let paired = var
            .name
            .strip_suffix("CLIENT_ID")
            .is_some_and(|prefix| required_secrets.iter().any(|p| p == prefix));
        if paired && var.default.is_none() && !provided.contains(&var.name) {
            var.required = true;
        }
    }
    (vars, evidence)
}

/// `postgresql+asyncpg` of `postgresql+asyncpg://u:p@localhost/db`,
/// `jdbc:mysql` of `jdbc:mysql://localhost:3306/app`.
fn url_scheme(value: &str) -> Option<String> {
    let (scheme, _) = value.split_once("://")?;
    let subprotocol = scheme
        .strip_prefix("jdbc:")
        .or_else(|| scheme.strip_prefix("JDBC:"))
        .unwrap_or(scheme);
    let plain = !subprotocol.is_empty()
        && subprotocol
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    plain.then(|| scheme.to_ascii_lowercase())
}

/// `DB_HOST` → (`DB_`, `HOST`): a database's variable split into the
/// prefix naming the database and the part of its connection it sets.
pub(super) fn database_variable(name: &str) -> Option<(String, String)> {
    let upper = name.to_ascii_uppercase();
    // `RDS_HOSTNAME`, `RDS_DB_NAME`: what Elastic Beanstalk sets for its database.
    let c = re!(
        r"^((?:DB|DATABASE|POSTGRES(?:QL)?|PG|MYSQL|MARIADB|MONGO(?:DB)?|SPRING_DATASOURCE|REDIS)_?|RDS_)((?:DB_)?NAME|HOST|HOSTNAME|SERVER|USER|USERNAME|PASSWORD|PASS|PWD|DATABASE|DB|URL|URI|PORT)$"
    )
    .captures(&upper)?;
    let part = c[2].strip_prefix("DB_").unwrap_or(&c[2]);
    Some((c[1].to_owned(), part.to_owned()))
}

/// `POSTGRES_PORT`, `DB_PORT`, `REDIS_PORT`: the port of a database.
fn is_database_port(name: &str) -> bool {
    database_variable(name)
        .is_some_and(|(prefix, part)| part == "PORT" && !prefix.starts_with("SPRING_DATASOURCE"))
}

/// The standard port of the store a port variable names (`MONGODB_PORT`
/// → 27017); `None` when the name does not say which (`DB_PORT`).
fn standard_port(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    [
        ("MONGO", "27017"),
        ("REDIS", "6379"),
        ("MYSQL", "3306"),
        ("MARIA", "3306"),
        ("POSTGRES", "5432"),
        ("PG", "5432"),
    ]
    .iter()
    .find(|(store, _)| upper.starts_with(store))
    .map(|(_, port)| (*port).to_owned())
}

/// `DB_HOST` → `DB_`: the prefix of a database's host variable.
fn database_host(name: &str) -> Option<String> {
    database_variable(name)
        .filter(|(prefix, part)| {
            !prefix.starts_with("SPRING_DATASOURCE")
                && !prefix.starts_with("REDIS")
                && matches!(part.as_str(), "HOST" | "HOSTNAME" | "SERVER")
        })
        .map(|(prefix, _)| prefix)
}

/// `DB_USER` → `DB_`: the prefix of a database's user, password or name.
fn database_credential(name: &str) -> Option<String> {
    database_variable(name)
        .filter(|(prefix, part)| {
            !prefix.starts_with("SPRING_DATASOURCE")
                && !prefix.starts_with("REDIS")
                && matches!(
                    part.as_str(),
                    "USER" | "USERNAME" | "PASSWORD" | "PASS" | "PWD" | "NAME" | "DATABASE" | "DB"
                )
        })
        .map(|(prefix, _)| prefix)
}

/// `BROKER_` of another service's address variable (`BROKER_ADDRESS`,
/// `SMTP_HOST`), whose user and password share the prefix.
fn service_prefix(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let c = re!(r"^([A-Z][A-Z0-9]*_)(?:HOST|HOSTNAME|SERVER|ADDRESS|ADDR)$").captures(&upper)?;
    (is_service_address(&upper) || upper.ends_with("_SERVER")).then(|| c[1].to_owned())
}

/// `BROKER_` of `BROKER_USER`, `BROKER_PASSWORD`.
fn credential_prefix(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    re!(r"^([A-Z][A-Z0-9]*_)(?:USER|USERNAME|PASSWORD|PASS|PWD)$")
        .captures(&upper)
        .map(|c| c[1].to_owned())
}

/// A database's URL or one of its connection parts (not its port).
/// `sqlite:///app.db` (SQLAlchemy, dj-database-url): a database in a file.
/// Prisma's `file:./dev.db` is left to the user, since Prisma resolves it
/// from the schema's folder, wherever the image puts that.
fn is_file_database(value: &str) -> bool {
    value.starts_with("sqlite:")
}

/// What the official database images read to set themselves up
/// (`POSTGRES_PASSWORD`, `MYSQL_ROOT_PASSWORD`, `PGDATA`).
fn is_database_image_setting(name: &str) -> bool {
    re!(r"^(?:(?:POSTGRES|MYSQL|MARIADB)_(?:USER|PASSWORD|DB|DATABASE|ROOT_PASSWORD|VERSION|INITDB_ARGS|HOST_AUTH_METHOD)|PGDATA)$")
        .is_match(&name.to_ascii_uppercase())
}

/// A variable an app reaches its SQL database with: a URL or one of its
/// parts.
fn is_database_connection(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    is_database_part(&upper) || re!(r"(?:DATABASE|_DB|^DB)_(?:URL|URI|DSN)$").is_match(&upper)
}

fn is_database_part(name: &str) -> bool {
    database_variable(name)
        .is_some_and(|(prefix, part)| part != "PORT" && !prefix.starts_with("REDIS"))
}

/// The address or the credentials of another service: a database URL or
/// its parts, a `*_URL`/`*_HOST` of an API, allowed hosts.
fn is_service_address(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    is_database_part(&upper)
        || (re!(r"(?:_URL|_URI|_DSN|_HOST|_HOSTS|^DB_URL)$").is_match(&upper)
            || is_remote_address(&upper))
            && !PLATFORM.contains(&upper.as_str())
            && !upper.starts_with("NEXT_PUBLIC_")
}

/// `BROKER_ADDRESS`, `KAFKA_ADDR`: another service's address (not the one
/// the app listens on: `LISTEN_ADDR`, `HTTP_ADDRESS`, `SERVER_ADDR`).
fn is_remote_address(upper: &str) -> bool {
    re!(r"_(?:ADDRESS|ADDR)$").is_match(upper)
        && !re!(r"^(?:LISTEN|BIND|HTTP|HTTPS|SERVER|APP|WEB|HOST|GRPC|METRICS|ADMIN|PUBLIC)_|LISTEN|BIND")
            .is_match(upper)
}

/// Where the app's browser front end is served from (`FRONTEND_URL`,
/// `CLIENT_URL`, CORS origins): with its local default the app starts and
/// serves; only cross-origin pages are refused until it is set.
fn is_browser_origin(name: &str) -> bool {
    re!(r"^(?:FRONTEND|CLIENT|WEB_?APP|APP)_(?:URL|URI|HOST|ORIGIN)S?$|^CORS_|_ORIGINS?$")
        .is_match(&name.to_ascii_uppercase())
}

/// An address default that cannot reach anything once deployed: empty, or
/// for a host a bare name such as `db` (a compose service of the
/// developer's stack).
fn names_nothing(name: &str, value: &str) -> bool {
    let value = value.trim().trim_matches(['"', '\'']);
    let host = re!(r"(?:_HOST|_HOSTNAME|_SERVER)$").is_match(&name.to_ascii_uppercase());
    value.is_empty() || host && re!(r"^[a-z][a-z0-9_-]*$").is_match(value)
}

/// The variables an image's `ENV` lines give a working value: not a
/// placeholder, not an address of the developer's stack, and not the user,
/// password or name of a database whose host is one of those (the same
/// example database: `ENV DATABASE_HOST=127.0.0.1` beside
/// `ENV DATABASE_PASSWORD=P4ssw0rd`).
pub(crate) fn image_provides<'a>(
    env: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Vec<String> {
    let works = |name: &str, value: &str| {
        let value = value.trim().trim_matches(['"', '\'']);
        !is_placeholder(value) && !reaches_nothing_deployed(name, value)
    };
    let example_hosts: Vec<String> = env
        .clone()
        .filter(|(name, value)| !works(name, value))
        .filter_map(|(name, _)| database_host(name).or_else(|| service_prefix(name)))
        .collect();
    env.filter(|(name, value)| works(name, value))
        .filter(|(name, _)| {
            !database_credential(name)
                .or_else(|| credential_prefix(name))
                .is_some_and(|prefix| example_hosts.contains(&prefix))
        })
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// A value an image bakes in for an address that reaches nothing once
/// deployed: this machine, or a bare compose service name
/// (`postgresql://app@db/shop`, `DB_HOST=db`) of the developer's stack.
pub(crate) fn reaches_nothing_deployed(name: &str, value: &str) -> bool {
    let bare_host_url = re!(r"(?i)^[a-z][\w+.-]*://(?:[^@/\s]*@)?[a-z][a-z0-9_-]*(?:[:/?]|$)");
    is_service_address(name)
        && (is_local_only(value)
            || names_nothing(name, value)
            || bare_host_url.is_match(value.trim().trim_matches(['"', '\''])))
}

/// `example.com` and its kin (RFC 2606): a placeholder for the real host.
fn is_example_domain(value: &str) -> bool {
    re!(r"(?i)(?:^|[/@.])example\.(?:com|org|net)(?:$|[:/])")
        .is_match(value.trim_matches(['"', '\'']))
}

/// Every host the value names is this machine.
fn is_local_only(value: &str) -> bool {
    let hosts: Vec<&str> = value
        .split([',', ' ', ';'])
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let local = re!(
        r"(?i)^(?:[a-z][\w+.-]*://)?(?:[^@/\s]*@)?\[?(?:localhost|127\.0\.0\.1|::1|0\.0\.0\.0)\]?(?:[:/?]|$)|^\.localhost$"
    );
    !hosts.is_empty()
        && hosts
            .iter()
            .all(|h| local.is_match(h.trim_matches(['"', '\'', '[', ']'])))
}

/// Integrations an app commonly runs without (file storage on S3, error
/// reporting, mail, push): required only when the app fails without them.
/// Payments are not among them: for many apps they are the point.
fn is_optional_integration(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if upper.contains("EMAIL") || upper.contains("SMTP") {
        return true;
    }
    [
        "AWS_",
        "PUSHER_",
        "MIX_PUSHER_",
        "VITE_PUSHER_",
        "SENTRY_",
        "DD_",
        "DATADOG_",
        "STATSD_",
        "OTEL_",
        "NEW_RELIC_",
        "BUGSNAG_",
        "MAILGUN_",
        "GMAIL_",
        "POSTMARK_",
        "SES_",
        "SMTP_",
        "MAIL_",
        "EMAIL_",
        "MEMCACHED_",
        "GOOGLE_CLIENT_",
        "GITHUB_CLIENT_",
        "FACEBOOK_",
        "TWITTER_",
        "SLACK_",
        "CACHE_PREFIX",
        "LOG_",
        "RESEND_",
        "ABLY_",
    ]
    .iter()
    .any(|prefix| upper.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, code: &str) -> FileEntry {
        FileEntry {
            path: path.to_owned(),
            size: code.len() as u64,
            content: Some(code.to_owned()),
            encoding: None,
        }
    }

    fn reads(path: &str, code: &str) -> Vec<(String, Option<String>)> {
        let file = entry(path, code);
        let found = if is_example_file(file_name(path)) {
            example_file(&file)
        } else {
            code_reads(&file)
        };
        found.into_iter().map(|r| (r.name, r.default)).collect()
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn python_reads() {
        let code = "A = os.environ[\"A\"]\nB = os.getenv('B', 'x')\nC = os.environ.get(\"C\")\nos.environ[\"D\"] = \"1\"\nE = config('E', cast=int)\n";
        assert_eq!(
            reads("settings.py", code),
            [
                ("A".into(), None),
                ("B".into(), some("x")),
                ("C".into(), None),
                ("E".into(), None)
            ]
        );
    }

    #[test]
    fn a_default_the_app_builds_from_a_literal_is_its_own() {
        let code = "DB = os.environ.get('DATABASE_URL') or 'sqlite:///' + os.path.join(basedir, 'app.db')\nR = os.environ.get('REDIS_URL') or 'redis://localhost:6379'\n";
        assert_eq!(
            reads("config.py", code),
            [
                ("DATABASE_URL".into(), some("")),
                ("REDIS_URL".into(), some("redis://localhost:6379"))
            ]
        );
        let js = "const url = process.env.API_URL || 'http://localhost:' + port;\n";
        assert_eq!(reads("server.js", js), [("API_URL".into(), some(""))]);
    }

    #[test]
    fn decouple_reads_a_lower_case_name_as_written() {
        let code = "from decouple import config, Csv\n\nDB = config(\"db_url\")\nHOST = config('redis_host', default='localhost')\n";
        assert_eq!(
            reads("settings.py", code),
            [
                ("db_url".into(), None),
                ("redis_host".into(), some("localhost"))
            ]
        );
        let not_decouple =
            "from app import config\n\nTITLE = config(\"site.title\")\nNAME = config('name')\n";
        assert_eq!(reads("views.py", not_decouple), []);
    }

    #[test]
    fn javascript_reads() {
        let code = "const a = process.env.A;\nconst b = process.env.B || 'x';\nconst c = process.env['C'] ?? 3;\nif (process.env.D === 'true') {}\n";
        assert_eq!(
            reads("index.js", code),
            [
                ("A".into(), None),
                ("B".into(), some("x")),
                ("C".into(), some("3")),
                ("D".into(), some(""))
            ]
        );
    }

    /// A database port parsed with `strconv` whose error panics is needed:
    /// an unset one does not parse.
    #[test]
    fn a_go_port_parsed_with_a_fatal_error_is_strict() {
        let go = "host := os.Getenv(\"DB_HOST\")\nportStr := os.Getenv(\"DB_PORT\")\nport, err := strconv.ParseInt(portStr, 10, 64)\nif err != nil {\n\tpanic(\"Cannot parse port: \" + err.Error())\n}\nother := os.Getenv(\"CACHE_PORT\")\nn, _ := strconv.Atoi(other)\n";
        let strict: Vec<String> = code_reads(&entry("db.go", go))
            .into_iter()
            .filter(|r| r.strict)
            .map(|r| r.name)
            .collect();
        assert_eq!(strict, ["DB_PORT"]);
    }

    /// A to-do app's name or database is a value; an upper-case `TODO` is
    /// a slot to fill.
    #[test]
    fn a_todo_app_is_not_a_placeholder() {
        assert!(!is_placeholder("Todo API"));
        assert!(!is_placeholder("todo"));
        assert!(is_placeholder("TODO: set me"));
        assert!(is_placeholder("your-api-key"));
    }

    /// `os.LookupEnv`'s `ok`, checked: an `if !ok` that returns an error
    /// requires the variable, one that assigns gives its default, `if ok`
    /// reads it only when set.
    #[test]
    fn go_lookup_env_reads() {
        let go = r#"token, ok := os.LookupEnv("TOKEN")
if !ok {
	return nil, errors.New("token is empty")
}
level, ok := os.LookupEnv("LEVEL")
if !ok {
	level = "info"
}
if v, ok := os.LookupEnv("TRACE"); ok {
	cfg.Trace = v
}
region, found := os.LookupEnv("REGION")
if found {
	cfg.Region = region
}
if _, ok := os.LookupEnv("DSN"); !ok {
	log.Fatal("DSN is not set")
}
"#;
        assert_eq!(
            reads("config.go", go),
            [
                ("TOKEN".into(), None),
                ("LEVEL".into(), some("info")),
                ("TRACE".into(), some("")),
                ("REGION".into(), some("")),
                ("DSN".into(), None),
            ]
        );
        let strict: Vec<(String, bool)> = code_reads(&entry("config.go", go))
            .into_iter()
            .map(|r| (r.name, r.strict))
            .filter(|(_, strict)| *strict)
            .collect();
        assert_eq!(strict, [("TOKEN".into(), true), ("DSN".into(), true)]);
    }

    #[test]
    fn go_rust_ruby_php_reads() {
        let go = "port := os.Getenv(\"PORT\")\nif port == \"\" {\n\tport = \"8080\"\n}\ndsn := os.Getenv(\"DSN\")\nif dsn == \"\" {\n\tlog.Fatal(\"x\")\n}\n";
        assert_eq!(
            reads("main.go", go),
            [("PORT".into(), some("8080")), ("DSN".into(), None)]
        );
        let rs = "let a = std::env::var(\"A\").expect(\"A\");\nlet b = env::var(\"B\").unwrap_or_else(|_| \"x\".into());\n";
        assert_eq!(
            reads("main.rs", rs),
            [("A".into(), None), ("B".into(), some("x"))]
        );
        let rb = "port ENV.fetch(\"PORT\") { 3000 }\nurl = ENV[\"DATABASE_URL\"]\nENV[\"X\"] ||= \"y\"\nuser = ENV.fetch(\"SMTP_USERNAME\", nil)\n";
        assert_eq!(
            reads("puma.rb", rb),
            [
                ("DATABASE_URL".into(), None),
                ("PORT".into(), some("3000")),
                ("SMTP_USERNAME".into(), some(""))
            ]
        );
        let php = "$h = getenv('DB_HOST') ?: 'db';\n'key' => env('APP_KEY'),\n'issuer' => env('OIDC_ISSUER', null),\n";
        assert_eq!(
            reads("db.php", php),
            [
                ("DB_HOST".into(), some("db")),
                ("APP_KEY".into(), None),
                ("OIDC_ISSUER".into(), some(""))
            ]
        );
    }

    /// A lenient read in code with this default.
    fn code_read(name: &str, default: Option<&str>) -> EnvRead {
        EnvRead {
            name: name.to_owned(),
            default: default.map(str::to_owned),
            example: false,
            strict: false,
            stops_at_load: false,
            at: Spot::file("config.py", "read"),
        }
    }

    fn strict_reads(path: &str, code: &str) -> Vec<(String, bool)> {
        code_reads(&entry(path, code))
            .into_iter()
            .map(|r| (r.name, r.strict))
            .collect()
    }

    #[test]
    fn a_database_whose_host_must_be_given_needs_its_credentials_too() {
        let read = |name: &str, default: &str| code_read(name, Some(default));
        let required = |reads: &[EnvRead]| -> Vec<String> {
            let (vars, _) = summarise(reads, &[], &[]);
            vars.into_iter()
                .filter(|v| v.required)
                .map(|v| v.name)
                .collect()
        };
        let local = [
            read("DB_HOST", "localhost"),
            read("DB_USER", "postgres"),
            read("DB_PASSWORD", "postgrespw"),
            read("DB_PORT", "5432"),
            read("PG_USER", "other"),
        ];
        assert_eq!(required(&local), ["DB_HOST", "DB_PASSWORD", "DB_USER"]);
        let remote = [read("DB_HOST", "db.acme.internal"), read("DB_USER", "app")];
        assert!(required(&remote).is_empty());
    }

    #[test]
    fn a_front_end_origin_with_a_local_default_is_not_asked_for() {
        let read = code_read;
        let reads = [
            read("FRONTEND_URL", Some("http://localhost:5173")),
            read("CORS_ALLOWED_ORIGINS", Some("http://localhost:3000")),
            read("CORS_ORIGIN", None),
            read("API_URL", Some("http://localhost:8000")),
        ];
        let (vars, _) = summarise(&reads, &[], &[]);
        let required: Vec<&str> = vars
            .iter()
            .filter(|v| v.required)
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(required, ["API_URL", "CORS_ORIGIN"]);
        let (vars, _) = summarise(&[read("POSTGRES_PORT", None)], &[], &[]);
        assert!(!vars[0].required, "an unset database port is the driver's");
    }

    #[test]
    fn a_variable_the_migration_environment_cannot_do_without_is_required() {
        let strict_in = |file: &str| EnvRead {
            strict: true,
            stops_at_load: false,
            at: Spot::file(file, "read"),
            ..code_read("DATABASE_URL", None)
        };
        let app_default = code_read("DATABASE_URL", Some("sqlite+aiosqlite:///./app.db"));
        let required = |reads: &[EnvRead]| summarise(reads, &[], &[]).0[0].required;
        assert!(required(&[
            app_default.clone(),
            strict_in("alembic/env.py")
        ]));
        assert!(required(&[
            app_default.clone(),
            strict_in("api/alembic/env.py")
        ]));
        // A strict read elsewhere does not outweigh the app's default.
        assert!(!required(&[
            app_default.clone(),
            strict_in("scripts/seed.py")
        ]));
        assert!(!required(&[app_default]));
    }

    #[test]
    fn an_address_defaulting_to_an_example_domain_is_required() {
        let reads = [code_read("PHX_HOST", Some("example.com"))];
        let (vars, _) = summarise(&reads, &[], &[]);
        assert!(vars[0].required);
        assert!(is_example_domain("https://api.example.org/v1"));
        assert!(!is_example_domain("myexample.com"));
    }

    #[test]
    fn a_presence_check_that_exits_makes_the_variable_required() {
        let js = "if (\n    !process.env.A ||\n    !process.env.B\n) {\n    logger.error('missing');\n    process.exit();\n}\nif (!process.env.C) {\n  console.warn('no C');\n}\nthrow new Error('later');\n";
        assert_eq!(
            strict_reads("auth.ts", js),
            [("A".into(), true), ("B".into(), true), ("C".into(), false)]
        );
        let py = "if not os.environ.get(\"KEY\"):\n    raise RuntimeError(\"KEY\")\nif not os.getenv(\"OPT\"):\n    log.warning(\"x\")\nraise SystemExit\n";
        assert_eq!(
            strict_reads("app.py", py),
            [("KEY".into(), true), ("OPT".into(), false)]
        );
    }

    #[test]
    fn a_read_only_logged_is_not_required() {
        let go = "func main() {\n\tlog.Printf(\"ENV: %s SSL: %s\", os.Getenv(\"ENV\"), os.Getenv(\"SSL\"))\n\tdsn := os.Getenv(\"DSN\")\n\tif dsn == \"\" {\n\t\tlog.Fatal(\"DSN\")\n\t}\n}\n";
        let optional: Vec<(String, bool)> = code_reads(&entry("main.go", go))
            .into_iter()
            .map(|r| (r.name, r.default.is_some()))
            .collect();
        assert_eq!(
            optional,
            [
                ("ENV".into(), true),
                ("SSL".into(), true),
                ("DSN".into(), false)
            ]
        );
        let rs = "fn main() {\n    println!(\"{}\", std::env::var(\"TOKEN\").unwrap());\n}\n";
        assert_eq!(strict_reads("src/main.rs", rs), [("TOKEN".into(), true)]);
        let py = "print(os.environ[\"SECRET\"])\nlogging.info(os.getenv(\"MODE\"))\n";
        assert_eq!(
            strict_reads("app.py", py),
            [("SECRET".into(), true), ("MODE".into(), false)]
        );
    }

    #[test]
    fn rusts_checks_for_unset_and_rails_presence_are_optional_unless_they_stop() {
        let rs = "fn main() {\n    if std::env::var_os(\"RUST_LOG\").is_none() {\n        std::env::set_var(\"RUST_LOG\", \"info\");\n    }\n    if env::var(\"DATABASE_URL\").is_err() {\n        panic!(\"DATABASE_URL\");\n    }\n}\n";
        assert_eq!(
            strict_reads("src/main.rs", rs),
            [("RUST_LOG".into(), false), ("DATABASE_URL".into(), true)]
        );
        let rb = "config.environment = ENV['ROLLBAR_ENV'].presence || Rails.env\n";
        let reads = code_reads(&entry("config/initializers/rollbar.rb", rb));
        assert_eq!(reads.len(), 1);
        assert!(reads[0].default.is_some(), "{:?}", reads[0].default);
    }

    #[test]
    fn a_check_that_stops_the_app_loading_outweighs_a_read_that_copes() {
        let index = "if (!process.env.API_KEY) {\n  console.error('API_KEY is required');\n  process.exit(1);\n}\napp.listen(3000);\n";
        let auth = "export function auth(req, res, next) {\n  const key = process.env.API_KEY;\n  if (!key) {\n    console.error('API_KEY is not configured');\n  }\n  next();\n}\n";
        let admin = "router.use(async (ctx, next) => {\n    if (!process.env.ADMIN_ID || ctx.user !== process.env.ADMIN_ID) {\n        ctx.throw(401);\n    }\n});\n";
        let required = |files: &[(&str, &str)]| -> Vec<String> {
            let reads: Vec<EnvRead> = files
                .iter()
                .flat_map(|(path, text)| code_reads(&entry(path, text)))
                .collect();
            summarise(&reads, &[], &[])
                .0
                .into_iter()
                .filter(|v| v.required)
                .map(|v| v.name)
                .collect()
        };
        assert_eq!(
            required(&[("index.js", index), ("auth.js", auth)]),
            ["API_KEY"]
        );
        assert!(required(&[("auth.js", auth)]).is_empty());
        // A check inside a request handler refuses one request, not the start.
        assert!(required(&[("admin.js", admin)]).is_empty());
    }

    #[test]
    fn the_fallback_name_of_a_checked_value_is_an_alternative() {
        let js = "const key = process.env.PAYMENTS_KEY || process.env.PAYMENTS_LEGACY_KEY;\nif (!key) throw new Error('PAYMENTS_KEY is required');\n";
        assert_eq!(
            strict_reads("pay.js", js),
            [
                ("PAYMENTS_KEY".into(), true),
                ("PAYMENTS_LEGACY_KEY".into(), false)
            ]
        );
        let py = "TOKEN = os.getenv(\"BOT_TOKEN\") or os.getenv(\"TOKEN\")\nif not TOKEN:\n    raise SystemExit(\"no token\")\n";
        assert_eq!(
            strict_reads("bot.py", py),
            [("BOT_TOKEN".into(), true), ("TOKEN".into(), false)]
        );
    }

    #[test]
    fn the_scheme_of_a_secret_url_default_is_kept_without_the_url() {
        assert_eq!(
            url_scheme("postgresql+asyncpg://u:p@localhost/db").as_deref(),
            Some("postgresql+asyncpg")
        );
        assert_eq!(url_scheme("Redis://localhost").as_deref(), Some("redis"));
        assert_eq!(
            url_scheme("jdbc:mysql://localhost:3306/app").as_deref(),
            Some("jdbc:mysql")
        );
        for none in ["localhost:5432", "://x", "a b://x", ""] {
            assert_eq!(url_scheme(none), None, "{none:?}");
        }
    }

    #[test]
    fn a_value_used_without_a_fallback_is_required() {
        let js = "if (process.env.ORIGINS.includes(origin)) {}\nconst b = process.env.B?.split(',');\nif (!process.env.ADMIN || id !== 1) { await ctx.throw(401); }\n";
        assert_eq!(
            strict_reads("app.js", js),
            [
                ("ORIGINS".into(), true),
                ("B".into(), false),
                ("ADMIN".into(), false)
            ]
        );
        let rb = "ENV[\"FLAG\"].present?\nENV[\"LIST\"].split(\",\")\n";
        assert_eq!(
            strict_reads("feature.rb", rb),
            [("FLAG".into(), false), ("LIST".into(), true)]
        );
        let py = "hosts = os.environ.get(\"HOSTS\").split(\",\")\nUSE_S3 = env('USE_S3', bool)\nKEY = os.getenv('API_KEY', '')\nNAME = os.getenv('NAME', '')\n";
        assert_eq!(
            reads("settings.py", py),
            [
                ("HOSTS".into(), None),
                ("API_KEY".into(), None),
                ("NAME".into(), some("")),
                ("USE_S3".into(), None)
            ]
        );
    }

    #[test]
    fn django_environ_urls_read_their_default_variables() {
        let py = "import environ\nenv = environ.Env()\nDATABASES = {'default': env.db()}\nCACHES = {'default': env.cache(default='locmemcache://')}\nOTHER = env.db('OTHER_DB_URL')\n";
        let found = strict_reads("settings.py", py);
        assert!(found.contains(&("DATABASE_URL".into(), true)), "{found:?}");
        assert!(found.contains(&("CACHE_URL".into(), false)), "{found:?}");
        assert!(found.contains(&("OTHER_DB_URL".into(), false)), "{found:?}");
    }

    #[test]
    fn pydantic_settings_fields() {
        let code = "from pydantic_settings import BaseSettings, SettingsConfigDict\n\nclass Settings(BaseSettings):\n    model_config = SettingsConfigDict(env_prefix=\"app_\")\n    database_url: str\n    debug: bool = False\n    mode: Modes = Modes.prod\n\n    class Inner:\n        x: int\n\nother: int\n";
        assert_eq!(
            reads("config.py", code),
            [
                ("APP_DATABASE_URL".into(), None),
                ("APP_DEBUG".into(), some("False")),
                ("APP_MODE".into(), some("")),
            ]
        );
        let derived = "from app.core.settings.base import BaseAppSettings\n\nclass AppSettings(BaseAppSettings):\n    secret_key: SecretStr\n";
        assert_eq!(
            strict_reads("app.py", derived),
            [("SECRET_KEY".into(), true)]
        );
        let reading = "class Settings(BaseSettings):\n    KEY: str = os.getenv(\"KEY\", \"\")\n    NEEDED: str\n";
        assert_eq!(
            strict_reads("config.py", reading),
            [("NEEDED".into(), true), ("KEY".into(), false)]
        );
    }

    #[test]
    fn example_files_and_placeholders() {
        let text = "# comment\nOPENAI_API_KEY=\nMODEL=gpt-4o-mini\nSECRET=changeme\nexport X=\"<your value>\"\n";
        assert_eq!(
            reads(".env.example", text),
            [
                ("OPENAI_API_KEY".into(), None),
                ("MODEL".into(), some("gpt-4o-mini")),
                ("SECRET".into(), None),
                ("X".into(), None)
            ]
        );
        assert!(is_example_file(".env.sample"));
        assert!(is_example_file("env.example"));
        assert!(!is_example_file(".envrc"));
    }

    #[test]
    fn secrets_by_name() {
        assert!(is_secret("STRIPE_API_KEY"));
        assert!(is_secret("DATABASE_URL"));
        assert!(is_secret("SENTRY_DSN"));
        assert!(!is_secret("LOG_LEVEL"));
        assert!(!is_secret("ALLOWED_ORIGINS"));
        for setting in [
            "ACCESS_TOKEN_EXPIRES_IN",
            "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
            "REFRESH_TOKEN_TTL",
            "SESSION_MAX_AGE",
            "BCRYPT_SALT_ROUNDS",
            "PASSWORD_MIN_LENGTH",
            "JWT_ALGORITHM",
        ] {
            assert!(!is_secret(setting), "{setting}");
        }
        assert!(is_secret("JWT_REFRESH_TOKEN_SECRET"));
    }
}
