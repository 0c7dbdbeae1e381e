//! The gate's walk over a configuration: file names, parsing, and the
//! top-level blocks other than resources (`terraform`, `provider`, `module`,
//! `variable`, `output`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hcl::expr::{Expression, TraversalOperator};
use hcl::template::{Element, Template};
use hcl::{Block, Body};

use super::expr::{as_str, attr, computed_str, key_text, labels};
use super::{Policy, Rule, Violation, WHOLE_CONFIGURATION};

/// The most literal text the gate builds of one name's start.
const MAX_LITERAL_PREFIX: usize = 1024;

/// Every expression of `body` whose value is used: all but `depends_on`.
fn read_body(body: &Body, visit: &mut dyn FnMut(&Expression)) {
    for attribute in body.attributes().filter(|a| a.key() != "depends_on") {
        super::expr::walk(attribute.expr(), visit);
    }
    for block in body.blocks() {
        read_body(block.body(), visit);
    }
}

/// The attributes a configuration may read of each data source it may
/// declare ([`Gate::data_attributes_read`]).
const DATA_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("aws_ami", &["id", "image_id"]),
    ("aws_availability_zones", &["names", "zone_ids"]),
    ("aws_caller_identity", &["account_id"]),
    ("aws_partition", &["partition", "dns_suffix"]),
    ("aws_region", &["name", "region", "id"]),
    ("aws_iam_policy_document", &["json", "minified_json"]),
    (
        "aws_eks_cluster",
        &["endpoint", "certificate_authority", "name", "id"],
    ),
    ("aws_eks_cluster_auth", &["token"]),
    ("aws_ssm_parameter", &["value", "insecure_value"]),
];

/// Provider arguments that hold secrets.
const CREDENTIAL_ARGS: &[&str] = &[
    "access_key",
    "secret_key",
    "token",
    "password",
    "client_key",
    "client_certificate",
];

/// Walks the files of one configuration and collects violations.
pub(super) struct Gate<'p> {
    pub(super) policy: &'p Policy,
    pub(super) file: String,
    /// Where the top-level block being checked starts in `file`.
    pub(super) line: Option<u32>,
    violations: Vec<Violation>,
    outputs: BTreeSet<String>,
    aws_provider_seen: bool,
    kubernetes_provider_seen: bool,
    /// The public ranges every ingress rule beyond the app port admits.
    /// Copies of each resource type all its blocks make together (`count`
    /// and `for_each` included): bounded per configuration, not per block.
    pub(super) copies: BTreeMap<String, u32>,
    /// The first Kubernetes resource, to name it when no provider block
    /// configures where it goes.
    pub(super) first_kubernetes_use: Option<(String, Option<u32>, String)>,
    /// Every `local.NAME` and the default of every `var.NAME` deployflow
    /// does not supply, from all files: what a reference to them stands for.
    values: BTreeMap<String, Expression>,
    /// The default of every variable of the root module, supplied ones
    /// included, by `var.NAME`: what a reference to it may weigh.
    pub(super) variable_defaults: BTreeMap<String, Expression>,
    /// Where the first AWS resource is, to name it when no provider pins a region.
    pub(super) first_aws_use: Option<(String, Option<u32>, String)>,
    /// The `name` of every `aws_ssm_parameter` resource, with the directory
    /// of its file: where this configuration's own parameters live.
    parameter_names: Vec<(String, Expression)>,
    /// The `aws_iam_role`s task definitions run the app as (`task_role_arn`):
    /// the app's code holds their credentials.
    pub(super) app_roles: Vec<Expression>,
    /// The `assume_role_policy` of every `aws_iam_role`, by name.
    role_trust: BTreeMap<String, Expression>,
    /// Every `data "aws_iam_policy_document"`, by name.
    policy_documents: BTreeMap<String, Body>,
    /// The final snapshot names of the stores seen so far.
    pub(super) final_snapshots: BTreeSet<String>,
    /// Checking a plan's values rather than files.
    pub(super) planned: bool,
    /// How many expressions each remembered value stands for written out
    /// (`evaluation.rs`), keyed as `values` is.
    pub(super) expansions: HashMap<String, usize>,
    /// The weights of the values checked so far, summed, and whether that
    /// sum was already reported too large.
    pub(super) total_weight: u128,
    pub(super) over_total: bool,
    /// A file asked for more work than the gate does: it is refused, and
    /// its other rules are not run.
    pub(super) too_costly: bool,
}

impl<'p> Gate<'p> {
    pub(super) fn new(policy: &'p Policy) -> Self {
        Gate {
            policy,
            file: String::new(),
            line: None,
            values: BTreeMap::new(),
            variable_defaults: BTreeMap::new(),
            violations: Vec::new(),
            outputs: BTreeSet::new(),
            aws_provider_seen: false,
            kubernetes_provider_seen: false,
            copies: BTreeMap::new(),
            first_kubernetes_use: None,
            first_aws_use: None,
            parameter_names: Vec::new(),
            app_roles: Vec::new(),
            role_trust: BTreeMap::new(),
            policy_documents: BTreeMap::new(),
            final_snapshots: BTreeSet::new(),
            planned: false,
            expansions: HashMap::new(),
            total_weight: 0,
            over_total: false,
            too_costly: false,
        }
    }

