//! Renders the vetted templates in `crates/infra/templates/`.
//!
//! A template is HCL with `{{ name }}` placeholders, and every placeholder
//! becomes an HCL *literal* (a quoted, escaped string, a number, a list or a
//! map) written by hcl-rs's own formatter: a value can never end a string or
//! start an interpolation. Values that reach the VM's boot script do so
//! through Terraform locals, and are restricted to plain characters by
//! [`TerraformInputs::validate`].

use std::collections::BTreeMap;

use hcl::{Map, Value};

use super::inputs::{HOST_PORT, TerraformInputs, resource_name};
use super::stores;
use crate::InfraError;
use crate::choose::Target;

/// EKS version for new clusters (in standard support when the templates were
/// last vetted; `upgrade_policy` keeps it there).
const KUBERNETES_VERSION: &str = "1.35";

/// The AWS provider versions the templates are written for: 5.100 (the last
/// 5.x) and 6.x alike, except that a public function URL needs
/// `invoked_via_function_url` (6.29).
const AWS_PROVIDER: &str = ">= 5.100, < 7.0";
const SERVERLESS_AWS_PROVIDER: &str = "~> 6.29";
const STORES_AWS_PROVIDER: &str = "~> 6.0";

/// (file name, template text) for each file of a target.
type Templates = &'static [(&'static str, &'static str)];

macro_rules! template {
    ($name:literal, $path:literal) => {
        (
            $name,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $path)),
        )
    };
}

const VM: Templates = &[
    template!("versions.tf", "shared/versions.tf.tmpl"),
    template!("network.tf", "shared/network.tf.tmpl"),
    template!("app_env.tf", "shared/app_env.tf.tmpl"),
    template!("variables.tf", "vm/variables.tf.tmpl"),
    template!("bundle.tf", "vm/bundle.tf.tmpl"),
    template!("iam.tf", "vm/iam.tf.tmpl"),
    template!("instance.tf", "vm/instance.tf.tmpl"),
    template!("data.tf", "vm/data.tf.tmpl"),
    template!("outputs.tf", "vm/outputs.tf.tmpl"),
];

const CONTAINER_SERVICE: Templates = &[
    template!("versions.tf", "shared/versions.tf.tmpl"),
    template!("network.tf", "shared/network.tf.tmpl"),
    template!("app_env.tf", "shared/app_env.tf.tmpl"),
    template!("ecr.tf", "shared/ecr.tf.tmpl"),
    template!("variables.tf", "container-service/variables.tf.tmpl"),
    template!("alb.tf", "container-service/alb.tf.tmpl"),
    template!("ecs.tf", "container-service/ecs.tf.tmpl"),
    template!("iam.tf", "container-service/iam.tf.tmpl"),
    template!("outputs.tf", "container-service/outputs.tf.tmpl"),
];

const SERVERLESS: Templates = &[
    template!("versions.tf", "shared/versions.tf.tmpl"),
    template!("app_env.tf", "shared/app_env.tf.tmpl"),
    template!("ecr.tf", "shared/ecr.tf.tmpl"),
    template!("variables.tf", "serverless/variables.tf.tmpl"),
    template!("lambda.tf", "serverless/lambda.tf.tmpl"),
    template!("outputs.tf", "serverless/outputs.tf.tmpl"),
];

const KUBERNETES: Templates = &[
    template!("versions.tf", "kubernetes/versions.tf.tmpl"),
    template!("network.tf", "shared/network.tf.tmpl"),
    template!("app_env.tf", "shared/app_env.tf.tmpl"),
    template!("ecr.tf", "shared/ecr.tf.tmpl"),
    template!("variables.tf", "kubernetes/variables.tf.tmpl"),
    template!("eks.tf", "kubernetes/eks.tf.tmpl"),
    template!("nodes.tf", "kubernetes/nodes.tf.tmpl"),
    template!("app.tf", "kubernetes/app.tf.tmpl"),
    template!("outputs.tf", "kubernetes/outputs.tf.tmpl"),
];

fn templates(target: Target) -> Templates {
    match target {
        Target::Vm => VM,
        Target::ContainerService => CONTAINER_SERVICE,
        Target::Serverless => SERVERLESS,
        Target::Kubernetes => KUBERNETES,
        Target::DockerHost => &[],
    }
}

