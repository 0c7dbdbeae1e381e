//! Nothing outside the deployment: arguments that point at a resource must
//! point at one of this configuration (a reference), and no literal id or
//! account ARN of an existing resource may appear anywhere.

use hcl::Body;
use hcl::expr::{Expression, TraversalOperator};
use hcl::template::{Element, Template};

use super::Rule;
use super::expr::{as_str, attr, computed_str, walk_body};
use super::plan::OwnNames;
use super::structure::Gate;

/// Arguments that name an existing resource.
const REFERENCE_ARGS: &[&str] = &[
    "security_group_id",
    "source_security_group_id",
    "referenced_security_group_id",
    "vpc_security_group_ids",
    "security_groups",
    "vpc_id",
    "subnet_id",
    "subnet_ids",
    "subnets",
    "route_table_id",
    "gateway_id",
    "allocation_id",
    "instance_id",
    "network_interface_id",
    "load_balancer_arn",
    "target_group_arn",
    "cluster",
    "cluster_name",
    "repository",
    "function_name",
    "iam_instance_profile",
    "execution_role_arn",
    "task_role_arn",
    "node_role_arn",
    "role_arn",
    "resource_id",
    "secret_id",
    "task_definition",
    "snapshot_id",
    "volume_id",
    "s3_bucket",
    "layers",
    "db_subnet_group_name",
    "subnet_group_name",
    // An Elastic IP named by its address moves off whatever holds it.
    "public_ip",
    "certificate_arn",
    // Another team's groups: capacity taken, settings borrowed, deletes blocked.
    "placement_group",
    "host_resource_group_arn",
    "host_id",
    "parameter_group_name",
    "option_group_name",
];

/// Arguments that name an existing resource when written in a file: keys,
/// reservations, topics and monitoring roles of the account. A deployment
/// makes none of them, so none may be named, however spelled (a key of
/// another account holds the database's data hostage). A plan is not held
/// to them: AWS fills some in itself (the default `aws/rds` key).
const FILE_REFERENCE_ARGS: &[&str] = &[
    "kms_key_id",
    "kms_key_arn",
    "master_user_secret_kms_key_id",
    "performance_insights_kms_key_id",
    "capacity_reservation_id",
    "notification_topic_arn",
    "monitoring_role_arn",
    "service_account_role_arn",
    // An EKS cluster's secrets encrypted under a key someone else holds.
    "key_arn",
];

/// The resource types an argument of [`REFERENCE_ARGS`] (and `role`,
/// `bucket`) may point at: a log group's `name` is the author's text, and
/// passed as `bucket` it names any bucket of the account.
fn referenced_types(key: &str) -> &'static [&'static str] {
    match key {
        "security_group_id"
        | "source_security_group_id"
        | "referenced_security_group_id"
        | "vpc_security_group_ids"
        | "security_groups"
        | "security_group_ids" => &["aws_security_group", "aws_default_security_group"],
        "vpc_id" => &["aws_vpc"],
        "subnet_id" | "subnet_ids" | "subnets" => &["aws_subnet"],
        "route_table_id" => &["aws_route_table"],
        "gateway_id" => &["aws_internet_gateway"],
        "allocation_id" => &["aws_eip"],
        "instance_id" => &["aws_instance"],
        "volume_id" => &["aws_ebs_volume"],
        "network_interface_id" => &["aws_network_interface"],
        "load_balancer_arn" => &["aws_lb"],
        "target_group_arn" => &["aws_lb_target_group"],
        "cluster" => &["aws_ecs_cluster"],
        "cluster_name" => &["aws_ecs_cluster", "aws_eks_cluster"],
        "repository" => &["aws_ecr_repository"],
        "function_name" => &["aws_lambda_function"],
        "iam_instance_profile" => &["aws_iam_instance_profile"],
        "execution_role_arn" | "task_role_arn" | "node_role_arn" | "role_arn" | "role" => {
            &["aws_iam_role"]
        }
        "resource_id" => &["aws_ecs_cluster", "aws_ecs_service"],
        "bucket" => &["aws_s3_bucket"],
        "task_definition" => &["aws_ecs_task_definition"],
        "s3_bucket" => &["aws_s3_bucket"],
        // An existing group puts the store in another network.
        "db_subnet_group_name" => &["aws_db_subnet_group"],
        "subnet_group_name" => &["aws_elasticache_subnet_group"],
        // Layers run inside the function; none is made here, and another
        // account's would run its code with the app's role.
        "layers" => &["aws_lambda_layer_version"],
        "instance" => &["aws_instance"],
        "network_interface" => &["aws_network_interface"],
        "public_ip" => &["aws_eip"],
        "placement_group" => &["aws_placement_group"],
        "host_resource_group_arn" | "host_id" => &["aws_ec2_host"],
        "parameter_group_name" => &["aws_db_parameter_group", "aws_elasticache_parameter_group"],
        "option_group_name" => &["aws_db_option_group"],
        "certificate_arn" => &["aws_acm_certificate"],
        // A volume restored from a snapshot holds another one's data; no
        // configuration here makes snapshots, so none passes.
        "snapshot_id" => &["aws_ebs_snapshot"],
        "secret_id" => &[
            "aws_secretsmanager_secret",
            "aws_secretsmanager_secret_version",
        ],
        "kms_key_id"
        | "kms_key_arn"
        | "master_user_secret_kms_key_id"
        | "performance_insights_kms_key_id" => &["aws_kms_key"],
        "capacity_reservation_id" => &["aws_ec2_capacity_reservation"],
        "notification_topic_arn" => &["aws_sns_topic"],
        "monitoring_role_arn" | "service_account_role_arn" => &["aws_iam_role"],
        _ => &[],
    }
}

