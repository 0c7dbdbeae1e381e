//! The app's secret values stay where the templates put them: an output
//! (which deployflow saves and shows with the job) reads none of them, and
//! `nonsensitive()` lifts the mark from names only (`keys(var.app_env)`),
//! never from values.

use hcl::Block;
use hcl::expr::{Expression, FuncCall, ObjectKey, TraversalOperator};

use super::Rule;
use super::expr::{as_str, attr, key_text, walk, walk_body, walk_except};
use super::structure::Gate;

/// Attributes that hold what the app is configured with, or a secret of a
/// store: a parameter's or a Secret's values, a function's or a task's
/// environment, a password, a token, an instance's first-boot script.
const SECRET_ATTRIBUTES: &[&str] = &[
    "value",
    "insecure_value",
    "data",
    "binary_data",
    "environment",
    "variables",
    "container_definitions",
    "secret_string",
    "secret_binary",
    "password",
    "auth_token",
    "token",
    "random_password",
    "user_data",
    "user_data_base64",
    // Computed by the provider from `tags`, so never marked sensitive.
    "tags_all",
];

/// Where the app's settings' values and other secret values (a parameter's
/// value, a store's password) may go, as `TYPE` and the argument's path:
/// the parameters and the Secrets the app reads them from, a function's
/// environment, a database's password. Anywhere else (tags, names,
/// descriptions) a provider-computed attribute (`tags_all`) carries them
/// out unmarked.
const SECRET_PLACES: &[(&str, &str)] = &[
    ("aws_ssm_parameter", "value"),
    ("aws_ssm_parameter", "value_wo"),
    ("aws_secretsmanager_secret_version", "secret_string"),
    ("aws_secretsmanager_secret_version", "secret_string_wo"),
    ("kubernetes_secret_v1", "data"),
    ("kubernetes_secret_v1", "data_wo"),
    ("aws_lambda_function", "environment.variables"),
    ("aws_db_instance", "password_wo"),
    ("provider.kubernetes", "token"),
    ("provider.kubernetes", "cluster_ca_certificate"),
];

/// Functions that keep a collection of names a collection of names.
const NAME_COLLECTIONS: &[&str] = &["toset", "tolist", "sort"];

