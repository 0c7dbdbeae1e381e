//! The plan gate on plans of the templates themselves: every resource's
//! values as Terraform knows them when it plans a new deployment (literals,
//! locals and variable defaults evaluated; whatever refers to another
//! resource unknown), shaped as `terraform show -json` prints them. A rule
//! the real plan of a template breaks would refuse every deployment of its
//! target at the apply step.

use super::*;
use hcl::Value;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use infra::policy::check_plan;
use serde_json::json;

fn jsonencode(args: FuncArgs) -> Result<Value, String> {
    serde_json::to_string(&args[0])
        .map(Value::from)
        .map_err(|e| e.to_string())
}

fn identity(args: FuncArgs) -> Result<Value, String> {
    Ok(args[0].clone())
}

fn merge(args: FuncArgs) -> Result<Value, String> {
    let mut merged = hcl::Map::new();
    for arg in args.iter() {
        let Value::Object(object) = arg else {
            return Err("merge takes objects".into());
        };
        merged.extend(object.clone());
    }
    Ok(Value::Object(merged))
}

/// The functions Terraform evaluates at plan time that the templates use
/// on known values; any other call leaves its value unknown.
fn context() -> Context<'static> {
    let mut ctx = Context::new();
    let one = |f: fn(FuncArgs) -> Result<Value, String>| {
        FuncDef::builder().param(ParamType::Any).build(f)
    };
    ctx.declare_func("jsonencode", one(jsonencode));
    ctx.declare_func("tostring", one(identity));
    ctx.declare_func("toset", one(identity));
    ctx.declare_func("tolist", one(identity));
    ctx.declare_func(
        "merge",
        FuncDef::builder()
            .variadic_param(ParamType::Any)
            .build(merge),
    );
    ctx
}

/// `local.*` and `var.*` as far as they evaluate without other resources.
fn values_of(files: &BTreeMap<String, Body>) -> Context<'static> {
    let mut locals = hcl::Map::new();
    let mut variables = hcl::Map::new();
    for body in files.values() {
        for block in body.blocks().filter(|b| b.identifier() == "variable") {
            if let Some(default) = block.body().attributes().find(|a| a.key() == "default")
                && let Ok(value) = default.expr().evaluate(&context())
            {
                variables.insert(block.labels()[0].as_str().to_owned(), value);
            }
        }
    }
    variables.insert("app_env".to_owned(), Value::Object(hcl::Map::new()));
    variables.insert("image_tag".to_owned(), Value::from("abc123"));
    variables.insert("bundle_path".to_owned(), Value::from("bundle.tar.gz"));
    let definitions: Vec<&hcl::Attribute> = files
        .values()
        .flat_map(|body| body.blocks().filter(|b| b.identifier() == "locals"))
        .flat_map(|block| block.body().attributes())
        .collect();
    // Locals refer to each other: evaluate until nothing more does.
    for _ in 0..8 {
        let mut ctx = context();
        ctx.declare_var("var", Value::Object(variables.clone()));
        ctx.declare_var("local", Value::Object(locals.clone()));
        let before = locals.len();
        for attribute in &definitions {
            if !locals.contains_key(attribute.key())
                && let Ok(value) = attribute.expr().evaluate(&ctx)
            {
                locals.insert(attribute.key().to_owned(), value);
            }
        }
        if locals.len() == before {
            break;
        }
    }
    let mut ctx = context();
    ctx.declare_var("var", Value::Object(variables));
    ctx.declare_var("local", Value::Object(locals));
    ctx
}

/// A block's known values: attributes that evaluate, nested blocks as
/// lists of objects (meta-arguments and `dynamic` blocks left out).
fn known_values(body: &Body, ctx: &Context<'_>) -> serde_json::Value {
    nested_known_values(body, ctx, true)
}

/// [`known_values`] of a resource's body (`top`) or of a block inside it,
/// where `count` is an argument (a snapshot schedule's `retain_rule`).
fn nested_known_values(body: &Body, ctx: &Context<'_>, top: bool) -> serde_json::Value {
    let mut values = serde_json::Map::new();
    for attribute in body.attributes() {
        if top
            && matches!(
                attribute.key(),
                "count" | "for_each" | "depends_on" | "provider"
            )
        {
            continue;
        }
        if let Ok(value) = attribute.expr().evaluate(ctx) {
            values.insert(
                attribute.key().to_owned(),
                serde_json::to_value(value).unwrap(),
            );
        }
    }
    for block in body.blocks() {
        if matches!(block.identifier(), "dynamic" | "lifecycle" | "content") {
            continue;
        }
        let entry = values
            .entry(block.identifier().to_owned())
            .or_insert_with(|| json!([]));
        if let serde_json::Value::Array(items) = entry {
            items.push(nested_known_values(block.body(), ctx, false));
        }
    }
    serde_json::Value::Object(values)
}

