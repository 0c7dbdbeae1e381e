//! IAM by content: the actions a policy grants come from an allow-list, `*`
//! resources only for the few actions that cannot be scoped, trust only for
//! AWS service principals, AWS-managed policies only from a short list, and
//! roles and policies attached by reference to this configuration's own.

use std::collections::BTreeSet;

use hcl::expr::{Expression, ObjectKey};
use hcl::{Block, Body};

use super::Rule;
use super::expr::{as_str, attr, root_name};
use super::structure::Gate;

/// Actions a deployment's roles may be granted.
const ALLOWED_ACTIONS: &[&str] = &[
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "s3:GetObject",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
];

/// Actions of trust policies (who may assume a role).
const TRUST_ACTIONS: &[&str] = &["sts:AssumeRole", "sts:TagSession"];

/// Actions that cannot be scoped to a resource, so `*` is their only resource.
const UNSCOPED_ACTIONS: &[&str] = &[
    "ecr:GetAuthorizationToken",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
];

/// AWS-managed policies the templates attach.
const MANAGED_POLICIES: &[&str] = &[
    "AmazonSSMManagedInstanceCore",
    "AmazonECSTaskExecutionRolePolicy",
    "AWSLambdaBasicExecutionRole",
    "AmazonEKSClusterPolicy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonEC2ContainerRegistryReadOnly",
];

/// Services that may assume a deployment's roles.
const SERVICE_PRINCIPALS: &[&str] = &[
    "ec2.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "lambda.amazonaws.com",
    "eks.amazonaws.com",
];

