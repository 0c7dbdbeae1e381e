//! IAM by content: the actions a policy grants come from an allow-list, `*`
//! resources only for the few actions that cannot be scoped, trust only for
//! AWS service principals, AWS-managed policies only from a short list, and
//! roles and policies attached by reference to this configuration's own.

use hcl::expr::Expression;
use hcl::{Block, Body};

use super::Rule;
use super::expr::{as_str, attr, key_text, labels, root_name};
use super::plan::OwnNames;
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
    "secretsmanager:GetSecretValue",
    "s3:GetObject",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

/// Resource types whose `policy` (or `assume_role_policy`, `inline_policy`)
/// is an IAM policy document; another type's `policy` is something else
/// (an ECR lifecycle policy's rules).
const POLICY_HOLDERS: &[&str] = &[
    "aws_iam_role_policy",
    "aws_secretsmanager_secret",
    "aws_iam_role",
    "aws_iam_instance_profile",
    "aws_s3_bucket_policy",
    "aws_ecr_repository_policy",
];

/// The elements of a policy statement; IAM reads these names only.
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];

/// What an `aws_lambda_permission` may let a principal do with the function.
const LAMBDA_ACTIONS: &[&str] = &["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"];

/// Actions of trust policies (who may assume a role).
const TRUST_ACTIONS: &[&str] = &["sts:AssumeRole", "sts:TagSession"];

