//! The databases and caches a repository's compose file already runs
//! (`db: image: postgres:16`): when the choice provisions a store of that
//! kind, the app's variables are wired to the file's own service, with the
//! credentials that service is started with, instead of being asked of the
//! user while the database runs unused beside the app.

use super::env::escape;
use super::yaml::scalar_text;
use crate::choose::{Part, StoreKind};
use regex::Regex;
use serde_yaml_ng::{Mapping, Value};
use std::sync::LazyLock;

/// A store service of the repository's compose file.
pub(super) struct OwnStore {
    pub kind: StoreKind,
    /// Its service name, which is its host name on the compose network.
    pub service: String,
    user: String,
    password: String,
    database: String,
}

/// The one service of `services` running a `kind` store, when there is
/// exactly one (two Postgres services: which is the app's is not known).
pub(super) fn find(services: &Mapping, kind: StoreKind) -> Option<OwnStore> {
    let (name, service) = only_service(services, |image| image_kind(image) == Some(kind))?;
    Some(OwnStore::new(kind, name, service))
}

/// The name and body of the one service whose image `runs`, if exactly
/// one does.
fn only_service(services: &Mapping, runs: impl Fn(&str) -> bool) -> Option<(String, &Mapping)> {
    let mut found = services
        .iter()
        .filter_map(|(name, service)| Some((scalar_text(name), service.as_mapping()?)))
        .filter(|(_, service)| {
            service
                .get("image")
                .map(scalar_text)
                .is_some_and(|i| runs(&i))
        });
    let one = found.next()?;
    found.next().is_none().then_some(one)
}

/// The file's one service of a `kind` deployflow does not provision
/// (`mongodb`, `elasticsearch`, `rabbitmq`), with the value of the app's
/// variable `name` that reaches it: a connection URL (`MONGO_URI`,
/// `ELASTICSEARCH_NODE`, `AMQP_URL`), its host or its port; `None` for
/// another part, another kind, or when the file runs no such service.
pub(super) fn file_service_value(
    services: &Mapping,
    kind: &str,
    name: &str,
) -> Option<(String, String)> {
    let (images, port) = file_service_images(kind)?;
    let (service, spec) = only_service(services, |image| {
        images.contains(&image_name(image).as_str())
    })?;
    let upper = name.to_ascii_uppercase();
    if upper.ends_with("HOST") || upper.ends_with("HOSTNAME") {
        return Some((service.clone(), service));
    }
    if upper.ends_with("PORT") {
        return Some((service, port.to_string()));
    }
    let address = [
        "URI", "URL", "NODE", "NODES", "HOSTS", "ADDR", "ADDRESS", "ENDPOINT",
    ]
    .iter()
    .any(|word| upper.split('_').any(|w| w == *word) || upper.ends_with(word));
    if !address {
        return None;
    }
    let env = Environment(spec.get("environment"));
    let value = match kind {
        "mongodb" => {
            let user = env.get(&["MONGO_INITDB_ROOT_USERNAME"]);
            let password = env.get(&["MONGO_INITDB_ROOT_PASSWORD"]).unwrap_or_default();
            let database = env
                .get(&["MONGO_INITDB_DATABASE"])
                .unwrap_or_else(|| "app".to_owned());
            match user {
                Some(user) => format!(
                    "mongodb://{}:{}@{service}:{port}/{}?authSource=admin",
                    url_part(&user),
                    url_part(&password),
                    url_part(&database)
                ),
                None => format!("mongodb://{service}:{port}/{}", url_part(&database)),
            }
        }
        // Development files run the search engine with its security off
        // (`xpack.security.enabled=false`): plain HTTP.
        "elasticsearch" => format!("http://{service}:{port}"),
        _ => {
            // The image's default user `guest` may log in over the network
            // (its configuration lifts RabbitMQ's loopback-only rule).
            let user = env
                .get(&["RABBITMQ_DEFAULT_USER"])
                .unwrap_or_else(|| "guest".to_owned());
            let password = env
                .get(&["RABBITMQ_DEFAULT_PASS"])
                .unwrap_or_else(|| "guest".to_owned());
            let vhost = env
                .get(&["RABBITMQ_DEFAULT_VHOST"])
                .filter(|v| v != "/")
                .map(|v| url_part(&v))
                .unwrap_or_default();
            format!(
                "amqp://{}:{}@{service}:{port}/{vhost}",
                url_part(&user),
                url_part(&password)
            )
        }
    };
    Some((service, value))
}