    /// Notes the locals and variable defaults of a file, before any file is
    /// checked (a file that does not parse is reported by [`Gate::file`]).
    /// Each directory is a module of its own: its locals are its own, and
    /// its variables take what the module call passes, not their defaults.
    pub(super) fn remember_values(&mut self, name: &str, text: &str) {
        let Ok(body) = hcl::parse(text) else {
            return;
        };
        let dir = directory(name);
        for block in body.blocks() {
            match (block.identifier(), labels(block).as_slice()) {
                ("locals", []) => {
                    for attribute in block.body().attributes() {
                        self.values.insert(
                            value_key(dir, &format!("local.{}", attribute.key())),
                            attribute.expr().clone(),
                        );
                    }
                }
                ("variable", [name]) if dir.is_empty() => {
                    if let Some(default) = attr(block.body(), "default") {
                        self.variable_defaults
                            .insert(format!("var.{name}"), default.clone());
                    }
                    if self.policy.supplied_variables.contains(*name) {
                        continue;
                    }
                    if let Some(default) = attr(block.body(), "default")
                        && default_is_read_as_written(attr(block.body(), "type"), default)
                    {
                        self.values
                            .insert(value_key("", &format!("var.{name}")), default.clone());
                    }
                }
                ("resource", ["aws_ecs_task_definition", _]) => {
                    self.app_roles
                        .extend(attr(block.body(), "task_role_arn").cloned());
                }
                ("resource", ["aws_iam_role", name]) => {
                    if let Some(trust) = attr(block.body(), "assume_role_policy") {
                        self.role_trust.insert((*name).to_owned(), trust.clone());
                    }
                }
                ("data", ["aws_iam_policy_document", name]) => {
                    self.policy_documents
                        .insert((*name).to_owned(), block.body().clone());
                }
                ("resource", ["aws_ssm_parameter", _]) => {
                    if let Some(name) = attr(block.body(), "name") {
                        self.parameter_names.push((dir.to_owned(), name.clone()));
                    }
                }
                _ => {}
            }
        }
    }

    /// Every `local.NAME` and remembered `var.NAME` default, keyed by the
    /// module's directory and the name (`modules/web\0local.NAME`).
    pub(super) fn named_values(&self) -> &BTreeMap<String, Expression> {
        &self.values
    }

    /// Stops following locals and defaults: once their expansion is
    /// refused, every check that follows them would take as long as
    /// writing it all out.
    pub(super) fn forget_values(&mut self) {
        self.values.clear();
    }

    /// The `assume_role_policy` of `aws_iam_role.NAME`.
    pub(super) fn role_trust(&self, name: &str) -> Option<&Expression> {
        self.role_trust.get(name)
    }

    /// The body of `data "aws_iam_policy_document" "NAME"`.
    pub(super) fn document_block(&self, name: &str) -> Option<&Body> {
        self.policy_documents.get(name)
    }

    /// The expression of `local.NAME` or the default of `var.NAME`, in the
    /// module of the file being checked.
    pub(super) fn value_of(&self, name: &str) -> Option<&Expression> {
        self.value_in(directory(&self.file), name)
    }

    /// The key of the remembered value `expr` reads (see [`value_read`]),
    /// in the module of the file being checked.
    pub(super) fn read_key(&self, expr: &Expression) -> Option<String> {
        value_read(expr).map(|name| value_key(directory(&self.file), &name))
    }

    fn value_in(&self, dir: &str, name: &str) -> Option<&Expression> {
        self.values.get(&value_key(dir, name))
    }

    /// What `expr` stands for when it is `local.NAME` or `var.NAME` (followed
    /// through other locals); `expr` itself otherwise.
    pub(super) fn resolve<'e>(&'e self, expr: &'e Expression) -> &'e Expression {
        self.resolve_in(directory(&self.file), expr)
    }

    fn resolve_in<'e>(&'e self, dir: &str, mut expr: &'e Expression) -> &'e Expression {
        for _ in 0..16 {
            let Some(name) = value_name(expr) else {
                return expr;
            };
            match self.value_in(dir, &name) {
                Some(value) => expr = value,
                None => return expr,
            }
        }
        expr
    }

    /// [`Gate::literal_prefix`] in the module of the file being checked.
    pub(super) fn literal_start(&self, expr: &Expression) -> String {
        self.literal_prefix(directory(&self.file), expr, 0).0
    }

    /// The text `expr` starts with, as far as it is literal (locals
    /// followed): `/deployflow/app/env/` of `"${local.env_path}/${each.key}"`.
    fn literal_prefix(&self, dir: &str, expr: &Expression, depth: usize) -> (String, bool) {
        let expr = self.resolve_in(dir, expr);
        if let Some(text) = as_str(expr) {
            return (text, true);
        }
        let Expression::TemplateExpr(template) = expr else {
            return (String::new(), false);
        };
        let Ok(parsed) = hcl::template::Template::from_expr(template) else {
            return (String::new(), false);
        };
        let mut prefix = String::new();
        for element in parsed.elements() {
            match element {
                hcl::template::Element::Literal(text) => prefix.push_str(text),
                hcl::template::Element::Interpolation(i) if depth < 16 => {
                    let (part, complete) = self.literal_prefix(dir, &i.expr, depth + 1);
                    prefix.push_str(&part);
                    if !complete {
                        return (prefix, false);
                    }
                }
                _ => return (prefix, false),
            }
            // A name's start is short; locals that copy each other ten
            // times over would make the gate build gigabytes.
            if prefix.len() > MAX_LITERAL_PREFIX {
                return (prefix, false);
            }
        }
        (prefix, true)
    }

    /// The folders of this configuration's own SSM parameters
    /// (`/deployflow/NAME/env/` of `"${local.env_path}/${each.key}"`): the
    /// literal part of each name up to its last `/`, when it lies under
    /// `/deployflow/` and names a deployment below it. In a plan, the
    /// `/deployflow/NAME/` folder of `path` itself (the files, checked
    /// first, bound the names).
    pub(super) fn parameter_folders_for(&self, path: &str) -> Vec<String> {
        let job_folder = self
            .policy
            .resource_name
            .as_ref()
            .map(|name| format!("/deployflow/{name}/"));
        let own = |folder: &str| {
            folder.starts_with("/deployflow/")
                && folder.split('/').filter(|s| !s.is_empty()).count() >= 2
                && !folder.contains(['*', '?', '$'])
                && job_folder
                    .as_ref()
                    .is_none_or(|job| folder.starts_with(job))
        };
        if self.planned {
            let folder: Vec<&str> = path.splitn(4, '/').take(3).collect();
            let folder = format!("{}/", folder.join("/"));
            return if own(&folder) { vec![folder] } else { vec![] };
        }
        let mut folders = Vec::new();
        for (dir, name) in &self.parameter_names {
            let (prefix, _) = self.literal_prefix(dir, name, 0);
            if let Some(end) = prefix.rfind('/') {
                let folder = &prefix[..=end];
                if own(folder) {
                    folders.push(folder.to_owned());
                }
            }
        }
        folders
    }