/// Attributes that name the resource they are read from, as AWS made it.
/// Any other (`value`, `name_prefix`, `bucket_prefix`, `tags`, `path`)
/// echoes what the author wrote, and can hold the id or name of any
/// resource of the account.
pub(super) const IDENTITY_ATTRIBUTES: &[&str] =
    &["id", "arn", "name", "bucket", "function_name", "secret_id"];

/// Resource types whose `bucket` names an existing bucket (the bucket
/// itself names the one it creates).
const BUCKET_ATTACHMENTS: &[&str] = &[
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_notification",
    "aws_s3_object",
];

/// Names AWS takes as joining or taking over what already has them, so
/// they must be this job's: the argument, and what an existing name does.
fn job_named(kind: &str) -> Option<(&'static str, &'static str)> {
    match kind {
        "aws_ecs_cluster" => Some((
            "name",
            "a create with an existing cluster's name takes that cluster over",
        )),
        "aws_ecs_task_definition" => Some((
            "family",
            "a task definition with another family's name becomes its newest revision, which that family's deploys and schedules then run",
        )),
        _ => None,
    }
}

/// Arguments that name what a resource creates, and so its ARN.
const NAME_ARGUMENTS: &[&str] = &[
    "name",
    "name_prefix",
    "identifier_prefix",
    "bucket_prefix",
    "family",
    "function_name",
    "replication_group_id",
    "node_group_name",
];

/// Types whose `name` is no account-wide identifier (an inline policy's
/// name within its role), or is checked by a rule of its own.
const NAMED_ELSEWHERE: &[&str] = &[
    "aws_iam_role_policy",
    "aws_ssm_parameter",
    "aws_lambda_permission",
    "aws_lambda_function_url",
    "aws_ecs_cluster",
    "aws_ecs_task_definition",
];

/// Where a log group's name puts the job's name: the services' own
/// folders, whose names they require.
const LOG_GROUP_FOLDERS: &[&str] = &["/deployflow/", "/aws/lambda/", "/aws/eks/"];

/// Prefixes of EC2 and VPC resource ids (`sg-0123456789abcdef0`).
const ID_PREFIXES: &[&str] = &[
    "sg",
    "subnet",
    "vpc",
    "igw",
    "rtb",
    "eni",
    "nat",
    "eipalloc",
    "vol",
    "snap",
    "lt",
    "i",
    "acl",
    "pcx",
    "tgw",
    "vpce",
    "ami",
    "cr",
    "dopt",
    "eigw",
    "cgw",
    "vgw",
    "fs",
    "fsap",
    "h",
    "ipam-pool",
    "ipv4pool-ec2",
    "ipv6pool-ec2",
    "ipam",
    "ipam-scope",
];

/// Resources AWS places in the account's default VPC unless told their
/// subnet and security groups.
const IN_OWN_NETWORK: &[(&str, &[&str])] = &[
    ("aws_instance", &["subnet_id", "vpc_security_group_ids"]),
    (
        "aws_db_instance",
        &["db_subnet_group_name", "vpc_security_group_ids"],
    ),
    (
        "aws_elasticache_replication_group",
        &["subnet_group_name", "security_group_ids"],
    ),
    // Without one, a service runs in the account's `default` cluster.
    ("aws_ecs_service", &["cluster"]),
];

