//! The container service's managed database and cache: private, encrypted,
//! reached only from the app's tasks, wired into the app's variables through
//! a write-only secret, migrated before the app starts, and held to that by
//! the gate.

use super::*;
use hcl::Value;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};

/// A Django app that reads `DATABASE_URL` (psycopg) and `REDIS_URL`.
pub(super) fn django_app() -> Snapshot {
    Snapshot::from_texts([
        ("manage.py", "import django\n"),
        (
            "requirements.txt",
            "django\npsycopg[binary]\nredis\ngunicorn\n",
        ),
        (
            "site/settings.py",
            "import os\nDATABASE_URL = os.environ[\"DATABASE_URL\"]\nREDIS_URL = os.environ[\"REDIS_URL\"]\n",
        ),
        ("site/wsgi.py", "application = None\n"),
    ])
}

fn django_inputs() -> TerraformInputs {
    let (analysis, choice) = decide(&django_app(), "a public API", Target::ContainerService);
    TerraformInputs::new(choice, JOB, &analysis)
}

/// The expression's text without whitespace.
fn compact(expr: &Expression) -> String {
    text(expr).split_whitespace().collect()
}

fn tostring(args: FuncArgs) -> Result<Value, String> {
    Ok(match &args[0] {
        Value::String(s) => Value::from(s.as_str()),
        other => Value::from(other.to_string()),
    })
}

/// Whether the configuration has `local.name` (a store it does not
/// provision has none of its locals).
fn has_local(files: &BTreeMap<String, Body>, name: &str) -> bool {
    blocks(files, "locals")
        .into_iter()
        .any(|b| b.body().attributes().any(|a| a.key() == name))
}

/// What Terraform would put into the app's secret, given the addresses AWS
/// hands out and the stored password: `local.store_env`, evaluated.
fn store_env(files: &BTreeMap<String, Body>) -> hcl::Map<String, Value> {
    let mut ctx = Context::new();
    ctx.declare_func(
        "tostring",
        FuncDef::builder().param(ParamType::Any).build(tostring),
    );
    ctx.declare_var(
        "aws_db_instance",
        hcl::value!({ database = { address = "db.internal", port = 5432, username = "app", db_name = "app" } }),
    );
    ctx.declare_var(
        "aws_elasticache_replication_group",
        hcl::value!({ cache = { primary_endpoint_address = "cache.internal" } }),
    );
    ctx.declare_var(
        "ephemeral",
        hcl::value!({
            aws_secretsmanager_secret_version = { database_password = { secret_string = "S3cret" } }
        }),
    );
    let mut locals = hcl::Map::new();
    for name in [
        "database_wiring",
        "database_url_query",
        "database_parts",
        "database_jdbc_tls",
        "database_dotnet_tls",
        "database_password",
        "cache_wiring",
        "cache_parts",
    ]
    .into_iter()
    .filter(|name| has_local(files, name))
    {
        let value = local(files, name)
            .evaluate(&ctx)
            .unwrap_or_else(|e| panic!("local.{name}: {e}"));
        locals.insert(name.to_owned(), value);
        ctx.declare_var("local", Value::Object(locals.clone()));
    }
    let mut env = hcl::Map::new();
    for name in ["database_env", "cache_env"]
        .into_iter()
        .filter(|name| has_local(files, name))
    {
        match local(files, name).evaluate(&ctx) {
            Ok(Value::Object(values)) => env.extend(values),
            other => panic!("local.{name}: {other:?}"),
        }
    }
    env
}