impl Gate<'_> {
    /// `nonsensitive()` only of names (`keys(…)`, maybe made a set, list or
    /// sorted): of anything else it shows a secret in plans and outputs.
    pub(super) fn nonsensitive_calls(&mut self, block: &Block) {
        let mut lifted = 0;
        walk_body(block.body(), &mut |expr| {
            if let Expression::FuncCall(call) = expr
                && call.name.name.as_str() == "nonsensitive"
                && !call.args.first().is_some_and(of_keys)
            {
                lifted += 1;
            }
        });
        if lifted > 0 {
            self.violation(
                Rule::SecretExposure,
                format!(
                    "{}: nonsensitive() of a value shows a secret in the plan and the outputs; only names may be lifted (nonsensitive(toset(keys(var.app_env)))).",
                    super::resources::block_address(block)
                ),
            );
        }
    }

    /// An output that reads a secret value (locals and variable defaults
    /// followed), or that is marked sensitive: deployflow saves every
    /// output with the job, where whoever reads the job sees it.
    pub(super) fn secret_output(&mut self, name: &str, block: &Block) {
        let body = block.body();
        let sensitive = attr(body, "sensitive")
            .is_some_and(|v| !matches!(self.resolve(v), Expression::Bool(false)));
        // A precondition that fails on a bit of a secret prints its
        // message into the plan's log as well.
        let conditions = body
            .blocks()
            .filter(|b| b.identifier() == "precondition")
            .flat_map(|b| b.body().attributes())
            .map(|a| self.secret_reads(a.expr(), 0))
            .sum::<usize>();
        let reads = attr(body, "value").map_or(0, |value| self.secret_reads(value, 0)) + conditions;
        if sensitive || reads > 0 {
            self.violation(
                Rule::SecretExposure,
                format!(
                    "output {name:?} {}: deployflow keeps every output with the job, where anyone who can read the job sees it. Output names and addresses only (keys(var.app_env), an id, a DNS name).",
                    if reads > 0 {
                        "reads the app's settings or a secret (var.app_env, a parameter's value, a Secret's data, an environment, a password or token)"
                    } else {
                        "is marked sensitive"
                    }
                ),
            );
        }
    }

    /// The app's settings' values (`var.app_env` outside `keys()`) and other
    /// secret values, locals followed, only in the arguments of
    /// [`SECRET_PLACES`].
    pub(super) fn secret_placement(&mut self, kind: &str, address: &str, body: &hcl::Body) {
        let mut misplaced = Vec::new();
        self.secrets_in(kind, "", body, &mut misplaced);
        // A parameter holding a secret is encrypted: a `String` one is
        // read by anyone who may read the account's parameters.
        let holds_secret = attr(body, "value")
            .or_else(|| attr(body, "value_wo"))
            .is_some_and(|v| self.reads(v, 0, reads_secret) > 0);
        let secure = attr(body, "type")
            .and_then(|t| as_str(self.resolve(t)))
            .is_some_and(|t| t == "SecureString");
        if kind == "aws_ssm_parameter" && holds_secret && !secure {
            misplaced.push(
                "value (in a parameter whose type is not the literal \"SecureString\")".to_owned(),
            );
        }
        for path in misplaced {
            self.violation(
                Rule::SecretExposure,
                format!("{address}: {path} reads the app's settings (var.app_env) or a secret value (a parameter's value, a password); those go only into the parameters or Secrets the app reads them from (or a function's environment, a database's password), never into tags, names or other arguments that outputs and the account can read."),
            );
        }
    }

    fn secrets_in(&self, kind: &str, prefix: &str, body: &hcl::Body, misplaced: &mut Vec<String>) {
        for attribute in body.attributes() {
            if ORDERING_ARGUMENTS.contains(&attribute.key()) {
                continue;
            }
            let path = format!("{prefix}{}", attribute.key());
            let allowed = SECRET_PLACES.contains(&(kind, path.as_str()));
            if self.reads(attribute.expr(), 0, reads_secret) == 0 {
                continue;
            }
            if !allowed {
                misplaced.push(path);
            } else if !self.passes_secrets_on(attribute.expr(), 0) {
                // `x ? … : tonumber("bit 3")` fails on a bit of the secret,
                // and its message, constant text, is printed unredacted.
                misplaced.push(format!(
                    "{path} (only as a plain reference, or merge(), jsonencode(), base64decode() or tostring() of references: a condition or another function can fail on the value and print what it tested)"
                ));
            }
        }
        for block in body.blocks() {
            // A dynamic block's content is the block it makes.
            let name = match (block.identifier(), block.labels().first()) {
                ("dynamic", Some(label)) => label.as_str(),
                ("content", _) => {
                    self.secrets_in(kind, prefix, block.body(), misplaced);
                    continue;
                }
                (identifier, _) => identifier,
            };
            self.secrets_in(kind, &format!("{prefix}{name}."), block.body(), misplaced);
        }
    }

    /// Every local is evaluated at plan time, read or not: one that tests a
    /// secret can fail on it (`bit == 0 ? 0 : tonumber("bit 3")`) and print
    /// what it tested. A local may carry a secret on, not compute with it.
    pub(super) fn secret_locals(&mut self, body: &hcl::Body) {
        for attribute in body.attributes() {
            if self.secret_reads(attribute.expr(), 0) > 0
                && !self.passes_secrets_on(attribute.expr(), 0)
            {
                self.violation(
                    Rule::SecretExposure,
                    format!("local.{}: computes with the app's settings (var.app_env) or a secret value (a function of it, a condition or index on it); a local may only pass a secret on (a reference, a template or object of references, merge()): every local is evaluated, and one that fails on a secret prints what it tested.", attribute.key()),
                );
            }
        }
    }

    /// Whether `expr` passes secrets on as they are, without anything that
    /// could fail on their value (a conversion, an index or a condition on
    /// it), whose error would print what it tested: references, templates
    /// and objects of such, `merge()`, `jsonencode()`, `base64decode()` and `tostring()` of
    /// such, conditions, indexes and `for`s that read no secret themselves.
    fn passes_secrets_on(&self, expr: &Expression, depth: usize) -> bool {
        if depth > 16 {
            return false;
        }
        let quiet = |e: &Expression| self.secret_reads(e, depth) == 0;
        let on = |e: &Expression| self.passes_secrets_on(e, depth + 1);
        match expr {
            // Of what the root is too: `({ m = f(secret) }).m` computes.
            Expression::Traversal(t) => {
                on(&t.expr)
                    && t.operators.iter().all(|op| match op {
                        TraversalOperator::Index(index) => quiet(index),
                        TraversalOperator::LegacyIndex(_)
                        | TraversalOperator::GetAttr(_)
                        | TraversalOperator::AttrSplat
                        | TraversalOperator::FullSplat => true,
                    })
            }
            Expression::Variable(_)
            | Expression::String(_)
            | Expression::Number(_)
            | Expression::Bool(_)
            | Expression::Null => true,
            Expression::Parenthesis(inner) => on(inner),
            Expression::Array(items) => items.iter().all(on),
            Expression::Object(object) => object.iter().all(|(key, value)| {
                matches!(key, ObjectKey::Identifier(_))
                    || matches!(key, ObjectKey::Expression(k) if quiet(k))
            } && on(value)),
            Expression::TemplateExpr(template) => hcl::template::Template::from_expr(template)
                .is_ok_and(|parsed| {
                    parsed.elements().iter().all(|element| match element {
                        hcl::template::Element::Literal(_) => true,
                        hcl::template::Element::Interpolation(i) => on(&i.expr),
                        hcl::template::Element::Directive(_) => false,
                    })
                }),
            Expression::Conditional(c) => {
                quiet(&c.cond_expr) && on(&c.true_expr) && on(&c.false_expr)
            }
            Expression::ForExpr(f) => {
                quiet(&f.collection_expr)
                    && f.key_expr.as_ref().is_none_or(quiet)
                    && f.cond_expr.as_ref().is_none_or(quiet)
                    && on(&f.value_expr)
            }
            Expression::FuncCall(call) => {
                call.name.namespace.is_empty()
                    && matches!(
                        call.name.name.as_str(),
                        "merge" | "base64decode" | "tostring" | "jsonencode"
                    )
                    && call.args.iter().all(on)
            }
            _ => false,
        }
    }

    /// `var.app_env`'s own validation reads its names only (`keys()`): a
    /// condition on its values prints, when it fails, what it tested.
    pub(super) fn validation_reads_names_only(&mut self, name: &str, block: &Block) {
        let reads: usize = block
            .body()
            .blocks()
            .filter(|b| b.identifier() == "validation")
            .flat_map(|b| b.body().attributes())
            .map(|a| self.secret_reads(a.expr(), 0))
            .sum();
        if reads > 0 {
            self.violation(
                Rule::SecretExposure,
                format!("variable \"{name}\": its validation reads the settings' values; it may check their names only (keys(var.{name})): a failing condition prints what it tested."),
            );
        }
    }

    /// Secret values `expr` reads outside `keys()`.
    fn secret_reads(&self, expr: &Expression, depth: usize) -> usize {
        self.reads(expr, depth, reads_secret)
    }

    /// The traversals `counts` picks that `expr` reads outside `keys()`
    /// (locals followed). A names-only `keys()` is not entered at all: its
    /// reads are not counted and then taken off, where a `keys()` met twice
    /// (once in a local it follows) would take off a read made elsewhere.
    fn reads(
        &self,
        expr: &Expression,
        depth: usize,
        counts: fn(&hcl::expr::Traversal) -> bool,
    ) -> usize {
        if depth > 16 {
            // Too deep to follow: counted as a read.
            return TOO_DEEP;
        }
        let mut reads = 0;
        let mut gone_over = 0;
        let mut followed = Vec::new();
        let names_only = |e: &Expression| {
            matches!(e, Expression::FuncCall(call)
                if is_keys_of_a_reference(call) && self.keys_are_names(&call.args[0], depth))
        };
        walk_except(expr, &names_only, &mut |e| {
            match e {
                Expression::Traversal(traversal) => {
                    if counts(traversal) {
                        reads += 1;
                    } else if let Some(value) = self.named_value(traversal) {
                        followed.push(value.clone());
                    }
                }
                Expression::ForExpr(f)
                    if self.is_resource_collection(&f.collection_expr, depth) =>
                {
                    reads += for_variable_secret_reads(f);
                    // The instances a `for` goes over are read through its
                    // variable, counted just now, not by being gone over.
                    if let Expression::Traversal(collection) = &f.collection_expr
                        && counts(collection)
                    {
                        gone_over += 1;
                    }
                }
                // `lookup(aws_ssm_parameter.env["K"], "value", "")` reads
                // `.value`; an attribute named by anything but a literal could be.
                Expression::FuncCall(call)
                    if is_secret_lookup(
                        call,
                        |object| matches!(object, Expression::Traversal(t) if is_resource_root(flatten(t).0)),
                    ) =>
                {
                    reads += 1;
                }
                _ => {}
            }
        });
        followed
            .iter()
            .map(|value| self.reads(value, depth + 1, counts))
            .fold(reads.saturating_sub(gone_over), usize::saturating_add)
    }

    /// Whether the keys of `expr` are names only: a variable's, or those of
    /// a local that is one or an object written out. A local built by a
    /// `for` (`{ for n, v in var.app_env : "${n}=${v}" => n }`) can make
    /// its keys of the values.
    fn keys_are_names(&self, expr: &Expression, depth: usize) -> bool {
        if depth > 16 {
            return false;
        }
        match expr {
            Expression::Parenthesis(inner) => self.keys_are_names(inner, depth + 1),
            Expression::Object(object) => object.keys().all(|key| {
                matches!(
                    key,
                    ObjectKey::Identifier(_) | ObjectKey::Expression(Expression::String(_))
                )
            }),
            // `var.NAME` itself; `local.NAME.attr…` through the objects it
            // names, to the value whose keys these are.
            Expression::Traversal(traversal) => match &traversal.expr {
                Expression::Variable(root) if root.as_str() == "var" => {
                    traversal.operators.len() == 1
                }
                Expression::Variable(root) if root.as_str() == "local" => {
                    let mut value = self.named_value(traversal);
                    for op in traversal.operators.iter().skip(1) {
                        value = match (value, op) {
                            (
                                Some(Expression::Object(object)),
                                TraversalOperator::GetAttr(name),
                            ) => object.iter().find_map(|(key, v)| {
                                (key_text(key).as_deref() == Some(name.as_str())).then_some(v)
                            }),
                            _ => None,
                        };
                    }
                    value.is_some_and(|value| self.keys_are_names(value, depth + 1))
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// What `local.NAME…` or `var.NAME…` (other than the app's settings)
    /// stands for.
    fn named_value(&self, traversal: &hcl::expr::Traversal) -> Option<&Expression> {
        let Expression::Variable(root) = &traversal.expr else {
            return None;
        };
        let Some(TraversalOperator::GetAttr(name)) = traversal.operators.first() else {
            return None;
        };
        match root.as_str() {
            "local" | "var" => self.value_of(&format!("{}.{name}", root.as_str())),
            _ => None,
        }
    }
}

impl Gate<'_> {
    /// Whether a `for` over `expr` goes over a resource's instances
    /// (`aws_ssm_parameter.env`, `values(…)`, `[…]`, a local holding them,
    /// another `for` over them): its variable then reads their attributes.
    fn is_resource_collection(&self, expr: &Expression, depth: usize) -> bool {
        if depth > 16 {
            return true;
        }
        match expr {
            Expression::Traversal(traversal) => {
                is_resource_root(flatten(traversal).0)
                    || self
                        .named_value(traversal)
                        .is_some_and(|value| self.is_resource_collection(value, depth + 1))
            }
            Expression::Parenthesis(inner) => self.is_resource_collection(inner, depth + 1),
            Expression::Array(items) => items
                .iter()
                .any(|i| self.is_resource_collection(i, depth + 1)),
            Expression::Object(object) => object
                .values()
                .any(|v| self.is_resource_collection(v, depth + 1)),
            Expression::FuncCall(call) => call
                .args
                .iter()
                .any(|a| self.is_resource_collection(a, depth + 1)),
            Expression::ForExpr(f) => self.is_resource_collection(&f.collection_expr, depth + 1),
            Expression::Conditional(c) => {
                self.is_resource_collection(&c.true_expr, depth + 1)
                    || self.is_resource_collection(&c.false_expr, depth + 1)
            }
            _ => false,
        }
    }
}

/// Reads of a secret attribute through a `for` expression's variables
/// (`[for p in aws_ssm_parameter.env : p.value]`).
fn for_variable_secret_reads(f: &hcl::expr::ForExpr) -> usize {
    let variables: Vec<&str> = std::iter::once(f.value_var.as_str())
        .chain(f.key_var.as_ref().map(|k| k.as_str()))
        .collect();
    let mut reads = 0;
    // A variable used whole (`jsonencode(p)`, `[for v in [p] : v.value]`)
    // carries every attribute, the value among them: uses of the variable
    // beyond the traversals that name an attribute count as reads.
    let mut uses = 0usize;
    let mut named = 0usize;
    let parts = std::iter::once(&f.value_expr)
        .chain(f.key_expr.as_ref())
        .chain(f.cond_expr.as_ref());
    let is_variable = |e: &Expression| match e {
        Expression::Variable(v) => variables.contains(&v.as_str()),
        Expression::Traversal(t) => {
            matches!(flatten(t).0, Expression::Variable(v) if variables.contains(&v.as_str()))
        }
        _ => false,
    };
    for part in parts {
        walk(part, &mut |e| match e {
            Expression::Traversal(traversal) => {
                let (root, operators) = flatten(traversal);
                let through_variable =
                    matches!(root, Expression::Variable(v) if variables.contains(&v.as_str()));
                // `p.value`, `p["value"]`, or an index the gate cannot read.
                let secret = operators.iter().any(|op| match op {
                    TraversalOperator::GetAttr(name) => SECRET_ATTRIBUTES.contains(&name.as_str()),
                    TraversalOperator::Index(Expression::String(name)) => {
                        SECRET_ATTRIBUTES.contains(&name.as_str())
                    }
                    TraversalOperator::Index(Expression::Number(_)) => false,
                    TraversalOperator::Index(_) => true,
                    _ => false,
                });
                // Only an attribute named first leaves the rest of the
                // instance behind: `p[*]`, `p.*` and `p[0]` are all of it.
                let names_an_attribute_first = matches!(
                    operators.first(),
                    Some(
                        TraversalOperator::GetAttr(_)
                            | TraversalOperator::Index(Expression::String(_))
                    )
                );
                let of_value_variable =
                    matches!(root, Expression::Variable(v) if v.as_str() == f.value_var.as_str());
                if through_variable && (secret || (of_value_variable && !names_an_attribute_first))
                {
                    reads += 1;
                }
                if matches!(&traversal.expr, Expression::Variable(v) if v.as_str() == f.value_var.as_str())
                {
                    named += 1;
                }
            }
            // The key variable is a name or an index.
            Expression::Variable(v) if v.as_str() == f.value_var.as_str() => uses += 1,
            // `lookup(p, "value", "")`.
            Expression::FuncCall(call) if is_secret_lookup(call, is_variable) => {
                reads += 1;
            }
            _ => {}
        });
    }
    reads + uses.saturating_sub(named)
}

/// `lookup(OBJECT, "value", …)` of an object `is_object` picks, reading a
/// secret attribute, or one the gate cannot name.
fn is_secret_lookup(call: &FuncCall, is_object: impl Fn(&Expression) -> bool) -> bool {
    call.name.name.as_str() == "lookup"
        && call.args.first().is_some_and(is_object)
        && call.args.get(1).is_none_or(|key| match key {
            Expression::String(name) => SECRET_ATTRIBUTES.contains(&name.as_str()),
            _ => true,
        })
}

/// A resource's or data source's instances: `aws_…`, `kubernetes_…`, `data`.
fn is_resource_root(root: &Expression) -> bool {
    matches!(root, Expression::Variable(v) if v.as_str().starts_with("aws_") || v.as_str().starts_with("kubernetes_") || matches!(v.as_str(), "data" | "ephemeral"))
}

/// The root of a traversal and every operator after it, through
/// parentheses and traversals of traversals (`(aws_x.y["k"]).value`).
fn flatten(traversal: &hcl::expr::Traversal) -> (&Expression, Vec<&TraversalOperator>) {
    let mut operators: Vec<&TraversalOperator> = traversal.operators.iter().collect();
    let mut root = &traversal.expr;
    loop {
        match root {
            Expression::Parenthesis(inner) => root = inner,
            Expression::Traversal(inner) => {
                let mut before: Vec<&TraversalOperator> = inner.operators.iter().collect();
                before.extend(operators);
                operators = before;
                root = &inner.expr;
            }
            _ => return (root, operators),
        }
    }
}

/// What a read too deep to follow counts for: a read, whatever else the
/// expression holds.
const TOO_DEEP: usize = usize::MAX / 4;

/// `var.app_env…`, or a resource's or data source's secret attribute.
fn reads_secret(traversal: &hcl::expr::Traversal) -> bool {
    let (root, operators) = flatten(traversal);
    // `x["value"]` reads the attribute as `x.value` does.
    let attributes = operators.iter().filter_map(|op| match op {
        TraversalOperator::GetAttr(name) => Some(name.as_str()),
        TraversalOperator::Index(Expression::String(name)) => Some(name.as_str()),
        _ => None,
    });
    let Expression::Variable(root) = root else {
        // `one([...]).value`, `try(a, b).value`: whatever the value is, the
        // attribute read is what counts.
        return attributes
            .clone()
            .any(|name| SECRET_ATTRIBUTES.contains(&name));
    };
    let first_op = operators.first().copied();
    match root.as_str() {
        "var" => first_op.is_some_and(
            |op| matches!(op, TraversalOperator::GetAttr(name) if name.as_str() == "app_env"),
        ),
        // `self` in a resource's postcondition is that resource: whole, or
        // through a secret attribute, it reads the secret.
        "self" => attributes
            .clone()
            .next()
            .is_none_or(|name| SECRET_ATTRIBUTES.contains(&name)),
        "local" | "each" | "count" | "path" | "terraform" => false,
        kind => resource_reads_secret(kind, &operators),
    }
}

/// Whether a reference to a resource (`KIND.NAME…`, `data.TYPE.NAME…`,
/// `ephemeral.TYPE.NAME…`) reads a secret: a secret attribute, an attribute
/// named by anything but a literal (`x["k"][local.attr]`), or the whole
/// instance of a type that holds one. The first index after the name is the
/// instance's key, not an attribute.
fn resource_reads_secret(root: &str, operators: &[&TraversalOperator]) -> bool {
    let (kind, operators) = match root {
        "data" | "ephemeral" => match operators.split_first() {
            Some((TraversalOperator::GetAttr(kind), rest)) => (kind.as_str(), rest),
            _ => return true,
        },
        kind => (kind, operators),
    };
    // The resource's name.
    let after_name = operators.get(1..).unwrap_or_default();
    let (key, accessed) = match after_name.split_first() {
        Some((
            key @ (TraversalOperator::Index(_)
            | TraversalOperator::LegacyIndex(_)
            | TraversalOperator::AttrSplat
            | TraversalOperator::FullSplat),
            rest,
        )) => (Some(*key), rest),
        _ => (None, after_name),
    };
    let secret_name = |name: &str| SECRET_ATTRIBUTES.contains(&name);
    // A single instance's `x["value"]` is its attribute.
    let key_names_secret = matches!(key, Some(TraversalOperator::Index(Expression::String(name))) if secret_name(name));
    let mut named = false;
    for op in accessed {
        match op {
            TraversalOperator::GetAttr(name) => {
                if secret_name(name.as_str()) {
                    return true;
                }
                named = true;
            }
            TraversalOperator::Index(Expression::String(name)) => {
                if secret_name(name) {
                    return true;
                }
                named = true;
            }
            TraversalOperator::Index(Expression::Number(_)) | TraversalOperator::LegacyIndex(_) => {
            }
            // On the instance, an attribute the gate cannot name could be
            // the secret; after a named one, it indexes that one's value.
            TraversalOperator::Index(_) if !named => return true,
            TraversalOperator::Index(_) => {}
            TraversalOperator::AttrSplat | TraversalOperator::FullSplat => {}
        }
    }
    key_names_secret || (!named && SECRET_HOLDERS.contains(&kind))
}

/// Resource types one of whose attributes is a secret value: a reference
/// to an instance as a whole, not through a named attribute, reads it.
const SECRET_HOLDERS: &[&str] = &[
    "aws_ssm_parameter",
    "aws_secretsmanager_secret_version",
    "kubernetes_secret_v1",
    "kubernetes_secret",
    "kubernetes_config_map_v1",
    "aws_lambda_function",
    "aws_ecs_task_definition",
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticache_user",
    "aws_instance",
    "aws_launch_template",
    "random_password",
    "aws_secretsmanager_random_password",
];

/// Arguments that name what another resource waits for or is replaced
/// with, and read no value.
const ORDERING_ARGUMENTS: &[&str] = &["depends_on", "replace_triggered_by"];

/// `keys(…)`, maybe within `toset`, `tolist` or `sort`.
fn of_keys(expr: &Expression) -> bool {
    match expr {
        Expression::FuncCall(call) => is_keys(call),
        Expression::Parenthesis(inner) => of_keys(inner),
        _ => false,
    }
}

fn is_keys(call: &FuncCall) -> bool {
    match call.name.name.as_str() {
        "keys" => is_keys_of_a_reference(call),
        name if NAME_COLLECTIONS.contains(&name) => call.args.first().is_some_and(of_keys),
        _ => false,
    }
}

/// `keys(var.x)` or `keys(local.x)`: of a variable or local itself, since the
/// keys of a `for` that builds keys out of values would carry the values,
/// and nothing after the name (`keys(local.map[substr(var.app_env…)])`
/// picks by a secret, which the keys then spell out).
fn is_keys_of_a_reference(call: &FuncCall) -> bool {
    call.name.name.as_str() == "keys"
        && matches!(call.args.as_slice(), [Expression::Traversal(t)]
            if matches!(&t.expr, Expression::Variable(root) if matches!(root.as_str(), "var" | "local"))
                && matches!(t.operators.as_slice(), [TraversalOperator::GetAttr(_)]))
}