impl Gate<'_> {
    /// The IAM rules for one resource or data block.
    pub(super) fn iam(&mut self, kind: &str, address: &str, block: &Block) {
        let body = block.body();
        match kind {
            "aws_iam_policy_document" => self.policy_document(address, body),
            "aws_iam_role_policy_attachment" => self.attachment(address, body),
            "aws_iam_role_policy"
            | "aws_iam_role"
            | "aws_iam_instance_profile"
            | "aws_s3_bucket_policy"
            | "aws_ecr_repository_policy" => {
                for key in ["policy", "assume_role_policy", "inline_policy"] {
                    if let Some(value) = attr(body, key) {
                        self.inline_policy(address, key, value);
                    }
                }
                if kind.starts_with("aws_iam_") && kind != "aws_iam_role" {
                    self.own_role(address, body);
                }
                if kind == "aws_iam_role" {
                    for key in ["managed_policy_arns", "permissions_boundary"] {
                        if attr(body, key).is_some() {
                            self.violation(
                                Rule::IamManagedPolicy,
                                format!(
                                    "{address}: {key} attaches policies out of sight of the gate; attach with aws_iam_role_policy_attachment instead."
                                ),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn policy_document(&mut self, address: &str, body: &Body) {
        for statement in body.blocks().filter(|b| b.identifier() == "statement") {
            let inner = statement.body();
            for key in ["not_actions", "not_resources", "not_principals"] {
                if attr(inner, key).is_some() || inner.blocks().any(|b| b.identifier() == key) {
                    self.violation(
                        Rule::IamAction,
                        format!("{address}: {key} grants everything it does not name; list what is granted instead."),
                    );
                }
            }
            let actions = strings(attr(inner, "actions"));
            let resources = strings(attr(inner, "resources"));
            let principals: Vec<(Option<String>, Vec<Option<String>>)> = inner
                .blocks()
                .filter(|b| b.identifier() == "principals")
                .map(|p| {
                    (
                        attr(p.body(), "type").and_then(as_str),
                        strings(attr(p.body(), "identifiers")),
                    )
                })
                .collect();
            let deny = attr(inner, "effect").and_then(as_str).as_deref() == Some("Deny");
            if deny {
                continue;
            }
            self.statement(address, &actions, &resources, !principals.is_empty());
            for (kind, identifiers) in principals {
                self.principal(address, kind.as_deref(), &identifiers);
            }
        }
    }

    /// `jsonencode({...})` or a heredoc of JSON: the same rules on its
    /// `Action`, `Resource` and `Principal`; a reference is checked where it
    /// points (a policy document of this configuration).
    fn inline_policy(&mut self, address: &str, key: &str, value: &Expression) {
        if let Some(root) = root_name(value) {
            if root == "data" || root == "aws_iam_policy" {
                return;
            }
            self.violation(
                Rule::IamAction,
                format!(
                    "{address}: {key} must be a data.aws_iam_policy_document of this configuration or jsonencode() of a literal policy, not a reference to {root}."
                ),
            );
            return;
        }
        let json = match value {
            Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" => {
                call.args.first().map(policy_from_hcl)
            }
            other => as_str(other).and_then(|text| serde_json::from_str(&text).ok()),
        };
        let Some(policy) = json else {
            self.violation(
                Rule::IamAction,
                format!(
                    "{address}: {key} is not a policy the gate can read; write it as a data.aws_iam_policy_document or jsonencode() of literals."
                ),
            );
            return;
        };
        let statements = match &policy["Statement"] {
            serde_json::Value::Array(items) => items.clone(),
            single @ serde_json::Value::Object(_) => vec![single.clone()],
            _ => Vec::new(),
        };
        for statement in statements {
            if statement.get("NotAction").is_some()
                || statement.get("NotResource").is_some()
                || statement.get("NotPrincipal").is_some()
            {
                self.violation(
                    Rule::IamAction,
                    format!("{address}: NotAction/NotResource/NotPrincipal grant everything they do not name; list what is granted instead."),
                );
            }
            if statement["Effect"] == "Deny" {
                continue;
            }
            let list = |v: &serde_json::Value| -> Vec<Option<String>> {
                match v {
                    serde_json::Value::String(s) => vec![Some(s.clone())],
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map(str::to_owned))
                        .collect(),
                    serde_json::Value::Null => Vec::new(),
                    _ => vec![None],
                }
            };
            let principal = &statement["Principal"];
            self.statement(
                address,
                &list(&statement["Action"]),
                &list(&statement["Resource"]),
                key == "assume_role_policy",
            );
            match principal {
                serde_json::Value::Null => {}
                serde_json::Value::Object(map) => {
                    for (kind, identifiers) in map {
                        self.principal(address, Some(kind.as_str()), &list(identifiers));
                    }
                }
                _ => self.principal(address, None, &[None]),
            }
        }
    }

    fn statement(
        &mut self,
        address: &str,
        actions: &[Option<String>],
        resources: &[Option<String>],
        trust: bool,
    ) {
        let allowed: &[&str] = if trust {
            TRUST_ACTIONS
        } else {
            ALLOWED_ACTIONS
        };
        for action in actions {
            if action.as_deref().is_some_and(|a| allowed.contains(&a)) {
                continue;
            }
            self.violation(
                Rule::IamAction,
                format!(
                    "{address}: action {} is not one a deployment needs; allowed: {}.",
                    action
                        .as_deref()
                        .map_or("that is not a literal".to_owned(), |a| format!("{a:?}")),
                    allowed.join(", ")
                ),
            );
        }
        let every_resource = resources.iter().any(|r| r.as_deref() == Some("*"));
        let unscoped_only = actions
            .iter()
            .all(|a| a.as_deref().is_some_and(|a| UNSCOPED_ACTIONS.contains(&a)));
        if every_resource && !unscoped_only {
            self.violation(
                Rule::IamAction,
                format!(
                    "{address}: resources = \"*\" grants the actions on every resource of the account; name this configuration's resources (only {} take \"*\").",
                    UNSCOPED_ACTIONS.join(", ")
                ),
            );
        }
    }

    fn principal(&mut self, address: &str, kind: Option<&str>, identifiers: &[Option<String>]) {
        let services = kind == Some("Service");
        for identifier in identifiers {
            let ok = services
                && identifier
                    .as_deref()
                    .is_some_and(|i| SERVICE_PRINCIPALS.contains(&i));
            if !ok {
                self.violation(
                    Rule::IamPrincipal,
                    format!(
                        "{address}: only AWS services ({}) may assume a deployment's roles, not {} {}.",
                        SERVICE_PRINCIPALS.join(", "),
                        kind.unwrap_or("a computed principal"),
                        identifier.as_deref().unwrap_or("(computed)")
                    ),
                );
            }
        }
    }

    fn attachment(&mut self, address: &str, body: &Body) {
        self.own_role(address, body);
        let Some(value) = attr(body, "policy_arn") else {
            return;
        };
        if root_name(value).is_some_and(|r| r == "aws_iam_policy") {
            return;
        }
        let names: Vec<Option<String>> = match managed_policy_name(value) {
            Some(ManagedName::Literal(name)) => vec![Some(name)],
            Some(ManagedName::EachValue) => strings(attr(body, "for_each").map(|e| match e {
                Expression::FuncCall(call) if call.name.name.as_str() == "toset" => {
                    call.args.first().unwrap_or(e)
                }
                other => other,
            })),
            None => vec![None],
        };
        self.managed_policies(address, names);
    }

    /// Each name must be an allowed AWS-managed policy (`None`: unreadable).
    fn managed_policies(&mut self, address: &str, names: Vec<Option<String>>) {
        for name in names {
            if name
                .as_deref()
                .is_some_and(|n| MANAGED_POLICIES.contains(&n))
            {
                continue;
            }
            self.violation(
                Rule::IamManagedPolicy,
                format!(
                    "{address}: policy_arn {} is not an AWS-managed policy a deployment needs; allowed: {} (as arn:${{data.aws_partition.current.partition}}:iam::aws:policy/NAME).",
                    name.map_or("that the gate cannot read".to_owned(), |n| format!("{n:?}")),
                    MANAGED_POLICIES.join(", ")
                ),
            );
        }
    }

    /// The IAM rules on a resource's or data source's planned values: its
    /// policy documents as they will be sent to AWS, and the managed policy
    /// it attaches. `own` holds the ids, ARNs and names of this
    /// deployment's resources (a policy of its own may be attached).
    pub(super) fn planned_iam(
        &mut self,
        kind: &str,
        address: &str,
        values: &serde_json::Value,
        own: &BTreeSet<String>,
    ) {
        let mut documents: Vec<(&str, &str)> = ["policy", "assume_role_policy", "json"]
            .into_iter()
            .filter(|key| *key != "json" || kind == "aws_iam_policy_document")
            .filter_map(|key| Some((key, values.get(key)?.as_str()?)))
            .collect();
        if let Some(inline) = values.get("inline_policy").and_then(|v| v.as_array()) {
            documents.extend(
                inline
                    .iter()
                    .filter_map(|p| Some(("inline_policy", p.get("policy")?.as_str()?))),
            );
        }
        for (key, text) in documents.into_iter().filter(|(_, text)| !text.is_empty()) {
            // A policy document with principals is a trust policy, as in `policy_document`.
            let trust = key == "assume_role_policy" || (key == "json" && names_principals(text));
            let key = if trust {
                "assume_role_policy"
            } else {
                "policy"
            };
            self.inline_policy(address, key, &Expression::String(text.to_owned()));
        }
        if kind == "aws_iam_role_policy_attachment"
            && let Some(arn) = values.get("policy_arn").and_then(|v| v.as_str())
            && !own.contains(arn)
        {
            let name = match managed_policy_name(&Expression::String(arn.to_owned())) {
                Some(ManagedName::Literal(name)) => Some(name),
                _ => None,
            };
            self.managed_policies(address, vec![name]);
        }
    }

    /// `role` must name a role of this configuration, not one of the account.
    fn own_role(&mut self, address: &str, body: &Body) {
        let Some(role) = attr(body, "role") else {
            return;
        };
        if root_name(role) != Some("aws_iam_role") {
            self.violation(
                Rule::ForeignResource,
                format!(
                    "{address}: role must be a reference to an aws_iam_role of this configuration (aws_iam_role.NAME.name), not an existing role of the account."
                ),
            );
        }
    }
}

enum ManagedName {
    Literal(String),
    /// `…:iam::aws:policy/${each.value}`
    EachValue,
}

/// The policy name of `arn:<partition>:iam::aws:policy/NAME`, the partition
/// literal or `${data.aws_partition.*.partition}`.
fn managed_policy_name(value: &Expression) -> Option<ManagedName> {
    let text = match value {
        Expression::TemplateExpr(template) => template.to_string(),
        Expression::String(s) => s.clone(),
        _ => return None,
    };
    let text = text.trim_matches('"');
    let rest = text.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(":iam::aws:policy/")?;
    let partition_ok = ["aws", "aws-us-gov", "aws-cn"].contains(&partition)
        || (partition.starts_with("${data.aws_partition.") && partition.ends_with(".partition}"));
    if !partition_ok || rest.contains('/') {
        return None;
    }
    if rest == "${each.value}" {
        return Some(ManagedName::EachValue);
    }
    (!rest.contains("${")).then(|| ManagedName::Literal(rest.to_owned()))
}

/// Whether a JSON policy has a statement with a `Principal`.
fn names_principals(policy: &str) -> bool {
    let Ok(policy) = serde_json::from_str::<serde_json::Value>(policy) else {
        return false;
    };
    match &policy["Statement"] {
        serde_json::Value::Array(items) => items.iter().any(|s| s.get("Principal").is_some()),
        statement => statement.get("Principal").is_some(),
    }
}

/// A list of literal strings (`None` for each element that is not one, or
/// one `None` when the expression is not a list at all).
fn strings(value: Option<&Expression>) -> Vec<Option<String>> {
    match value {
        None => Vec::new(),
        Some(Expression::Array(items)) => items.iter().map(as_str).collect(),
        Some(other) => vec![as_str(other)],
    }
}

/// A `jsonencode` argument as JSON; computed parts become `${computed}`.
fn policy_from_hcl(expr: &Expression) -> serde_json::Value {
    match expr {
        Expression::Null => serde_json::Value::Null,
        Expression::Bool(b) => serde_json::Value::Bool(*b),
        Expression::Number(n) => serde_json::Value::String(n.to_string()),
        Expression::Array(items) => {
            serde_json::Value::Array(items.iter().map(policy_from_hcl).collect())
        }
        Expression::Object(object) => serde_json::Value::Object(
            object
                .iter()
                .filter_map(|(k, v)| {
                    let key = match k {
                        ObjectKey::Identifier(id) => id.as_str().to_owned(),
                        ObjectKey::Expression(e) => as_str(e)?,
                        _ => return None,
                    };
                    Some((key, policy_from_hcl(v)))
                })
                .collect(),
        ),
        // A reference or expression: allowed where a resource is named (this
        // configuration's own), refused where an action or principal must be.
        other => {
            serde_json::Value::String(as_str(other).unwrap_or_else(|| "${computed}".to_owned()))
        }
    }
}