impl Gate<'_> {
    /// Every name a resource of the account gets starts with this job's
    /// (`df-…`, local.name), when the gate knows the job. Accounts grant
    /// and exempt by name: a role named `AWSReservedSSO_…` escapes the
    /// organisation's guardrails that spare the single sign-on roles, and a
    /// secret named under `prod/shared/` is readable by every role granted
    /// that folder.
    fn names_of_the_job(&mut self, kind: &str, address: &str, body: &Body) {
        let Some(job) = self.policy.resource_name.clone() else {
            return;
        };
        if !kind.starts_with("aws_") || NAMED_ELSEWHERE.contains(&kind) {
            return;
        }
        for key in NAME_ARGUMENTS {
            let Some(value) = attr(body, key) else {
                continue;
            };
            let start = self.literal_start(value);
            let own = if kind == "aws_cloudwatch_log_group" {
                LOG_GROUP_FOLDERS
                    .iter()
                    .any(|folder| start.starts_with(&format!("{folder}{job}")))
            } else {
                start.starts_with(&job)
            };
            if !own {
                self.violation(
                    Rule::ForeignResource,
                    format!(
                        "{address}: {key} must start with this job's name {job:?} (\"${{local.name}}-…\"){}: accounts grant and exempt by name (a role named AWSReservedSSO_…, a secret under prod/), so a name is a permission.",
                        if kind == "aws_cloudwatch_log_group" {
                            format!(", after {}", LOG_GROUP_FOLDERS.join(" or "))
                        } else {
                            String::new()
                        }
                    ),
                );
            }
        }
    }

    /// A cluster's capacity providers are AWS's own Fargate ones: a named
    /// provider is an Auto Scaling group's, whose instances (another team's,
    /// with their roles) would run the app's tasks.
    fn fargate_only(&mut self, address: &str, body: &Body) {
        let fargate = |e: &Expression| {
            as_str(self.resolve(e))
                .is_some_and(|p| matches!(p.as_str(), "FARGATE" | "FARGATE_SPOT"))
        };
        let listed = attr(body, "capacity_providers").is_none_or(|list| {
            matches!(self.resolve(list), Expression::Array(items) if items.iter().all(fargate))
        });
        let strategies = body
            .blocks()
            .filter(|b| b.identifier() != "dynamic")
            .filter_map(|b| attr(b.body(), "capacity_provider"))
            .all(fargate);
        if !(listed && strategies) {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: capacity providers are only \"FARGATE\" and \"FARGATE_SPOT\", as literals: a named one runs the tasks on an Auto Scaling group's instances, which are not this deployment's."),
            );
        }
    }

    /// A reference to a resource, or a list of references, with no
    /// function or condition around it that could make it null or empty.
    fn is_plain_reference(&self, value: &Expression) -> bool {
        let is_resource = |e: &Expression| {
            matches!(self.resolve(e), Expression::Traversal(t)
                if matches!(&t.expr, Expression::Variable(v) if v.as_str().starts_with("aws_")))
        };
        match self.resolve(value) {
            Expression::Array(items) => !items.is_empty() && items.iter().all(is_resource),
            other => is_resource(other),
        }
    }

    pub(super) fn foreign(&mut self, kind: &str, address: &str, body: &Body) {
        let mut keys: Vec<&str> = [REFERENCE_ARGS, FILE_REFERENCE_ARGS].concat();
        if BUCKET_ATTACHMENTS.contains(&kind) {
            keys.push("bucket");
        }
        // A function's `function_name` names the function it creates.
        if kind == "aws_lambda_function" {
            keys.retain(|key| *key != "function_name");
        }
        // What an Elastic IP is attached to: an existing instance's public
        // address would change, a private interface would be reachable.
        if kind == "aws_eip" {
            keys.extend(["instance", "network_interface"]);
        }
        // The role a function or cluster uses (IAM resources: `own_role`).
        if !kind.starts_with("aws_iam_") {
            keys.push("role");
        }
        self.reference_args(address, body, &keys);
        self.keys_of_others(kind, address, body);
        self.foreign_literals(address, body);
        self.built_arns(address, body);
        self.nested_references(address, body);
        if matches!(kind, "aws_instance" | "aws_launch_template") {
            self.machine_image_and_metadata(kind, address, body);
        }
        if kind == "aws_default_security_group" {
            // With no vpc_id it adopts the default VPC's default group, and
            // strips its rules from everything that uses it.
            let own_vpc = attr(body, "vpc_id")
                .is_some_and(|vpc| self.is_own_reference_to(vpc, &["aws_vpc"], 0));
            if !own_vpc {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: a default security group must name this configuration's VPC (vpc_id = aws_vpc.main.id); without it, it takes over the default VPC's."),
                );
            }
        }
        if kind == "aws_lb" {
            self.load_balancer_groups(address, body);
        }
        // A function on the account's Lambda Managed Instances runs on its
        // instances, in its subnets, beside its other functions.
        if kind == "aws_lambda_function"
            && body.blocks().any(|b| {
                b.identifier() == "capacity_provider_config"
                    || (b.identifier() == "dynamic"
                        && b.labels().first().map(|l| l.as_str())
                            == Some("capacity_provider_config"))
            })
        {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: capacity_provider_config runs the function on an existing capacity provider's instances, in the account's network beside its other functions; leave it out (the function runs on Lambda's own fleet)."),
            );
        }
        // Reassociation takes an address from the instance that holds it.
        if kind == "aws_eip_association"
            && attr(body, "allow_reassociation")
                .is_some_and(|v| !matches!(self.resolve(v), Expression::Bool(false)))
        {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: allow_reassociation moves the address off whatever holds it; leave it unset (the deployment's own address is free)."),
            );
        }
        self.address_pools(kind, address, body);
        if let Some((_, keys)) = IN_OWN_NETWORK.iter().find(|(k, _)| *k == kind) {
            let missing: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|key| attr(body, key).is_none_or(|v| !self.is_plain_reference(v)))
                .collect();
            if !missing.is_empty() {
                // The reference rules check these when present; absent, AWS
                // puts the resource in the default VPC, in its default
                // security group, beside whatever else of the account is there.
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: set {} to this configuration's own resources, as references (aws_subnet.public[0].id, [aws_security_group.app.id], aws_ecs_cluster.main.id); without them, or with a value that can be null or empty (one([]), try(null, …)), it joins the account's defaults: its default VPC and security group, its default ECS cluster.", missing.join(" and ")),
                );
            }
        }
        if let Some((key, why)) = job_named(kind)
            && let Some(job) = self.policy.resource_name.clone()
        {
            let name = attr(body, key).and_then(|e| as_str(self.resolve(e)));
            if !name.as_deref().is_some_and(|n| n.starts_with(&job)) {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: {key} must start with this job's name {job:?} (local.name): {why}."),
                );
            }
        }
        self.names_of_the_job(kind, address, body);
        if kind == "aws_ecs_cluster_capacity_providers" {
            self.fargate_only(address, body);
        }
        if kind == "aws_eks_node_group"
            && !body.blocks().any(|b| b.identifier() == "launch_template")
        {
            self.violation(
                Rule::PodPrivilege,
                format!("{address}: a node group starts from this configuration's launch template (launch_template {{ id = aws_launch_template.nodes.id }}), which keeps the nodes' metadata service from the pods; without one EKS makes its own, whose metadata a pod can reach to take the node's role."),
            );
        }
        if kind == "aws_ssm_parameter"
            && let Some(job) = self.policy.resource_name.clone()
        {
            let folder = format!("/deployflow/{job}/");
            let start = attr(body, "name").map(|e| self.literal_start(e));
            if !start.as_deref().is_some_and(|s| s.starts_with(&folder)) {
                // Another deployment's VM exports its folder's parameters
                // into `make up`'s environment at boot.
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: a parameter's name must lie in this job's folder {folder:?} (\"${{local.env_path}}/…\"); in another folder it writes into another deployment's settings."),
                );
            }
        }
        if kind == "aws_s3_bucket" && attr(body, "bucket").is_some() {
            // S3 answers a create of a bucket the account already owns with
            // success in us-east-1: Terraform would take it over, and a
            // destroy (with force_destroy) would empty it.
            self.violation(
                Rule::ForeignResource,
                format!("{address}: a fixed bucket name can be a bucket the account already has, which Terraform would then take over; name it with bucket_prefix (\"${{local.name}}-bundle-\"), which always makes a new one."),
            );
        }
    }

    /// Addresses come from AWS's public pool: an address or pool of the
    /// company's own (BYOIP, IPAM, an Outpost's) would send the untrusted
    /// app's traffic from, and take traffic meant for, addresses others
    /// trust. An internal load balancer gives `app_url` a private address,
    /// which the worker's health check would then probe on its own network.
    fn address_pools(&mut self, kind: &str, address: &str, body: &Body) {
        let keys: &[&str] = match kind {
            "aws_eip" => &[
                "address",
                "public_ipv4_pool",
                "customer_owned_ipv4_pool",
                "ipam_pool_id",
            ],
            "aws_vpc" => &[
                "ipv4_ipam_pool_id",
                "ipv6_ipam_pool_id",
                "ipv6_ipv4_pool",
                "ipv6_pool",
            ],
            "aws_subnet" => &[
                "customer_owned_ipv4_pool",
                "map_customer_owned_ip_on_launch",
            ],
            "aws_lb" => &["customer_owned_ipv4_pool", "ipam_pools"],
            _ => &[],
        };
        let set: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|key| {
                attr(body, key).is_some_and(|v| !matches!(self.resolve(v), Expression::Null))
                    || body.blocks().any(|b| b.identifier() == *key)
            })
            .collect();
        if !set.is_empty() {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: {} takes addresses from a pool of the account's own (BYOIP, IPAM, an Outpost); a deployment uses AWS's public addresses only.", set.join(", ")),
            );
        }
        if kind == "aws_lb"
            && attr(body, "internal")
                .is_some_and(|v| !matches!(self.resolve(v), Expression::Bool(false)))
        {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: internal = true gives the app a private address, which deployflow's health check would probe from the worker's network; the app's load balancer faces the internet."),
            );
        }
    }

    /// A load balancer's listeners are open to whoever reaches it, and only
    /// its security groups (whose ingress the gate checks) say which ports:
    /// a network load balancer without one forwards any listener port, SSH
    /// included, with no world-open rule anywhere to refuse.
    fn load_balancer_groups(&mut self, address: &str, body: &Body) {
        let groups = attr(body, "security_groups");
        let own = groups.is_some_and(|groups| {
            let empty =
                matches!(self.resolve(groups), Expression::Array(items) if items.is_empty());
            !empty && self.is_own_reference_to(groups, &["aws_security_group"], 0)
        });
        if !own {
            self.violation(
                Rule::WorldIngress,
                format!("{address}: a load balancer needs this configuration's security groups (security_groups = [aws_security_group.alb.id]), whose ingress decides which listener ports the world reaches; without them every listener port is open."),
            );
        }
    }

    /// An ARN written as text around the account's id
    /// (`"arn:…:acm:${local.region}:${data.aws_caller_identity.current.account_id}:certificate/…"`)
    /// names an existing resource of the account as surely as a literal
    /// one: outside policies (checked by the IAM rules) and managed policy
    /// attachments, an ARN is a reference to an own resource.
    fn built_arns(&mut self, address: &str, body: &Body) {
        for attribute in body.attributes() {
            let key = attribute.key();
            if matches!(key, "policy" | "assume_role_policy" | "policy_arn") {
                continue;
            }
            let built = |expr: &Expression| match self.resolve(expr) {
                Expression::TemplateExpr(_) => self.literal_start(expr).starts_with("arn:"),
                // `format("arn:%s:acm:…", …)`, `provider::aws::arn_build(…)`.
                Expression::FuncCall(call) => {
                    let name = call.name.name.as_str();
                    name == "arn_build"
                        || matches!(name, "format" | "join" | "replace")
                            && call.args.iter().any(|arg| {
                                super::expr::computed_str(self.resolve(arg))
                                    .is_some_and(|text| text.contains("arn:"))
                            })
                }
                _ => false,
            };
            let value = attribute.expr();
            let found = match self.resolve(value) {
                Expression::Array(items) => items.iter().any(built),
                _ => built(value),
            };
            if found {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: {key} is an ARN written as text, which names an existing resource of the account; refer to a resource of this configuration (aws_acm_certificate.x.arn)."),
                );
            }
        }
        for block in body.blocks() {
            self.built_arns(address, block.body());
        }
    }

    /// Literal ids and account ARNs anywhere in `body` (resources, and the
    /// locals and variable defaults they could be read from).
    pub(super) fn foreign_literals(&mut self, address: &str, body: &Body) {
        let mut literals = Vec::new();
        let mut accounts = Vec::new();
        let mut templates = Vec::new();
        walk_body(body, &mut |expr| {
            if let Some(text) = computed_str(expr)
                && (is_resource_id(&text) || is_account_arn(&text))
            {
                literals.push(text);
            } else if matches!(expr, Expression::TemplateExpr(_)) {
                templates.push(expr.clone());
            }
            // An account number in any text: an ARN spelled in pieces
            // (`join(":", split(",", "arn,aws,acm,…"))`) still carries it.
            // A data source's may name a publisher (an AMI's owner).
            if !address.starts_with("data.")
                && matches!(
                    expr,
                    Expression::String(_) | Expression::TemplateExpr(_) | Expression::Number(_)
                )
                && let Some(account) =
                    account_number(&hcl::format::to_string(expr).unwrap_or_default())
            {
                accounts.push(account.to_owned());
            }
        });
        // `"i-${local.x}"`: an id written in pieces is an id all the same.
        for template in templates {
            let start = self.literal_start(&template);
            if is_id_start(&start) {
                literals.push(format!("{start}…"));
            }
        }
        for text in literals {
            self.violation(
                Rule::ForeignResource,
                format!(
                    "{address}: {text:?} names an existing resource of the account; a deployment only touches resources it creates (refer to them, e.g. aws_security_group.app.id)."
                ),
            );
        }
        accounts.dedup();
        for account in accounts {
            self.violation(
                Rule::ForeignResource,
                format!(
                    "{address}: {account} is an AWS account's number, however the text around it is spelled; a deployment names no account: its own ARNs come from its resources (aws_lb.app.arn)."
                ),
            );
        }
    }

    /// A resource's planned values: every argument that names a resource
    /// (and `role`, `bucket` of attachments) holds an id, ARN or name of
    /// this deployment's own resources or data sources (`own`), or a value
    /// not known until apply (which only this deployment's resources give).
    pub(super) fn planned_references(
        &mut self,
        kind: &str,
        address: &str,
        values: &serde_json::Value,
        own: &OwnNames,
    ) {
        let mut keys: Vec<&str> = [REFERENCE_ARGS, FILE_REFERENCE_ARGS].concat();
        if BUCKET_ATTACHMENTS.contains(&kind) {
            keys.push("bucket");
        }
        if kind.starts_with("aws_iam_") && kind != "aws_iam_role" {
            keys.push("role");
        }
        // A function's `function_name` names the function it creates.
        if kind == "aws_lambda_function" {
            keys.retain(|key| *key != "function_name");
        }
        if kind == "aws_eip" {
            keys.extend(["instance", "network_interface"]);
        }
        let mut foreign = Vec::new();
        planned_names(values, &keys, &mut |key, name| {
            if name.is_empty() {
                return;
            }
            let types = referenced_types(key);
            if !own.is_of(name, types) {
                let kinds = if types.is_empty() {
                    String::new()
                } else {
                    format!(" of type {}", types.join(" or "))
                };
                foreign.push(format!("{key} = {name:?}{kinds}"));
            }
        });
        if let Some((key, why)) = job_named(kind)
            && let Some(job) = &self.policy.resource_name
            && let Some(name) = values.get(key).and_then(|v| v.as_str())
            && !name.starts_with(job.as_str())
        {
            foreign.push(format!("{key} = {name:?}, not this job's {job:?} ({why}),"));
        }
        if kind == "aws_ssm_parameter"
            && let Some(job) = &self.policy.resource_name
            && let Some(name) = values.get("name").and_then(|v| v.as_str())
            && !name.starts_with(&format!("/deployflow/{job}/"))
        {
            foreign.push(format!(
                "name = {name:?}, outside this job's parameter folder /deployflow/{job}/,"
            ));
        }
        for (block, key, types) in [
            ("launch_template", "id", &["aws_launch_template"][..]),
            ("launch_template", "name", &["aws_launch_template"][..]),
            ("access_logs", "bucket", &["aws_s3_bucket"][..]),
            ("connection_logs", "bucket", &["aws_s3_bucket"][..]),
            ("health_check_logs", "bucket", &["aws_s3_bucket"][..]),
        ] {
            let nested = values.get(block).and_then(|v| v.as_array());
            for item in nested.into_iter().flatten() {
                if let Some(name) = item.get(key).and_then(|v| v.as_str())
                    && !name.is_empty()
                    && !own.is_of(name, types)
                {
                    foreign.push(format!("{block}.{key} = {name:?} of type {}", types[0]));
                }
            }
        }
        for found in foreign {
            self.violation(
                Rule::ForeignResource,
                format!(
                    "{address}: {found} is not a resource of this deployment; a deployment only touches resources it creates (refer to them, e.g. aws_security_group.app.id)."
                ),
            );
        }
    }

    /// An instance or a node boots an image of a trusted owner (through the
    /// owner-filtered `data.aws_ami`; a literal id can be a private image of
    /// the account, such as a server's backup), runs no script of the
    /// author's on a node, and keeps its metadata service to itself
    /// (tokens required, one hop: a container cannot take the role).
    fn machine_image_and_metadata(&mut self, kind: &str, address: &str, body: &Body) {
        let image_key = if kind == "aws_instance" {
            "ami"
        } else {
            "image_id"
        };
        if let Some(image) = attr(body, image_key)
            && !is_data_ami(self.resolve(image))
        {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: {image_key} must be data.aws_ami.NAME.id (an image of a trusted owner); a literal id can be a private image of the account."),
            );
        }
        if kind == "aws_launch_template" && attr(body, "user_data").is_some() {
            self.violation(
                Rule::PodPrivilege,
                format!("{address}: user_data runs as root on every node, out of reach of the pods' rules; the nodes run what EKS gives them."),
            );
        }
        // An instance inside a launch template's shape gets these from it.
        if kind == "aws_instance" && body.blocks().any(|b| b.identifier() == "launch_template") {
            return;
        }
        let metadata = body
            .blocks()
            .find(|b| b.identifier() == "metadata_options")
            .map(|b| b.body());
        let tokens = metadata
            .and_then(|m| attr(m, "http_tokens"))
            .and_then(|e| as_str(self.resolve(e)));
        let hops = metadata
            .and_then(|m| attr(m, "http_put_response_hop_limit"))
            .and_then(|e| super::expr::as_int(self.resolve(e)));
        if tokens.as_deref() != Some("required") || hops != Some(1) {
            self.violation(
                Rule::PodPrivilege,
                format!("{address}: metadata_options must set http_tokens = \"required\" and http_put_response_hop_limit = 1: otherwise the app's containers reach the metadata service and take the machine's role."),
            );
        }
    }

    /// References held in nested blocks under generic names: the launch
    /// template an instance or node group starts from, the bucket a load
    /// balancer writes its logs to; and `dynamic` iterators, which could
    /// take a resource type's name and make `aws_subnet.value.id` look like
    /// a reference to an own subnet.
    fn nested_references(&mut self, address: &str, body: &Body) {
        for block in body.blocks() {
            let (what, types): (&[&str], &[&str]) = match block.identifier() {
                "launch_template" => (&["id", "name"], &["aws_launch_template"]),
                "access_logs" | "connection_logs" | "health_check_logs" => {
                    (&["bucket"], &["aws_s3_bucket"])
                }
                "service_registries" => (&["registry_arn"], &["aws_service_discovery_service"]),
                // The cluster's default namespace is the one a service
                // with Service Connect but no namespace of its own joins.
                "service_connect_configuration" | "service_connect_defaults" => (
                    &["namespace"],
                    &[
                        "aws_service_discovery_http_namespace",
                        "aws_service_discovery_private_dns_namespace",
                    ],
                ),
                // A listener's weighted forward names its groups by `arn`.
                "target_group" => (&["arn"], &["aws_lb_target_group"]),
                // A bucket's events sent to another account's queue or topic.
                "queue" => (&["queue_arn"], &["aws_sqs_queue"]),
                "topic" => (&["topic_arn"], &["aws_sns_topic"]),
                "lambda_function" => (&["lambda_function_arn"], &["aws_lambda_function"]),
                // A launch template's placement in another team's group or host.
                "placement" => (
                    &["group_name", "host_resource_group_arn", "host_id"],
                    &["aws_placement_group"],
                ),
                // An EKS cluster's `encryption_config { provider { key_arn } }`.
                "provider" => (&["key_arn"], &["aws_kms_key"]),
                _ => (&[], &[]),
            };
            for key in what {
                if let Some(expr) = attr(block.body(), key)
                    && !self.is_own_reference_to(expr, types, 0)
                {
                    self.violation(
                        Rule::ForeignResource,
                        format!(
                            "{address}: {}.{key} must be the {key} of {} of this configuration, not name an existing one.",
                            block.identifier(),
                            types.join(" or ")
                        ),
                    );
                }
            }
            // A redirect to another host hands the app's users (and what
            // they send) to it; `#{host}` keeps them on the app's own.
            if block.identifier() == "redirect"
                && let Some(host) = attr(block.body(), "host")
                && as_str(self.resolve(host)).as_deref() != Some("#{host}")
            {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: a redirect may change the scheme, port or path, not the host (host = \"#{{host}}\" or absent): another host takes the app's users and what they send."),
                );
            }
            // A replica copies the secret out of the deployment, into a
            // region and a key policy it does not manage.
            if block.identifier() == "replica" {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: a replica copies the secret into another region, out of the deployment's reach; keep one copy."),
                );
            }
            if block.identifier() == "remote_access" {
                self.violation(
                    Rule::WorldIngress,
                    format!("{address}: remote_access opens SSH on every node (to the internet when no source group is named); nodes are reached through the cluster's API only."),
                );
            }
            if block.identifier() == "dynamic" && attr(block.body(), "iterator").is_some() {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: a dynamic block's iterator is named after its block; `iterator` could give it a resource type's name and pass any value as that resource's."),
                );
            }
            self.nested_references(address, block.body());
        }
    }

    /// A KMS key named at any depth (`encryption_configuration { kms_key }`,
    /// `managed_storage_configuration { fargate_ephemeral_storage_kms_key_id }`,
    /// a parameter's `key_id`): a deployment makes no key, and data under a
    /// key someone else holds is theirs to revoke.
    fn keys_of_others(&mut self, kind: &str, address: &str, body: &Body) {
        let mut named = Vec::new();
        collect_key_arguments(kind, "", body, &mut named);
        for path in named {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: {path} names a KMS key; a deployment makes none, so it uses AWS's own encryption (leave it out): a key of the account or of another is not its to use."),
            );
        }
    }

    fn reference_args(&mut self, address: &str, body: &Body, keys: &[&str]) {
        for attribute in body.attributes() {
            if !keys.contains(&attribute.key()) {
                continue;
            }
            let types = referenced_types(attribute.key());
            if !self.is_own_reference_to(attribute.expr(), types, 0) {
                let kinds = if types.is_empty() {
                    "a resource".to_owned()
                } else {
                    types.join(" or ")
                };
                self.violation(
                    Rule::ForeignResource,
                    format!(
                        "{address}: {} must be the {} of {kinds} of this configuration (aws_vpc.main.id, aws_s3_bucket.bundle.id...), directly or through a local that does, not name an existing one (a literal, a variable, a tag, or an attribute that repeats the author's text such as a parameter's value or a name_prefix).",
                        attribute.key(),
                        IDENTITY_ATTRIBUTES.join(", ")
                    ),
                );
            }
        }
        for block in body.blocks() {
            self.reference_args(address, block.body(), keys);
        }
    }
}

