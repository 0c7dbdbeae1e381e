//! The gate's second look: the planned changes of `terraform show -json
//! PLANFILE`, checked with the same rules as the files before the plan may be
//! approved or applied. A value the files compute (a CIDR from a tag, a policy
//! built with `format`, a name from a local) is a literal here, and so is
//! the number of copies a `for_each` over a computed set makes.

use std::collections::{BTreeMap, BTreeSet};

use hcl::expr::{Expression, ObjectKey};
use hcl::{Block, Body};
use serde_json::{Map, Value};

use super::structure::{Gate, provider_settings};
use super::{Policy, Rule, Violation};

/// The `file` of violations found in a plan.
pub const PLANNED_CHANGES: &str = "plan";

/// The violations of the planned changes (`terraform show -json` of a saved plan).
pub(super) fn check(plan: &Value, policy: &Policy) -> Vec<Violation> {
    let mut gate = Gate::new(policy);
    gate.file = PLANNED_CHANGES.to_owned();
    gate.planned = true;
    if !plan.is_object() {
        gate.violation(
            Rule::ParseError,
            "the plan is not a JSON object; give the output of terraform show -json PLANFILE."
                .to_owned(),
        );
        return gate.into_violations();
    }
    providers(&mut gate, plan);
    let own = own_names(plan);
    let changes = plan
        .get("resource_changes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for change in changes {
        resource_change(&mut gate, change, &own);
    }
    gate.fleet_sizes();
    gate.file = PLANNED_CHANGES.to_owned();
    gate.into_violations()
}

/// The provider configurations as planned: allowed providers from
/// `hashicorp/`, setting only what a provider block may set, AWS in the
/// chosen region.
fn providers(gate: &mut Gate<'_>, plan: &Value) {
    let Some(configs) = plan
        .pointer("/configuration/provider_config")
        .and_then(Value::as_object)
    else {
        return;
    };
    for config in configs.values() {
        let name = config.get("name").and_then(Value::as_str).unwrap_or("");
        let full_name = config.get("full_name").and_then(Value::as_str);
        let official =
            full_name.is_none_or(|f| f == format!("registry.terraform.io/hashicorp/{name}"));
        if !gate.policy.allowed_providers.contains(name) || !official {
            gate.violation(
                Rule::ProviderNotAllowed,
                format!(
                    "provider {} is not allowed; use only {} from hashicorp/.",
                    full_name.unwrap_or(name),
                    super::structure::allowed(&gate.policy.allowed_providers)
                ),
            );
            continue;
        }
        let (arguments, blocks) = provider_settings(name);
        let expressions = config.get("expressions").and_then(Value::as_object);
        for key in expressions.into_iter().flat_map(Map::keys) {
            if !arguments.contains(&key.as_str()) && !blocks.contains(&key.as_str()) {
                gate.violation(
                    Rule::ProviderArgument,
                    format!(
                        "provider \"{name}\" sets {key}; a provider block may set only {}.",
                        [arguments, blocks].concat().join(", ")
                    ),
                );
            }
        }
        if name == "aws" {
            let region = expressions
                .and_then(|e| e.get("region"))
                .and_then(|r| r.get("constant_value"))
                .and_then(Value::as_str);
            if region != Some(gate.policy.region.as_str()) {
                gate.violation(
                    Rule::RegionNotPinned,
                    format!(
                        "provider \"aws\" has {}; set region = \"{}\" (the chosen region) as a literal.",
                        region.map_or("no literal region".to_owned(), |r| format!("region {r:?}")),
                        gate.policy.region
                    ),
                );
            }
        }
    }
}

fn resource_change(gate: &mut Gate<'_>, change: &Value, own: &OwnNames) {
    let text = |key: &str| change.get(key).and_then(Value::as_str).unwrap_or("");
    let (address, kind, mode) = (text("address"), text("type"), text("mode"));
    let actions: Vec<&str> = change
        .pointer("/change/actions")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(provider) = change.get("provider_name").and_then(Value::as_str) {
        let local = provider.strip_prefix("registry.terraform.io/hashicorp/");
        if !local.is_some_and(|name| gate.policy.allowed_providers.contains(name)) {
            gate.violation(
                Rule::ProviderNotAllowed,
                format!(
                    "{address} comes from provider {provider}; use only {} from hashicorp/.",
                    super::structure::allowed(&gate.policy.allowed_providers)
                ),
            );
        }
    }
    if change
        .pointer("/change/importing")
        .is_some_and(|i| !i.is_null())
    {
        gate.violation(
            Rule::ForeignResource,
            format!(
                "{address} would be imported: an existing resource of the account would come under this deployment; a deployment only touches resources it creates."
            ),
        );
    }
    let after = change.pointer("/change/after").unwrap_or(&Value::Null);
    if mode == "data" {
        gate.planned_data(kind, address, &body(after), own);
        gate.planned_iam(kind, address, after, own);
        return;
    }
    // `removed { lifecycle { destroy = false } }`: the resource leaves the
    // state and stays in the account, billed, where no destroy reaches it.
    if actions.contains(&"forget") {
        gate.violation(
            Rule::Lifecycle,
            format!(
                "{address} would be forgotten: it would stay in the account, out of the deployment's state, where no destroy removes it; a deployment deletes what it no longer needs."
            ),
        );
    }
    if actions.iter().all(|a| *a == "no-op" || *a == "delete") {
        return;
    }
    // Each copy of a `count` or `for_each` is a change of its own: a set
    // the files compute is counted here.
    gate.count_copies(kind, 1);
    // A value Terraform knows only at apply is absent from `after`: the
    // update changes it all the same.
    let unknown = change
        .pointer("/change/after_unknown")
        .is_some_and(has_unknown);
    let changed = if unknown {
        after.clone()
    } else {
        changed_values(change.pointer("/change/before"), after)
    };
    gate.planned_resource(kind, address, &body(&changed));
    gate.planned_iam(kind, address, &changed, own);
    gate.planned_references(kind, address, &changed, own);
    gate.planned_images(kind, address, &changed, own);
}