    pub(super) fn violation(&mut self, rule: Rule, message: String) {
        self.violations.push(Violation {
            file: self.file.clone(),
            line: self.line,
            rule,
            message,
        });
    }

    pub(super) fn file(&mut self, name: &str, text: &str) {
        self.file = name.to_owned();
        self.line = None;
        if is_override_file(name) {
            self.violation(
                Rule::FileNotAllowed,
                format!(
                    "{name:?} is an override file: Terraform merges it into the other files' blocks after this gate has checked them. Put its content in the blocks it would change."
                ),
            );
            return;
        }
        if !is_tf_file_name(name) {
            self.violation(
                Rule::FileNotAllowed,
                format!(
                    "{name:?} is not a plain .tf file; Terraform would load .tf.json, .tfvars and similar files without this gate seeing them. Write HCL into a file named like main.tf."
                ),
            );
            return;
        }
        if !self.characters(text) || !self.heredoc_ends(text) {
            return;
        }
        if let Some((line, number)) = super::evaluation::large_number(text) {
            self.line = u32::try_from(line).ok();
            self.violation(
                Rule::SizeNotBounded,
                format!("line {line} writes the number {number}: Terraform keeps every digit of a number that large, and writing it out takes the worker hours. Write a plain number."),
            );
            self.line = None;
            return;
        }
        match hcl_edit::parser::parse_body(text) {
            Ok(parsed) => {
                let lines = block_lines(text, &parsed);
                let body = hcl::Body::from(parsed);
                self.too_costly = false;
                self.written_forms(&body, &lines);
                if self.too_costly {
                    // Refused already; the rules that follow locals or
                    // walk templates would do the work it asks for.
                    return;
                }
                self.body(&body, &lines);
                self.line = None;
            }
            Err(error) => self.violation(
                Rule::ParseError,
                format!("not valid HCL: {error}. Fix the syntax."),
            ),
        }
    }

    /// `lines[i]`: where the `i`-th block of `body` starts.
    fn body(&mut self, body: &Body, lines: &[Option<u32>]) {
        for attribute in body.attributes() {
            self.violation(
                Rule::BlockNotAllowed,
                format!(
                    "top-level argument {:?}: a Terraform file holds blocks only; move it into a locals block.",
                    attribute.key()
                ),
            );
        }
        for (index, block) in body.blocks().enumerate() {
            self.line = lines.get(index).copied().flatten();
            self.local_files(block);
            self.cluster_token_outside_provider(block);
            self.data_attributes_read(block);
            self.nonsensitive_calls(block);
            match block.identifier() {
                "terraform" => self.terraform(block),
                "provider" => self.provider(block),
                "resource" => self.resource(block),
                "data" => self.data(block),
                "ephemeral" => self.ephemeral(block),
                "module" => self.module(block),
                "variable" => self.variable(block),
                "output" => self.output(block),
                "locals" => {
                    self.foreign_literals("locals", block.body());
                    self.secret_locals(block.body());
                }
                other => self.violation(
                    Rule::BlockNotAllowed,
                    format!(
                        "top-level block {other:?} is not allowed; use only terraform, provider, resource, data, ephemeral, module, variable, output and locals blocks."
                    ),
                ),
            }
        }
    }

