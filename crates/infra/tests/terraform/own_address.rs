//! The app's own address behind a load balancer: a variable the app needs set
//! to where its users reach it (`BASE_URL`, `ALLOWED_HOSTS`, `PHX_HOST`) gets
//! the load balancer's address when the user gave it no value, and keeps the
//! user's value otherwise.

use super::*;
use hcl::Value;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};

/// A Flask app that refuses to start without its own address in three forms.
fn app_reading_its_address() -> Snapshot {
    Snapshot::from_texts([
        ("requirements.txt", "flask\ngunicorn\n"),
        (
            "app.py",
            "import os\nfrom flask import Flask\napp = Flask(__name__)\nBASE_URL = os.environ[\"BASE_URL\"]\nHOSTS = os.environ[\"ALLOWED_HOSTS\"].split(\",\")\nHOST = os.environ[\"PHX_HOST\"]\n",
        ),
    ])
}

fn contains(args: FuncArgs) -> Result<Value, String> {
    let Value::Array(items) = &args[0] else {
        return Err("contains takes a list".into());
    };
    Ok(Value::Bool(items.contains(&args[1])))
}

/// `local.own_address_env` as Terraform would compute it, with the load
/// balancer's host name `lb_host` and the user's variables `given`.
fn own_address_env(
    files: &BTreeMap<String, Body>,
    lb_host: &str,
    given: &[&str],
) -> hcl::Map<String, Value> {
    let mut ctx = Context::new();
    ctx.declare_func(
        "contains",
        FuncDef::builder()
            .param(ParamType::Any)
            .param(ParamType::Any)
            .build(contains),
    );
    ctx.declare_var("aws_lb", hcl::value!({ app = { dns_name = (lb_host) } }));
    ctx.declare_var(
        "kubernetes_service_v1",
        hcl::value!({
            app = { status = [{ load_balancer = [{ ingress = [{ hostname = (lb_host) }] }] }] }
        }),
    );
    let forms = local(files, "own_address_forms")
        .evaluate(&ctx)
        .expect("own_address_forms");
    let keys: Vec<Value> = given.iter().map(|name| Value::from(*name)).collect();
    ctx.declare_var(
        "local",
        hcl::value!({
            own_address_forms = (forms),
            env_keys = (keys),
            host_port = 8080
        }),
    );
    match local(files, "own_address_env").evaluate(&ctx) {
        Ok(Value::Object(env)) => env,
        other => panic!("local.own_address_env: {other:?}"),
    }
}

#[test]
fn the_load_balancers_address_fills_the_apps_own_address_where_none_was_given() {
    for target in [Target::ContainerService, Target::Kubernetes] {
        let (analysis, choice) = decide(&app_reading_its_address(), "a public API", target);
        let inputs = TerraformInputs::new(choice, JOB, &analysis);
        let files = render_and_gate(&inputs);

        let env = own_address_env(&files, "app-123.elb.example", &[]);
        assert_eq!(
            env.get("BASE_URL"),
            Some(&Value::from("http://app-123.elb.example:8080")),
            "{target}: {env:?}"
        );
        assert_eq!(
            env.get("PHX_HOST"),
            Some(&Value::from("app-123.elb.example")),
            "{target}"
        );
        // A list of host names is any host: health checks come with the task's address.
        assert_eq!(
            env.get("ALLOWED_HOSTS"),
            Some(&Value::from("*")),
            "{target}"
        );

        // What the user gave is kept: it reaches the app as a secret, not here.
        let env = own_address_env(&files, "app-123.elb.example", &["BASE_URL"]);
        assert!(!env.contains_key("BASE_URL"), "{target}: {env:?}");
        assert!(env.contains_key("PHX_HOST"), "{target}");
    }
}

#[test]
fn an_app_that_reads_no_address_of_its_own_gets_none() {
    let files = render_and_gate(&inputs(Target::ContainerService));
    assert!(own_address_env(&files, "lb.example", &[]).is_empty());
}