#[test]
fn the_container_service_runs_its_database_and_cache_privately_and_wires_them_as_secrets() {
    let inputs = django_inputs();
    let kinds: Vec<StoreKind> = inputs
        .choice
        .services
        .provisioned
        .iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(kinds, [StoreKind::Postgres, StoreKind::Redis]);
    let files = render_and_gate(&inputs);
    assert_eq!(required_version(&files), ">= 1.11", "write-only arguments");

    let database = resource(&files, "aws_db_instance", "database");
    assert_eq!(text(attr(database, "engine")), "postgres");
    assert_eq!(
        attr(database, "publicly_accessible"),
        &Expression::Bool(false)
    );
    assert_eq!(attr(database, "storage_encrypted"), &Expression::Bool(true));
    assert_eq!(text(attr(database, "backup_retention_period")), "7");
    assert!(
        !database.attributes().any(|a| a.key() == "password"),
        "the password must be write-only"
    );
    assert_eq!(
        text(attr(database, "password_wo")),
        "ephemeral.aws_secretsmanager_secret_version.database_password.secret_string"
    );
    assert_eq!(
        text(attr(database, "skip_final_snapshot")),
        "!var.database_final_snapshot"
    );
    // The final snapshot is named when the database is made and kept so: a
    // database made again after a destroy does not reuse the first's name.
    for (kind, name) in [
        ("aws_db_instance", "database"),
        ("aws_elasticache_replication_group", "cache"),
    ] {
        let store = resource(&files, kind, name);
        let snapshot = text(attr(store, "final_snapshot_identifier"));
        assert!(snapshot.contains("plantimestamp()"), "{kind}: {snapshot}");
        let ignored = text(attr(nested(store, "lifecycle"), "ignore_changes"));
        assert!(
            ignored.contains("final_snapshot_identifier"),
            "{kind}: {ignored}"
        );
    }
    assert_eq!(
        compact(attr(database, "vpc_security_group_ids")),
        "[aws_security_group.database.id]"
    );
    let subnets = resource(&files, "aws_db_subnet_group", "database");
    assert_eq!(
        text(attr(subnets, "subnet_ids")),
        "aws_subnet.private[*].id"
    );

    // The private subnets have no way out: their table has no route, and
    // the only route of the configuration is the public table's.
    let private_table = resource(&files, "aws_route_table", "private");
    assert!(private_table.blocks().all(|b| b.identifier() != "route"));
    for route in blocks(&files, "resource")
        .into_iter()
        .filter(|b| b.labels()[0].as_str() == "aws_route")
    {
        assert_eq!(
            text(attr(route.body(), "route_table_id")),
            "aws_route_table.public.id"
        );
    }
    let private = resource(&files, "aws_subnet", "private");
    assert!(
        !private
            .attributes()
            .any(|a| a.key() == "map_public_ip_on_launch")
    );

    // Only the app's tasks reach either store, on its port.
    assert_only_clients(&files, "aws_security_group.tasks.id");

    let cache = resource(&files, "aws_elasticache_replication_group", "cache");
    assert_eq!(
        attr(cache, "at_rest_encryption_enabled"),
        &Expression::Bool(true)
    );
    assert_eq!(
        attr(cache, "transit_encryption_enabled"),
        &Expression::Bool(true)
    );

    // What the app reads, as Terraform computes it.
    let env = store_env(&files);
    assert_eq!(
        env.get("DATABASE_URL"),
        Some(&Value::from(
            "postgresql://app:S3cret@db.internal:5432/app?sslmode=require"
        ))
    );
    assert_eq!(
        env.get("REDIS_URL"),
        Some(&Value::from("rediss://cache.internal:6379/0"))
    );

    // ECS hands each key of the secret to the container; the task
    // definition holds references, never values.
    let ecs = text(attr(
        resource(&files, "aws_ecs_task_definition", "app"),
        "container_definitions",
    ));
    assert!(ecs.contains("local.store_secrets"), "{ecs}");
    let store_secrets = text(local(&files, "store_secrets"));
    assert!(
        store_secrets.contains("aws_secretsmanager_secret_version.store_env.arn"),
        "{store_secrets}"
    );
    let version = resource(&files, "aws_secretsmanager_secret_version", "store_env");
    assert!(!version.attributes().any(|a| a.key() == "secret_string"));
    assert_eq!(
        text(attr(version, "secret_string_wo")),
        "jsonencode(local.store_env)"
    );
    let read = find(&files, "data", "aws_iam_policy_document", "read_store_env");
    let statement = nested(read, "statement");
    assert_eq!(
        compact(attr(statement, "resources")),
        "[aws_secretsmanager_secret.store_env.arn]"
    );
}