/// Whether the file runs one service of a `kind` deployflow does not
/// provision (`mongodb`, `elasticsearch`, `rabbitmq`).
pub(super) fn runs_file_service(services: &Mapping, kind: &str) -> bool {
    file_service_images(kind).is_some_and(|(images, _)| {
        only_service(services, |image| {
            images.contains(&image_name(image).as_str())
        })
        .is_some()
    })
}

/// The images that run a `kind` deployflow does not provision, and its port.
fn file_service_images(kind: &str) -> Option<(&'static [&'static str], u16)> {
    match kind {
        "mongodb" => Some((&["mongo", "mongodb"], 27017)),
        "elasticsearch" => Some((&["elasticsearch", "opensearch"], 9200)),
        "rabbitmq" => Some((&["rabbitmq"], 5672)),
        _ => None,
    }
}

/// The credentials of a `kind` store's image: the environment names of its
/// passwords, and of its database name and user with the value each gets
/// when the file leaves it unset.
fn credential_names(
    kind: StoreKind,
) -> (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
) {
    match kind {
        StoreKind::Postgres => (
            &["POSTGRES_PASSWORD", "POSTGRESQL_PASSWORD"],
            &[
                ("POSTGRES_DB", "app"),
                ("POSTGRES_USER", "postgres"),
                ("POSTGRESQL_DATABASE", "app"),
                ("POSTGRESQL_USERNAME", "postgres"),
            ],
        ),
        StoreKind::Mysql => (
            &[
                "MYSQL_ROOT_PASSWORD",
                "MYSQL_PASSWORD",
                "MARIADB_ROOT_PASSWORD",
                "MARIADB_PASSWORD",
            ],
            &[
                ("MYSQL_DATABASE", "app"),
                ("MYSQL_USER", "app"),
                ("MARIADB_DATABASE", "app"),
                ("MARIADB_USER", "app"),
            ],
        ),
        StoreKind::Redis => (&[], &[]),
    }
}

/// The file's one `kind` store whose credentials are a bare `${VAR}`
/// nothing sets (`MYSQL_ROOT_PASSWORD: ${DATABASE_PASSWORD}`, no `.env`
/// beside the file): the image refuses to start without a password, and an
/// empty database name or user leaves the app reading another than the
/// store made. A name or user gets its default in place
/// (`${DATABASE_NAME:-app}`); the passwords' variables are returned, for
/// `make up` to generate into `.env`. `dotenv` is the text of the `.env`
/// beside the file, when the repository has one.
struct UrlCredentials {
    user: String,
    password: String,
    database: Option<String>,
}

/// The one set of literal credentials other services' URLs give for the
/// store service `name` (`postgresql://user:pass@name:5432/db`).
fn credentials_in_urls(services: &Mapping, name: &str) -> Option<UrlCredentials> {
    static URL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^[a-z][a-z0-9+.-]*://([^:@/\s$]+):([^@/\s$]+)@([\w.-]+)(?::\d+)?(?:/([\w-]+))?",
        )
        .expect("a valid pattern")
    });
    let mut found: Vec<UrlCredentials> = Vec::new();
    for (service_name, service) in services {
        if scalar_text(service_name) == name {
            continue;
        }
        let Some(Value::Mapping(environment)) = service.get("environment") else {
            continue;
        };
        for value in environment.values() {
            let text = scalar_text(value);
            let Some(c) = URL.captures(&text) else {
                continue;
            };
            if &c[3] != name {
                continue;
            }
            let credentials = UrlCredentials {
                user: c[1].to_owned(),
                password: c[2].to_owned(),
                database: c.get(4).map(|m| m.as_str().to_owned()),
            };
            if !found
                .iter()
                .any(|f| f.user == credentials.user && f.password == credentials.password)
            {
                found.push(credentials);
            }
        }
    }
    (found.len() == 1).then(|| found.remove(0))
}