/// Calls `visit` with each string held by a `keys` argument of `values`,
/// nested blocks included.
fn planned_names(values: &serde_json::Value, keys: &[&str], visit: &mut dyn FnMut(&str, &str)) {
    use serde_json::Value;
    match values {
        Value::Object(map) => {
            for (key, value) in map {
                if keys.contains(&key.as_str()) {
                    let items = match value {
                        Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    for name in items.into_iter().filter_map(Value::as_str) {
                        visit(key, name);
                    }
                } else {
                    planned_names(value, keys, visit);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                planned_names(item, keys, visit);
            }
        }
        _ => {}
    }
}

impl Gate<'_> {
    /// Whether `expr` is made only of references to resources this
    /// configuration creates (`aws_vpc.main.id`, `aws_subnet.public[*].id`,
    /// a list of them, `tolist()`/`concat()` of them, a local holding one, or
    /// a template that only joins them with separators).
    pub(super) fn is_own_reference(&self, expr: &Expression, depth: usize) -> bool {
        self.is_own_reference_to(expr, &[], depth)
    }

    /// [`Gate::is_own_reference`] to a resource of one of `types` (any
    /// type when empty), read through an identity attribute.
    pub(super) fn is_own_reference_to(
        &self,
        expr: &Expression,
        types: &[&str],
        depth: usize,
    ) -> bool {
        if depth > 16 {
            return false;
        }
        let expr = self.resolve(expr);
        match expr {
            Expression::Traversal(traversal) => {
                names_resource(traversal, types)
                    || (types.contains(&"aws_security_group")
                        && is_cluster_security_group(traversal))
            }
            Expression::Array(items) => items
                .iter()
                .all(|item| self.is_own_reference_to(item, types, depth + 1)),
            Expression::Parenthesis(inner) => self.is_own_reference_to(inner, types, depth + 1),
            Expression::FuncCall(call)
                if matches!(
                    call.name.name.as_str(),
                    "tolist" | "toset" | "concat" | "flatten" | "compact" | "one"
                ) =>
            {
                call.args
                    .iter()
                    .all(|arg| self.is_own_reference_to(arg, types, depth + 1))
            }
            Expression::TemplateExpr(template) => {
                let Ok(parsed) = Template::from_expr(template) else {
                    return false;
                };
                // `${aws_vpc.main.id}`, or the ECS resource id
                // `service/${cluster}/${service}`; never references joined
                // into a new name (`${role.a.name}-${role.b.name}` is
                // `prod-admin`, a role of the account).
                let mut shape = String::new();
                let mut parts = Vec::new();
                for element in parsed.elements() {
                    match element {
                        Element::Literal(text) => shape.push_str(text),
                        Element::Interpolation(i)
                            if self.is_own_reference_to(&i.expr, types, depth + 1) =>
                        {
                            shape.push_str("{}");
                            parts.push(&i.expr);
                        }
                        _ => return false,
                    }
                }
                match (shape.as_str(), parts.as_slice()) {
                    ("{}", _) => true,
                    // The cluster by its own (job-prefixed) name: a service's
                    // name is the author's text, `prod-cluster` as well.
                    ("service/{}/{}", [cluster, service]) => {
                        self.is_own_reference_to(cluster, &["aws_ecs_cluster"], depth + 1)
                            && self.is_own_reference_to(service, &["aws_ecs_service"], depth + 1)
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

/// `aws_eks_cluster.NAME.vpc_config[0].cluster_security_group_id`: the
/// security group EKS makes for an own cluster, which its nodes carry.
fn is_cluster_security_group(traversal: &hcl::expr::Traversal) -> bool {
    use TraversalOperator::{GetAttr, Index, LegacyIndex};
    let cluster =
        matches!(&traversal.expr, Expression::Variable(v) if v.as_str() == "aws_eks_cluster");
    cluster
        && matches!(
            traversal.operators.as_slice(),
            [GetAttr(_), GetAttr(config), Index(_) | LegacyIndex(_), GetAttr(group)]
                if config.as_str() == "vpc_config" && group.as_str() == "cluster_security_group_id"
        )
}

/// `TYPE.NAME[…].ATTR`: a managed resource (of one of `types`, when any
/// are given) read through one of its [`IDENTITY_ATTRIBUTES`].
pub(super) fn names_resource(traversal: &hcl::expr::Traversal, types: &[&str]) -> bool {
    names_resource_by(traversal, types, IDENTITY_ATTRIBUTES)
}

/// [`names_resource`] through one of `attributes` only.
pub(super) fn names_resource_by(
    traversal: &hcl::expr::Traversal,
    types: &[&str],
    attributes: &[&str],
) -> bool {
    let Expression::Variable(root) = &traversal.expr else {
        return false;
    };
    let managed = !matches!(
        root.as_str(),
        "data" | "var" | "local" | "each" | "count" | "path" | "terraform" | "module" | "self"
    );
    if !managed || !(types.is_empty() || types.contains(&root.as_str())) {
        return false;
    }
    let [
        TraversalOperator::GetAttr(_),
        between @ ..,
        TraversalOperator::GetAttr(attribute),
    ] = traversal.operators.as_slice()
    else {
        return false;
    };
    attributes.contains(&attribute.as_str())
        && between.iter().all(|op| {
            matches!(
                op,
                TraversalOperator::Index(_)
                    | TraversalOperator::LegacyIndex(_)
                    | TraversalOperator::FullSplat
                    | TraversalOperator::AttrSplat
            )
        })
}

/// `sg-0123abcd`, `subnet-0123456789abcdef0`, `ipam-pool-0123456789abcdef0`.
fn is_resource_id(text: &str) -> bool {
    let Some((prefix, hex)) = text.rsplit_once('-') else {
        return false;
    };
    ID_PREFIXES.contains(&prefix)
        && matches!(hex.len(), 8 | 17)
        && hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// `data.aws_ami.NAME.id`.
fn is_data_ami(expr: &Expression) -> bool {
    let Expression::Traversal(t) = expr else {
        return false;
    };
    matches!(&t.expr, Expression::Variable(v) if v.as_str() == "data")
        && matches!(t.operators.as_slice(), [
            TraversalOperator::GetAttr(kind),
            TraversalOperator::GetAttr(_),
            TraversalOperator::GetAttr(id),
        ] if kind.as_str() == "aws_ami" && id.as_str() == "id")
}

/// `i-`, `snap-0123`: the start of a resource id, as far as a template's
/// literal text goes.
fn is_id_start(text: &str) -> bool {
    let Some((prefix, hex)) = text.split_once('-') else {
        return false;
    };
    ID_PREFIXES.contains(&prefix)
        && hex.len() < 17
        && hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// `arn:aws:iam::123456789012:role/admin`: an ARN naming an account.
/// The paths of the arguments below `body` that name a KMS key.
fn collect_key_arguments(kind: &str, prefix: &str, body: &Body, named: &mut Vec<String>) {
    for attribute in body.attributes() {
        let key = attribute.key();
        let names_key = key == "kms_key"
            || key == "key_arn"
            || key == "kms_master_key_id"
            || key.ends_with("kms_key_id")
            || key.ends_with("kms_key_arn")
            || (kind == "aws_ssm_parameter" && key == "key_id");
        if names_key && !matches!(attribute.expr(), Expression::Null) {
            named.push(format!("{prefix}{key}"));
        }
    }
    for block in body.blocks() {
        let path = format!("{prefix}{}.", block.identifier());
        collect_key_arguments(kind, &path, block.body(), named);
    }
}

/// A run of exactly twelve digits: an AWS account's number. A deployment's
/// own ARNs come from its resources, never from a number written down.
fn account_number(text: &str) -> Option<&str> {
    account_numbers(text).next().map(|run| &text[run])
}

/// The byte ranges of `text` the gate reads as account numbers: runs of
/// exactly twelve ASCII digits.
pub(crate) fn account_numbers(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        while start < bytes.len() {
            if !bytes[start].is_ascii_digit() {
                start += 1;
                continue;
            }
            let end = bytes[start..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .map_or(bytes.len(), |n| start + n);
            let run = start..end;
            start = end;
            if run.len() == 12 {
                return Some(run);
            }
        }
        None
    })
}

fn is_account_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_account_arns_are_recognised() {
        assert!(is_resource_id("sg-0123456789abcdef0"));
        assert!(is_resource_id("vpc-1a2b3c4d"));
        assert!(!is_resource_id("sg-app"));
        assert!(!is_resource_id("i-am-a-name"));
        assert!(is_account_arn("arn:aws:iam::123456789012:role/admin"));
        assert!(!is_account_arn(
            "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
        ));
        assert!(!is_account_arn("arn:aws:s3:::bucket"));
    }
}