/// Each store admits its port from `clients` (the app's security group)
/// and nothing else.
fn assert_only_clients(files: &BTreeMap<String, Body>, clients: &str) {
    assert_eq!(text(local(files, "store_clients")), clients);
    for (rule, port) in [
        ("database_from_tasks", "5432"),
        ("cache_from_tasks", "6379"),
    ] {
        let rule = resource(files, "aws_vpc_security_group_ingress_rule", rule);
        assert_eq!(
            text(attr(rule, "referenced_security_group_id")),
            "local.store_clients"
        );
        assert_eq!(text(attr(rule, "from_port")), port);
        assert_eq!(text(attr(rule, "to_port")), port);
        assert!(!rule.attributes().any(|a| a.key().starts_with("cidr")));
    }
}

/// On Kubernetes the stores are the container service's, reached from the
/// cluster's security group, and the app's variables reach its pods through
/// a Secret written write-only.
#[test]
fn kubernetes_runs_the_same_stores_and_hands_them_to_the_pods_write_only() {
    let (analysis, choice) = decide(
        &django_app(),
        "a public API on kubernetes",
        Target::Kubernetes,
    );
    let kinds: Vec<StoreKind> = choice.services.provisioned.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [StoreKind::Postgres, StoreKind::Redis]);
    let inputs = TerraformInputs::new(choice, JOB, &analysis);
    let files = render_and_gate(&inputs);
    assert_eq!(required_version(&files), ">= 1.11", "write-only arguments");
    let versions = &files["versions.tf"];
    let providers = text(attr(
        nested(nested(versions, "terraform"), "required_providers"),
        "kubernetes",
    ));
    assert!(providers.contains(">= 3.2.1"), "{providers}");
    assert_only_clients(
        &files,
        "aws_eks_cluster.main.vpc_config[0].cluster_security_group_id",
    );
    let database = resource(&files, "aws_db_instance", "database");
    assert_eq!(
        attr(database, "publicly_accessible"),
        &Expression::Bool(false)
    );
    assert_eq!(
        text(attr(
            resource(&files, "aws_db_subnet_group", "database"),
            "subnet_ids"
        )),
        "aws_subnet.private[*].id"
    );
    // The same values as on ECS, in a Secret whose data is write-only.
    let env = store_env(&files);
    assert_eq!(
        env.get("DATABASE_URL"),
        Some(&Value::from(
            "postgresql://app:S3cret@db.internal:5432/app?sslmode=require"
        ))
    );
    let secret = resource(&files, "kubernetes_secret_v1", "store_env");
    assert!(!secret.attributes().any(|a| a.key() == "data"));
    assert_eq!(text(attr(secret, "data_wo")), "local.store_env");
    assert!(text(attr(secret, "data_wo_revision")).contains("local.store_parts"));
    let app = hcl::to_string(resource(&files, "kubernetes_deployment_v1", "app")).unwrap();
    assert!(
        app.contains("kubernetes_secret_v1.store_env.metadata[0].name"),
        "{app}"
    );
    // No Secrets Manager secret of connection settings, no ECS role.
    assert!(
        !blocks(&files, "resource")
            .iter()
            .any(|b| b.labels()[0].as_str() == "aws_secretsmanager_secret"
                && b.labels()[1].as_str() == "store_env")
    );

    // Without stores the pods read an empty Secret, and nothing else changes.
    let plain = super::inputs(Target::Kubernetes);
    let files = render_and_gate(&plain);
    assert!(!files.contains_key("database.tf"));
    let empty = resource(&files, "kubernetes_secret_v1", "store_env");
    assert_eq!(compact(attr(empty, "data")), "{}");
    assert_eq!(required_version(&files), ">= 1.6");
}

