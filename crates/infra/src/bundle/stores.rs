//! The databases and caches the choice provisions, as compose services: a
//! pinned image, a named volume, a health check the app waits for, and a
//! password generated into `.env` by `make up` (compose only names it). The
//! app's variables are wired to them in the form the app reads.

use super::env::escape;
use super::images;
use super::yaml::{map, s, strings};
use crate::choose::{BackingService, Part, StoreKind};
use serde_yaml_ng::{Mapping, Value};

/// The user and database name every provisioned SQL store has.
const APP_USER: &str = "app";

/// The `.env` variable holding a store's generated password.
pub fn password_variable(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::Postgres => "DEPLOYFLOW_POSTGRES_PASSWORD",
        StoreKind::Mysql => "DEPLOYFLOW_MYSQL_PASSWORD",
        StoreKind::Redis => "DEPLOYFLOW_REDIS_PASSWORD",
    }
}

/// The compose service (and host name) of a store.
pub(super) fn service_name(kind: StoreKind) -> &'static str {
    kind.as_str()
}

fn image(store: &BackingService) -> &'static str {
    match store.kind {
        StoreKind::Postgres => images::POSTGRES,
        StoreKind::Mysql if store.mariadb => images::MARIADB,
        StoreKind::Mysql => images::MYSQL,
        StoreKind::Redis => images::REDIS,
    }
}

/// `${DEPLOYFLOW_…_PASSWORD:?…}`: compose refuses to start without it.
fn password_reference(kind: StoreKind) -> String {
    let name = password_variable(kind);
    format!("${{{name}:?{name} is generated into .env by make up}}")
}

/// The value (compose syntax) of an app variable wired to `kind`; a URL
/// ends with `url_query` (the client's own options).
pub(super) fn wired_value(kind: StoreKind, part: &Part, url_query: &str) -> String {
    let host = service_name(kind);
    let port = kind.port();
    let password = password_reference(kind);
    match part {
        Part::Url { scheme } => {
            let scheme = scheme.as_deref().map(escape);
            match kind {
                StoreKind::Redis => format!(
                    "{}://:{password}@{host}:{port}/0",
                    scheme.as_deref().unwrap_or(kind.default_scheme())
                ),
                StoreKind::Postgres | StoreKind::Mysql => format!(
                    "{}://{APP_USER}:{password}@{host}:{port}/{APP_USER}{url_query}",
                    scheme.as_deref().unwrap_or(kind.default_scheme())
                ),
            }
        }
        Part::JdbcUrl => format!(
            "jdbc:{}://{host}:{port}/{APP_USER}?user={APP_USER}&password={password}",
            kind.jdbc_subprotocol()
        ),
        Part::Host => host.to_owned(),
        Part::Address => format!("{host}:{port}"),
        Part::Port => port.to_string(),
        Part::User if kind == StoreKind::Redis => "default".to_owned(),
        Part::User | Part::Name => APP_USER.to_owned(),
        Part::Password => password,
        Part::Driver => kind.laravel_driver().to_owned(),
        // The store beside the app speaks plain TCP on its private network.
        Part::Tls => "false".to_owned(),
        Part::ConnectionString => {
            connection_string(kind, host, port, APP_USER, &password, APP_USER)
        }
    }
}

/// A .NET client's connection string: Npgsql's, MySqlConnector's (which
/// reads the same keys), StackExchange.Redis's.
pub(super) fn connection_string(
    kind: StoreKind,
    host: &str,
    port: u16,
    user: &str,
    password: &str,
    database: &str,
) -> String {
    match kind {
        StoreKind::Redis => format!("{host}:{port},password={password}"),
        StoreKind::Postgres | StoreKind::Mysql => format!(
            "Host={host};Port={port};Database={database};Username={user};Password={password}"
        ),
    }
}

/// The named volume a store keeps its data in.
pub(super) fn volume_name(kind: StoreKind) -> String {
    format!("{}-data", service_name(kind))
}