/// Actions that cannot be scoped to a resource, so `*` is their only resource.
const UNSCOPED_ACTIONS: &[&str] = &[
    "ecr:GetAuthorizationToken",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    // Session Manager's agent: registering and its channels have no resource.
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

/// Services that may assume a deployment's roles.
const SERVICE_PRINCIPALS: &[&str] = &[
    "ec2.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "lambda.amazonaws.com",
    "eks.amazonaws.com",
    "dlm.amazonaws.com",
];

impl Gate<'_> {
    /// The IAM rules for one resource or data block.
    pub(super) fn iam(&mut self, kind: &str, address: &str, block: &Block) {
        let body = block.body();
        match kind {
            "aws_iam_policy_document" => self.policy_document(address, body),
            "aws_iam_role_policy_attachment" => self.attachment(address, body),
            "aws_lambda_permission" => self.lambda_permission(address, body),
            // Which role the app runs as decides which role may not carry a
            // managed policy: it must be read, not hidden in `one([…])`.
            "aws_ecs_task_definition" => {
                if let Some(role) = attr(body, "task_role_arn")
                    && self.role_resource(role, 0).is_none()
                {
                    self.violation(
                        Rule::ForeignResource,
                        format!("{address}: task_role_arn must be aws_iam_role.NAME.arn of this configuration, written directly: the gate must know which role the app's code runs as."),
                    );
                }
            }
            _ if POLICY_HOLDERS.contains(&kind) => {
                for key in ["policy", "assume_role_policy", "inline_policy"] {
                    if let Some(value) = attr(body, key) {
                        self.inline_policy(address, key, value);
                    }
                }
                for block in body.blocks() {
                    match (block.identifier(), labels(block).as_slice()) {
                        ("inline_policy", _) => {
                            if let Some(value) = attr(block.body(), "policy") {
                                self.inline_policy(address, "policy", value);
                            }
                        }
                        ("dynamic", [name]) if name.contains("policy") => self.violation(
                            Rule::IamAction,
                            format!("{address}: a dynamic {name} block is a policy the gate cannot read; write each block out."),
                        ),
                        _ => {}
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
        for attribute in body.attributes() {
            if attribute.key().contains("policy_documents") || attribute.key().ends_with("_json") {
                self.violation(
                    Rule::IamAction,
                    format!(
                        "{address}: {} merges in documents the gate does not read; write their statements as statement blocks.",
                        attribute.key()
                    ),
                );
            }
        }
        self.unreadable_blocks(address, body, &["statement"]);
        for statement in body.blocks().filter(|b| b.identifier() == "statement") {
            let inner = statement.body();
            self.unreadable_blocks(
                address,
                inner,
                &["principals", "not_principals", "condition"],
            );
            for key in ["not_actions", "not_resources", "not_principals"] {
                if attr(inner, key).is_some() || inner.blocks().any(|b| b.identifier() == key) {
                    self.violation(
                        Rule::IamAction,
                        format!("{address}: {key} grants everything it does not name; list what is granted instead."),
                    );
                }
            }
            let actions = self.strings(attr(inner, "actions"));
            let resources = self.strings(attr(inner, "resources"));
            let principals: Vec<(Option<String>, Vec<Option<String>>)> = inner
                .blocks()
                .filter(|b| b.identifier() == "principals")
                .map(|p| {
                    (
                        attr(p.body(), "type").and_then(as_str),
                        self.strings(attr(p.body(), "identifiers")),
                    )
                })
                .collect();
            let effect = attr(inner, "effect").map(|e| self.policy_value(e));
            let deny = matches!(effect, Some(Ok(serde_json::Value::String(ref e))) if e == "Deny");
            if deny {
                let conditions: Vec<&Block> = inner
                    .blocks()
                    .filter(|b| b.identifier() == "condition")
                    .collect();
                let insecure = |condition: &Block| {
                    let text =
                        |key| attr(condition.body(), key).and_then(|v| as_str(self.resolve(v)));
                    text("test").as_deref() == Some("Bool")
                        && text("variable").as_deref() == Some("aws:SecureTransport")
                        && self.strings(attr(condition.body(), "values"))
                            == [Some("false".to_owned())]
                };
                let insecure_only = matches!(conditions.as_slice(), [only] if insecure(only));
                if !insecure_only {
                    self.deny_lockout(address);
                }
                continue;
            }
            self.statement(address, &actions, &resources, !principals.is_empty());
            for (kind, identifiers) in principals {
                self.principal(address, kind.as_deref(), &identifiers);
            }
        }
    }

    /// A Deny can deny everyone the delete of the resource it guards (a
    /// bucket, a secret): destroy then fails, and only the account's root
    /// user recovers. The one Deny a deployment needs refuses requests
    /// without TLS.
    fn deny_lockout(&mut self, address: &str) {
        self.violation(
            Rule::IamAction,
            format!("{address}: a Deny statement may only refuse requests without TLS (condition Bool aws:SecureTransport = \"false\"); any other can deny the deletes a destroy needs."),
        );
    }

    /// `jsonencode({...})` or a heredoc of JSON: the same rules on its
    /// `Action`, `Resource` and `Principal`; a reference is checked where it
    /// points (a policy document of this configuration).
    fn inline_policy(&mut self, address: &str, key: &str, value: &Expression) {
        let value = self.resolve(value).clone();
        if let Some(root) = root_name(&value) {
            // A document's `json` is what the gate checked statement by
            // statement; any other attribute of a data source (its
            // `policy_id`, an availability zone's id) is text the author
            // chose, a whole policy of any content.
            if is_policy_document_json(&value) || root == "aws_iam_policy" {
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
        let json = match &value {
            Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" => {
                match call.args.first() {
                    Some(arg) => self.policy_value(arg),
                    None => Err("jsonencode() of nothing".to_owned()),
                }
            }
            other => match self.policy_value(other) {
                Ok(serde_json::Value::String(text)) => {
                    serde_json::from_str(&text).map_err(|e| format!("not JSON ({e})"))
                }
                Ok(_) => Err("not a JSON document".to_owned()),
                Err(why) => Err(why),
            },
        };
        let json = json.and_then(|policy| {
            let unknown: Vec<&String> = policy
                .as_object()
                .into_iter()
                .flat_map(|map| map.keys())
                .filter(|key| !["Version", "Id", "Statement"].contains(&key.as_str()))
                .collect();
            match unknown.is_empty() {
                true => Ok(policy.clone()),
                false => Err(format!(
                    "elements {unknown:?} besides Version, Id and Statement"
                )),
            }
        });
        let statements = json.and_then(|policy| match &policy["Statement"] {
            serde_json::Value::Array(items) if items.iter().all(|i| i.is_object()) => {
                Ok(items.clone())
            }
            single @ serde_json::Value::Object(_) => Ok(vec![single.clone()]),
            _ => Err("its Statement is not a list of literal statements".to_owned()),
        });
        let statements = match statements {
            Ok(statements) => statements,
            Err(why) => {
                self.violation(
                    Rule::IamAction,
                    format!(
                        "{address}: {key} is not a policy the gate can read ({why}); write it as a data.aws_iam_policy_document or jsonencode() of literals."
                    ),
                );
                return;
            }
        };
        for statement in statements {
            let unknown: Vec<&String> = statement
                .as_object()
                .into_iter()
                .flat_map(|map| map.keys())
                .filter(|key| !STATEMENT_ELEMENTS.contains(&key.as_str()))
                .collect();
            if !unknown.is_empty() {
                self.violation(
                    Rule::IamAction,
                    format!(
                        "{address}: {key} has statement elements {unknown:?} the gate does not read; write only {} (spelled so).",
                        STATEMENT_ELEMENTS.join(", ")
                    ),
                );
            }
            if !matches!(
                statement.get("Effect").and_then(|e| e.as_str()),
                Some("Allow" | "Deny")
            ) {
                self.violation(
                    Rule::IamAction,
                    format!("{address}: {key} has a statement whose Effect is not the literal \"Allow\" or \"Deny\"."),
                );
            }
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
                let insecure_only = statement.get("Condition")
                    == Some(&serde_json::json!({"Bool": {"aws:SecureTransport": "false"}}))
                    || statement.get("Condition")
                        == Some(&serde_json::json!({"Bool": {"aws:SecureTransport": ["false"]}}));
                if !insecure_only {
                    self.deny_lockout(address);
                }
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
        for resource in resources {
            let problem = match resource.as_deref() {
                None => "a resource the gate cannot read (a local, variable or function of one, or a free-text attribute such as a tag); name this configuration's resources".to_owned(),
                Some("*") => continue,
                Some(r) if is_own_resource(r) || self.is_own_parameter(r) => continue,
                Some(r) if r.starts_with(OWN_ARN) && r[OWN_ARN.len()..].starts_with('/') => format!(
                    "resource {r:?} reaches past this configuration's own resource: a / after the ARN of a repository, log group, parameter or role names others whose names begin with its own (ECR, CloudWatch Logs, SSM and IAM names nest with /); only a bucket's objects or a table's indexes are addressed so (\"${{aws_s3_bucket.x.arn}}/*\")"
                ),
                Some(r) if r.starts_with(OWN_ARN) || r.starts_with(OWN_PARENT_ARN) => format!(
                    "resource {r:?} reaches past this configuration's own resource: a wildcard or text glued to its ARN (\"${{aws_s3_bucket.x.arn}}*\") matches other resources whose names begin the same; put a / or : after the reference (\"${{aws_s3_bucket.x.arn}}/*\")"
                ),
                Some(r) => format!(
                    "resource {r:?} is not one this configuration creates; name its own resources by reference (aws_s3_bucket.x.arn, \"${{aws_s3_bucket.x.arn}}/*\"), or its own parameters under their /deployflow/NAME/ path"
                ),
            };
            self.violation(Rule::IamAction, format!("{address}: {problem}."));
        }
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

    /// An SSM parameter ARN under a folder of this configuration's own
    /// parameters (the names its `aws_ssm_parameter` resources give, e.g.
    /// `/deployflow/NAME/env/`).
    fn is_own_parameter(&self, resource: &str) -> bool {
        let Some(path) = parameter_path(resource, &self.policy.region) else {
            return false;
        };
        self.parameter_folders_for(path)
            .iter()
            .any(|folder| within_parameter_folder(path, folder))
    }

    /// Who may call the function, and for what: invoking it (through its
    /// URL when anyone may), never reading its code and settings
    /// (`lambda:GetFunction` returns its environment) or changing it.
    fn lambda_permission(&mut self, address: &str, body: &Body) {
        let action = attr(body, "action").and_then(as_str);
        if !action
            .as_deref()
            .is_some_and(|a| LAMBDA_ACTIONS.contains(&a))
        {
            self.violation(
                Rule::IamAction,
                format!(
                    "{address}: action {} is not one a deployment grants on its function; allowed: {}.",
                    action.map_or("that is not a literal".to_owned(), |a| format!("{a:?}")),
                    LAMBDA_ACTIONS.join(", ")
                ),
            );
        }
        let principal = attr(body, "principal").and_then(as_str);
        // A literal the gate reads as Terraform will: `try(null, "NONE")`
        // is null, which makes the permission a plain public invoke.
        let through_url = attr(body, "function_url_auth_type")
            .and_then(|v| as_str(self.resolve(v)))
            .is_some_and(|t| matches!(t.as_str(), "NONE" | "AWS_IAM"))
            || attr(body, "invoked_via_function_url")
                .is_some_and(|v| matches!(v, Expression::Bool(true)));
        // A service principal with no source ARN is any account's API
        // Gateway or load balancer: the function is public through its URL.
        if !(principal.as_deref() == Some("*") && through_url) {
            self.violation(
                Rule::IamPrincipal,
                format!(
                    "{address}: principal {} may not call the function; allow \"*\" only through the function URL (function_url_auth_type or invoked_via_function_url = true): a service principal without a source ARN lets any account's API Gateway or load balancer invoke it.",
                    principal.map_or("that is not a literal".to_owned(), |p| format!("{p:?}")),
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
        // The execution role's policy pulls any image of the account and
        // writes any log group: ECS needs it, the app's own code must not.
        if let Some(name) = attr(body, "role").and_then(|r| self.role_resource(r, 0))
            && self
                .app_roles
                .iter()
                .any(|app| self.role_resource(app, 0).as_deref() == Some(name.as_str()))
        {
            self.violation(
                Rule::IamManagedPolicy,
                format!("{address}: aws_iam_role.{name} is the role the app's tasks run as (task_role_arn); an AWS-managed policy goes on the execution role, which only ECS uses."),
            );
            return;
        }
        let names: Vec<Option<String>> = match managed_policy_name(value) {
            Some(ManagedName::Literal(name)) => vec![Some(name)],
            Some(ManagedName::EachValue) => self.strings(attr(body, "for_each").map(|e| match e {
                Expression::FuncCall(call) if call.name.name.as_str() == "toset" => {
                    call.args.first().unwrap_or(e)
                }
                other => other,
            })),
            None => vec![None],
        };
        if let Some(role) = attr(body, "role").and_then(|r| self.role_resource(r, 0)) {
            self.managed_policy_roles(address, &role, &names);
        }
        self.managed_policies(address, names);
    }

    /// An allowed AWS-managed policy goes on the role of the one service it
    /// is made for: the cluster policy on the node role lets every node
    /// rewrite the account's security groups and load balancers.
    fn managed_policy_roles(&mut self, address: &str, role: &str, names: &[Option<String>]) {
        let trusted = self.trusted_services(role);
        for name in names.iter().flatten() {
            let Some(service) = super::allowlist::managed_policy_service(name) else {
                continue;
            };
            let only_that_service = trusted
                .as_ref()
                .is_some_and(|services| services.len() == 1 && services.contains(service));
            if !only_that_service {
                let assumed_by = trusted.as_ref().map_or(
                    "a trust policy the gate cannot read".to_owned(),
                    |services| format!("{services:?}"),
                );
                self.violation(
                    Rule::IamManagedPolicy,
                    format!("{address}: {name} is made for a role only {service} assumes; aws_iam_role.{role} is assumed by {assumed_by}. Attach it to that service's own role."),
                );
            }
        }
    }

    /// Each name must be an allowed AWS-managed policy (`None`: unreadable).
    fn managed_policies(&mut self, address: &str, names: Vec<Option<String>>) {
        for name in names {
            if name
                .as_deref()
                .is_some_and(|n| self.policy.allowed_managed_policies.contains(n))
            {
                continue;
            }
            self.violation(
                Rule::IamManagedPolicy,
                format!(
                    "{address}: policy_arn {} is not an AWS-managed policy this target needs (each grants far more than a deployment's own resources); allowed: {} (as arn:${{data.aws_partition.current.partition}}:iam::aws:policy/NAME).",
                    name.map_or("that the gate cannot read".to_owned(), |n| format!("{n:?}")),
                    if self.policy.allowed_managed_policies.is_empty() {
                        "none".to_owned()
                    } else {
                        super::structure::allowed(&self.policy.allowed_managed_policies)
                    }
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
        own: &OwnNames,
    ) {
        let holder = POLICY_HOLDERS.contains(&kind);
        let mut documents: Vec<(&str, &str)> = ["policy", "assume_role_policy", "json"]
            .into_iter()
            .filter(|key| match *key {
                "json" => kind == "aws_iam_policy_document",
                _ => holder,
            })
            .filter_map(|key| Some((key, values.get(key)?.as_str()?)))
            .collect();
        if holder && let Some(inline) = values.get("inline_policy").and_then(|v| v.as_array()) {
            documents.extend(
                inline
                    .iter()
                    .filter_map(|p| Some(("inline_policy", p.get("policy")?.as_str()?))),
            );
        }
        // This deployment's own ARNs read as references to them, as in the files.
        let mut own_arns: Vec<&String> = own.arns().collect();
        own_arns.sort_by_key(|arn| std::cmp::Reverse(arn.len()));
        for (key, text) in documents.into_iter().filter(|(_, text)| !text.is_empty()) {
            let text = own_arns.iter().fold(text.to_owned(), |text, arn| {
                let marker = if own.is_of(arn, PARENT_TYPES) {
                    OWN_PARENT_ARN
                } else {
                    OWN_ARN
                };
                text.replace(arn.as_str(), marker)
            });
            let text = text.as_str();
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
            && !own.is_of(arn, &["aws_iam_policy"])
        {
            let name = match managed_policy_name(&Expression::String(arn.to_owned())) {
                Some(ManagedName::Literal(name)) => Some(name),
                _ => None,
            };
            self.managed_policies(address, vec![name]);
        }
    }

    /// Blocks of a policy document other than `allowed` (a `dynamic` one
    /// above all) hold statements the gate cannot read.
    fn unreadable_blocks(&mut self, address: &str, body: &Body, allowed: &[&str]) {
        for block in body.blocks() {
            if !allowed.contains(&block.identifier()) {
                self.violation(
                    Rule::IamAction,
                    format!(
                        "{address}: a {} block in a policy document is not one the gate can read; write {} blocks out one by one.",
                        block.identifier(),
                        allowed.join(" / ")
                    ),
                );
            }
        }
    }

    /// A list of strings as Terraform will see it (locals followed); `None`
    /// for each element that is not readable.
    pub(super) fn strings(&self, value: Option<&Expression>) -> Vec<Option<String>> {
        let Some(value) = value else {
            return Vec::new();
        };
        match self.policy_value(value) {
            Ok(serde_json::Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect(),
            Ok(serde_json::Value::String(text)) => vec![Some(text)],
            _ => vec![None],
        }
    }

    /// A policy (or part of one) as JSON, locals and variable defaults
    /// followed; a reference to a resource of this configuration is
    /// `${own}`, to a data source `${data}`. Anything else (functions, `for`,
    /// conditionals, computed keys) is not readable: `Err` says what.
    pub(super) fn policy_value(&self, expr: &Expression) -> Result<serde_json::Value, String> {
        use serde_json::Value;
        let expr = self.resolve(expr);
        Ok(match expr {
            Expression::Null => Value::Null,
            Expression::Bool(b) => Value::Bool(*b),
            Expression::Number(n) => Value::String(n.to_string()),
            Expression::String(text) => Value::String(self.literal_text(text)?),
            Expression::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.policy_value(item))
                    .collect::<Result<_, _>>()?,
            ),
            Expression::Object(object) => {
                let mut map = serde_json::Map::new();
                for (key, value) in object {
                    let key = key_text(key).ok_or("a computed key")?;
                    map.insert(key, self.policy_value(value)?);
                }
                Value::Object(map)
            }
            Expression::TemplateExpr(template) => {
                let parsed = hcl::template::Template::from_expr(template)
                    .map_err(|_| "a template that does not parse".to_owned())?;
                Value::String(self.template_text(&parsed)?)
            }
            Expression::Parenthesis(inner) => self.policy_value(inner)?,
            other => Value::String(reference_marker(other).ok_or_else(|| {
                "a function, expression or reference it cannot follow".to_owned()
            })?),
        })
    }

    /// Literal text of a policy in a file. `$${…}` writes `${…}`: an IAM
    /// policy variable, or the text of the gate's own markers
    /// (`${own_parent}/*` would pass for an own bucket's objects); neither
    /// is read. A plan's policies carry the markers the plan gate put there.
    fn literal_text(&self, text: &str) -> Result<String, String> {
        if !self.planned && text.contains("${") {
            return Err(format!("the literal text {text:?}, an IAM policy variable"));
        }
        Ok(text.to_owned())
    }

    fn template_text(&self, template: &hcl::template::Template) -> Result<String, String> {
        use hcl::template::Element;
        let mut text = String::new();
        for element in template.elements() {
            match element {
                Element::Literal(literal) => text.push_str(&self.literal_text(literal)?),
                Element::Interpolation(interpolation) => {
                    match self.policy_value(&interpolation.expr)? {
                        serde_json::Value::String(part) => text.push_str(&part),
                        serde_json::Value::Bool(b) => text.push_str(&b.to_string()),
                        _ => return Err("a template of a list or object".to_owned()),
                    }
                }
                Element::Directive(_) => return Err("a template directive".to_owned()),
            }
        }
        Ok(text)
    }

    /// `role` must name a role of this configuration, not one of the account.
    /// The `aws_iam_role` resource `expr` names (`aws_iam_role.NAME.name`),
    /// through locals, parentheses and a template that only holds it.
    fn role_resource(&self, expr: &Expression, depth: usize) -> Option<String> {
        if depth > 16 {
            return None;
        }
        match self.resolve(expr) {
            Expression::Traversal(role) => {
                let is_role =
                    matches!(&role.expr, Expression::Variable(v) if v.as_str() == "aws_iam_role");
                match role.operators.first() {
                    Some(hcl::expr::TraversalOperator::GetAttr(name)) if is_role => {
                        Some(name.as_str().to_owned())
                    }
                    _ => None,
                }
            }
            Expression::Parenthesis(inner) => self.role_resource(inner, depth + 1),
            Expression::TemplateExpr(template) => {
                let parsed = hcl::template::Template::from_expr(template).ok()?;
                match parsed.elements() {
                    [hcl::template::Element::Interpolation(i)] => {
                        self.role_resource(&i.expr, depth + 1)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn own_role(&mut self, address: &str, body: &Body) {
        let Some(role) = attr(body, "role") else {
            return;
        };
        let own =
            root_name(self.resolve(role)) == Some("aws_iam_role") && self.is_own_reference(role, 0);
        if !own {
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
    // AWS's managed policies sit at the root or under service-role/; any
    // other path is not one of them.
    let name = rest.strip_prefix("service-role/").unwrap_or(rest);
    if !partition_ok || name.contains('/') {
        return None;
    }
    if rest == "${each.value}" {
        return Some(ManagedName::EachValue);
    }
    (!rest.contains("${")).then(|| ManagedName::Literal(rest.to_owned()))
}

/// `data.aws_iam_policy_document.NAME.json` (an index after the name allowed).
fn is_policy_document_json(expr: &Expression) -> bool {
    policy_document_name(expr).is_some()
}

/// `NAME` of `data.aws_iam_policy_document.NAME.json` (an index after the
/// name allowed).
pub(super) fn policy_document_name(expr: &Expression) -> Option<&str> {
    use hcl::expr::TraversalOperator as Op;
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let data = matches!(&t.expr, Expression::Variable(v) if v.as_str() == "data");
    match t.operators.as_slice() {
        [
            Op::GetAttr(kind),
            Op::GetAttr(name),
            between @ ..,
            Op::GetAttr(json),
        ] if data
            && kind.as_str() == "aws_iam_policy_document"
            && json.as_str() == "json"
            && between
                .iter()
                .all(|op| matches!(op, Op::Index(_) | Op::LegacyIndex(_))) =>
        {
            Some(name.as_str())
        }
        _ => None,
    }
}

/// `${own}` for a reference to a resource of this configuration, `${data}`
/// for one to a data source; `None` for anything else.
fn reference_marker(expr: &Expression) -> Option<String> {
    let Expression::Traversal(traversal) = expr else {
        return None;
    };
    let Expression::Variable(root) = &traversal.expr else {
        return None;
    };
    match root.as_str() {
        "data" => Some("${data}".to_owned()),
        // Only the ARN AWS made: a name is the author's text, and a security
        // group may be named "arn:aws:secretsmanager:*:*:secret:*".
        kind if super::foreign::names_resource_by(traversal, &[], &["arn"]) => Some(
            if PARENT_TYPES.contains(&kind) {
                OWN_PARENT_ARN
            } else {
                OWN_ARN
            }
            .to_owned(),
        ),
        _ => None,
    }
}

/// An own resource's ARN, as policies are read.
const OWN_ARN: &str = "${own}";
/// The ARN of an own bucket or table, whose `ARN/…` addresses what it holds.
const OWN_PARENT_ARN: &str = "${own_parent}";
/// Types whose names never hold a `/`, so `ARN/…` is their own content
/// (a bucket's objects, a table's indexes and streams). Other names nest:
/// `${repository.arn}/*` is every ECR repository named `NAME/…`, and the
/// same holds for log groups, parameters and IAM paths.
const PARENT_TYPES: &[&str] = &["aws_s3_bucket", "aws_dynamodb_table"];

/// A reference to a resource of this configuration, alone or followed by a
/// qualifier after `:` (a log group's streams, `${own}:*`), or by a path
/// after `/` for a bucket or table: never text glued to the ARN, which
/// extends its name, nor a path under a name that nests.
fn is_own_resource(resource: &str) -> bool {
    if let Some(rest) = resource.strip_prefix(OWN_PARENT_ARN) {
        return rest.is_empty() || rest.starts_with(['/', ':']);
    }
    resource
        .strip_prefix(OWN_ARN)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
}

/// The path of an SSM parameter ARN of this account and region:
/// `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/PATH` gives `/PATH`.
fn parameter_path<'r>(resource: &'r str, region: &str) -> Option<&'r str> {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let [arn, partition, service, arn_region, account, rest] = parts.as_slice() else {
        return None;
    };
    let partition_ok = *partition == "${data}" || partition.starts_with("aws");
    let account_ok = *account == "${data}"
        || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
    (*arn == "arn" && partition_ok && *service == "ssm" && *arn_region == region && account_ok)
        .then(|| rest.strip_prefix("parameter"))
        .flatten()
        .filter(|path| path.starts_with('/'))
}

/// Whether `path` (of an IAM resource) stays under `prefix`, a folder of
/// this configuration's own parameters (`/deployflow/NAME/env/`): the
/// folder itself, or what is in it.
pub(super) fn within_parameter_folder(path: &str, prefix: &str) -> bool {
    // A wildcard only at the end: `*` and `?` elsewhere match any text.
    let inside = path
        .strip_prefix(prefix)
        .is_some_and(|rest| !rest.strip_suffix('*').unwrap_or(rest).contains(['*', '?']));
    inside || path == prefix.trim_end_matches('/')
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