/// On the VM the stores are the container service's too, reached from the
/// instance's security group; the instance reads the app's variables from
/// a write-only secret at boot, and compose runs neither store.
#[test]
fn a_vm_runs_managed_stores_its_boot_script_reads_from_a_secret() {
    let (analysis, choice) = decide(&django_app(), "a public API on a vm", Target::Vm);
    assert!(choice.services.managed_on_vm, "{:#?}", choice.reasons);
    let inputs = TerraformInputs::new(choice, JOB, &analysis);
    let files = render_and_gate(&inputs);
    assert_eq!(required_version(&files), ">= 1.11", "write-only arguments");
    assert_only_clients(&files, "aws_security_group.app.id");
    let database = resource(&files, "aws_db_instance", "database");
    assert_eq!(
        attr(database, "publicly_accessible"),
        &Expression::Bool(false)
    );
    assert_eq!(attr(database, "storage_encrypted"), &Expression::Bool(true));
    let env = store_env(&files);
    assert_eq!(
        env.get("DATABASE_URL"),
        Some(&Value::from(
            "postgresql://app:S3cret@db.internal:5432/app?sslmode=require"
        ))
    );
    let version = resource(&files, "aws_secretsmanager_secret_version", "store_env");
    assert!(!version.attributes().any(|a| a.key() == "secret_string"));
    assert_eq!(
        text(attr(version, "secret_string_wo")),
        "jsonencode(local.store_env)"
    );
    // The instance role may read that one secret, and the boot script reads
    // it before `make up`.
    let policy = resource(&files, "aws_iam_role_policy", "read_store_env");
    assert_eq!(text(attr(policy, "role")), "aws_iam_role.app.id");
    let script = text(local(&files, "store_env_script"));
    assert!(
        script.contains("secretsmanager get-secret-value --secret-id '${aws_secretsmanager_secret.store_env.arn}'"),
        "{script}"
    );
    let user_data = text(local(&files, "user_data"));
    let (before_make, _) = user_data
        .split_once("make -C /opt/deployflow/app up")
        .unwrap();
    assert!(
        before_make.contains("${local.store_env_script}"),
        "{user_data}"
    );

    // Asked for cheap, the stores run beside the app: no RDS, an empty step.
    let (analysis, choice) = decide(&django_app(), "a cheap public API on a vm", Target::Vm);
    assert!(!choice.services.managed_on_vm);
    let files = render_and_gate(&TerraformInputs::new(choice, JOB, &analysis));
    assert!(!files.contains_key("database.tf"));
    assert!(!files.contains_key("cache.tf"));
    assert_eq!(text(local(&files, "store_env_script")), "");
    assert_eq!(required_version(&files), ">= 1.6");
}

/// An ASP.NET Core app on Npgsql and StackExchange.Redis reads its stores
/// as .NET connection strings (`ConnectionStrings__X`): it gets them, the
/// database's encrypted, the cache's over TLS.
#[test]
fn an_asp_net_app_gets_its_connection_strings() {
    let snapshot = Snapshot::from_texts([
        (
            "Shop.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk.Web\">\n  <ItemGroup>\n    <PackageReference Include=\"Npgsql.EntityFrameworkCore.PostgreSQL\" Version=\"8.0.4\" />\n    <PackageReference Include=\"StackExchange.Redis\" Version=\"2.8.0\" />\n  </ItemGroup>\n</Project>\n",
        ),
        (
            "Program.cs",
            "var builder = WebApplication.CreateBuilder(args);\nvar db = builder.Configuration.GetConnectionString(\"PostgreSQL\");\nvar cache = builder.Configuration.GetConnectionString(\"Redis\");\nvar app = builder.Build();\napp.MapGet(\"/\", () => \"ok\");\napp.Run();\n",
        ),
    ]);
    let (analysis, choice) = decide(&snapshot, "a public API", Target::ContainerService);
    let kinds: Vec<StoreKind> = choice.services.provisioned.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [StoreKind::Postgres, StoreKind::Redis],
        "{:#?}",
        choice.services
    );
    let files = render_and_gate(&TerraformInputs::new(choice, JOB, &analysis));
    let env = store_env(&files);
    assert_eq!(
        env.get("ConnectionStrings__PostgreSQL"),
        Some(&Value::from(
            "Host=db.internal;Port=5432;Database=app;Username=app;Password=S3cret;SSL Mode=Require"
        ))
    );
    assert_eq!(
        env.get("ConnectionStrings__Redis"),
        Some(&Value::from(
            "cache.internal:6379,ssl=True,abortConnect=False"
        ))
    );
}

