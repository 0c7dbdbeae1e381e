//! Variables a framework reads for the app without a `getenv` in its code:
//! an env schema's `required` list (`@fastify/env`, `env-schema`), clap
//! arguments bound to a variable, .NET connection strings, and Spring's
//! datasource when the configuration only points at the developer's machine,
//! viper's defaults for the keys it reads from the environment, and Go
//! config structs filled from the environment by their fields' tags.

use super::env::EnvRead;
use super::scan::{Spot, hits};
use super::view::{AppView, file_name};
use crate::facts::{EnvVar, VariableKind};
use crate::snapshot::FileEntry;

/// Every read of these kinds in `file`.
pub(crate) fn reads(file: &FileEntry) -> Vec<EnvRead> {
    let name = file_name(&file.path);
    let text = file.content.as_deref().unwrap_or_default();
    let mut reads = Vec::new();
    if [".js", ".mjs", ".cjs", ".ts", ".mts"]
        .iter()
        .any(|e| name.ends_with(e))
        && ["fastify-env", "@fastify/env", "env-schema"]
            .iter()
            .any(|m| text.contains(m))
    {
        reads.extend(schema_required(file, text));
    }
    if [".js", ".mjs", ".cjs", ".ts", ".mts"]
        .iter()
        .any(|e| name.ends_with(e))
        && text.contains("ConfigService")
    {
        reads.extend(nest_config_service(file));
    }
    if [".js", ".mjs", ".cjs", ".ts", ".mts"]
        .iter()
        .any(|e| name.ends_with(e))
        && (text.contains("betterAuth(") || text.contains("NextAuth("))
    {
        reads.extend(auth_library(file, text));
    }
    if [".js", ".ts", ".mjs", ".mts", ".svelte"]
        .iter()
        .any(|e| name.ends_with(e))
        && text.contains("$env/")
    {
        reads.extend(sveltekit_env(file, text));
    }
    if name.ends_with(".rs") {
        reads.extend(clap_builder(file, text));
        reads.extend(clap_derive(file, text));
    }
    if name.ends_with(".cs") {
        reads.extend(connection_strings(file));
    }
    if name.ends_with(".py") && text.contains("environ.Env") {
        reads.extend(django_environ_urls(file));
    }
    if is_spring_config(&file.path) {
        reads.extend(spring_datasource(file, text));
    }
    if name.ends_with(".go") && text.contains("AutomaticEnv()") {
        reads.extend(viper_defaults(file));
    }
    if name.ends_with(".go") {
        reads.extend(go_struct_tags(file, text));
    }
    reads
}

/// The tag keys a Go library fills a config struct's field from: the
/// variable's name, its default, and the mark of a required one.
struct TagStyle {
    name: &'static str,
    default: Option<&'static str>,
    required: Option<&'static str>,
}

/// The library a file fills its config struct with, by its import (or,
/// for viper, by `AutomaticEnv()`, which makes each key a variable).
fn tag_style(text: &str) -> Option<TagStyle> {
    let style = |name, default, required| {
        Some(TagStyle {
            name,
            default,
            required,
        })
    };
    if text.contains("caarlos0/env") {
        style("env", Some("envDefault"), None)
    } else if text.contains("ilyakaznacheev/cleanenv") {
        style("env", Some("env-default"), Some("env-required"))
    } else if text.contains("kelseyhightower/envconfig") {
        style("envconfig", Some("default"), Some("required"))
    } else if text.contains("sethvargo/go-envconfig") {
        style("env", None, None)
    } else if text.contains("AutomaticEnv()") {
        style("mapstructure", None, None)
    } else {
        None
    }
}