    /// Labels of a block that must have exactly `count` of them.
    pub(super) fn labels<'b>(&mut self, block: &'b Block, count: usize) -> Option<Vec<&'b str>> {
        let found = labels(block);
        if found.len() == count {
            return Some(found);
        }
        self.violation(
            Rule::ParseError,
            format!(
                "a {} block needs {count} label(s), found {:?}.",
                block.identifier(),
                found
            ),
        );
        None
    }

    /// A literal of lower bounds only (`>= 1.6`): a ceiling or a pinned
    /// version fails every plan and destroy of the deployment once the
    /// worker's Terraform is newer, the `-refresh=false` retry included.
    fn required_version(&mut self, expr: &Expression) {
        let lower_bounds_only = as_str(expr).is_some_and(|text| {
            text.split(',').all(|part| {
                let part = part.trim();
                part.starts_with(">=") || part.starts_with('>')
            })
        });
        if !lower_bounds_only {
            self.violation(
                Rule::BlockNotAllowed,
                "terraform { required_version } must be a literal of lower bounds only (`>= 1.6`): an upper bound or a pinned version makes the deployment impossible to plan or destroy once the worker's Terraform is newer.".to_owned(),
            );
        }
    }

    /// `required_version`, `required_providers` and the backend; nothing
    /// else: OpenTofu's `encryption` block runs an `external` key provider's
    /// command on the worker, and other settings change how the rest reads.
    fn terraform(&mut self, block: &Block) {
        for attribute in block.body().attributes() {
            if attribute.key() == "required_version" {
                self.required_version(&attribute.expr);
                continue;
            }
            self.violation(
                Rule::BlockNotAllowed,
                format!(
                    "terraform {{ {} = ... }} is not a setting deployflow's configurations use; a terraform block sets only required_version, required_providers and (empty) backend.",
                    attribute.key()
                ),
            );
        }
        for inner in block.body().blocks() {
            match inner.identifier() {
                "required_providers" => self.required_providers(inner.body()),
                "backend" => self.backend(inner),
                "cloud" => self.violation(
                    Rule::Backend,
                    "terraform { cloud { ... } } sends the state elsewhere; remove it: deployflow configures the state.".to_owned(),
                ),
                other => self.violation(
                    Rule::BlockNotAllowed,
                    format!(
                        "terraform {{ {other} {{ ... }} }} is not allowed{}; a terraform block sets only required_version, required_providers and (empty) backend.",
                        if other == "encryption" {
                            " (an external key provider runs a command on the machine running terraform)"
                        } else {
                            ""
                        }
                    ),
                ),
            }
        }
    }

    fn required_providers(&mut self, body: &Body) {
        for entry in body.attributes() {
            let name = entry.key();
            let (source, version) = match entry.expr() {
                hcl::Expression::Object(object) => {
                    let field = |key: &str| {
                        object
                            .iter()
                            .find(|(k, _)| key_text(k).as_deref() == Some(key))
                            .map(|(_, v)| as_str(v))
                    };
                    (field("source"), field("version"))
                }
                // The legacy `name = "version"` form.
                other => (None, Some(as_str(other))),
            };
            if !self.policy.allowed_providers.contains(name) {
                self.violation(
                    Rule::ProviderNotAllowed,
                    format!(
                        "required_providers entry {name:?} is not an allowed provider; use only {}.",
                        allowed(&self.policy.allowed_providers)
                    ),
                );
                continue;
            }
            if let Some(source) = source
                && !source
                    .as_deref()
                    .is_some_and(|s| is_official_source(s, name))
            {
                self.violation(
                    Rule::ProviderNotAllowed,
                    format!(
                        "required_providers.{name} must come from source \"hashicorp/{name}\", not {}.",
                        source.map_or("a computed value".to_owned(), |s| format!("{s:?}"))
                    ),
                );
            }
            if version
                .as_ref()
                .and_then(Option::as_deref)
                .is_none_or(|v| v.trim().is_empty())
            {
                self.violation(
                    Rule::ProviderVersion,
                    format!(
                        "required_providers.{name} has no literal version constraint; add version = \"~> X.Y\"."
                    ),
                );
            } else if let Some(Some(version)) = version
                && !version.split(',').map(str::trim).any(|part| {
                    // `~> 6.0`, `< 7.0`, or a pinned `6.1.0` / `= 6.1.0`.
                    part.starts_with("~>")
                        || part.starts_with('<')
                        || part.starts_with('=')
                        || part.starts_with(|c: char| c.is_ascii_digit())
                })
            {
                // The destroy initialises anew: with no ceiling it takes the
                // provider's next major, which may no longer read this file.
                self.violation(
                    Rule::ProviderVersion,
                    format!(
                        "required_providers.{name} version {version:?} has no upper bound; bound the major version (\"~> X.Y\" or \"< N.0\") so a later plan or destroy does not take a provider that reads the file otherwise."
                    ),
                );
            }
        }
    }

    fn backend(&mut self, block: &Block) {
        let kind = labels(block)
            .first()
            .copied()
            .unwrap_or_default()
            .to_owned();
        let allowed = self.policy.allowed_backend.as_deref() == Some(kind.as_str());
        if allowed && block.body().iter().next().is_none() {
            return;
        }
        let message = if allowed {
            format!(
                "backend \"{kind}\" must have an empty body: deployflow passes its settings on the command line."
            )
        } else {
            format!(
                "backend \"{kind}\" would keep the state where deployflow cannot manage it; remove the backend block."
            )
        };
        self.violation(Rule::Backend, message);
    }

    fn provider(&mut self, block: &Block) {
        let Some(name) = self.labels(block, 1).map(|l| l[0].to_owned()) else {
            return;
        };
        if !self.policy.allowed_providers.contains(&name) {
            self.violation(
                Rule::ProviderNotAllowed,
                format!(
                    "provider \"{name}\" is not allowed; use only {}.",
                    allowed(&self.policy.allowed_providers)
                ),
            );
            return;
        }
        let body = block.body();
        for key in CREDENTIAL_ARGS {
            let Some(value) = attr(body, key) else {
                continue;
            };
            // AWS credentials come from the environment only; other providers
            // may take a token from a data source, never a written-in secret.
            if name == "aws" || computed_str(value).is_some() {
                self.violation(
                    Rule::ProviderCredentials,
                    format!(
                        "provider \"{name}\" sets {key}: credentials never go into Terraform files; remove it (they come from the environment)."
                    ),
                );
            }
        }
        self.provider_arguments(&name, body);
        self.secret_placement(
            &format!("provider.{name}"),
            &format!("provider \"{name}\""),
            body,
        );
        self.kubernetes_provider_seen |= name == "kubernetes";
        if name == "aws" {
            self.aws_provider_seen = true;
            let region = attr(body, "region").and_then(as_str);
            if region.as_deref() != Some(self.policy.region.as_str()) {
                let found = match (attr(body, "region"), region) {
                    (None, _) => "no region".to_owned(),
                    (Some(_), None) => "a region that is not a literal string".to_owned(),
                    (Some(_), Some(r)) => format!("region {r:?}"),
                };
                self.violation(
                    Rule::RegionNotPinned,
                    format!(
                        "provider \"aws\" has {found}; set region = \"{}\" (the chosen region) as a literal.",
                        self.policy.region
                    ),
                );
            }
        }
    }

    /// Only what deployflow's templates set: for AWS the region and default
    /// tags; for Kubernetes the endpoint, CA and token of this
    /// configuration's own EKS cluster. Anything else (`exec`, `profile`,
    /// `assume_role`, `endpoints`, `config_path`...) can run programs or
    /// reach other accounts and endpoints.
    fn provider_arguments(&mut self, name: &str, body: &Body) {
        let (arguments, blocks) = provider_settings(name);
        for attribute in body.attributes() {
            let key = attribute.key();
            if CREDENTIAL_ARGS.contains(&key) && name == "aws" {
                continue; // reported as credentials
            }
            if !arguments.contains(&key) {
                self.violation(
                    Rule::ProviderArgument,
                    format!(
                        "provider \"{name}\" sets {key}; a provider block may set only {}.",
                        if arguments.is_empty() {
                            "nothing".to_owned()
                        } else {
                            arguments.join(", ")
                        }
                    ),
                );
            } else if name == "kubernetes" && !is_own_cluster_setting(key, attribute.expr()) {
                self.violation(
                    Rule::ProviderArgument,
                    format!(
                        "provider \"kubernetes\" {key} must be exactly {} of this configuration's cluster: any text or function around it could send the cluster's token elsewhere.",
                        match key {
                            "host" => "aws_eks_cluster.NAME.endpoint",
                            "cluster_ca_certificate" => "base64decode(aws_eks_cluster.NAME.certificate_authority[0].data)",
                            _ => "data.aws_eks_cluster_auth.NAME.token",
                        }
                    ),
                );
            }
        }
        if name == "kubernetes" {
            // Without them the provider falls back to the worker's own
            // kubeconfig or in-cluster account: some other cluster.
            let missing: Vec<&str> = arguments
                .iter()
                .copied()
                .filter(|key| attr(body, key).is_none())
                .collect();
            if !missing.is_empty() {
                self.violation(
                    Rule::ProviderArgument,
                    format!(
                        "provider \"kubernetes\" must set {} from this configuration's cluster: without them it connects to whatever cluster the worker's environment names.",
                        missing.join(", ")
                    ),
                );
            }
        }
        for inner in body.blocks() {
            if inner.identifier() == "default_tags" {
                self.tag_keys(&format!("provider \"{name}\" default_tags"), inner.body());
            }
            if !blocks.contains(&inner.identifier()) {
                self.violation(
                    Rule::ProviderArgument,
                    format!(
                        "provider \"{name}\" has a {} block; {}.",
                        inner.identifier(),
                        if inner.identifier() == "exec" {
                            "it runs a program on the worker while planning".to_owned()
                        } else if blocks.is_empty() {
                            "this provider takes no blocks".to_owned()
                        } else {
                            format!("only {} is allowed", blocks.join(", "))
                        }
                    ),
                );
            }
        }
    }

    /// No module, local ones included: deployflow's configurations have
    /// none, and inside one `var.NAME` is whatever the call passes (the
    /// bundle path the gate trusts becomes any file of the worker), and
    /// counts multiply through nested calls past every fleet bound.
    fn module(&mut self, block: &Block) {
        let Some(name) = self.labels(block, 1).map(|l| l[0].to_owned()) else {
            return;
        };
        let source = attr(block.body(), "source").and_then(as_str);
        self.violation(
            Rule::ModuleSource,
            format!(
                "module.{name} (source {}): modules are not allowed, local ones included; write the resources directly in the configuration.",
                source.map_or("not a literal".to_owned(), |s| format!("{s:?}"))
            ),
        );
    }

    /// The outputs deployflow acts on point where the configuration says:
    /// it logs in to and pushes to `ecr_repository_url`'s registry (an
    /// output naming another host would receive the account's registry
    /// token), and health-checks `app_url` from the worker (an address of
    /// the worker's own network would be probed).
    fn output(&mut self, block: &Block) {
        let [name] = labels(block)[..] else {
            return;
        };
        self.outputs.insert(name.to_owned());
        self.secret_output(name, block);
        self.conditions(&format!("output.{name}"), block.body());
        let value = attr(block.body(), "value");
        let sound = match name {
            "ecr_repository_url" => value.is_some_and(|v| {
                own_attribute(self.resolve(v), "aws_ecr_repository", "repository_url")
            }),
            "app_url" => value.is_some_and(|v| self.own_endpoint(v)),
            _ => return,
        };
        if !sound {
            let expected = if name == "app_url" {
                "a URL whose host is an attribute of this configuration's own endpoint (\"http://${aws_eip.app.public_ip}:${local.host_port}\", aws_lambda_function_url.app.function_url)"
            } else {
                "exactly aws_ecr_repository.app.repository_url"
            };
            self.violation(
                Rule::ForeignResource,
                format!(
                    "output {name:?} must be {expected}: deployflow connects to what it names."
                ),
            );
        }
    }

    /// `aws_lambda_function_url.app.function_url`, or a template whose
    /// host is interpolated from a resource of this configuration: a
    /// literal scheme before it, only a port or path after it.
    fn own_endpoint(&self, value: &Expression) -> bool {
        let value = self.resolve(value);
        let own_resource = |expr: &Expression| endpoint_attribute(self.resolve(expr));
        if let Expression::Traversal(_) = value {
            return own_resource(value);
        }
        let Expression::TemplateExpr(template) = value else {
            return false;
        };
        let Ok(template) = Template::from_expr(template) else {
            return false;
        };
        let mut elements = template.elements().iter().peekable();
        if let Some(Element::Literal(scheme)) = elements.peek() {
            if !matches!(scheme.as_str(), "http://" | "https://") {
                return false;
            }
            elements.next();
        }
        let host =
            matches!(elements.next(), Some(Element::Interpolation(i)) if own_resource(&i.expr));
        // `:8080@169.254.169.254/`: after the host only a port and a path;
        // an `@` would make the own host the URL's user name.
        // An interpolation after the host is the port (`local.host_port`):
        // `${"@elsewhere"}` would make the host a user name too.
        host && elements.all(|element| match element {
            Element::Literal(text) => text.starts_with([':', '/']) && !text.contains(['@', '\\']),
            Element::Interpolation(i) => matches!(self.resolve(&i.expr), Expression::Number(_)),
            Element::Directive(_) => false,
        })
    }

    /// The operator's cluster token (`data.aws_eks_cluster_auth`) is
    /// cluster-admin: it goes to the kubernetes provider and nowhere else,
    /// not into a Secret, a pod's environment or an output.
    fn cluster_token_outside_provider(&mut self, block: &Block) {
        let declares_it =
            block.identifier() == "data" && labels(block).first() == Some(&"aws_eks_cluster_auth");
        // Only the kubernetes provider's `token` (its arguments are held
        // to exact forms); another provider's default tags would carry it
        // into every resource, and from there to the app.
        let kubernetes_provider =
            block.identifier() == "provider" && labels(block).first() == Some(&"kubernetes");
        if kubernetes_provider || declares_it {
            return;
        }
        let mut found = false;
        super::expr::walk_body(block.body(), &mut |expr| {
            if let Expression::Traversal(traversal) = expr
                && matches!(&traversal.expr, Expression::Variable(v) if v.as_str() == "data")
                && matches!(traversal.operators.first(),
                    Some(TraversalOperator::GetAttr(kind)) if kind.as_str() == "aws_eks_cluster_auth")
            {
                found = true;
            }
        });
        if found {
            self.violation(
                Rule::ProviderCredentials,
                format!(
                    "{} uses data.aws_eks_cluster_auth, the operator's cluster-admin token: only the kubernetes provider's token may read it.",
                    super::resources::block_address(block)
                ),
            );
        }
    }

    /// What a configuration may read of each data source: what a
    /// deployment needs (an image's id, the zones' names, a policy's JSON),
    /// not what AWS changes on its own. An image's name and creation date
    /// name the day it was built: a condition on them (`parseint(substr(
    /// data.aws_ami.ubuntu.name, -8, -1), 10) > 20260801`) makes every plan
    /// fail once a newer image is published.
    fn data_attributes_read(&mut self, block: &Block) {
        let mut refused: Vec<String> = Vec::new();
        // `depends_on` names what to wait for; it reads nothing.
        read_body(block.body(), &mut |expr| {
            let Expression::Traversal(traversal) = expr else {
                return;
            };
            if !matches!(&traversal.expr, Expression::Variable(v) if v.as_str() == "data") {
                return;
            }
            let name = |i: usize| match traversal.operators.get(i) {
                Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
                _ => None,
            };
            let Some(kind) = name(0) else {
                return;
            };
            let Some((_, readable)) = DATA_ATTRIBUTES.iter().find(|(k, _)| *k == kind) else {
                return;
            };
            match name(2) {
                Some(attribute) if readable.contains(&attribute) => {}
                attribute => refused.push(format!(
                    "data.{kind}.{}{} (only {} may be read)",
                    name(1).unwrap_or("…"),
                    attribute.map(|a| format!(".{a}")).unwrap_or_default(),
                    readable.join(", ")
                )),
            }
        });
        for read in refused {
            self.violation(
                Rule::DataSourceScope,
                format!(
                    "{} reads {read}: what a data source gives beyond that changes on its own (an image's name and date) and can make later plans fail.",
                    super::resources::block_address(block)
                ),
            );
        }
    }

    fn variable(&mut self, block: &Block) {
        let Some(name) = self.labels(block, 1).map(|l| l[0].to_owned()) else {
            return;
        };
        if name == crate::terraform::BUNDLE_PATH_VARIABLE
            && self.policy.supplied_variables.contains(&name)
            && attr(block.body(), "default").is_some()
        {
            // The gate lets `var.bundle_path` be read because deployflow
            // passes it; a default would be read wherever it is not passed.
            self.violation(
                Rule::LocalFile,
                format!("variable \"{name}\" has a default: deployflow passes it, and a default would read that file of the machine wherever terraform runs without it."),
            );
        }
        self.foreign_literals(&format!("variable.{name}"), block.body());
        // The app's settings stay out of plans, logs and outputs only while
        // Terraform knows they are sensitive.
        if name == "app_env" {
            self.validation_reads_names_only(&name, block);
        }
        if name == "app_env"
            && !attr(block.body(), "sensitive").is_some_and(|v| matches!(v, Expression::Bool(true)))
        {
            self.violation(
                Rule::SecretExposure,
                "variable \"app_env\" must keep sensitive = true: it holds the app's secrets, which Terraform would otherwise print in plans and pass to outputs unmarked.".to_owned(),
            );
        }
        // A condition on the clock passes today and fails every plan after
        // its date, the destroy's included. A validation reads only its
        // variable: a local, a data source or a resource could read the
        // clock for it.
        let mut clock = false;
        let mut others = Vec::new();
        for validation in block
            .body()
            .blocks()
            .filter(|b| b.identifier() == "validation")
        {
            super::expr::walk_body(validation.body(), &mut |e| match e {
                // Terraform 1.9+ lets a validation read other variables: one
                // that fails on a bit of `var.app_env` prints its message,
                // unredacted, into the plan's log.
                Expression::Traversal(t)
                    if matches!(&t.expr, Expression::Variable(root) if root.as_str() == "var")
                        && !matches!(t.operators.first(), Some(TraversalOperator::GetAttr(own)) if own.as_str() == name) =>
                {
                    others.push(t.clone());
                }
                Expression::FuncCall(call)
                    if matches!(
                        call.name.name.as_str(),
                        "plantimestamp" | "timestamp" | "timecmp"
                    ) =>
                {
                    clock = true;
                }
                Expression::Traversal(t) => {
                    if let Expression::Variable(root) = &t.expr
                        && root.as_str() != "var"
                        && is_named_object(root.as_str())
                    {
                        clock = true;
                    }
                }
                _ => {}
            });
        }
        if !others.is_empty() {
            self.violation(
                Rule::SecretExposure,
                format!("variable \"{name}\": a validation reads another variable; it may read only var.{name} (a failing validation prints its message into the plan's log, so one that tests another variable, var.app_env's values among them, writes out what it tests)."),
            );
        }
        if clock {
            self.violation(
                Rule::Lifecycle,
                format!("variable \"{name}\": a validation reads the clock (plantimestamp, timestamp, timecmp); it would fail every later plan and the destroy after its date. Validate the value only."),
            );
        }
        // The destroy passes none of the apply's values (the image it ran is
        // gone with it): a supplied variable must be read there as the
        // template declares it, or the destroy stops at "No value for
        // required variable" and the deployment is never taken down.
        if self.policy.supplied_variables.contains(&name) {
            if name != crate::terraform::BUNDLE_PATH_VARIABLE
                && attr(block.body(), "default").is_none()
            {
                self.violation(
                    Rule::UnsuppliedVariable,
                    format!("variable \"{name}\" must keep its default: deployflow passes it to plan and apply but not to destroy, which would stop without a value and leave the deployment running."),
                );
            }
            if block
                .body()
                .blocks()
                .any(|b| b.identifier() == "validation")
            {
                self.violation(
                    Rule::UnsuppliedVariable,
                    format!("variable \"{name}\" may not have a validation block: deployflow passes its value, and the destroy passes another, which a validation could refuse and keep the deployment running."),
                );
            }
        }
        if attr(block.body(), "default").is_none()
            && !self.policy.supplied_variables.contains(&name)
        {
            self.violation(
                Rule::UnsuppliedVariable,
                format!(
                    "variable \"{name}\" has no default and deployflow does not supply it; give it a default or use a local."
                ),
            );
        }
    }

    /// The violations found, without the checks of a whole configuration.
    pub(super) fn into_violations(self) -> Vec<Violation> {
        self.violations
    }

    pub(super) fn finish(mut self) -> Vec<Violation> {
        if !self.aws_provider_seen
            && let Some((file, line, address)) = self.first_aws_use.take()
        {
            self.file = file;
            self.line = line;
            self.violation(
                Rule::RegionNotPinned,
                format!(
                    "{address} uses AWS but no provider \"aws\" block pins the region; add provider \"aws\" {{ region = \"{}\" }}.",
                    self.policy.region
                ),
            );
        }
        self.fleet_sizes();
        if !self.kubernetes_provider_seen
            && let Some((file, line, address)) = self.first_kubernetes_use.take()
        {
            self.file = file;
            self.line = line;
            self.violation(
                Rule::ProviderArgument,
                format!(
                    "{address} uses Kubernetes but no provider \"kubernetes\" block says which cluster: the provider would use whatever the machine running terraform is configured for. Add one with host, cluster_ca_certificate and token of this configuration's aws_eks_cluster."
                ),
            );
        }
        self.file = WHOLE_CONFIGURATION.to_owned();
        self.line = None;
        let missing: Vec<String> = self
            .policy
            .required_outputs
            .difference(&self.outputs)
            .cloned()
            .collect();
        for output in missing {
            self.violation(
                Rule::MissingOutput,
                format!("output \"{output}\" is missing; deployflow reads it after apply."),
            );
        }
        self.violations
    }
}