#[test]
fn a_cache_read_by_host_and_port_is_told_to_use_tls() {
    let snapshot = Snapshot::from_texts([
        ("requirements.txt", "flask\nredis\ngunicorn\n"),
        (
            "app.py",
            "import os\nimport redis\nfrom flask import Flask\napp = Flask(__name__)\ncache = redis.Redis(host=os.environ[\"REDIS_HOST\"], port=int(os.getenv(\"REDIS_PORT\", \"6379\")), ssl=os.getenv(\"REDIS_SSL\", \"false\") == \"true\")\n",
        ),
    ]);
    let (analysis, choice) = decide(&snapshot, "a public API", Target::ContainerService);
    let files = render_and_gate(&TerraformInputs::new(choice, JOB, &analysis));
    let env = store_env(&files);
    assert_eq!(
        env.get("REDIS_HOST"),
        Some(&Value::from("cache.internal")),
        "{env:?}"
    );
    assert_eq!(env.get("REDIS_PORT"), Some(&Value::from("6379")), "{env:?}");
    // ElastiCache takes TLS only: the app's own switch turns it on.
    assert_eq!(env.get("REDIS_SSL"), Some(&Value::from("true")), "{env:?}");
}

#[test]
fn each_driver_gets_the_url_that_makes_it_encrypt() {
    let node = Snapshot::from_texts([
        (
            "package.json",
            r#"{"scripts":{"start":"node server.js"},"dependencies":{"express":"^4.19.0","pg":"^8.12.0"}}"#,
        ),
        (
            "server.js",
            "const app = require('express')();\nconst db = process.env.DATABASE_URL;\napp.listen(process.env.PORT || 3000);\n",
        ),
    ]);
    let asyncpg = Snapshot::from_texts([
        (
            "requirements.txt",
            "fastapi\nuvicorn\nsqlalchemy\nasyncpg\n",
        ),
        (
            "main.py",
            "import os\nfrom fastapi import FastAPI\napp = FastAPI()\nDATABASE_URL = os.getenv(\"DATABASE_URL\", \"postgresql+asyncpg://u:p@localhost/db\")\n",
        ),
    ]);
    for (name, snapshot, url) in [
        (
            "node-postgres",
            node,
            "postgresql://app:S3cret@db.internal:5432/app?sslmode=no-verify",
        ),
        (
            "asyncpg",
            asyncpg,
            "postgresql+asyncpg://app:S3cret@db.internal:5432/app?ssl=require",
        ),
    ] {
        let (analysis, choice) =
            decide(&snapshot, "an API with postgres", Target::ContainerService);
        let inputs = TerraformInputs::new(choice, JOB, &analysis);
        let files = render_and_gate(&inputs);
        let env = store_env_of_database(&files);
        assert_eq!(env.get("DATABASE_URL"), Some(&Value::from(url)), "{name}");
    }
}

/// [`store_env`] for a configuration without a cache.
fn store_env_of_database(files: &BTreeMap<String, Body>) -> hcl::Map<String, Value> {
    let mut with_cache = files.clone();
    let cache =
        hcl::parse("locals {\n  cache_wiring = {}\n  cache_parts = {}\n  cache_env = {}\n}\n")
            .unwrap();
    with_cache.insert("cache.tf".to_owned(), cache);
    store_env(&with_cache)
}

