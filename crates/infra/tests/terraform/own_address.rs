//! The app's own address: a variable the app needs set to where its users
//! reach it (`BASE_URL`, `ALLOWED_HOSTS`, `PHX_HOST`) gets the load balancer's
//! address (the Elastic IP's on a VM) when the user gave it no value, and
//! keeps the user's value otherwise.

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

fn join(args: FuncArgs) -> Result<Value, String> {
    let (Value::String(separator), Value::Array(items)) = (&args[0], &args[1]) else {
        return Err("join takes a separator and a list".into());
    };
    let items: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
    Ok(Value::from(
        items.ok_or("join takes strings")?.join(separator),
    ))
}

/// `local.own_address_env` as Terraform would compute it, with the load
/// balancer's host name (or the Elastic IP) `address` and the user's
/// variables `given`.
fn own_address_env(
    files: &BTreeMap<String, Body>,
    address: &str,
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
    ctx.declare_var("aws_lb", hcl::value!({ app = { dns_name = (address) } }));
    ctx.declare_var("aws_eip", hcl::value!({ app = { public_ip = (address) } }));
    ctx.declare_var(
        "kubernetes_service_v1",
        hcl::value!({
            app = { status = [{ load_balancer = [{ ingress = [{ hostname = (address) }] }] }] }
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
    for target in [Target::ContainerService, Target::Kubernetes, Target::Vm] {
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

/// The VM's first boot exports the Elastic IP's address to `make up`, which
/// hands it to the app through compose (`${BASE_URL:-…}`).
#[test]
fn a_vm_boots_the_app_with_its_elastic_ip_as_its_own_address() {
    let (analysis, choice) = decide(&app_reading_its_address(), "a small web app", Target::Vm);
    let inputs = TerraformInputs::new(choice, JOB, &analysis);
    let files = render_and_gate(&inputs);
    let own = own_address_env(&files, "203.0.113.7", &["PHX_HOST"]);

    let mut ctx = Context::new();
    ctx.declare_func(
        "join",
        FuncDef::builder()
            .param(ParamType::String)
            .param(ParamType::Any)
            .build(join),
    );
    ctx.declare_var(
        "local",
        hcl::value!({
            own_address_env = (Value::Object(own)),
            region = "eu-west-1",
            bundle_key = "bundle.tar.gz",
            env_path = "/deployflow/df-x/env",
            data_device = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123",
            store_env_script = ""
        }),
    );
    ctx.declare_var(
        "aws_s3_object",
        hcl::value!({ bundle = { version_id = "v1" } }),
    );
    ctx.declare_var(
        "aws_s3_bucket",
        hcl::value!({ bundle = { id = "df-x-bundle" } }),
    );
    let user_data = match local(&files, "user_data").evaluate(&ctx) {
        Ok(Value::String(text)) => text,
        other => panic!("local.user_data: {other:?}"),
    };
    let exported = |line: &str| {
        user_data
            .find(line)
            .unwrap_or_else(|| panic!("{line:?} not in user data:\n{user_data}"))
    };
    let make_up = exported("make -C /opt/deployflow/app up");
    assert!(exported("export BASE_URL='http://203.0.113.7:8080'\n") < make_up);
    assert!(exported("export ALLOWED_HOSTS='*'\n") < make_up);
    // The user's value comes from Parameter Store, exported before.
    assert!(!user_data.contains("export PHX_HOST="), "{user_data}");
    assert!(exported(". /opt/deployflow/env.sh") < make_up);
}