/// A config struct's fields filled from the environment by their tags
/// (`env:"DATABASE_URL,required"`, `envconfig:"PORT" default:"8080"`,
/// viper's `mapstructure:"DB_NAME"`): a read of each tagged variable, with
/// the tag's default, strict when the tag requires it.
fn go_struct_tags(file: &FileEntry, text: &str) -> Vec<EnvRead> {
    let Some(style) = tag_style(text) else {
        return Vec::new();
    };
    let pair = re!(r#"([\w-]+):"([^"]*)""#);
    hits(file, re!(r"`([^`\n]*)`"))
        .filter_map(|hit| {
            let tag = hit.group(1)?;
            let pairs: Vec<(&str, &str)> = pair
                .captures_iter(tag)
                .filter_map(|c| Some((c.get(1)?.as_str(), c.get(2)?.as_str())))
                .collect();
            let value = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
            let mut parts = value(style.name)?.split(',').map(str::trim);
            let name = parts
                .next()
                .filter(|n| re!(r"^[A-Z][A-Z0-9_]*$").is_match(n))?;
            let options: Vec<&str> = parts.collect();
            // sethvargo's options ride in the name's tag: `default=8080`.
            let default = style
                .default
                .and_then(value)
                .or_else(|| options.iter().find_map(|o| o.strip_prefix("default=")));
            let strict = default.is_none()
                && (options.iter().any(|o| *o == "required" || *o == "notEmpty")
                    || style.required.and_then(value) == Some("true"));
            // A library with a mark for required fields leaves an unmarked
            // one empty, which the app copes with; viper has no such mark.
            let copes = !strict && style.name != "mapstructure";
            Some(EnvRead {
                name: name.to_owned(),
                default: default
                    .map(str::to_owned)
                    .or_else(|| copes.then(String::new)),
                example: false,
                strict,
                stops_at_load: false,
                at: hit.spot(),
            })
        })
        .collect()
}

/// Viper with `AutomaticEnv()` reads each key from the environment
/// variable of its name: `viper.SetDefault("MONGODB_URI", "mongodb://…")`
/// is a read with that default (a lower-case or dotted key names no
/// variable without a key replacer, and is left alone).
fn viper_defaults(file: &FileEntry) -> Vec<EnvRead> {
    let set_default =
        re!(r#"\bSetDefault\(\s*"([A-Z][A-Z0-9_]*)"\s*,\s*(?:"([^"]*)"|(\d+)|(true|false))\s*\)"#);
    hits(file, set_default)
        .filter_map(|hit| {
            let value = (2..=4).find_map(|i| hit.group(i))?;
            Some(EnvRead {
                name: hit.group(1)?.to_owned(),
                default: Some(value.to_owned()),
                example: false,
                strict: false,
                stops_at_load: false,
                at: hit.spot(),
            })
        })
        .collect()
}

/// A read that fails without the variable (`strict`), or one that copes.
pub(crate) fn read(name: &str, strict: bool, at: Spot) -> EnvRead {
    EnvRead {
        name: name.to_owned(),
        default: (!strict).then(String::new),
        example: false,
        strict,
        stops_at_load: false,
        at,
    }
}

/// SvelteKit's environment modules: `env.X` of `$env/dynamic/private`
/// (or `public`) read at run time, with `??`/`||` giving a default; a name
/// imported from `$env/static/private` is written in at build time, and the
/// build fails without it.
fn sveltekit_env(file: &FileEntry, text: &str) -> Vec<EnvRead> {
    let mut reads = Vec::new();
    let dynamic =
        re!(r#"import\s*\{[^}]*\benv\b[^}]*\}\s*from\s*["']\$env/dynamic/(?:private|public)["']"#);
    if dynamic.is_match(text) {
        for hit in hits(file, re!(r"\benv\.([A-Z][A-Z0-9_]*)\b")) {
            let Some(name) = hit.group(1) else { continue };
            let rest = &hit.text[hit.end()..];
            let rest = rest.lines().next().unwrap_or_default();
            let default = super::env::operator_default(rest);
            reads.push(EnvRead {
                name: name.to_owned(),
                default,
                example: false,
                strict: false,
                stops_at_load: false,
                at: hit.spot(),
            });
        }
    }
    let statics = re!(r#"import\s*\{([^}]*)\}\s*from\s*["']\$env/static/(?:private|public)["']"#);
    for hit in hits(file, statics) {
        for imported in hit.group(1).unwrap_or_default().split(',') {
            let name = imported.split_whitespace().next().unwrap_or_default();
            if name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !name.is_empty()
            {
                reads.push(read(
                    name,
                    true,
                    hit.spot()
                        .with_detail(format!("{name} is built in from $env/static")),
                ));
            }
        }
    }
    reads
}

/// django-environ's `env.db()`, `env.cache()`, `env.email()`: with no
/// variable named they read `DATABASE_URL`, `CACHE_URL`, `EMAIL_URL`, and
/// fail without it unless given a `default=`.
fn django_environ_urls(file: &FileEntry) -> Vec<EnvRead> {
    let call = re!(r"\b\w+\.(db_url|db|cache_url|cache|email_url|email|search_url)\(([^)]*)\)");
    hits(file, call)
        .filter(|hit| {
            !hit.group(2)
                .unwrap_or_default()
                .trim_start()
                .starts_with(['"', '\''])
        })
        .filter_map(|hit| {
            let name = match hit.group(1)? {
                "db" | "db_url" => "DATABASE_URL",
                "cache" | "cache_url" => "CACHE_URL",
                "email" | "email_url" => "EMAIL_URL",
                _ => "SEARCH_URL",
            };
            let strict = !hit.group(2).unwrap_or_default().contains("default");
            Some(read(
                name,
                strict,
                Spot::at(&file.path, hit.line(), hit.quote()),
            ))
        })
        .collect()
}

/// `required: ["JWT_SECRET", "PGHOST"]` of a JSON schema the environment is
/// validated against; a property with a `default` is not asked for.
fn schema_required(file: &FileEntry, text: &str) -> Vec<EnvRead> {
    let mut reads = Vec::new();
    for hit in hits(file, re!(r#"\brequired\s*:\s*\[([^\]]*)\]"#)) {
        let list = hit.group(1).unwrap_or_default();
        for name in re!(r#"["'`]([A-Z][A-Z0-9_]*)["'`]"#)
            .captures_iter(list)
            .filter_map(|c| c.get(1))
            .map(|m| m.as_str())
        {
            let with_default =
                regex::Regex::new(&format!(r#"\b{name}\s*:\s*\{{[^}}]*\bdefault\s*:"#))
                    .is_ok_and(|re| re.is_match(text));
            if !with_default {
                reads.push(read(
                    name,
                    true,
                    hit.spot()
                        .with_detail(format!("the env schema requires it: {}", hit.quote())),
                ));
            }
        }
    }
    reads
}

/// clap's builder: `.env("X")` in an `Arg` chain, required when the chain
/// says `.required(true)` and has no `.default_value`.
fn clap_builder(file: &FileEntry, text: &str) -> Vec<EnvRead> {
    hits(file, re!(r#"\.env\(\s*"([A-Z][A-Z0-9_]*)"\s*\)"#))
        .filter_map(|hit| {
            let rest = &text[hit.end()..];
            let chain_end = ["Arg::new", ".arg(", ";"]
                .iter()
                .filter_map(|m| rest.find(m))
                .min()
                .unwrap_or(rest.len());
            let start = text[..hit.start()].rfind("Arg::new").unwrap_or(hit.start());
            let chain = &text[start..hit.end() + chain_end];
            let strict = chain.contains(".required(true)") && !chain.contains(".default_value");
            Some(read(
                hit.group(1)?,
                strict,
                hit.spot()
                    .with_detail(format!("a command-line argument reads it: {}", hit.quote())),
            ))
        })
        .collect()
}

/// clap's derive: `#[arg(env = "X")]` on a field that is not an `Option`
/// and has no default is required.
fn clap_derive(file: &FileEntry, text: &str) -> Vec<EnvRead> {
    hits(
        file,
        re!(r#"#\[(?:arg|clap)\(([^\]]*\benv\b(?:\s*=\s*"([A-Z][A-Z0-9_]*)")?[^\]]*)\)\]"#),
    )
    .filter_map(|hit| {
        let attribute = hit.group(1)?;
        let field = text[hit.end()..]
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("#[") && !l.starts_with("///"))
            .unwrap_or_default();
        let ty = field.split_once(':').map_or("", |(_, t)| t.trim());
        // A bare `env` takes the field's name in upper case.
        let named = hit.group(2).map(str::to_owned).or_else(|| {
            let name = field
                .split_once(':')?
                .0
                .trim()
                .trim_start_matches("pub ")
                .trim();
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| name.to_ascii_uppercase())
        })?;
        let strict = !attribute.contains("default_value")
            && !ty.starts_with("Option<")
            && !ty.starts_with("bool")
            && !ty.starts_with("Vec<");
        Some(read(
            &named,
            strict,
            hit.spot()
                .with_detail(format!("a command-line argument reads it: {}", hit.quote())),
        ))
    })
    .collect()
}

/// `GetConnectionString("Default")` reads `ConnectionStrings__Default` from
/// the environment (appsettings.json holds the developer's).
fn connection_strings(file: &FileEntry) -> Vec<EnvRead> {
    hits(file, re!(r#"GetConnectionString\(\s*"(\w+)"\s*\)"#))
        .filter_map(|hit| {
            Some(read(
                &format!("ConnectionStrings__{}", hit.group(1)?),
                true,
                hit.spot().with_detail(format!(
                    "the app reads its connection string: {}",
                    hit.quote()
                )),
            ))
        })
        .collect()
}

fn is_spring_config(path: &str) -> bool {
    let name = file_name(path);
    path.contains("src/main/resources/")
        && name.starts_with("application")
        && [".yml", ".yaml", ".properties"]
            .iter()
            .any(|e| name.ends_with(e))
}

/// Spring binds `SPRING_DATASOURCE_URL` (and the user and password) over
/// `spring.datasource.*`: when the configuration's URL points at the
/// developer's machine, a deployment must give them.
fn spring_datasource(file: &FileEntry, text: &str) -> Vec<EnvRead> {
    if !text.contains("datasource") {
        return Vec::new();
    }
    let Some(hit) = hits(
        file,
        re!(r"(?m)^[ \t]*(?:spring\.datasource\.)?url[ \t]*[:=][ \t]*(jdbc:\S+)"),
    )
    .find(|hit| {
        hit.group(1)
            .is_some_and(|url| url.contains("localhost") || url.contains("127.0.0.1"))
    }) else {
        return Vec::new();
    };
    let spot = hit.spot().with_detail(format!(
        "the datasource points at the developer's machine: {}",
        hit.quote()
    ));
    let mut names = vec!["SPRING_DATASOURCE_URL"];
    for (key, name) in [
        ("username", "SPRING_DATASOURCE_USERNAME"),
        ("password", "SPRING_DATASOURCE_PASSWORD"),
    ] {
        if text.contains(key) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .map(|name| read(name, true, spot.clone()))
        .collect()
}

/// Variables a Spring configuration makes its datasource URL of
/// (`spring.datasource.url: ${MYSQL_URL}`): their value is a JDBC URL, so
/// their scheme is `jdbc` whatever their name says.
pub(crate) fn mark_jdbc_urls(view: &AppView<'_>, vars: &mut [EnvVar]) {
    let placeholder = re!(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}$");
    for file in view.files.iter().filter(|f| is_spring_config(&f.path)) {
        let Some(text) = file.content.as_deref() else {
            continue;
        };
        let url = if file.path.ends_with(".properties") {
            text.lines().find_map(|line| {
                let (key, value) = line.split_once('=')?;
                (key.trim() == "spring.datasource.url").then(|| value.trim().to_owned())
            })
        } else {
            super::yaml::lookup(text, "spring.datasource.url").map(|(value, _)| value)
        };
        let Some(name) = url
            .as_deref()
            .map(|u| u.trim_matches(['"', '\'']))
            .and_then(|u| placeholder.captures(u))
            .map(|c| c[1].to_owned())
        else {
            continue;
        };
        for var in vars.iter_mut().filter(|v| v.name == name) {
            if var.url_scheme.is_none() {
                var.url_scheme = Some("jdbc".to_owned());
            }
        }
    }
}

/// The database URLs an app hands SQLAlchemy's `create_async_engine`: an
/// async driver's scheme (`postgresql+asyncpg`), which the wiring keeps,
/// since a plain `postgresql://` loads psycopg2 and the engine refuses it
/// ("the asyncio extension requires an async driver"). The URL a variable
/// names `ASYNC` is the one; otherwise each read in a file that makes the
/// async engine; otherwise the app's only database URL.
pub(crate) fn mark_async_sqlalchemy_urls(view: &AppView<'_>, vars: &mut [EnvVar]) {
    let deps = python_dependencies(view);
    let has = |name: &str| deps.iter().any(|d| d == name);
    let scheme = if has("asyncpg") {
        "postgresql+asyncpg"
    } else if has("psycopg") || has("psycopg-binary") {
        "postgresql+psycopg"
    } else if has("aiomysql") {
        "mysql+aiomysql"
    } else if has("asyncmy") {
        "mysql+asyncmy"
    } else {
        return;
    };
    mark_engine_urls(view, vars, "create_async_engine", scheme);
}

/// The URL a synchronous SQLAlchemy engine is made from, when the only
/// driver the app installs is not the one a plain scheme loads: `mysql://`
/// loads mysqlclient (`No module named 'MySQLdb'` with only PyMySQL), and
/// `postgresql://` loads psycopg2 (absent with only psycopg 3). Django,
/// which reads its URLs itself, is left alone.
pub(crate) fn mark_sync_sqlalchemy_urls(view: &AppView<'_>, vars: &mut [EnvVar]) {
    let deps = python_dependencies(view);
    let has = |name: &str| deps.iter().any(|d| d == name);
    let sqlalchemy = ["sqlalchemy", "flask-sqlalchemy", "sqlmodel"]
        .iter()
        .any(|d| has(d));
    if !sqlalchemy || has("django") {
        return;
    }
    let postgres = [
        "psycopg2",
        "psycopg2-binary",
        "psycopg",
        "psycopg-binary",
        "pg8000",
    ]
    .iter()
    .any(|d| has(d));
    let mysql = ["mysqlclient", "pymysql", "mysql-connector-python"]
        .iter()
        .any(|d| has(d));
    let scheme = if has("pymysql") && !has("mysqlclient") && !postgres {
        "mysql+pymysql"
    } else if (has("psycopg") || has("psycopg-binary"))
        && !has("psycopg2")
        && !has("psycopg2-binary")
        && !mysql
    {
        "postgresql+psycopg"
    } else {
        return;
    };
    mark_engine_urls(view, vars, "create_engine", scheme);
}

fn python_dependencies(view: &AppView<'_>) -> Vec<String> {
    super::python_deps::python_deps(view)
        .into_iter()
        .map(|dep| dep.value.to_ascii_lowercase())
        .collect()
}

/// Gives `scheme` to the database URL the app hands `engine` (a call of
/// SQLAlchemy's): the one a variable names `ASYNC` for the async engine,
/// otherwise each read handed to the call, otherwise the app's only
/// database URL.
fn mark_engine_urls(view: &AppView<'_>, vars: &mut [EnvVar], engine: &str, scheme: &str) {
    let call = format!("{engine}(");
    let engine_files: Vec<&str> = view
        .sources(&[".py"])
        .filter_map(|f| f.content.as_deref())
        .filter(|text| {
            text.contains(&call)
                || (engine == "create_engine" && text.contains("SQLALCHEMY_DATABASE_URI"))
        })
        .collect();
    if engine_files.is_empty() {
        return;
    }
    let is_candidate = |v: &EnvVar| {
        let upper = v.name.to_ascii_uppercase();
        v.url_scheme.is_none()
            && (v.kind == VariableKind::Datastore || upper.contains("SQLALCHEMY"))
            && ["_URL", "_URI", "_DSN"].iter().any(|s| upper.ends_with(s))
            && ![
                "REDIS", "MONGO", "CACHE", "BROKER", "CELERY", "RABBIT", "AMQP",
            ]
            .iter()
            .any(|other| upper.contains(other))
    };
    let candidates: Vec<String> = vars
        .iter()
        .filter(|v| is_candidate(v))
        .map(|v| v.name.clone())
        .collect();
    let named_async: Vec<&String> = candidates
        .iter()
        .filter(|n| engine == "create_async_engine" && n.to_ascii_uppercase().contains("ASYNC"))
        .collect();
    let handed: Vec<String> = engine_arguments(view, &engine_files, engine)
        .into_iter()
        .filter(|name| candidates.contains(name))
        .collect();
    let chosen: Vec<String> = if !named_async.is_empty() {
        named_async.into_iter().cloned().collect()
    } else if !handed.is_empty() {
        handed
    } else if candidates.len() == 1 {
        candidates
    } else {
        Vec::new()
    };
    for var in vars.iter_mut().filter(|v| chosen.contains(&v.name)) {
        var.url_scheme = Some(scheme.to_owned());
    }
}

/// The variables whose value reaches `engine(…)` (`create_async_engine`,
/// `create_engine`): read in its first argument
/// (`os.environ["DATABASE_URL"]`), or through the name its value was given
/// (`URL = os.getenv("SQLALCHEMY_DATABASE_URL")`, then
/// `create_async_engine(URL)`, also imported from another module), or a
/// settings field of that name (`settings.database_url`).
fn engine_arguments(view: &AppView<'_>, engine_files: &[&str], engine: &str) -> Vec<String> {
    let env_name = re!(r#"["']([A-Za-z_][A-Za-z0-9_]*)["']"#);
    let call =
        regex::Regex::new(&format!(r"\b{}\(", regex::escape(engine))).expect("valid pattern");
    let mut names = Vec::new();
    for text in engine_files {
        for call in call.find_iter(text) {
            let args = super::scan::call_args(text, call.end());
            let first = super::scan::split_args(args)
                .first()
                .map(|a| a.trim().to_owned())
                .unwrap_or_default();
            if first.contains("environ") || first.contains("getenv") {
                names.extend(env_name.captures_iter(&first).map(|c| c[1].to_owned()));
                continue;
            }
            let Some(alias) = re!(r"(\w+)\s*$").captures(&first).map(|c| c[1].to_owned()) else {
                continue;
            };
            names.push(alias.to_ascii_uppercase());
            let assigned = regex::Regex::new(&format!(
                r#"\b{}\s*(?::[^=\n]*)?=\s*os\.(?:getenv|environ\.get)\(\s*["'](\w+)["']|\b{}\s*(?::[^=\n]*)?=\s*os\.environ\[\s*["'](\w+)["']"#,
                regex::escape(&alias),
                regex::escape(&alias)
            ))
            .expect("valid pattern");
            for source in view.sources(&[".py"]).filter_map(|f| f.content.as_deref()) {
                names.extend(
                    assigned
                        .captures_iter(source)
                        .filter_map(|c| c.get(1).or(c.get(2)).map(|m| m.as_str().to_owned())),
                );
            }
        }
    }
    names
}

/// A Spring Boot app with JPA or JDBC and no datasource URL configured, nor
/// an embedded database, does not start until `SPRING_DATASOURCE_URL` (and
/// its user and password) are given.
pub(crate) fn spring_without_datasource(view: &AppView<'_>) -> Vec<EnvRead> {
    let Some(build) = ["pom.xml", "build.gradle", "build.gradle.kts"]
        .into_iter()
        .find_map(|name| view.file(name))
    else {
        return Vec::new();
    };
    let text = build.content.as_deref().unwrap_or_default();
    let uses_datasource = ["spring-boot-starter-data-jpa", "spring-boot-starter-jdbc"]
        .iter()
        .any(|s| text.contains(s));
    let embedded = ["h2database", "hsqldb", "derby"]
        .iter()
        .any(|s| text.contains(s));
    let configured = view
        .files
        .iter()
        .filter(|f| is_spring_config(&f.path))
        .any(|f| {
            f.content
                .as_deref()
                .is_some_and(|t| t.contains("datasource") && t.contains("url"))
        });
    if !uses_datasource || embedded || configured {
        return Vec::new();
    }
    let at = Spot::file(
        &build.path,
        "Spring Data needs a datasource and no configuration names one",
    );
    [
        "SPRING_DATASOURCE_URL",
        "SPRING_DATASOURCE_USERNAME",
        "SPRING_DATASOURCE_PASSWORD",
    ]
    .into_iter()
    .map(|name| read(name, true, at.clone()))
    .collect()
}

/// NestJS's `ConfigService.get("X")` falls back to `process.env.X`: an
/// upper-case key is an environment variable (a dotted key names a loaded
/// configuration value instead). A second argument is the default;
/// `getOrThrow` fails without it.
fn nest_config_service(file: &FileEntry) -> Vec<EnvRead> {
    let call = re!(
        r#"\b\w*[cC]onfig\w*\s*\.\s*(get|getOrThrow)\s*(?:<[^>()]*>)?\(\s*["'`]([A-Z][A-Z0-9_]*)["'`]\s*(,\s*[^),]+)?"#
    );
    hits(file, call)
        .filter_map(|hit| {
            let name = hit.group(2)?;
            let strict = hit.group(1) == Some("getOrThrow");
            let default = hit
                .group(3)
                .map(|d| d.trim_start_matches(',').trim())
                .filter(|d| !d.starts_with('{') && *d != "undefined")
                .map(|d| d.trim_matches(['"', '\'', '`']).to_owned());
            Some(EnvRead {
                name: name.to_owned(),
                default: if strict { None } else { default },
                example: false,
                strict,
                stops_at_load: false,
                at: hit.spot(),
            })
        })
        .collect()
}

/// better-auth and NextAuth (Auth.js) read their signing secret from the
/// environment when the configuration passes none (`BETTER_AUTH_SECRET`,
/// `AUTH_SECRET` for Auth.js v5, whose `NextAuth()` gives `{ handlers,
/// auth }`, `NEXTAUTH_SECRET` before it) and refuse
/// to run in production without it. When OAuth providers are the only way
/// to sign in (no email/password or credentials provider), their client id
/// and secret are needed to log in at all.
fn auth_library(file: &FileEntry, text: &str) -> Vec<EnvRead> {
    let call = re!(r"\b(betterAuth|NextAuth)\(");
    let Some(hit) = hits(file, call).next() else {
        return Vec::new();
    };
    let better = hit.group(1) == Some("betterAuth");
    let mut reads = Vec::new();
    if !re!(r"\bsecret\s*:").is_match(text) {
        let name = if better {
            "BETTER_AUTH_SECRET"
        } else if re!(r"\bhandlers\b|\}\s*=\s*NextAuth\(").is_match(text) {
            "AUTH_SECRET"
        } else {
            "NEXTAUTH_SECRET"
        };
        let at = Spot::at(
            &file.path,
            hit.line(),
            format!(
                "{} signs sessions with {name} when given no secret",
                hit.group(1).unwrap_or_default()
            ),
        );
        reads.push(read(name, true, at));
    }
    let other_sign_in = if better {
        text.contains("emailAndPassword") || text.contains("magicLink")
    } else {
        re!(r"\b(?:Credentials|Email|Nodemailer|Resend|Sendgrid|Passkey)(?:Provider)?\s*\(")
            .is_match(text)
    };
    if !other_sign_in {
        let provider = re!(
            r#"\b(?:process\.env\.|process\.env\[\s*["'])([A-Z][A-Z0-9_]*(?:CLIENT_ID|CLIENT_SECRET|_ID|_SECRET))\b"#
        );
        reads.extend(
            hits(file, provider)
                .filter(|h| !h.group(1).is_some_and(|n| n.ends_with("AUTH_SECRET")))
                .filter_map(|h| Some(read(h.group(1)?, true, h.spot()))),
        );
    }
    reads
}

/// A Laravel guard on the `jwt` driver (`tymon/jwt-auth` or its fork
/// `php-open-source-saver/jwt-auth`) signs tokens with the package's
/// `secret`, which its configuration reads as `env('JWT_SECRET')` with no
/// default, whether or not the app publishes `config/jwt.php`; `php artisan
/// jwt:secret` writes it on a developer's machine only.
pub(crate) fn laravel_jwt_secret(view: &AppView<'_>) -> Vec<EnvRead> {
    let composer = view.text("composer.json").unwrap_or_default();
    let package = ["tymon/jwt-auth", "php-open-source-saver/jwt-auth"]
        .iter()
        .any(|p| composer.contains(&format!("\"{p}\"")));
    let Some(auth) = view.file("config/auth.php").filter(|_| package) else {
        return Vec::new();
    };
    let driver = re!(r#"['"]driver['"]\s*=>\s*['"]jwt['"]"#);
    let Some(hit) = hits(auth, driver).next() else {
        return Vec::new();
    };
    let published = view.file("config/jwt.php").and_then(|jwt| {
        let secret = re!(r#"\benv\(\s*['"]JWT_SECRET['"]\s*\)"#);
        hits(jwt, secret).next().map(|h| h.spot())
    });
    let at = published.unwrap_or_else(|| {
        Spot::at(
            &auth.path,
            hit.line(),
            "a guard uses the jwt driver, which signs with JWT_SECRET",
        )
    });
    vec![read("JWT_SECRET", true, at)]
}

/// Laravel encrypts its cookies and sessions with `config/app.php`'s
/// `env('APP_KEY')`, and answers 500 to every request without it. An
/// example file's value (`someRandomStringWith32Characters`) is a slot to
/// fill, never a key: Laravel refuses a key of the wrong length, and a
/// published one signs nothing safely.
pub(crate) fn laravel_app_key(view: &AppView<'_>) -> Vec<EnvRead> {
    if !view.has("artisan") {
        return Vec::new();
    }
    let Some(app) = view
        .file("config/app.php")
        .or_else(|| view.file("app/Config/app.php"))
    else {
        return Vec::new();
    };
    let key = re!(r#"['"]key['"]\s*=>\s*env\(\s*['"]APP_KEY['"]\s*\)"#);
    hits(app, key)
        .next()
        .map(|hit| vec![read("APP_KEY", true, hit.spot())])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(path: &str, text: &str) -> Vec<(String, bool)> {
        let file = FileEntry {
            path: path.to_owned(),
            size: text.len() as u64,
            content: Some(text.to_owned()),
            encoding: None,
        };
        reads(&file)
            .into_iter()
            .map(|r| (r.name, r.strict))
            .collect()
    }

    #[test]
    fn a_fastify_env_schema_requires_what_it_lists_without_a_default() {
        let text = "import fastifyEnv from '@fastify/env'\nconst schema = { type: 'object', required: ['PORT', 'JWT_SECRET'], properties: { PORT: { type: 'string', default: 5000 } } }\n";
        assert_eq!(
            names("src/server.ts", text),
            [("JWT_SECRET".to_owned(), true)]
        );
    }

    #[test]
    fn viper_defaults_are_reads_once_it_reads_the_environment() {
        let text = "func init() {\n\tviper.SetDefault(\"MONGODB_URI\", \"mongodb://app@localhost:27017\")\n\tviper.SetDefault(\"WORKERS\", 4)\n\tviper.SetDefault(\"server.port\", 8080)\n\tviper.AutomaticEnv()\n}\n";
        assert_eq!(
            names("internal/config/config.go", text),
            [
                ("MONGODB_URI".to_owned(), false),
                ("WORKERS".to_owned(), false)
            ]
        );
        let without_env = text.replace("viper.AutomaticEnv()", "");
        assert!(names("internal/config/config.go", &without_env).is_empty());
    }

    #[test]
    fn go_config_structs_filled_by_their_tags() {
        let caarlos = "import \"github.com/caarlos0/env/v11\"\n\ntype Config struct {\n\tPort string `env:\"PORT\" envDefault:\"3000\"`\n\tDatabaseURL string `env:\"DATABASE_URL,required\"`\n\tSentry string `env:\"SENTRY_DSN\"`\n\tName string `json:\"name\"`\n}\n";
        assert_eq!(
            names("internal/config/config.go", caarlos),
            [
                ("PORT".to_owned(), false),
                ("DATABASE_URL".to_owned(), true),
                ("SENTRY_DSN".to_owned(), false)
            ]
        );
        let envconfig = "import \"github.com/kelseyhightower/envconfig\"\n\ntype Spec struct {\n\tRedis string `envconfig:\"REDIS_URL\" required:\"true\"`\n\tWorkers int `envconfig:\"WORKERS\" default:\"4\"`\n}\n";
        assert_eq!(
            names("config.go", envconfig),
            [
                ("REDIS_URL".to_owned(), true),
                ("WORKERS".to_owned(), false)
            ]
        );
        let cleanenv = "import \"github.com/ilyakaznacheev/cleanenv\"\n\ntype Config struct {\n\tToken string `yaml:\"token\" env:\"BOT_TOKEN\" env-required:\"true\"`\n}\n";
        assert_eq!(
            names("config.go", cleanenv),
            [("BOT_TOKEN".to_owned(), true)]
        );
        let viper = "type Config struct {\n\tDbName string `mapstructure:\"DB_NAME\"`\n\tserver string `mapstructure:\"server\"`\n}\n\nfunc Load() {\n\tviper.AutomaticEnv()\n}\n";
        assert_eq!(
            names("utils/config.go", viper),
            [("DB_NAME".to_owned(), false)]
        );
        // Tags without a library that reads the environment are JSON's, YAML's.
        let plain = caarlos.replace("github.com/caarlos0/env/v11", "encoding/json");
        assert!(names("config.go", &plain).is_empty());
    }

    #[test]
    fn clap_arguments_bound_to_variables() {
        let builder = "Arg::new(\"key\")\n    .long(\"key\")\n    .env(\"OPENAI_KEY\")\n    .required(true),\nArg::new(\"model\").env(\"MODEL\").default_value(\"x\"),\n";
        assert_eq!(
            names("src/cli.rs", builder),
            [("OPENAI_KEY".to_owned(), true), ("MODEL".to_owned(), false)]
        );
        let derive = "struct Cli {\n    #[arg(long, env = \"API_TOKEN\")]\n    token: String,\n    #[arg(long, env = \"LOG_FILE\")]\n    log: Option<PathBuf>,\n}\n";
        assert_eq!(
            names("src/main.rs", derive),
            [
                ("API_TOKEN".to_owned(), true),
                ("LOG_FILE".to_owned(), false)
            ]
        );
        let bare = "pub struct Config {\n    /// The signing key.\n    #[clap(long, env)]\n    pub hmac_key: String,\n    #[clap(long, env, default_value = \"5\")]\n    pub pool: u32,\n}\n";
        assert_eq!(
            names("src/config.rs", bare),
            [("HMAC_KEY".to_owned(), true), ("POOL".to_owned(), false)]
        );
    }

    #[test]
    fn connection_strings_and_spring_datasources() {
        assert_eq!(
            names(
                "Program.cs",
                "var cs = builder.Configuration.GetConnectionString(\"DefaultConnection\");"
            ),
            [("ConnectionStrings__DefaultConnection".to_owned(), true)]
        );
        let yml = "spring:\n  datasource:\n    url: jdbc:postgresql://localhost:5432/app\n    username: postgres\n    password: secret\n";
        assert_eq!(
            names("src/main/resources/application-dev.yml", yml)
                .into_iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>(),
            [
                "SPRING_DATASOURCE_URL",
                "SPRING_DATASOURCE_USERNAME",
                "SPRING_DATASOURCE_PASSWORD"
            ]
        );
        let remote = "spring.datasource.url=jdbc:postgresql://${DB_HOST}:5432/app\n";
        assert!(names("src/main/resources/application.properties", remote).is_empty());
    }
}