/// What a plan knows of each managed resource: its literal arguments (a
/// function's name, a cluster's name), as `TYPE.NAME.attribute` reads them.
fn with_resources(files: &BTreeMap<String, Body>) -> Context<'static> {
    let mut known: BTreeMap<String, hcl::Map<String, Value>> = BTreeMap::new();
    for _ in 0..3 {
        let mut ctx = values_of(files);
        for (kind, resources) in &known {
            ctx.declare_var(kind.clone(), Value::Object(resources.clone()));
        }
        let mut next: BTreeMap<String, hcl::Map<String, Value>> = BTreeMap::new();
        for body in files.values() {
            for block in body.blocks().filter(|b| b.identifier() == "resource") {
                let [kind, name] = block.labels() else {
                    continue;
                };
                let values: Value =
                    serde_json::from_value(known_values(block.body(), &ctx)).unwrap();
                next.entry(kind.as_str().to_owned())
                    .or_default()
                    .insert(name.as_str().to_owned(), values);
            }
        }
        known = next;
    }
    let mut ctx = values_of(files);
    for (kind, resources) in known {
        ctx.declare_var(kind, Value::Object(resources));
    }
    ctx
}

/// `terraform show -json` of the first plan of `files`.
fn first_plan(files: &BTreeMap<String, Body>) -> String {
    let ctx = with_resources(files);
    let mut changes = Vec::new();
    let mut planned = Vec::new();
    let mut providers = serde_json::Map::new();
    for body in files.values() {
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
            match (block.identifier(), labels.as_slice()) {
                ("resource" | "data", [kind, name]) => {
                    let data = block.identifier() == "data";
                    let address = if data {
                        format!("data.{kind}.{name}")
                    } else {
                        format!("{kind}.{name}")
                    };
                    let values = known_values(block.body(), &ctx);
                    let provider = kind.split('_').next().unwrap_or_default();
                    let mode = if data { "data" } else { "managed" };
                    changes.push(json!({
                        "address": address, "mode": mode, "type": kind, "name": name,
                        "provider_name": format!("registry.terraform.io/hashicorp/{provider}"),
                        "change": {
                            "actions": [if data { "read" } else { "create" }],
                            "before": null,
                            "after": values,
                        },
                    }));
                    if !data {
                        planned.push(json!({
                            "address": address, "mode": mode, "type": kind, "name": name,
                            "values": values,
                        }));
                    }
                }
                ("provider", [name]) => {
                    let mut expressions = serde_json::Map::new();
                    for attribute in block.body().attributes() {
                        let expression = match attribute.expr().evaluate(&ctx) {
                            Ok(value) => json!({"constant_value": value}),
                            Err(_) => json!({"references": [attribute.expr().to_string()]}),
                        };
                        expressions.insert(attribute.key().to_owned(), expression);
                    }
                    for inner in block.body().blocks() {
                        expressions.insert(inner.identifier().to_owned(), json!([{}]));
                    }
                    providers.insert(
                        (*name).to_owned(),
                        json!({
                            "name": name,
                            "full_name": format!("registry.terraform.io/hashicorp/{name}"),
                            "expressions": expressions,
                        }),
                    );
                }
                _ => {}
            }
        }
    }
    json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": providers},
    })
    .to_string()
}

#[test]
fn the_first_plan_of_every_template_passes_the_plan_gate() {
    let stores = Snapshot::from_texts([
        (
            "requirements.txt",
            "django\npsycopg[binary]\nredis\ngunicorn\n",
        ),
        ("manage.py", "import os\n"),
        (
            "app/settings.py",
            "import os\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': os.environ['DB_NAME']}}\nREDIS_URL = os.environ['REDIS_URL']\n",
        ),
    ]);
    for (snapshot, description) in [
        (express_app(), "a public API"),
        (stores, "a public API with postgres and redis"),
    ] {
        for target in [
            Target::Vm,
            Target::ContainerService,
            Target::Serverless,
            Target::Kubernetes,
        ] {
            let (analysis, choice) = decide(&snapshot, description, target);
            let inputs = TerraformInputs::new(choice, JOB, &analysis);
            let files = render_and_gate(&inputs);
            let plan = first_plan(&files);
            let report = check_plan(&plan, &Policy::for_job(&inputs.choice, JOB));
            assert!(
                report.passed,
                "{target} ({description}): the plan gate refuses the template's own plan:\n{:#?}",
                report.violations
            );
        }
    }
}