/// The vetted Terraform for `inputs.choice.target`: file name -> HCL.
pub fn render(inputs: &TerraformInputs) -> Result<BTreeMap<String, String>, InfraError> {
    inputs.validate()?;
    let values = values(inputs);
    let mut files = templates(inputs.choice.target)
        .iter()
        .map(|(name, text)| Ok(((*name).to_owned(), fill(name, text, &values)?)))
        .collect::<Result<BTreeMap<_, _>, InfraError>>()?;
    files.extend(stores::files(inputs)?);
    Ok(files)
}

/// Replaces each `{{ key }}` in `text` with the HCL literal for `values[key]`.
pub(super) fn fill(
    name: &str,
    text: &str,
    values: &BTreeMap<&str, Value>,
) -> Result<String, InfraError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            return Err(InfraError::Template(format!(
                "template {name}: '{{{{' without '}}}}'"
            )));
        };
        let key = rest[start + 2..start + len].trim();
        let value = values.get(key).ok_or_else(|| {
            InfraError::Template(format!("template {name}: unknown placeholder {key:?}"))
        })?;
        out.push_str(&rest[..start]);
        out.push_str(&literal(value));
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One value as an HCL literal, on one line.
fn literal(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".to_owned(),
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", quote(k), literal(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

/// A quoted HCL string holding exactly `s`: quotes, backslashes and control
/// characters escaped, and `${` / `%{` doubled so nothing is interpolated.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn values(inputs: &TerraformInputs) -> BTreeMap<&'static str, Value> {
    let choice = &inputs.choice;
    let target = choice.target;
    let name = resource_name(&inputs.job_id);
    let arm = is_arm(&choice.instance_type);
    let replicas = choice.replicas.max(1);
    let disk_gb = if choice.disk_gb == 0 {
        20
    } else {
        choice.disk_gb.max(8)
    };
    let multi_az = matches!(target, Target::ContainerService | Target::Kubernetes);
    // Write-only arguments and ephemeral resources keep the stores' password
    // out of the state: Terraform 1.11 and a 6.x provider.
    let managed_stores = stores::runs_managed_stores(choice);
    let mut subnet_tags = Map::new();
    if target == Target::Kubernetes {
        // Where the cloud controller may place the app's load balancer.
        subnet_tags.insert("kubernetes.io/role/elb".to_owned(), Value::from("1"));
    }
    let mut port_env = Map::new();
    if let Some(name) = &inputs.port_env {
        let value = if inputs.port_env_is_address {
            format!("0.0.0.0:{}", inputs.app_port)
        } else {
            inputs.app_port.to_string()
        };
        port_env.insert(name.clone(), Value::from(value));
    }
    let own_addresses: Map<String, Value> = inputs
        .own_addresses
        .iter()
        .map(|(name, form)| (name.clone(), Value::from(form.as_str())))
        .collect();
    let zone_names: Vec<Value> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|zone| Value::from(format!("{}{zone}", choice.region)))
        .collect();
    let env_names: Vec<Value> = inputs
        .env_names
        .iter()
        .map(|n| Value::from(n.as_str()))
        .collect();

    BTreeMap::from([
        ("region", Value::from(choice.region.as_str())),
        ("job_id", Value::from(inputs.job_id.as_str())),
        ("image_tag", Value::from(name.as_str())),
        ("name", Value::from(name)),
        ("instance_type", Value::from(choice.instance_type.as_str())),
        ("host_port", Value::from(HOST_PORT)),
        ("app_port", Value::from(inputs.app_port)),
        ("env_names", Value::Array(env_names)),
        (
            "app_env_description",
            Value::from(app_env_description(&inputs.env_names)),
        ),
        ("bundle_key", Value::from(inputs.bundle_key.as_str())),
        (
            "health_path",
            Value::from(inputs.health_path.as_deref().unwrap_or("/")),
        ),
        // A known health path must answer 2xx/3xx; `/` of an unknown app only has to answer.
        (
            "health_matcher",
            Value::from(if inputs.health_path.is_some() {
                "200-399"
            } else {
                "200-499"
            }),
        ),
        (
            "ebs_optimized",
            Value::from(supports_ebs_optimized(&choice.instance_type)),
        ),
        (
            "ami_name_pattern",
            Value::from(format!(
                "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-{}-server-*",
                if arm { "arm64" } else { "amd64" }
            )),
        ),
        (
            "node_ami_type",
            Value::from(if arm {
                "AL2023_ARM_64_STANDARD"
            } else {
                "AL2023_x86_64_STANDARD"
            }),
        ),
        ("disk_gb", Value::from(disk_gb)),
        (
            "data_volume_gb",
            Value::from(crate::choose::VM_DATA_VOLUME_GB),
        ),
        ("replicas", Value::from(replicas)),
        ("max_nodes", Value::from(replicas + 1)),
        ("cpu", Value::from(choice.cpu_units.unwrap_or(256))),
        ("memory", Value::from(choice.memory_mib.unwrap_or(512))),
        ("subnet_count", Value::from(if multi_az { 2 } else { 1 })),
        ("map_public_ip", Value::from(target == Target::Kubernetes)),
        ("subnet_tags", Value::Object(subnet_tags)),
        ("port_env", Value::Object(port_env)),
        ("own_addresses", Value::Object(own_addresses)),
        ("zone_names", Value::Array(zone_names)),
        (
            "container_command",
            inputs
                .container_command
                .as_ref()
                .map_or(Value::Null, |args| {
                    Value::Array(args.iter().map(|a| Value::from(a.as_str())).collect())
                }),
        ),
        ("kubernetes_version", Value::from(KUBERNETES_VERSION)),
        (
            "aws_provider_version",
            Value::from(if target == Target::Serverless {
                SERVERLESS_AWS_PROVIDER
            } else if managed_stores {
                STORES_AWS_PROVIDER
            } else {
                AWS_PROVIDER
            }),
        ),
        // Write-only Secret data, and the fix for its resource identity.
        (
            "kubernetes_provider_version",
            Value::from(if managed_stores {
                ">= 3.2.1, < 4.0"
            } else {
                "~> 3.0"
            }),
        ),
        (
            "terraform_version",
            Value::from(if managed_stores { ">= 1.11" } else { ">= 1.6" }),
        ),
    ])
}

