//! The app runs the image deployflow built and pushed to this
//! configuration's own ECR repository, nothing else: another repository of
//! the account holds another team's code and the secrets built into it, and
//! the execution role would pull it.

use hcl::Body;
use hcl::expr::{Expression, TraversalOperator};
use hcl::template::{Element, Template};

use super::Rule;
use super::expr::{as_str, attr, key_text};
use super::plan::OwnNames;
use super::structure::Gate;

/// The functions a container definition may be built with: objects and
/// lists put together, lists of names.
const CONTAINER_FUNCTIONS: &[&str] = &[
    "jsonencode",
    "merge",
    "concat",
    "tolist",
    "flatten",
    "sort",
    "setsubtract",
    "keys",
    "tostring",
    "toset",
    "nonsensitive",
    "contains",
];

/// Blocks of a Kubernetes pod spec that name an image.
const KUBERNETES_CONTAINERS: &[&str] = &["container", "init_container"];

impl Gate<'_> {
    /// Every image a resource runs is this configuration's repository's.
    pub(super) fn images(&mut self, kind: &str, address: &str, body: &Body) {
        let mut images: Vec<Expression> = Vec::new();
        let mut unreadable = false;
        match kind {
            "aws_lambda_function" => {
                images.extend(attr(body, "image_uri").cloned());
                let groups = body
                    .blocks()
                    .filter(|b| b.identifier() == "logging_config")
                    .filter_map(|b| attr(b.body(), "log_group"));
                for group in groups {
                    if !self.is_own_reference_to(group, &["aws_cloudwatch_log_group"], 0) {
                        self.violation(Rule::ForeignResource, foreign_log_group(address));
                    }
                }
            }
            "aws_ecs_task_definition" => {
                if let Some(definitions) = attr(body, "container_definitions") {
                    let readable = matches!(definitions, Expression::FuncCall(call)
                        if call.name.name.as_str() == "jsonencode");
                    unreadable |= !readable;
                    let mut found = Vec::new();
                    self.container_values(definitions, 0, &mut found, &mut unreadable);
                    // A container without an image the gate can read runs
                    // one it could not check.
                    unreadable |= !found.iter().any(|(key, _)| key == "image");
                    for (key, value) in found {
                        if key == "image" {
                            images.push(value);
                        } else if key == "valueFrom" {
                            if !self.is_own_secret_source(&value) {
                                self.violation(Rule::ForeignResource, foreign_secret(address));
                            }
                        } else if key == "awslogs-region" {
                            let region = as_str(self.resolve(&value));
                            if region.as_deref() != Some(self.policy.region.as_str()) {
                                self.violation(
                                    Rule::RegionNotPinned,
                                    logs_region(address, &self.policy.region),
                                );
                            }
                        } else if !self.is_own_reference_to(
                            &value,
                            &["aws_cloudwatch_log_group"],
                            0,
                        ) {
                            self.violation(Rule::ForeignResource, foreign_log_group(address));
                        }
                    }
                }
            }
            _ if kind.starts_with("kubernetes_") => kubernetes_images(body, &mut images),
            _ => {}
        }
        if unreadable {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: the gate cannot read which image the containers run; write container_definitions as jsonencode() of literal objects with literal keys."),
            );
        }
        for image in images {
            if !self.is_own_image(&image) {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: a container runs an image that is not this configuration's: use \"${{aws_ecr_repository.app.repository_url}}:TAG\" (local.image)."),
                );
            }
        }
    }

    /// Every image a planned resource runs is in this deployment's own
    /// repository (`<repository_url>:TAG` or `@DIGEST`), as far as the plan
    /// knows it: an image still unknown comes from the repository being made.
    pub(super) fn planned_images(
        &mut self,
        kind: &str,
        address: &str,
        values: &serde_json::Value,
        own: &OwnNames,
    ) {
        let mut images: Vec<String> = Vec::new();
        let own_group = |group: Option<&serde_json::Value>| {
            group
                .and_then(|g| g.as_str())
                .is_none_or(|g| own.is_of(g, &["aws_cloudwatch_log_group"]))
        };
        match kind {
            "aws_lambda_function" => {
                images.extend(
                    values
                        .get("image_uri")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                );
                let configs = values.get("logging_config").and_then(|v| v.as_array());
                if !configs
                    .into_iter()
                    .flatten()
                    .all(|config| own_group(config.get("log_group")))
                {
                    self.violation(Rule::ForeignResource, foreign_log_group(address));
                }
            }
            "aws_ecs_task_definition" => {
                let definitions = values
                    .get("container_definitions")
                    .and_then(|v| v.as_str())
                    .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
                if let Some(serde_json::Value::Array(containers)) = definitions {
                    images.extend(containers.iter().filter_map(|c| {
                        c.get("image").and_then(|i| i.as_str()).map(str::to_owned)
                    }));
                    let sources = containers
                        .iter()
                        .filter_map(|c| c.get("secrets").and_then(|s| s.as_array()))
                        .flatten()
                        .filter_map(|s| s.get("valueFrom").and_then(|v| v.as_str()));
                    for source in sources {
                        // A key of the secret: `ARN:KEY::`.
                        let key_of_own = own.arns().any(|arn| {
                            (arn.contains(":secretsmanager:") || arn.contains(":ssm:"))
                                && source.starts_with(&format!("{arn}:"))
                        });
                        if !own.is_of(source, SECRET_SOURCES) && !key_of_own {
                            self.violation(Rule::ForeignResource, foreign_secret(address));
                        }
                    }
                    for container in &containers {
                        let region = container
                            .pointer("/logConfiguration/options/awslogs-region")
                            .and_then(|r| r.as_str());
                        if region.is_some_and(|r| r != self.policy.region) {
                            self.violation(
                                Rule::RegionNotPinned,
                                logs_region(address, &self.policy.region),
                            );
                        }
                        if !planned_logs_to_own_group(container.get("logConfiguration"), &own_group)
                        {
                            self.violation(
                                Rule::ForeignResource,
                                format!("{address}: a container logs other than through awslogs to this deployment's own log group (only awslogs-group, awslogs-region and awslogs-stream-prefix options): another driver sends everything the app prints to a host of the author's choosing."),
                            );
                        }
                    }
                }
            }
            _ if kind.starts_with("kubernetes_") => planned_kubernetes_images(values, &mut images),
            _ => {}
        }
        for image in images.into_iter().filter(|i| !i.is_empty()) {
            // `REPO:TAG` or `REPO@DIGEST`; a `:` followed by a `/` is a port.
            let repository = match image.split_once('@') {
                Some((repository, _)) => repository,
                None => match image.rsplit_once(':') {
                    Some((repository, tag)) if !tag.contains('/') => repository,
                    _ => image.as_str(),
                },
            };
            if !own.is_of(repository, &["aws_ecr_repository"]) {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: a container runs {image:?}, which is not an image of this deployment's ECR repository."),
                );
            }
        }
    }

    /// The values of `image` and `awslogs-group` keys in container
    /// definitions, locals followed; `unreadable` when a key could be
    /// computed to one of them.
    fn container_values(
        &self,
        expr: &Expression,
        depth: usize,
        images: &mut Vec<(String, Expression)>,
        unreadable: &mut bool,
    ) {
        if depth > 16 {
            *unreadable = true;
            return;
        }
        let expr = self.resolve(expr);
        let entry = |key: Option<String>,
                     value: &Expression,
                     images: &mut Vec<(String, Expression)>,
                     unreadable: &mut bool| match key.as_deref() {
            Some(key @ ("image" | "awslogs-group" | "awslogs-region" | "valueFrom")) => {
                images.push((key.to_owned(), value.clone()))
            }
            Some(_) => {}
            None => *unreadable = true,
        };
        match expr {
            Expression::Object(object) => {
                for (key, value) in object {
                    entry(key_text(key), value, images, unreadable);
                    self.container_values(value, depth + 1, images, unreadable);
                }
            }
            Expression::Array(items) => {
                for item in items {
                    self.container_values(item, depth + 1, images, unreadable);
                }
            }
            // `jsondecode(<<EOT … EOT)`: an object written as text, whose
            // keys (an image, a command) the gate would not see.
            Expression::FuncCall(call)
                if matches!(
                    call.name.name.as_str(),
                    "jsondecode" | "yamldecode" | "csvdecode" | "templatestring" | "base64decode"
                ) =>
            {
                *unreadable = true;
            }
            // Functions that only put objects and lists together, or make a
            // list of strings; any other could make keys the gate would not
            // see (`zipmap(["image"], ["docker.io/…"])` in a merge()).
            Expression::FuncCall(call)
                if CONTAINER_FUNCTIONS.contains(&call.name.name.as_str()) =>
            {
                for arg in &call.args {
                    self.container_values(arg, depth + 1, images, unreadable);
                }
            }
            Expression::FuncCall(_) => *unreadable = true,
            // `local.containers.app`, `var.x["app"]`: a part of a value the
            // gate follows only whole; `var.x` whole when the gate does not
            // read its default as Terraform would (a typed one).
            Expression::Traversal(t)
                if matches!(&t.expr, Expression::Variable(v) if v.as_str() == "var")
                    && !matches!(t.operators.first(), Some(TraversalOperator::GetAttr(name)) if name.as_str() == "app_env")
                    || t.operators.len() > 1
                        && matches!(&t.expr, Expression::Variable(v) if v.as_str() == "local") =>
            {
                *unreadable = true;
            }
            Expression::Parenthesis(inner) => {
                self.container_values(inner, depth + 1, images, unreadable);
            }
            Expression::Conditional(c) => {
                self.container_values(&c.true_expr, depth + 1, images, unreadable);
                self.container_values(&c.false_expr, depth + 1, images, unreadable);
            }
            Expression::ForExpr(f) => {
                if let Some(key) = &f.key_expr {
                    // `{ for key, value in { command = … } : key => value }`:
                    // its keys are the literal object's.
                    let key_is_var = matches!((key, &f.key_var),
                        (Expression::Variable(v), Some(var)) if v.as_str() == var.as_str());
                    match self.resolve(&f.collection_expr) {
                        Expression::Object(object) if key_is_var => {
                            for (key, value) in object {
                                entry(key_text(key), value, images, unreadable);
                            }
                        }
                        _ => *unreadable = true,
                    }
                }
                self.container_values(&f.collection_expr, depth + 1, images, unreadable);
                self.container_values(&f.value_expr, depth + 1, images, unreadable);
            }
            _ => {}
        }
    }

    /// This configuration's parameter or secret, or a key of it
    /// (`"${aws_secretsmanager_secret_version.x.arn}:KEY::"`).
    fn is_own_secret_source(&self, expr: &Expression) -> bool {
        match self.resolve(expr) {
            Expression::TemplateExpr(template) => {
                Template::from_expr(template).is_ok_and(|parsed| {
                    matches!(parsed.elements().first(), Some(Element::Interpolation(first))
                    if self.is_own_reference_to(&first.expr, SECRET_SOURCES, 0))
                })
            }
            other => self.is_own_reference_to(other, SECRET_SOURCES, 0),
        }
    }

    /// `"${aws_ecr_repository.NAME.repository_url}:TAG"` (or `@DIGEST`, or
    /// the URL alone), locals followed.
    fn is_own_image(&self, expr: &Expression) -> bool {
        match self.resolve(expr) {
            Expression::Traversal(t) => is_repository_url(t),
            Expression::TemplateExpr(template) => {
                let Ok(parsed) = Template::from_expr(template) else {
                    return false;
                };
                let elements = parsed.elements();
                let Some(Element::Interpolation(first)) = elements.first() else {
                    return false;
                };
                let own = match self.resolve(&first.expr) {
                    Expression::Traversal(t) => is_repository_url(t),
                    _ => false,
                };
                own && match elements.get(1) {
                    None => true,
                    Some(Element::Literal(text)) => text.starts_with(':') || text.starts_with('@'),
                    Some(_) => false,
                }
            }
            _ => false,
        }
    }
}