/// The directory of a file (`modules/web` of `modules/web/main.tf`; the
/// root module's is empty).
fn directory(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The key a module's `local.NAME` or root `var.NAME` default is
/// remembered under: the module's directory and the name as written.
pub(super) fn value_key(dir: &str, name: &str) -> String {
    format!("{dir}\0{name}")
}

/// The module directory of a key made by [`value_key`].
pub(super) fn key_directory(key: &str) -> &str {
    key.split('\0').next().unwrap_or_default()
}

/// `local.NAME` or `var.NAME` that `expr` reads, whole or in part
/// (`local.NAME[0].id`).
pub(super) fn value_read(expr: &Expression) -> Option<String> {
    let Expression::Traversal(traversal) = expr else {
        return None;
    };
    match (&traversal.expr, traversal.operators.first()) {
        (Expression::Variable(root), Some(TraversalOperator::GetAttr(name)))
            if matches!(root.as_str(), "local" | "var") =>
        {
            Some(format!("{}.{name}", root.as_str()))
        }
        _ => None,
    }
}

/// `local.NAME` or `var.NAME`, exactly.
fn value_name(expr: &Expression) -> Option<String> {
    let Expression::Traversal(traversal) = expr else {
        return None;
    };
    let Expression::Variable(root) = &traversal.expr else {
        return None;
    };
    match (root.as_str(), traversal.operators.as_slice()) {
        (root @ ("local" | "var"), [TraversalOperator::GetAttr(name)]) => {
            Some(format!("{root}.{name}"))
        }
        _ => None,
    }
}

/// The arguments and blocks a provider block may set: what deployflow's
/// templates set.
pub(super) fn provider_settings(name: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match name {
        "aws" => (&["region", "alias"], &["default_tags"]),
        "kubernetes" => (&["host", "cluster_ca_certificate", "token"], &[]),
        _ => (&[], &[]),
    }
}

/// The line (from 1) each top-level block of `parsed` starts on, in order.
fn block_lines(text: &str, parsed: &hcl_edit::structure::Body) -> Vec<Option<u32>> {
    use hcl_edit::Span;
    parsed
        .blocks()
        .map(|block| {
            let start = block.span()?.start;
            let before = text.get(..start)?;
            u32::try_from(before.matches('\n').count() + 1).ok()
        })
        .collect()
}

/// Whether `expr` is exactly what deployflow's template gives the
/// Kubernetes provider's `key`: the endpoint, CA and token of this
/// configuration's EKS cluster, read directly. A reference inside other
/// text (`replace(endpoint, …)`, `"https://x/${…name}"`) is an endpoint
/// elsewhere, which the operator's token would be sent to.
fn is_own_cluster_setting(key: &str, expr: &hcl::Expression) -> bool {
    use hcl::expr::{Expression, TraversalOperator as Op};
    let path = |expr: &Expression| -> Option<(String, Vec<String>)> {
        let Expression::Traversal(t) = expr else {
            return None;
        };
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        let steps = t
            .operators
            .iter()
            .map(|op| match op {
                Op::GetAttr(a) => Some(a.as_str().to_owned()),
                Op::Index(Expression::Number(n)) if n.as_u64() == Some(0) => Some("[0]".to_owned()),
                Op::LegacyIndex(0) => Some("[0]".to_owned()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some((root.as_str().to_owned(), steps))
    };
    let shape = |expr: &Expression| {
        path(expr).map(|(root, steps)| {
            let mut steps = steps;
            let name_at = usize::from(root == "data");
            if steps.len() > name_at + 1 {
                steps[name_at] = "NAME".to_owned();
            }
            format!("{root}.{}", steps.join("."))
        })
    };
    match key {
        "host" => shape(expr).as_deref() == Some("aws_eks_cluster.NAME.endpoint"),
        "cluster_ca_certificate" => matches!(expr, Expression::FuncCall(call)
            if call.name.name.as_str() == "base64decode"
                && call.name.namespace.is_empty()
                && call.args.len() == 1
                && shape(&call.args[0]).as_deref()
                    == Some("aws_eks_cluster.NAME.certificate_authority.[0].data")),
        "token" => shape(expr).as_deref() == Some("data.aws_eks_cluster_auth.NAME.token"),
        _ => false,
    }
}

/// `override.tf`, `x_override.tf`: merged by Terraform into other blocks.
/// A name Terraform gives objects outside a variable's own value: locals,
/// data sources, resources and the like (a `for`'s own variable is none).
fn is_named_object(root: &str) -> bool {
    matches!(
        root,
        "local" | "data" | "module" | "path" | "terraform" | "self" | "each" | "count"
    ) || root.contains('_')
}

/// Whether Terraform reads a variable's default as it is written: with no
/// type, or a primitive type the literal already has. A type converts the
/// default first: an object type drops attributes it does not declare and
/// fills in `optional(T, DEFAULT)`s, a string type writes a number out.
fn default_is_read_as_written(kind: Option<&Expression>, default: &Expression) -> bool {
    let Some(kind) = kind else {
        return true;
    };
    let primitive = match kind {
        Expression::Variable(v) => v.as_str(),
        _ => return false,
    };
    matches!(
        (primitive, default),
        ("string", Expression::String(_)) | ("bool", Expression::Bool(_)) | ("any", _)
    ) || (primitive == "number" && matches!(default, Expression::Number(n) if n.as_i64().is_some()))
}

fn is_override_file(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base == "override.tf" || base.ends_with("_override.tf")
}

/// `main.tf`, `modules/web/main.tf`: letters, digits, `-` and `_`, ending `.tf`.
fn is_tf_file_name(name: &str) -> bool {
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let Some(path) = name.strip_suffix(".tf") else {
        return false;
    };
    path.split('/').all(plain)
}

/// `hashicorp/aws`, optionally with the Terraform or OpenTofu registry host.
fn is_official_source(source: &str, name: &str) -> bool {
    let source = source.to_ascii_lowercase();
    // A host written out is another registry's build of the provider
    // (OpenTofu's own resolves `hashicorp/NAME` there already).
    let path = source
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(&source);
    path == format!("hashicorp/{name}")
}

pub(super) fn allowed(set: &BTreeSet<String>) -> String {
    set.iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Exactly `KIND.NAME.ATTRIBUTE` of a resource of this configuration.
fn own_attribute(expr: &Expression, kind: &str, attribute: &str) -> bool {
    let Expression::Traversal(traversal) = expr else {
        return false;
    };
    matches!(&traversal.expr, Expression::Variable(v) if v.as_str() == kind)
        && matches!(traversal.operators.as_slice(),
            [TraversalOperator::GetAttr(_), TraversalOperator::GetAttr(a)] if a.as_str() == attribute)
}

/// An address AWS or the cluster gives a resource of this configuration
/// (`aws_eip.app.public_ip`, `aws_lb.app.dns_name`, a Service's ingress
/// `hostname`), not an attribute its author sets (a tag).
fn endpoint_attribute(expr: &Expression) -> bool {
    /// Resource types whose addresses AWS or the cluster assigns, and the
    /// attributes that hold them (a pod's `host_aliases[0].ip` is text).
    const ENDPOINTS: &[(&str, &[&str])] = &[
        ("aws_eip", &["public_ip", "public_dns"]),
        ("aws_instance", &["public_ip", "public_dns"]),
        ("aws_lb", &["dns_name"]),
        ("aws_lambda_function_url", &["function_url"]),
        ("kubernetes_service_v1", &["hostname", "ip"]),
        ("kubernetes_service", &["hostname", "ip"]),
    ];
    let Expression::Traversal(traversal) = expr else {
        return false;
    };
    let Expression::Variable(kind) = &traversal.expr else {
        return false;
    };
    let Some((_, attributes)) = ENDPOINTS.iter().find(|(k, _)| *k == kind.as_str()) else {
        return false;
    };
    // A Service's address is its load balancer's, under `status`.
    let under_status = !kind.as_str().starts_with("kubernetes_")
        || traversal
            .operators
            .iter()
            .any(|op| matches!(op, TraversalOperator::GetAttr(a) if a.as_str() == "status"));
    let resource = under_status;
    let names_attributes = |ops: &[TraversalOperator]| {
        ops.iter().all(|op| {
            matches!(op, TraversalOperator::GetAttr(_))
                || matches!(op, TraversalOperator::Index(Expression::Number(_)))
        })
    };
    resource
        && names_attributes(&traversal.operators)
        && matches!(traversal.operators.last(),
            Some(TraversalOperator::GetAttr(a)) if attributes.contains(&a.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_tf_file_names() {
        for ok in ["main.tf", "modules/web/main.tf", "ip_v4-rules.tf"] {
            assert!(is_tf_file_name(ok), "{ok}");
        }
        for bad in [
            "main.tf.json",
            "terraform.tfvars",
            "x.auto.tfvars",
            ".terraform.lock.hcl",
            "../main.tf",
            "/etc/main.tf",
            "a b.tf",
            ".tf",
            "README.md",
        ] {
            assert!(!is_tf_file_name(bad), "{bad}");
        }
    }

    #[test]
    fn official_sources() {
        assert!(is_official_source("hashicorp/aws", "aws"));
        assert!(is_official_source(
            "registry.terraform.io/hashicorp/aws",
            "aws"
        ));
        assert!(!is_official_source(
            "registry.opentofu.org/hashicorp/aws",
            "aws"
        ));
        assert!(!is_official_source("evil/aws", "aws"));
        assert!(!is_official_source("hashicorp/awsx", "aws"));
    }
}