#[test]
fn the_migration_runs_in_the_task_before_the_app() {
    let snapshot = django_app();
    let (analysis, choice) = decide(&snapshot, "a public API", Target::ContainerService);
    let bundle = infra::bundle::bundle(
        &analysis,
        &snapshot,
        &choice,
        &infra::bundle::BundleOptions::default(),
    )
    .unwrap();
    let command = bundle
        .start_with_migration
        .clone()
        .expect("the Django migration runs before the app");
    assert_eq!(command[..2], ["sh", "-c"]);
    assert!(
        command[2].starts_with("python manage.py migrate --noinput && exec"),
        "{command:?}"
    );
    let mut inputs = TerraformInputs::new(choice, JOB, &analysis);
    inputs.container_command = Some(command.clone());
    let files = render_and_gate(&inputs);
    let rendered = local(&files, "container_command")
        .evaluate(&Context::new())
        .unwrap();
    assert_eq!(
        rendered,
        Value::Array(command.iter().map(|a| Value::from(a.as_str())).collect())
    );

    // Without a migration the image's own command runs.
    let files = render_and_gate(&django_inputs());
    assert_eq!(local(&files, "container_command"), &Expression::Null);
}

#[test]
fn a_user_given_database_url_leaves_the_database_out() {
    let inputs = django_inputs();
    let mut choice = inputs.choice.clone().with_given_values(&["DATABASE_URL"]);
    assert!(
        choice
            .services
            .provisioned
            .iter()
            .all(|s| s.kind == StoreKind::Redis)
    );
    choice = choice.with_given_values(&["REDIS_URL"]);
    let files = render_and_gate(&TerraformInputs { choice, ..inputs });
    assert!(!files.contains_key("database.tf"));
    assert!(!files.contains_key("cache.tf"));
    assert_eq!(compact(local(&files, "store_secrets")), "[]");
    assert!(blocks(&files, "ephemeral").is_empty());
    assert_eq!(required_version(&files), ">= 1.6");
}

fn required_version(files: &BTreeMap<String, Body>) -> String {
    text(attr(
        nested(&files["versions.tf"], "terraform"),
        "required_version",
    ))
}

/// The rendered files with `from` replaced by `to` in `file`.
fn mutated(inputs: &TerraformInputs, file: &str, from: &str, to: &str) -> BTreeMap<String, String> {
    let mut files = render(inputs).unwrap();
    let text = files.get_mut(file).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    *text = text.replace(from, to);
    files
}

#[test]
fn the_gate_refuses_an_open_or_unencrypted_store_and_a_password_in_the_state() {
    let inputs = django_inputs();
    let policy = Policy::for_choice(&inputs.choice);
    for (file, from, to, rule) in [
        (
            "database.tf",
            "publicly_accessible                 = false",
            "publicly_accessible                 = true",
            Rule::StoreExposure,
        ),
        (
            "database.tf",
            "storage_encrypted                   = true",
            "storage_encrypted                   = false",
            Rule::StoreExposure,
        ),
        (
            "cache.tf",
            "transit_encryption_enabled = true",
            "transit_encryption_enabled = false",
            Rule::StoreExposure,
        ),
        (
            "database.tf",
            "password_wo                         =",
            "password                            =",
            Rule::StoreExposure,
        ),
        (
            "stores.tf",
            "secret_string_wo = jsonencode",
            "secret_string = jsonencode",
            Rule::StoreExposure,
        ),
        (
            "database.tf",
            "secret_id = aws_secretsmanager_secret_version.database_password.secret_id",
            "secret_id = \"arn:aws:secretsmanager:ca-central-1:123456789012:secret:prod-db\"",
            Rule::ForeignResource,
        ),
        (
            "database.tf",
            "ephemeral \"aws_secretsmanager_random_password\"",
            "ephemeral \"aws_lambda_invocation\"",
            Rule::EphemeralNotAllowed,
        ),
    ] {
        let report = check(&mutated(&inputs, file, from, to), &policy);
        assert!(
            report.rules().contains(&rule),
            "{to:?} in {file}: {:#?}",
            report.violations
        );
    }

    // A target without stores needs no ephemeral resource at all.
    let function = super::inputs(Target::Serverless);
    let mut files = render(&function).unwrap();
    files.insert(
        "secret.tf".to_owned(),
        "ephemeral \"aws_secretsmanager_random_password\" \"x\" {\n  password_length = 20\n}\n"
            .to_owned(),
    );
    let report = check(&files, &Policy::for_choice(&function.choice));
    assert!(report.rules().contains(&Rule::EphemeralNotAllowed));
}