/// `aws_ecr_repository.NAME.repository_url`.
fn is_repository_url(t: &hcl::expr::Traversal) -> bool {
    matches!(&t.expr, Expression::Variable(v) if v.as_str() == "aws_ecr_repository")
        && matches!(t.operators.as_slice(), [
            TraversalOperator::GetAttr(_),
            TraversalOperator::GetAttr(url),
        ] if url.as_str() == "repository_url")
}

/// The `image` of every container block of a pod spec, however deep.
fn kubernetes_images(body: &Body, images: &mut Vec<Expression>) {
    for block in body.blocks() {
        if KUBERNETES_CONTAINERS.contains(&block.identifier())
            && let Some(image) = attr(block.body(), "image")
        {
            images.push(image.clone());
        }
        kubernetes_images(block.body(), images);
    }
}

/// What a container's `secrets[*].valueFrom` may name: this
/// configuration's own parameters and secrets.
const SECRET_SOURCES: &[&str] = &[
    "aws_ssm_parameter",
    "aws_secretsmanager_secret",
    "aws_secretsmanager_secret_version",
];

fn foreign_secret(address: &str) -> String {
    format!(
        "{address}: a container's secrets[*].valueFrom must be this configuration's own parameter or secret (aws_ssm_parameter.env[name].arn): another of the account would be read into the app's environment."
    )
}