/// `dotenv` is the `.env` beside the compose file, when the repository has
/// one; `in_repository` says whether a path beside the compose file is.
pub(super) fn fill_unset_credentials(
    services: &mut Mapping,
    kind: StoreKind,
    dotenv: Option<&str>,
    in_repository: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let Some((name, _)) = only_service(services, |image| image_kind(image) == Some(kind)) else {
        return Vec::new();
    };
    let written = (kind == StoreKind::Postgres)
        .then(|| credentials_in_urls(services, &name))
        .flatten();
    let Some(service) = services
        .get_mut(name.as_str())
        .and_then(Value::as_mapping_mut)
    else {
        return Vec::new();
    };
    // `env_file: .env` (or `.env/database`) not in the repository: the
    // store's whole set-up came from it (nestjs-prisma-starter's
    // PostgreSQL), and without a password its image refuses to start. The
    // password is asked of `make up` as if the file named it.
    let setup_file_missing = service.get("env_file").is_some_and(|files| {
        let paths: Vec<String> = match files {
            Value::Sequence(items) => items
                .iter()
                .map(|item| match item {
                    Value::Mapping(long) => long.get("path").map(scalar_text).unwrap_or_default(),
                    other => scalar_text(other),
                })
                .collect(),
            other => vec![scalar_text(other)],
        };
        !paths.is_empty() && paths.iter().all(|p| !in_repository(p))
    });
    // Nothing sets a password at all (the set-up lived in an override file
    // the deployment does not read): the image refuses to start as well.
    let no_password_set = !service.contains_key("env_file") && {
        let keys = environment_keys(service);
        !keys.iter().any(|key| {
            credential_names(kind).0.contains(&key.as_str())
                || EMPTY_PASSWORD_ALLOWED.contains(&key.as_str())
        })
    };
    let first_password = credential_names(kind).0.first().copied();
    if let (true, Some(password)) = (setup_file_missing || no_password_set, first_password) {
        let environment = service
            .entry(Value::String("environment".to_owned()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if let Value::Mapping(environment) = environment
            && !credential_names(kind)
                .0
                .iter()
                .any(|key| environment.contains_key(*key))
        {
            match &written {
                // The app's URL names the credentials (fastapi-realworld's
                // `postgresql://postgres:postgres@db/postgres`): the store is
                // set up with them, or the app could not log in.
                Some(UrlCredentials {
                    user,
                    password: literal,
                    database,
                }) => {
                    let mut set = |key: &str, value: &str| {
                        environment.insert(
                            Value::String(key.to_owned()),
                            Value::String(value.to_owned()),
                        );
                    };
                    set(password, literal);
                    set("POSTGRES_USER", user);
                    set("POSTGRES_DB", database.as_deref().unwrap_or(user));
                }
                None => {
                    environment.insert(
                        Value::String(password.to_owned()),
                        Value::String(format!("${{{password}}}")),
                    );
                }
            }
        }
    }
    let Some(Value::Mapping(environment)) = service.get_mut("environment") else {
        return Vec::new();
    };
    let set_in_dotenv = |variable: &str| {
        dotenv.is_some_and(|text| {
            text.lines()
                .any(|line| line.trim_start().starts_with(&format!("{variable}=")))
        })
    };
    let unset = |value: &Value| {
        let text = scalar_text(value);
        let variable = bare_variable(&text)?;
        (!set_in_dotenv(variable)).then(|| variable.to_owned())
    };
    let (passwords, named) = credential_names(kind);
    let mut generated = Vec::new();
    for key in passwords {
        if let Some(variable) = environment.get(*key).and_then(unset) {
            generated.push(variable);
        }
    }
    for (key, default) in named {
        if let Some(variable) = environment.get(*key).and_then(unset) {
            environment.insert(
                Value::String((*key).to_owned()),
                Value::String(format!("${{{variable}:-{default}}}")),
            );
        }
    }
    generated.sort();
    generated.dedup();
    generated
}

/// Settings that let a database image start without a password.
const EMPTY_PASSWORD_ALLOWED: &[&str] = &[
    "POSTGRES_HOST_AUTH_METHOD",
    "MYSQL_ALLOW_EMPTY_PASSWORD",
    "MYSQL_RANDOM_ROOT_PASSWORD",
    "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
    "MARIADB_RANDOM_ROOT_PASSWORD",
    "ALLOW_EMPTY_PASSWORD",
];

/// The names a service's `environment` sets, as a map or as a list of
/// `KEY=value`.
fn environment_keys(service: &Mapping) -> Vec<String> {
    match service.get("environment") {
        Some(Value::Mapping(environment)) => environment.keys().map(scalar_text).collect(),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|item| {
                let text = scalar_text(item);
                text.split('=').next().unwrap_or_default().to_owned()
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `VAR` of `${VAR}` or `$VAR` written alone, with no default or error.
fn bare_variable(text: &str) -> Option<&str> {
    let name = text
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .or_else(|| text.strip_prefix('$'))?;
    (!name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some(name)
}

/// Whether the image runs a database, cache or broker, which the app
/// reaches over the compose network and nobody needs from the host.
pub(super) fn is_store_image(image: &str) -> bool {
    image_kind(image).is_some()
        || matches!(
            image_name(image).as_str(),
            "mongo"
                | "mongodb"
                | "memcached"
                | "rabbitmq"
                | "elasticsearch"
                | "opensearch"
                | "cassandra"
                | "influxdb"
                | "clickhouse-server"
                | "minio"
                | "nats"
                | "kafka"
        )
}

/// The web UIs that administer a store (`dpage/pgadmin4`, `adminer`,
/// `phpmyadmin`, `mongo-express`, `redis-commander`, `redisinsight`).
pub(super) fn is_store_admin_image(image: &str) -> bool {
    matches!(
        image_name(image).as_str(),
        "pgadmin4"
            | "pgadmin"
            | "adminer"
            | "phpmyadmin"
            | "mongo-express"
            | "redis-commander"
            | "redisinsight"
    )
}

/// `ghcr.io/owner/postgres:16@sha256:…` → `postgres`.
fn image_name(image: &str) -> String {
    let image = image.split('@').next().unwrap_or(image);
    let name = image.rsplit('/').next().unwrap_or(image);
    name.split(':').next().unwrap_or(name).to_ascii_lowercase()
}

/// The kind of store an image runs: `postgres:16-alpine`,
/// `postgis/postgis`, `bitnami/mysql`, `mariadb`, `redis/redis-stack`…
fn image_kind(image: &str) -> Option<StoreKind> {
    let name = image_name(image);
    match name.as_str() {
        "postgres" | "postgresql" | "postgis" | "timescaledb" | "timescaledb-ha" | "pgvector" => {
            Some(StoreKind::Postgres)
        }
        "mysql" | "mysql-server" | "mariadb" | "percona-server" | "percona" => {
            Some(StoreKind::Mysql)
        }
        "redis" | "redis-stack" | "redis-stack-server" | "valkey" | "keydb" => {
            Some(StoreKind::Redis)
        }
        _ => None,
    }
}

/// A health check that passes once a `kind` store takes connections on
/// its network address, with the tools its official image carries (MariaDB's
/// newer images name theirs `mariadb-admin` only). The images' first-start
/// set-up server listens on a socket only, so a check over TCP is not fooled
/// by it.
pub(super) fn readiness_check(kind: StoreKind) -> Vec<String> {
    let shell = |command: &str| vec!["CMD-SHELL".to_owned(), command.to_owned()];
    match kind {
        StoreKind::Postgres => shell("pg_isready -h 127.0.0.1 -p 5432"),
        StoreKind::Mysql => shell(
            "mysqladmin ping -h 127.0.0.1 --silent || mariadb-admin ping -h 127.0.0.1 --silent",
        ),
        StoreKind::Redis => shell("redis-cli -h 127.0.0.1 ping"),
    }
}

impl OwnStore {
    fn new(kind: StoreKind, service: String, spec: &Mapping) -> OwnStore {
        let env = Environment(spec.get("environment"));
        let (user, password, database) = match kind {
            // Bitnami's image reads POSTGRESQL_USERNAME and friends (and
            // the official names as aliases); without a database named it
            // has only `postgres`, not one named after the user.
            StoreKind::Postgres => {
                let named = env.get(&["POSTGRES_USER", "POSTGRESQL_USERNAME"]);
                let user = named.clone().unwrap_or_else(|| "postgres".to_owned());
                let password = env
                    .get(&["POSTGRES_PASSWORD", "POSTGRESQL_PASSWORD"])
                    .or_else(|| {
                        (user == "postgres")
                            .then(|| env.get(&["POSTGRESQL_POSTGRES_PASSWORD"]))
                            .flatten()
                    })
                    .unwrap_or_default();
                let bitnami = env.get(&["POSTGRES_USER"]).is_none() && named.is_some();
                let database = env
                    .get(&["POSTGRES_DB", "POSTGRESQL_DATABASE"])
                    .unwrap_or_else(|| {
                        if bitnami {
                            "postgres".to_owned()
                        } else {
                            user.clone()
                        }
                    });
                (user, password, database)
            }
            StoreKind::Mysql => {
                let named = env.get(&["MYSQL_USER", "MARIADB_USER"]);
                let (user, password) = match named {
                    Some(user) => (user, env.get(&["MYSQL_PASSWORD", "MARIADB_PASSWORD"])),
                    None => (
                        "root".to_owned(),
                        env.get(&["MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD"]),
                    ),
                };
                let database = env
                    .get(&["MYSQL_DATABASE", "MARIADB_DATABASE"])
                    .unwrap_or_default();
                (user, password.unwrap_or_default(), database)
            }
            StoreKind::Redis => {
                let password = spec
                    .get("command")
                    .map(command_text)
                    .and_then(|command| requirepass(&command))
                    // Bitnami's image sets `requirepass` from REDIS_PASSWORD.
                    .or_else(|| env.get(&["REDIS_PASSWORD"]))
                    .unwrap_or_default();
                ("default".to_owned(), password, String::new())
            }
        };
        OwnStore {
            kind,
            service,
            user,
            password,
            database,
        }
    }

    /// The value (compose syntax) an app variable reading `part` gets.
    pub(super) fn value(&self, part: &Part) -> String {
        let host = &self.service;
        let port = self.kind.port();
        match part {
            Part::Url { scheme } => {
                let scheme = scheme
                    .as_deref()
                    .map(escape)
                    .unwrap_or_else(|| self.kind.default_scheme().to_owned());
                let credentials = match (self.kind, self.password.is_empty()) {
                    (StoreKind::Redis, true) => String::new(),
                    (StoreKind::Redis, false) => format!(":{}@", url_part(&self.password)),
                    (_, true) => format!("{}@", url_part(&self.user)),
                    (_, false) => format!("{}:{}@", url_part(&self.user), url_part(&self.password)),
                };
                let path = match self.kind {
                    StoreKind::Redis => "0".to_owned(),
                    _ => url_part(&self.database),
                };
                format!("{scheme}://{credentials}{host}:{port}/{path}")
            }
            Part::JdbcUrl => format!(
                "jdbc:{}://{host}:{port}/{}?user={}&password={}",
                self.kind.jdbc_subprotocol(),
                url_part(&self.database),
                url_part(&self.user),
                url_part(&self.password)
            ),
            Part::Host => host.clone(),
            Part::Address => format!("{host}:{port}"),
            Part::Port => port.to_string(),
            Part::User => self.user.clone(),
            Part::Password => self.password.clone(),
            Part::Name => self.database.clone(),
            Part::Driver => self.kind.laravel_driver().to_owned(),
            Part::Tls => "false".to_owned(),
            Part::ConnectionString => super::stores::connection_string(
                self.kind,
                host,
                port,
                &self.user,
                &self.password,
                &self.database,
            ),
        }
    }
}

/// A service's `environment`, as a mapping or a `NAME=value` list.
struct Environment<'a>(Option<&'a Value>);

impl Environment<'_> {
    /// The first of `names` the service sets, as written (a literal or a
    /// `${VAR}` compose interpolates the same way in the app's service).
    fn get(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|name| match self.0? {
            Value::Mapping(map) => map.get(*name).filter(|v| !v.is_null()).map(scalar_text),
            Value::Sequence(items) => items.iter().find_map(|item| {
                let text = scalar_text(item);
                let (key, value) = text.split_once('=')?;
                (key.trim() == *name).then(|| value.to_owned())
            }),
            _ => None,
        })
    }
}

pub(super) fn command_text(command: &Value) -> String {
    match command {
        Value::Sequence(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(" "),
        other => scalar_text(other),
    }
}

/// `redis-server --requirepass secret` → `secret`.
fn requirepass(command: &str) -> Option<String> {
    let mut words = command.split_whitespace();
    words.find(|w| *w == "--requirepass")?;
    words
        .next()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_owned())
}

/// A user name, password or database name inside a URL: characters that
/// would end the part are percent-encoded; a `${VAR}` reference is left for
/// compose to fill in.
fn url_part(text: &str) -> String {
    if text.contains("${") {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        match c {
            ':' | '@' | '/' | '?' | '#' | '%' | ' ' | '&' | '=' | '+' => {
                out.push_str(&format!("%{:02X}", c as u32));
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(yaml: &str) -> Mapping {
        serde_yaml_ng::from_str::<Value>(yaml).unwrap()["services"]
            .as_mapping()
            .unwrap()
            .clone()
    }

    #[test]
    fn postgres_credentials_come_from_the_services_environment() {
        let file = services(
            "services:\n  db:\n    image: postgres:16-alpine\n    environment:\n      POSTGRES_USER: shop\n      POSTGRES_PASSWORD: ${DB_PASSWORD:-p@ss}\n      POSTGRES_DB: shop\n  app:\n    build: .\n",
        );
        let store = find(&file, StoreKind::Postgres).unwrap();
        assert_eq!(store.service, "db");
        assert_eq!(
            store.value(&Part::Url { scheme: None }),
            "postgresql://shop:${DB_PASSWORD:-p@ss}@db:5432/shop"
        );
        assert_eq!(store.value(&Part::Password), "${DB_PASSWORD:-p@ss}");
        assert!(find(&file, StoreKind::Mysql).is_none());
    }

    #[test]
    fn defaults_list_environments_and_literal_passwords_in_urls() {
        let file = services(
            "services:\n  database:\n    image: postgis/postgis\n    environment: [POSTGRES_PASSWORD=p@ss/word]\n  cache:\n    image: redis:7\n    command: redis-server --requirepass hunter2\n  mariadb:\n    image: mariadb:11\n    environment:\n      MARIADB_ROOT_PASSWORD: root\n      MARIADB_DATABASE: blog\n",
        );
        let pg = find(&file, StoreKind::Postgres).unwrap();
        assert_eq!(
            pg.value(&Part::Url {
                scheme: Some("postgres".into())
            }),
            "postgres://postgres:p%40ss%2Fword@database:5432/postgres"
        );
        let redis = find(&file, StoreKind::Redis).unwrap();
        assert_eq!(
            redis.value(&Part::Url { scheme: None }),
            "redis://:hunter2@cache:6379/0"
        );
        let mysql = find(&file, StoreKind::Mysql).unwrap();
        assert_eq!(
            (mysql.value(&Part::User), mysql.value(&Part::Name)),
            ("root".to_owned(), "blog".to_owned())
        );
        // Oracle's own image of MySQL.
        let oracle = services(
            "services:\n  db:\n    image: mysql/mysql-server:8.0\n    environment:\n      MYSQL_USER: blog\n      MYSQL_PASSWORD: pw\n      MYSQL_DATABASE: blog\n",
        );
        let mysql = find(&oracle, StoreKind::Mysql).unwrap();
        assert_eq!(
            (mysql.value(&Part::User), mysql.value(&Part::Host)),
            ("blog".to_owned(), "db".to_owned())
        );
    }

    #[test]
    fn bitnami_images_are_read_by_their_own_names() {
        let file = services(
            "services:\n  db:\n    image: bitnami/postgresql\n    environment:\n      - POSTGRESQL_USERNAME=docker\n      - POSTGRESQL_PASSWORD=docker\n      - POSTGRESQL_DATABASE=shop\n  cache:\n    image: bitnami/redis:7.2\n    environment:\n      REDIS_PASSWORD: s3cret\n",
        );
        let pg = find(&file, StoreKind::Postgres).unwrap();
        assert_eq!(
            pg.value(&Part::Url { scheme: None }),
            "postgresql://docker:docker@db:5432/shop"
        );
        let redis = find(&file, StoreKind::Redis).unwrap();
        assert_eq!(
            redis.value(&Part::Url { scheme: None }),
            "redis://:s3cret@cache:6379/0"
        );
        // A user named but no database: Bitnami makes only `postgres`.
        let file = services(
            "services:\n  db:\n    image: bitnami/postgresql:16\n    environment:\n      POSTGRESQL_USERNAME: docker\n      POSTGRESQL_PASSWORD: pw\n",
        );
        assert_eq!(
            find(&file, StoreKind::Postgres).unwrap().value(&Part::Name),
            "postgres"
        );
    }

    #[test]
    fn mongo_variables_reach_the_files_own_mongo() {
        let file = services(
            "services:\n  mongo:\n    image: mongo:7\n    environment:\n      MONGO_INITDB_ROOT_USERNAME: root\n      MONGO_INITDB_ROOT_PASSWORD: example\n",
        );
        let mongo_value = |file: &Mapping, name: &str| {
            file_service_value(file, "mongodb", name).map(|(_, value)| value)
        };
        assert_eq!(
            mongo_value(&file, "MONGO_URI").as_deref(),
            Some("mongodb://root:example@mongo:27017/app?authSource=admin")
        );
        assert_eq!(mongo_value(&file, "MONGO_HOST").as_deref(), Some("mongo"));
        assert_eq!(mongo_value(&file, "MONGO_PASSWORD"), None);
        let open = services("services:\n  db:\n    image: mongo\n");
        assert_eq!(
            mongo_value(&open, "MONGOURI").as_deref(),
            Some("mongodb://db:27017/app")
        );
    }

    #[test]
    fn search_engine_and_broker_variables_reach_the_files_own_services() {
        let file = services(
            "services:\n  es:\n    image: docker.elastic.co/elasticsearch/elasticsearch:8.13.0\n    environment:\n      - xpack.security.enabled=false\n  queue:\n    image: rabbitmq:3-management\n    environment:\n      RABBITMQ_DEFAULT_USER: app\n      RABBITMQ_DEFAULT_PASS: s3cr/t\n",
        );
        let value = |kind: &str, name: &str| file_service_value(&file, kind, name);
        assert_eq!(
            value("elasticsearch", "ELASTICSEARCH_NODE"),
            Some(("es".to_owned(), "http://es:9200".to_owned()))
        );
        assert_eq!(
            value("elasticsearch", "ES_HOST").map(|(_, v)| v).as_deref(),
            Some("es")
        );
        assert_eq!(
            value("rabbitmq", "AMQP_URL").map(|(_, v)| v).as_deref(),
            Some("amqp://app:s3cr%2Ft@queue:5672/")
        );
        assert_eq!(
            value("rabbitmq", "RABBITMQ_PORT")
                .map(|(_, v)| v)
                .as_deref(),
            Some("5672")
        );
        // A broker the file does not run, a kind it cannot reach.
        assert_eq!(value("kafka", "KAFKA_BROKERS"), None);
        let opensearch =
            services("services:\n  search:\n    image: opensearchproject/opensearch:2\n");
        assert_eq!(
            file_service_value(&opensearch, "elasticsearch", "OPENSEARCH_URL")
                .map(|(_, v)| v)
                .as_deref(),
            Some("http://search:9200")
        );
        assert_eq!(
            file_service_value(&opensearch, "rabbitmq", "AMQP_URL"),
            None
        );
    }

    #[test]
    fn two_stores_of_one_kind_are_not_guessed_between() {
        let file = services("services:\n  a:\n    image: postgres\n  b:\n    image: postgres:15\n");
        assert!(find(&file, StoreKind::Postgres).is_none());
    }
}