fn app_env_description(names: &[String]) -> String {
    let found = if names.is_empty() {
        "The analysis found none.".to_owned()
    } else {
        format!("The app reads: {}.", names.join(", "))
    };
    format!(
        "Values for the app's environment variables, by name. {found} Pass them with TF_VAR_app_env; never write them into a file."
    )
}

/// Graviton families carry a `g` after their generation digit (`t4g`,
/// `m7gd`, `c6gn`); `a1` is the first Graviton.
fn is_arm(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or_default();
    family == "a1"
        || family.find(|c: char| c.is_ascii_digit()).is_some_and(|i| {
            family[i..]
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .contains('g')
        })
}

/// The older families that reject `ebs_optimized = true`.
fn supports_ebs_optimized(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or_default();
    !matches!(
        family,
        "t1" | "t2" | "m1" | "m2" | "c1" | "cc2" | "cg1" | "hi1" | "hs1" | "cr1"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_escaped_hcl() {
        assert_eq!(literal(&Value::from("a\"b${c}%{d}")), r#""a\"b$${c}%%{d}""#);
        assert_eq!(literal(&Value::from(8080u16)), "8080");
        assert_eq!(
            literal(&Value::Array(vec![Value::from("A"), Value::from("B")])),
            r#"["A", "B"]"#
        );
        let mut map = Map::new();
        map.insert("kubernetes.io/role/elb".to_owned(), Value::from("1"));
        assert_eq!(
            literal(&Value::Object(map)),
            r#"{ "kubernetes.io/role/elb" = "1" }"#
        );
        assert_eq!(literal(&Value::Object(Map::new())), "{}");
    }

    #[test]
    fn quoted_strings_read_back_unchanged() {
        use hcl::eval::{Context, Evaluate};
        for s in [
            "plain",
            "quote \" and backslash \\ and \\\"",
            "${var.x} %{ if true }x%{ endif } $${y} $$${z} $ % {",
            "new\nline\ttab\r\u{1}",
            "\" }\nresource \"null_resource\" \"x\" {\n  #",
        ] {
            let body = hcl::parse(&format!("x = {}\n", quote(s))).unwrap();
            let expr = body.attributes().next().unwrap().expr().clone();
            assert_eq!(
                expr.evaluate(&Context::new()).unwrap(),
                Value::from(s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_errors() {
        let values = BTreeMap::from([("a", Value::from(1))]);
        assert_eq!(fill("t", "x = {{ a }}", &values).unwrap(), "x = 1");
        assert!(fill("t", "x = {{ b }}", &values).is_err());
        assert!(fill("t", "x = {{ a", &values).is_err());
    }

    #[test]
    fn graviton_types_get_arm_images() {
        for arm in ["t4g.small", "m7gd.large", "c6gn.xlarge", "a1.medium"] {
            assert!(is_arm(arm), "{arm}");
        }
        for x86 in [
            "t2.small",
            "t3.medium",
            "g5.xlarge",
            "m7i.large",
            "inf2.xlarge",
        ] {
            assert!(!is_arm(x86), "{x86}");
        }
    }
}