fn foreign_log_group(address: &str) -> String {
    format!(
        "{address}: the app must log to this configuration's log group (aws_cloudwatch_log_group.app.name): another's would receive, and mix, this app's logs."
    )
}

/// A planned container's `logConfiguration`: none, or `awslogs` with only
/// its group (this deployment's), region and stream prefix.
fn planned_logs_to_own_group(
    config: Option<&serde_json::Value>,
    own_group: &dyn Fn(Option<&serde_json::Value>) -> bool,
) -> bool {
    let Some(config) = config.filter(|c| !c.is_null()) else {
        return true;
    };
    let options = config.get("options").and_then(|o| o.as_object());
    let only_awslogs_options = options.is_none_or(|options| {
        options
            .keys()
            .all(|key| super::arguments::AWSLOGS_OPTIONS.contains(&key.as_str()))
    });
    config.get("logDriver").and_then(|d| d.as_str()) == Some("awslogs")
        && only_awslogs_options
        && own_group(options.and_then(|o| o.get("awslogs-group")))
}

/// The `image` of every container of a planned pod spec, however deep.
fn planned_kubernetes_images(values: &serde_json::Value, images: &mut Vec<String>) {
    match values {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                if KUBERNETES_CONTAINERS.contains(&key.as_str())
                    && let serde_json::Value::Array(containers) = value
                {
                    images.extend(containers.iter().filter_map(|c| {
                        c.get("image").and_then(|i| i.as_str()).map(str::to_owned)
                    }));
                }
                planned_kubernetes_images(value, images);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                planned_kubernetes_images(item, images);
            }
        }
        _ => {}
    }
}

/// A container's logs sent to another region's log group.
fn logs_region(address: &str, region: &str) -> String {
    format!(
        "{address}: a container's awslogs-region must be the deployment's region, the literal \"{region}\" (local.region): in another region the tasks cannot start, or write into a log group of that region this deployment did not make."
    )
}
