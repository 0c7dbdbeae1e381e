//! The managed stores of the container-service, Kubernetes and VM targets:
//! RDS for the SQL database, ElastiCache for Redis, both in private subnets
//! and reached only from the app (its tasks' security group, its cluster's,
//! or its instance's), and wired into the app through one secret written
//! write-only (a Secrets Manager secret that ECS hands to the container or
//! the VM's boot script reads, or a Kubernetes Secret the pods read).

use std::collections::BTreeMap;

use hcl::{Map, Value};

use super::inputs::TerraformInputs;
use super::render::fill;
use crate::InfraError;
use crate::choose::{BackingService, Choice, Part, StoreKind, Target};

macro_rules! template {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $path))
    };
}

const NETWORK: &str = template!("stores/network.tf.tmpl");
const DATABASE: &str = template!("stores/database.tf.tmpl");
const CACHE: &str = template!("stores/cache.tf.tmpl");

/// How the app is handed its store variables, and what it gets without
/// stores, per target.
fn wiring_templates(target: Target) -> Option<(&'static str, &'static str)> {
    match target {
        Target::Vm => Some((
            template!("vm/store-env.tf.tmpl"),
            template!("vm/no-stores.tf.tmpl"),
        )),
        Target::ContainerService => Some((
            template!("container-service/store-env.tf.tmpl"),
            template!("container-service/no-stores.tf.tmpl"),
        )),
        Target::Kubernetes => Some((
            template!("kubernetes/store-env.tf.tmpl"),
            template!("kubernetes/no-stores.tf.tmpl"),
        )),
        Target::Serverless | Target::DockerHost => None,
    }
}

/// Whether the deployment runs managed stores (RDS, ElastiCache).
pub(super) fn runs_managed_stores(choice: &Choice) -> bool {
    !choice.services.managed(choice.target).is_empty()
}

/// The smallest Graviton classes: a small app's database and cache.
const DATABASE_INSTANCE_CLASS: &str = "db.t4g.micro";
const CACHE_NODE_TYPE: &str = "cache.t4g.micro";

/// `stores.tf` and, for each provisioned store, its file.
pub(super) fn files(inputs: &TerraformInputs) -> Result<Vec<(String, String)>, InfraError> {
    let Some((wired, none)) = wiring_templates(inputs.choice.target) else {
        return Ok(Vec::new());
    };
    let provisioned = inputs.choice.services.managed(inputs.choice.target);
    let database = provisioned.iter().find(|s| s.kind.is_sql());
    let cache = provisioned.iter().find(|s| s.kind == StoreKind::Redis);
    let mut files = Vec::new();
    let mut present = Vec::new();
    if let Some(database) = database {
        let values = database_values(database, &inputs.database_url_query);
        files.push((
            "database.tf".to_owned(),
            fill("database.tf", DATABASE, &values)?,
        ));
        present.push("database");
    }
    if let Some(cache) = cache {
        let values = BTreeMap::from([
            ("cache_node_type", Value::from(CACHE_NODE_TYPE)),
            ("cache_wiring", wiring(cache)),
        ]);
        files.push(("cache.tf".to_owned(), fill("cache.tf", CACHE, &values)?));
        present.push("cache");
    }
    let stores = if present.is_empty() {
        none.to_owned()
    } else {
        format!("{NETWORK}\n{wired}{}", combined(&present))
    };
    files.push(("stores.tf".to_owned(), stores));
    Ok(files)
}

fn database_values(store: &BackingService, url_query: &str) -> BTreeMap<&'static str, Value> {
    let (engine, version, logs): (&str, &str, &[&str]) = match store.kind {
        StoreKind::Mysql => ("mysql", "8.4", &["error", "slowquery"]),
        _ => ("postgres", "17", &["postgresql", "upgrade"]),
    };
    BTreeMap::from([
        ("database_engine", Value::from(engine)),
        ("database_engine_version", Value::from(version)),
        (
            "database_instance_class",
            Value::from(DATABASE_INSTANCE_CLASS),
        ),
        ("database_port", Value::from(store.kind.port())),
        (
            "database_log_exports",
            Value::Array(logs.iter().map(|l| Value::from(*l)).collect()),
        ),
        ("database_driver", Value::from(store.kind.laravel_driver())),
        ("database_url_query", Value::from(url_query)),
        ("database_wiring", wiring(store)),
    ])
}

/// `{ NAME = { part = "url", scheme = "postgresql" } }` for each wired variable.
fn wiring(store: &BackingService) -> Value {
    let mut map = Map::new();
    for wire in &store.wiring {
        let (part, scheme) = match &wire.part {
            Part::Url { scheme } => (
                "url",
                scheme.as_deref().unwrap_or(store.kind.default_scheme()),
            ),
            Part::JdbcUrl => ("jdbc_url", store.kind.jdbc_subprotocol()),
            Part::Host => ("host", ""),
            Part::Address => ("address", ""),
            Part::Port => ("port", ""),
            Part::User => ("user", ""),
            Part::Password => ("password", ""),
            Part::Name => ("name", ""),
            Part::Driver => ("driver", ""),
            Part::Tls => ("tls", ""),
            Part::ConnectionString => ("connection_string", ""),
        };
        let mut entry = Map::new();
        entry.insert("part".to_owned(), Value::from(part));
        entry.insert("scheme".to_owned(), Value::from(scheme));
        map.insert(wire.name.clone(), Value::Object(entry));
    }
    Value::Object(map)
}

/// The locals that join the stores present (fixed identifiers only).
fn combined(present: &[&str]) -> String {
    let list = |suffix: &str| {
        present
            .iter()
            .map(|id| format!("local.{id}_{suffix}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let names: Vec<String> = present
        .iter()
        .map(|id| format!("keys(local.{id}_wiring)"))
        .collect();
    format!(
        "\nlocals {{\n  store_env_names = concat({})\n  store_env       = merge({})\n  store_parts     = [{}]\n}}\n",
        names.join(", "),
        list("env"),
        list("parts"),
    )
}