/// The compose service running `store`, loading `initial_dump` (a path
/// relative to the compose file) on its first start.
pub(super) fn service(store: &BackingService, registry: &str, initial_dump: Option<&str>) -> Value {
    let kind = store.kind;
    let password = password_reference(kind);
    let mut service = Mapping::new();
    service.insert(s("image"), s(images::through(registry, image(store))));
    let (environment, data_dir, test): (Vec<(&str, String)>, &str, Vec<String>) = match kind {
        StoreKind::Postgres => (
            vec![
                ("POSTGRES_USER", APP_USER.to_owned()),
                ("POSTGRES_DB", APP_USER.to_owned()),
                ("POSTGRES_PASSWORD", password.clone()),
            ],
            "/var/lib/postgresql/data",
            vec![
                "CMD".into(),
                "pg_isready".into(),
                // TCP: the image's first-start set-up server listens on its socket only.
                "-h".into(),
                "127.0.0.1".into(),
                "-U".into(),
                APP_USER.into(),
                "-d".into(),
                APP_USER.into(),
            ],
        ),
        StoreKind::Mysql => (
            vec![
                ("MYSQL_USER", APP_USER.to_owned()),
                ("MYSQL_DATABASE", APP_USER.to_owned()),
                ("MYSQL_PASSWORD", password.clone()),
                ("MYSQL_RANDOM_ROOT_PASSWORD", "yes".to_owned()),
            ],
            "/var/lib/mysql",
            vec![
                "CMD-SHELL".into(),
                // MariaDB 11's image has its clients under their own names only.
                format!(
                    "{} ping -h 127.0.0.1 -u app --password=\"$$MYSQL_PASSWORD\" --silent",
                    if store.mariadb {
                        "mariadb-admin"
                    } else {
                        "mysqladmin"
                    }
                ),
            ],
        ),
        StoreKind::Redis => (
            // redis-cli reads its password from REDISCLI_AUTH.
            vec![("REDISCLI_AUTH", password.clone())],
            "/data",
            vec!["CMD".into(), "redis-cli".into(), "ping".into()],
        ),
    };
    if kind == StoreKind::Redis {
        service.insert(
            s("command"),
            strings([
                "redis-server".to_owned(),
                "--requirepass".to_owned(),
                password,
                "--appendonly".to_owned(),
                "yes".to_owned(),
            ]),
        );
    }
    let mut env = Mapping::new();
    for (name, value) in environment {
        env.insert(s(name), s(value));
    }
    service.insert(s("environment"), Value::Mapping(env));
    let mut volumes = vec![format!("{}:{data_dir}", volume_name(kind))];
    if let Some(dump) = initial_dump {
        // The official images run these scripts once, into an empty data dir.
        volumes.push(format!("{dump}:/docker-entrypoint-initdb.d/10-app.sql:ro"));
    }
    service.insert(s("volumes"), strings(volumes));
    service.insert(
        s("healthcheck"),
        map([
            ("test", strings(test)),
            ("interval", s("5s")),
            ("timeout", s("5s")),
            ("retries", Value::Number(30.into())),
            ("start_period", s("10s")),
        ]),
    );
    service.insert(s("restart"), s("unless-stopped"));
    Value::Mapping(service)
}

/// The app's `depends_on`: every store, healthy before the app starts.
pub(super) fn depends_on(stores: &[BackingService]) -> Value {
    let mut depends = Mapping::new();
    for store in stores {
        depends.insert(
            s(service_name(store.kind)),
            map([("condition", s("service_healthy"))]),
        );
    }
    Value::Mapping(depends)
}

/// The top-level `volumes:` the stores keep their data in.
pub(super) fn volumes(stores: &[BackingService]) -> Value {
    let mut volumes = Mapping::new();
    for store in stores {
        volumes.insert(s(volume_name(store.kind)), Value::Mapping(Mapping::new()));
    }
    Value::Mapping(volumes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mysql(mariadb: bool) -> BackingService {
        BackingService {
            kind: StoreKind::Mysql,
            reasons: Vec::new(),
            wiring: Vec::new(),
            mariadb,
            url_query: String::new(),
        }
    }

    fn image_and_check(service: &Value) -> (String, String) {
        let image = service["image"].as_str().expect("an image").to_owned();
        let test = service["healthcheck"]["test"][1]
            .as_str()
            .expect("a shell check")
            .to_owned();
        (image, test)
    }

    #[test]
    fn a_native_password_client_gets_mariadb_checked_by_its_own_client() {
        let (image, test) = image_and_check(&service(&mysql(true), "mirror.local/", None));
        assert_eq!(image, format!("mirror.local/{}", images::MARIADB));
        assert!(test.starts_with("mariadb-admin ping"), "{test}");

        let (image, test) = image_and_check(&service(&mysql(false), "", None));
        assert_eq!(image, images::MYSQL);
        assert!(test.starts_with("mysqladmin ping"), "{test}");
    }
}