/// What of a planned resource the rules read: nothing when no value
/// differs from what the state holds (it passed this gate when it was
/// planned), else every value. A rule reads values together: a rule's
/// unchanged `0.0.0.0/0` is harmless on port 8080 and not once its
/// port changes to 22.
fn changed_values(before: Option<&Value>, after: &Value) -> Value {
    match (before, after) {
        (Some(Value::Object(before)), Value::Object(planned))
            if planned
                .iter()
                .all(|(key, value)| before.get(key) == Some(value)) =>
        {
            Value::Object(serde_json::Map::new())
        }
        _ => after.clone(),
    }
}

/// Whether `after_unknown` marks any value (at any depth) unknown.
fn has_unknown(value: &Value) -> bool {
    match value {
        Value::Bool(unknown) => *unknown,
        Value::Array(items) => items.iter().any(has_unknown),
        Value::Object(fields) => fields.values().any(has_unknown),
        _ => false,
    }
}

/// The ids, ARNs and names of every resource and data source in the prior
/// state and the planned values, with the types they belong to: what this
/// deployment owns or has read.
#[derive(Debug, Default)]
pub(super) struct OwnNames {
    types: BTreeMap<String, BTreeSet<String>>,
    /// The values of `arn` attributes: a `name` may look like an ARN.
    arns: BTreeSet<String>,
}

impl OwnNames {
    /// Whether `name` belongs to a resource of one of `types` (of any type
    /// when `types` is empty): a log group's name is no bucket.
    pub(super) fn is_of(&self, name: &str, types: &[&str]) -> bool {
        self.types
            .get(name)
            .is_some_and(|found| types.is_empty() || types.iter().any(|t| found.contains(*t)))
    }

    fn add(&mut self, name: &str, kind: &str) {
        self.types
            .entry(name.to_owned())
            .or_default()
            .insert(kind.to_owned());
    }

    /// The ARNs AWS gave this deployment's resources.
    pub(super) fn arns(&self) -> impl Iterator<Item = &String> {
        self.arns.iter()
    }
}

fn own_names(plan: &Value) -> OwnNames {
    let mut names = OwnNames::default();
    for root in [
        "/prior_state/values/root_module",
        "/planned_values/root_module",
    ] {
        if let Some(module) = plan.pointer(root) {
            module_names(module, &mut names);
        }
    }
    names
}

fn module_names(module: &Value, names: &mut OwnNames) {
    let resources = module.get("resources").and_then(Value::as_array);
    for resource in resources.into_iter().flatten() {
        let kind = resource.get("type").and_then(Value::as_str).unwrap_or("");
        // A data source's names are read, not owned: never of a resource type.
        let kind = match resource.get("mode").and_then(Value::as_str) {
            Some("data") => format!("data.{kind}"),
            _ => kind.to_owned(),
        };
        let value_at = |pointer: &str| {
            resource
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|value| !value.is_empty())
        };
        for key in [
            "id",
            "arn",
            "name",
            "function_name",
            "repository_url",
            "public_ip",
        ] {
            if let Some(value) = value_at(&format!("/values/{key}")) {
                names.add(value, &kind);
                if key == "arn" {
                    names.arns.insert(value.to_owned());
                }
            }
        }
        // The security group EKS makes for an own cluster is the cluster's.
        if kind == "aws_eks_cluster"
            && let Some(group) = value_at("/values/vpc_config/0/cluster_security_group_id")
        {
            names.add(group, "aws_security_group");
        }
    }
    let children = module.get("child_modules").and_then(Value::as_array);
    for child in children.into_iter().flatten() {
        module_names(child, names);
    }
}

/// Planned values as an HCL body, so the file rules read them: a list of
/// objects (how the JSON gives nested blocks) becomes blocks, nulls
/// (unset, or unknown until apply) are left out.
fn body(values: &Value) -> Body {
    let mut builder = Body::builder();
    let Value::Object(map) = values else {
        return builder.build();
    };
    for (key, value) in map {
        match value {
            Value::Null => {}
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                for item in items {
                    let block = Block::builder(key.as_str()).add_structures(body(item));
                    builder = builder.add_block(block.build());
                }
            }
            other => builder = builder.add_attribute((key.as_str(), expression(other))),
        }
    }
    builder.build()
}

fn expression(value: &Value) -> Expression {
    match value {
        Value::Null => Expression::Null,
        Value::Bool(b) => Expression::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Expression::Number(i.into()),
            (None, Some(f)) => {
                hcl::Number::from_f64(f).map_or(Expression::Null, Expression::Number)
            }
            _ => Expression::Null,
        },
        Value::String(s) => Expression::String(s.clone()),
        Value::Array(items) => Expression::Array(items.iter().map(expression).collect()),
        Value::Object(map) => Expression::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        ObjectKey::Expression(Expression::String(k.clone())),
                        expression(v),
                    )
                })
                .collect(),
        ),
    }
}
