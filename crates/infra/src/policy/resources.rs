//! Rules on `resource` and `data` blocks, and on reading local files from
//! anywhere in the configuration.

use hcl::expr::Expression;
use hcl::{Block, Body};

use super::Rule;
use super::allowlist::FORBIDDEN_DATA;
use super::expr::{as_int, as_str, attr, is_var, labels, walk_body};
use super::ingress;
use super::structure::{Gate, allowed};
use crate::terraform::BUNDLE_PATH_VARIABLE;

/// Functions that read the filesystem of the machine running terraform.
const FILE_FUNCTIONS: &[&str] = &[
    "file",
    "fileexists",
    "fileset",
    "filebase64",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "filebase64sha256",
    "filebase64sha512",
    "templatefile",
    // Renders a string as a template: `$${file("...")}` in it is a call.
    "templatestring",
];

/// The longest final snapshot name as written (`"${local.name}-db-final-${formatdate(…)}"`).
const MAX_SNAPSHOT_NAME: usize = 120;

/// What may be read of the bundle archive: a digest of it, of fixed size.
const BUNDLE_HASHES: &[&str] = &[
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "filebase64sha256",
    "filebase64sha512",
];

/// Functions whose value is a path of the machine running terraform.
const WORKER_PATH_FUNCTIONS: &[&str] = &["abspath", "pathexpand"];

/// Owners whose AMIs an instance may boot: Amazon, Canonical.
const AMI_OWNERS: &[&str] = &["amazon", "137112412989", "099720109477"];

/// A gp3 volume's included IOPS and throughput (MiB/s): more is paid for.
const MAX_IOPS: u32 = 3000;
const MAX_THROUGHPUT: u32 = 125;

/// The app's database and cache: the small classes the templates use, a
/// disk of at most 100 GiB, at most two nodes. A store is billed by its
/// class and size, so an author could otherwise run up any bill.
const DATABASE_CLASSES: &[&str] = &["db.t4g.micro", "db.t4g.small"];
const CACHE_NODE_TYPES: &[&str] = &["cache.t4g.micro", "cache.t4g.small"];
pub(super) const MAX_STORE_GB: u32 = 100;
const MAX_STORE_NODES: u32 = 2;

/// The most a dynamic block's `for_each` may weigh (see the gate's size
/// estimate): a few dozen blocks, not thousands.
const MAX_DYNAMIC_WEIGHT: u128 = 8_192;

/// Concurrency a function may reserve out of the account's shared pool.
const MAX_RESERVED_CONCURRENCY: u32 = 10;

/// The largest sizes the choose step gives a task or a function, and the
/// disk each comes with: billed by the second, so an author could otherwise
/// run up any bill (a function also takes the account's shared concurrency
/// for as long as it runs).
const COMPUTE_LIMITS: &[(&str, &[&str], i64)] = &[
    ("aws_ecs_task_definition", &["cpu"], 4096),
    ("aws_ecs_task_definition", &["memory"], 8192),
    (
        "aws_ecs_task_definition",
        &["ephemeral_storage", "size_in_gib"],
        21,
    ),
    ("aws_lambda_function", &["memory_size"], 2048),
    ("aws_lambda_function", &["timeout"], 60),
    ("aws_lambda_function", &["ephemeral_storage", "size"], 512),
    // A rollout may start this share of the desired tasks beside the old.
    ("aws_ecs_service", &["deployment_maximum_percent"], 200),
];

/// How many of each resource that runs or stores something a whole
/// configuration may make: the templates make one each, an author may add
/// a worker or a second store.
const FLEET_LIMITS: &[(&str, u32)] = &[
    ("aws_ecs_service", 2),
    ("aws_ecs_task_definition", 2),
    ("aws_eks_cluster", 1),
    ("aws_eks_node_group", 2),
    ("aws_lambda_function", 2),
    ("aws_lambda_provisioned_concurrency_config", 1),
    ("aws_db_instance", 2),
    ("aws_rds_cluster", 1),
    ("aws_rds_cluster_instance", 2),
    ("aws_elasticache_cluster", 2),
    ("aws_elasticache_replication_group", 2),
    ("aws_lb", 2),
    ("aws_launch_template", 2),
    // Each LoadBalancer Service is a load balancer of its own.
    ("kubernetes_service_v1", 2),
    ("kubernetes_service", 2),
    // One network per deployment: an account has five VPCs and five
    // Elastic IPs per region, and an idle address is billed by the hour.
    ("aws_vpc", 1),
    ("aws_internet_gateway", 1),
    ("aws_eip", 2),
    // One per app variable (`for_each = local.env_keys`); an account holds
    // 10,000 standard parameters per region.
    ("aws_ssm_parameter", 200),
];

/// The nodes of a cluster's node groups at their largest, counted together.
const NODE_GROUP_NODES: &str = "aws_eks_node_group scaling_config.max_size";

/// What the blocks of any other type make together: the templates' most
/// (a subnet per zone, a rule per port) and some room.
const DEFAULT_FLEET_LIMIT: u32 = 12;

/// The `dynamic` blocks the gate reads through: a security group's rules
/// (`ingress.rs`) and a container's variables (`workloads.rs`). Every
/// other rule reads nested blocks by their name, which a `dynamic` block
/// does not have.
const READABLE_DYNAMIC_BLOCKS: &[&str] = &["ingress", "egress", "env"];

/// Resource arguments that upload a local file.
const UPLOAD_ARGS: &[&str] = &["source", "filename"];

impl Gate<'_> {
    /// `provider = NAME[.ALIAS]` names an allowed provider: another makes
    /// `terraform init` fetch and start a provider no rule allowed.
    fn provider_reference(&mut self, address: &str, body: &Body) {
        let Some(provider) = attr(body, "provider") else {
            return;
        };
        let name = match provider {
            Expression::Variable(v) => Some(v.as_str()),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => Some(v.as_str()),
                _ => None,
            },
            _ => None,
        };
        if !name.is_some_and(|n| self.policy.allowed_providers.contains(n)) {
            self.violation(
                Rule::ProviderNotAllowed,
                format!(
                    "{address}: provider must name one of {} (or an alias of one).",
                    super::structure::allowed(&self.policy.allowed_providers)
                ),
            );
        }
    }

    pub(super) fn resource(&mut self, block: &Block) {
        let Some([kind, name]) = self.labels(block, 2).map(|l| [l[0], l[1]]) else {
            return;
        };
        let address = format!("{kind}.{name}");
        self.note_aws_use(kind, &address);
        self.resource_type(kind, &address);
        self.dynamic_blocks(kind, &address, block.body());
        self.arguments("resource", kind, &address, block.body());
        self.secret_placement(kind, &address, block.body());
        let body = block.body();
        self.provider_reference(&address, body);
        self.provisioners(&address, body);
        self.region_argument(&address, body);
        self.instance_types(&address, body);
        self.uploads(&address, body);
        for problem in ingress::check(kind, body, &self.policy.world_open_ports) {
            self.violation(problem.rule, format!("{address}: {}", problem.message));
        }
        self.iam(kind, &address, block);
        self.foreign(kind, &address, body);
        self.sizes(&address, body, true);
        self.compute_sizes(kind, &address, body);
        self.pinned_settings(kind, &address, body);
        self.for_each(kind, &address, body);
        self.lifecycle(&address, body);
        self.conditions(&address, body);
        self.stores(kind, &address, body);
        self.snapshot_schedule(kind, &address, body);
        self.workloads(kind, &address, body);
        self.images(kind, &address, body);
        let copies = attr(body, "count")
            .and_then(as_int)
            .or_else(|| {
                attr(body, "for_each")
                    .and_then(literal_elements)
                    .and_then(|n| i64::try_from(n).ok())
            })
            .unwrap_or(1);
        self.count_copies(kind, u32::try_from(copies.max(0)).unwrap_or(u32::MAX));
        // Each node group is bounded on its own; their nodes are bounded
        // together too, or two groups would double the cluster.
        if kind == "aws_eks_node_group" {
            let most = body
                .blocks()
                .filter(|b| b.identifier() == "scaling_config")
                .filter_map(|b| attr(b.body(), "max_size").and_then(as_int))
                .max()
                // Terraform requires the block; a size not written as a
                // literal is refused by `sizes`.
                .unwrap_or(0);
            let nodes = most.saturating_mul(copies.max(0));
            self.count_copies(
                NODE_GROUP_NODES,
                u32::try_from(nodes.max(0)).unwrap_or(u32::MAX),
            );
        }
    }

    /// Adds `copies` to what the blocks of `kind` make together, for the
    /// kinds [`Self::fleet_sizes`] bounds.
    pub(super) fn count_copies(&mut self, kind: &str, copies: u32) {
        let total = self.copies.entry(kind.to_owned()).or_default();
        *total = total.saturating_add(copies);
    }

    /// What the blocks of each type make together: a size bounded per
    /// block is no bound when the blocks can be written forty times (forty
    /// services of four vCPUs, ninety functions reserving the account's
    /// concurrency).
    pub(super) fn fleet_sizes(&mut self) {
        let mut refused = Vec::new();
        for (kind, copies) in &self.copies {
            let bound = if kind == "aws_instance" {
                self.policy.max_replicas
            } else if kind == NODE_GROUP_NODES {
                self.policy.max_replicas.saturating_add(1)
            } else {
                FLEET_LIMITS
                    .iter()
                    .find(|(t, _)| t == kind)
                    .map_or(DEFAULT_FLEET_LIMIT, |(_, bound)| *bound)
            };
            if *copies > bound {
                refused.push(if kind == NODE_GROUP_NODES {
                    format!("the node groups' max_size add up to {copies} nodes; a deployment's cluster has at most {bound}.")
                } else {
                    format!("the {kind} blocks make {copies} together; a deployment has at most {bound}.")
                });
            }
        }
        for message in refused {
            // A plan's findings are all the plan's.
            if !self.planned {
                self.file = super::WHOLE_CONFIGURATION.to_owned();
            }
            self.line = None;
            self.violation(Rule::SizeNotBounded, message);
        }
    }

    /// The rules a resource's planned values must keep, as `terraform show
    /// -json` gives them (literals, and no reference left to read).
    pub(super) fn planned_resource(&mut self, kind: &str, address: &str, values: &Body) {
        self.resource_type(kind, address);
        self.region_argument(address, values);
        self.instance_types(address, values);
        for problem in ingress::check(kind, values, &self.policy.world_open_ports) {
            self.violation(problem.rule, format!("{address}: {}", problem.message));
        }
        self.sizes(address, values, false);
        self.compute_sizes(kind, address, values);
        self.pinned_settings(kind, address, values);
        self.stores(kind, address, values);
        self.snapshot_schedule(kind, address, values);
    }

    /// `dynamic` blocks only of the kinds the rules read through, at any
    /// depth: a `dynamic "launch_template"` would take an existing
    /// template's role past the rule on `launch_template` blocks.
    pub(super) fn dynamic_blocks(&mut self, kind: &str, address: &str, body: &Body) {
        for block in body.blocks() {
            // A pod template is read block by block by `workloads.rs`, which
            // refuses its dynamic blocks itself.
            if kind.starts_with("kubernetes_") && block.identifier() == "template" {
                continue;
            }
            if block.identifier() == "dynamic" {
                let label = labels(block).first().copied().unwrap_or_default();
                if !READABLE_DYNAMIC_BLOCKS.contains(&label) {
                    self.violation(
                        Rule::BlockNotAllowed,
                        format!("{address}: a dynamic \"{label}\" block is not one the gate can read; write the {label} blocks out one by one."),
                    );
                }
                // Each element is a block the provider compares with every
                // other at plan (65,536 ingress rules: hours).
                if let Some(each) = attr(block.body(), "for_each")
                    && self.value_weight(each) > MAX_DYNAMIC_WEIGHT
                {
                    self.violation(
                        Rule::SizeNotBounded,
                        format!("{address}: the for_each of a dynamic \"{label}\" block may hold more than {MAX_DYNAMIC_WEIGHT} bytes of elements; a deployment writes a few such blocks, and the provider compares each with every other at plan."),
                    );
                }
            }
            self.dynamic_blocks(kind, address, block.body());
        }
    }

    /// A task's or a function's size, at most what the choose step gives.
    fn compute_sizes(&mut self, kind: &str, address: &str, body: &Body) {
        for (limited, path, bound) in COMPUTE_LIMITS {
            if *limited != kind {
                continue;
            }
            let (key, blocks) = path.split_last().expect("a path");
            let mut bodies = vec![body];
            for block in blocks {
                bodies = bodies
                    .into_iter()
                    .flat_map(|b| b.blocks().filter(|inner| inner.identifier() == *block))
                    .map(|inner| inner.body())
                    .collect();
            }
            // The choice's own size, where it gave one.
            let chosen = self
                .policy
                .max_task_size
                .and_then(|size| match (kind, *key) {
                    ("aws_ecs_task_definition", "cpu") => size.cpu,
                    ("aws_ecs_task_definition", "memory")
                    | ("aws_lambda_function", "memory_size") => Some(size.memory),
                    _ => None,
                });
            let bound = &chosen.map_or(*bound, |c| c.min(*bound));
            for found in bodies.into_iter().filter_map(|b| attr(b, key)) {
                let value = as_int(self.resolve(found));
                if !value.is_some_and(|v| (0..=*bound).contains(&v)) {
                    self.violation(
                        Rule::SizeNotBounded,
                        format!(
                            "{address}: {} is {}; at most {bound}, the largest size a deployment is given.",
                            path.join("."),
                            value.map_or("not a literal number".to_owned(), |v| v.to_string())
                        ),
                    );
                }
            }
        }
    }

    /// The rules a data source read by a plan must keep.
    pub(super) fn planned_data(
        &mut self,
        kind: &str,
        address: &str,
        values: &Body,
        own: &super::plan::OwnNames,
    ) {
        if self.data_type(kind, address) {
            self.region_argument(address, values);
            self.data_scope(kind, address, values);
        }
        // The cluster the EKS data sources read is this plan's own; an
        // unknown name can only come from it.
        if matches!(kind, "aws_eks_cluster" | "aws_eks_cluster_auth")
            && let Some(name) = attr(values, "name").and_then(as_str)
            && !own.is_of(&name, &["aws_eks_cluster"])
        {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: name {name:?} is not this deployment's EKS cluster; another cluster of the account is not this deployment's."),
            );
        }
    }

    /// `local.env_keys` is what the template defines: the names of the
    /// variables deployflow passes in `var.app_env`, whose default is empty
    /// (so `for_each` over it makes one parameter per variable given).
    fn env_keys_are_the_apps(&self) -> bool {
        let expected = hcl::parse("x = nonsensitive(toset(keys(var.app_env)))\n")
            .ok()
            .and_then(|body| attr(&body, "x").cloned());
        let defined = self.value_of("local.env_keys");
        let default_empty = match self.value_of("var.app_env") {
            None => true,
            Some(Expression::Object(object)) => object.is_empty(),
            Some(_) => false,
        };
        expected.is_some() && defined == expected.as_ref() && default_empty
    }

    /// The EKS data sources read this configuration's own cluster, never
    /// another one of the account (its endpoint and a token for it).
    fn data_of_own_cluster(&mut self, kind: &str, address: &str, body: &Body) {
        if !matches!(kind, "aws_eks_cluster" | "aws_eks_cluster_auth") {
            return;
        }
        let own = attr(body, "name").is_some_and(|name| {
            crate::policy::expr::root_name(self.resolve(name)) == Some("aws_eks_cluster")
                && self.is_own_reference(name, 0)
        });
        if !own {
            self.violation(
                Rule::ForeignResource,
                format!(
                    "{address}: name must be aws_eks_cluster.NAME.name of this configuration; another cluster of the account is not this deployment's."
                ),
            );
        }
    }

    /// `lifecycle { prevent_destroy = true }` keeps `deployflow destroy` from
    /// removing what it created; `overwrite = true` takes over an existing
    /// SSM parameter.
    fn lifecycle(&mut self, address: &str, body: &Body) {
        let keeps = body
            .blocks()
            .filter(|b| b.identifier() == "lifecycle")
            .any(|b| {
                attr(b.body(), "prevent_destroy")
                    .is_some_and(|v| !matches!(v, Expression::Bool(false)))
            });
        if keeps {
            self.violation(
                Rule::Lifecycle,
                format!("{address}: prevent_destroy keeps deployflow from destroying the deployment; remove it."),
            );
        }
        if attr(body, "overwrite").is_some_and(|v| !matches!(v, Expression::Bool(false))) {
            self.violation(
                Rule::Lifecycle,
                format!("{address}: overwrite replaces an existing parameter of the account; remove it (a deployment creates its own)."),
            );
        }
        // What keeps a destroy from succeeding: Object Lock holds every
        // object (in compliance mode, from everyone, for years); deletion
        // protection refuses the delete itself.
        for key in [
            "object_lock_enabled",
            // A log group or task definition that outlives the destroy.
            "skip_destroy",
            "deletion_protection",
            "enable_deletion_protection",
            "disable_api_termination",
            "deletion_protection_enabled",
        ] {
            let on = attr(body, key)
                .is_some_and(|v| !matches!(self.resolve(v), Expression::Bool(false)));
            if on {
                self.violation(
                    Rule::Lifecycle,
                    format!("{address}: {key} keeps deployflow from destroying the deployment; leave it off (false), or to a variable that defaults to false."),
                );
            }
        }
        let kind = address.split('.').next().unwrap_or_default();
        self.destroyable(kind, address, body);
        self.storage_cost_and_exposure(kind, address, body);
    }

    /// A database's storage on the templates' general-purpose disks in one
    /// zone (provisioned IOPS on Multi-AZ cost forty times as much), an EKS
    /// cluster held to standard support, and the bundle's bucket and objects
    /// never public.
    fn storage_cost_and_exposure(&mut self, kind: &str, address: &str, body: &Body) {
        let literal = |gate: &Self, key: &str| attr(body, key).map(|v| gate.resolve(v).clone());
        let refuse = |gate: &mut Self, rule: Rule, why: String| {
            gate.violation(rule, format!("{address}: {why}"))
        };
        // Volumes beyond the root one, kept after the instance is gone;
        // dedicated hardware and unlimited CPU credits, billed by the hour.
        let volumes: Vec<&Block> = body
            .blocks()
            .filter(|b| matches!(b.identifier(), "ebs_block_device" | "block_device_mappings"))
            .collect();
        let dynamic = body
            .blocks()
            .any(|b| is_dynamic(b, "ebs_block_device") || is_dynamic(b, "block_device_mappings"));
        let kept = volumes.iter().any(|volume| {
            let settings = if volume.identifier() == "ebs_block_device" {
                Some(volume.body())
            } else {
                volume
                    .body()
                    .blocks()
                    .find(|b| b.identifier() == "ebs")
                    .map(Block::body)
            };
            // A launch template's is a string ("true"), as its plan shows it.
            !settings
                .and_then(|b| attr(b, "delete_on_termination"))
                .is_some_and(|v| match self.resolve(v) {
                    Expression::Bool(on) => *on,
                    other => as_str(other).as_deref() == Some("true"),
                })
        });
        if dynamic || volumes.len() > 1 || kept {
            refuse(self, Rule::SizeNotBounded, "one volume at most, with delete_on_termination = true and no dynamic block: volumes written in a loop, or kept after the instance is gone, are billed without end.".to_owned());
        }
        for (key, allowed) in [
            ("tenancy", "default"),
            ("instance_tenancy", "default"),
            ("cpu_credits", "standard"),
        ] {
            let nested = body
                .blocks()
                .filter(|b| matches!(b.identifier(), "placement" | "credit_specification"))
                .filter_map(|b| attr(b.body(), key).map(|v| self.resolve(v).clone()));
            let values: Vec<Expression> = literal(self, key).into_iter().chain(nested).collect();
            if values.iter().any(|v| as_str(v).as_deref() != Some(allowed)) {
                refuse(
                    self,
                    Rule::SizeNotBounded,
                    format!(
                        "{key} must be {allowed:?}: the others are billed on top of the instance."
                    ),
                );
            }
        }
        match kind {
            "aws_db_instance" | "aws_rds_cluster" => {
                if let Some(storage) = literal(self, "storage_type")
                    && !as_str(&storage).is_some_and(|s| matches!(s.as_str(), "gp2" | "gp3"))
                {
                    refuse(self, Rule::SizeNotBounded, "storage_type must be \"gp3\" (or \"gp2\"): provisioned-IOPS storage is priced per IOPS.".to_owned());
                }
                // A version past standard support is billed RDS Extended
                // Support, several times the instance's price, unless off.
                let extended_off = literal(self, "engine_lifecycle_support")
                    .and_then(|v| as_str(&v))
                    .is_some_and(|v| v == "open-source-rds-extended-support-disabled");
                if !extended_off {
                    refuse(self, Rule::SizeNotBounded, "engine_lifecycle_support = \"open-source-rds-extended-support-disabled\" is required: a version past standard support is otherwise billed Extended Support, several times the database's price.".to_owned());
                }
                // Given IOPS and no storage type, RDS makes the disk io1.
                if attr(body, "iops").is_some() && literal(self, "storage_type").is_none() {
                    refuse(self, Rule::SizeNotBounded, "iops without storage_type = \"gp3\": RDS then provisions io1 storage, priced per IOPS.".to_owned());
                }
                if literal(self, "multi_az").is_some_and(|v| !matches!(v, Expression::Bool(false)))
                {
                    refuse(
                        self,
                        Rule::SizeNotBounded,
                        "multi_az doubles the database; leave it off.".to_owned(),
                    );
                }
            }
            "aws_eks_cluster" => {
                // Without it, a cluster past standard support is billed six
                // times the control plane's price for extended support.
                let standard = body
                    .blocks()
                    .filter(|b| b.identifier() == "upgrade_policy")
                    .filter_map(|b| attr(b.body(), "support_type"))
                    .any(|v| as_str(self.resolve(v)).as_deref() == Some("STANDARD"));
                if !standard {
                    refuse(self, Rule::SizeNotBounded, "upgrade_policy { support_type = \"STANDARD\" } is required: a version past standard support (the default, EXTENDED) bills the control plane six times over.".to_owned());
                }
                // A provisioned control plane is billed by the hour on top.
                let scaled = body
                    .blocks()
                    .filter(|b| {
                        b.identifier() == "control_plane_scaling_config"
                            || is_dynamic(b, "control_plane_scaling_config")
                    })
                    .any(|b| {
                        attr(b.body(), "tier")
                            .is_none_or(|t| as_str(self.resolve(t)).as_deref() != Some("standard"))
                    });
                if scaled {
                    refuse(self, Rule::SizeNotBounded, "control_plane_scaling_config: a tier other than \"standard\" bills a provisioned control plane by the hour; leave it out.".to_owned());
                }
            }
            // Reserved load balancer capacity is billed by the hour, used or not.
            "aws_lb"
                if body.blocks().any(|b| {
                    b.identifier() == "minimum_load_balancer_capacity"
                        || is_dynamic(b, "minimum_load_balancer_capacity")
                }) =>
            {
                refuse(self, Rule::SizeNotBounded, "minimum_load_balancer_capacity reserves capacity units billed every hour, used or not; leave it out.".to_owned());
            }
            "aws_s3_object" | "aws_s3_bucket" if attr(body, "acl").is_some() => {
                refuse(
                    self,
                    Rule::WorldIngress,
                    "acl: objects and buckets are private, with ownership enforced; remove it."
                        .to_owned(),
                );
            }
            "aws_s3_bucket_acl" => {
                refuse(self, Rule::WorldIngress, "bucket ACLs can make the bundle public; buckets are private, with ownership enforced.".to_owned());
            }
            "aws_s3_bucket_public_access_block" => {
                let open: Vec<&str> = [
                    "block_public_acls",
                    "block_public_policy",
                    "ignore_public_acls",
                    "restrict_public_buckets",
                ]
                .into_iter()
                .filter(|key| {
                    !literal(self, key).is_some_and(|v| matches!(v, Expression::Bool(true)))
                })
                .collect();
                if !open.is_empty() {
                    refuse(
                        self,
                        Rule::WorldIngress,
                        format!(
                            "{} must be true: the bucket holds the repository's code.",
                            open.join(", ")
                        ),
                    );
                }
            }
            "aws_s3_bucket_ownership_controls" => {
                let enforced = body
                    .blocks()
                    .filter(|b| b.identifier() == "rule")
                    .filter_map(|b| {
                        attr(b.body(), "object_ownership").map(|v| self.resolve(v).clone())
                    })
                    .all(|v| as_str(&v).as_deref() == Some("BucketOwnerEnforced"));
                if !enforced {
                    refuse(
                        self,
                        Rule::WorldIngress,
                        "object_ownership must be \"BucketOwnerEnforced\", which turns ACLs off."
                            .to_owned(),
                    );
                }
            }
            _ => {}
        }
    }

    /// What else makes `terraform destroy` fail, every time: a lock written
    /// as the nested block, a final snapshot with no name, and a store that
    /// refuses to go while it holds what deployflow itself put in it.
    fn destroyable(&mut self, kind: &str, address: &str, body: &Body) {
        let refuse = |gate: &mut Self, why: String| {
            gate.violation(Rule::Lifecycle, format!("{address}: {why}"))
        };
        if body.blocks().any(|b| {
            b.identifier() == "object_lock_configuration"
                || is_dynamic(b, "object_lock_configuration")
        }) {
            refuse(self, "object_lock_configuration locks the bucket's objects, which then cannot be deleted; remove it.".to_owned());
        }
        let is_true = |gate: &Self, key: &str| {
            attr(body, key).is_some_and(|v| matches!(gate.resolve(v), Expression::Bool(true)))
        };
        match kind {
            "aws_db_instance" | "aws_rds_cluster"
                if !is_true(self, "skip_final_snapshot")
                    && attr(body, "final_snapshot_identifier").is_none() =>
            {
                refuse(self, "a final snapshot needs final_snapshot_identifier (\"${local.name}-db-final-…\"); without it AWS refuses the delete.".to_owned());
            }
            "aws_db_instance" | "aws_rds_cluster" | "aws_elasticache_replication_group" => {
                self.final_snapshot_unique(address, body);
            }
            // deployflow pushes the app image into it.
            "aws_ecr_repository" if !is_true(self, "force_delete") => {
                refuse(self, "force_delete = true: deployflow pushes the app's image into it, and a repository holding images is not deleted.".to_owned());
            }
            "aws_s3_bucket" if !is_true(self, "force_destroy") => {
                refuse(self, "force_destroy = true: deployflow puts the bundle in it, and a bucket holding objects is not deleted.".to_owned());
            }
            _ => {}
        }
    }

    /// Two stores (or copies of one) with one final snapshot name: the
    /// second delete finds the snapshot taken and fails, on every retry.
    fn final_snapshot_unique(&mut self, address: &str, body: &Body) {
        let Some(name) = attr(body, "final_snapshot_identifier") else {
            return;
        };
        // A string (or a choice between strings and null), compared as
        // written: a function around it (`lower(…)`) would hide that two
        // names are one.
        let names: Option<Vec<String>> = match self.resolve(name) {
            Expression::Conditional(choice) => [&choice.true_expr, &choice.false_expr]
                .into_iter()
                .filter(|branch| !matches!(branch, Expression::Null))
                .map(snapshot_name_text)
                .collect(),
            single => snapshot_name_text(single).map(|text| vec![text]),
        };
        let copies = attr(body, "count").is_some() || attr(body, "for_each").is_some();
        let clash = match names {
            Some(names) => names.into_iter().any(|text| {
                let per_copy = ["count.index", "each.key", "each.value"]
                    .iter()
                    .any(|key| text.contains(key));
                // The deployment's name and the date: a name of its own
                // (`flask-todo-final`) is taken by the first destroy, and
                // every later deployment that writes it fails to delete.
                // RDS takes at most 255 characters; the template's name,
                // written out, is some 80.
                let own_and_dated = text.trim_start_matches('"').starts_with("${local.name}-")
                    && text.contains("formatdate(")
                    && text.contains("timestamp()")
                    && text.len() <= MAX_SNAPSHOT_NAME;
                if !own_and_dated {
                    return true;
                }
                // RDS and ElastiCache keep snapshot names in lower case.
                !self.final_snapshots.insert(text.to_ascii_lowercase()) || (copies && !per_copy)
            }),
            None => true,
        };
        if clash {
            self.violation(
                Rule::Lifecycle,
                format!("{address}: final_snapshot_identifier is the same as another store's (or each copy's), does not start with the deployment's name and end with the date, or is not a string the gate can compare: a delete that finds the snapshot taken fails on every retry; write each store's name as a string of its own (\"${{local.name}}-db-final-${{formatdate(\"YYYYMMDDhhmmss\", plantimestamp())}}\")."),
            );
        }
    }

    fn resource_type(&mut self, kind: &str, address: &str) {
        if !self.policy.allowed_resource_types.contains(kind) {
            self.violation(
                Rule::ResourceNotAllowed,
                format!(
                    "{address}: resource type {kind} is not allowed for this deployment; use only {}.",
                    allowed(&self.policy.allowed_resource_types)
                ),
            );
        }
    }

    /// Whether data source `kind` may be read at all (its type is reported
    /// when it is not allowed).
    fn data_type(&mut self, kind: &str, address: &str) -> bool {
        if FORBIDDEN_DATA.contains(&kind) {
            self.violation(
                Rule::DataSourceForbidden,
                format!(
                    "{address}: data \"{kind}\" runs a program or fetches a URL on the machine running terraform; remove it and write the values in the configuration."
                ),
            );
            return false;
        }
        if !self.policy.allowed_data_sources.contains(kind) {
            self.violation(
                Rule::DataSourceNotAllowed,
                format!(
                    "{address}: data source {kind} is not allowed; use only {}.",
                    allowed(&self.policy.allowed_data_sources)
                ),
            );
        }
        true
    }

    /// `for_each` makes one instance per element: a literal collection of at
    /// most `max_count` elements, or the app's environment names for its
    /// Parameter Store entries (one free parameter per variable).
    pub(super) fn for_each(&mut self, kind: &str, address: &str, body: &Body) {
        let Some(expr) = attr(body, "for_each") else {
            return;
        };
        let bound = self.policy.max_count;
        let environment_names = kind == "aws_ssm_parameter"
            && expr_text(expr).as_deref() == Some("local.env_keys")
            && self.env_keys_are_the_apps();
        let elements = literal_elements(expr);
        if environment_names || elements.is_some_and(|n| n <= bound as usize) {
            return;
        }
        self.violation(
            Rule::SizeNotBounded,
            format!(
                "{address}: for_each is {}; write a literal list, set or map of at most {bound} elements.",
                elements.map_or("not a literal collection".to_owned(), |n| format!("{n} elements"))
            ),
        );
    }

    /// `count` and replica sizes: literals within the policy's bounds, so a
    /// configuration cannot ask for a fleet.
    pub(super) fn sizes(&mut self, address: &str, body: &Body, top: bool) {
        for attribute in body.attributes() {
            let key = attribute.key();
            let bound = match key {
                "count" if top => self.policy.max_count,
                "desired_count" | "desired_size" | "min_size" | "max_size" | "min_capacity"
                | "max_capacity" => self.policy.max_replicas,
                "volume_size" | "disk_size" => self.policy.max_disk_gb,
                "allocated_storage" | "max_allocated_storage" => MAX_STORE_GB,
                "num_cache_clusters"
                | "num_cache_nodes"
                | "num_node_groups"
                | "replicas_per_node_group" => MAX_STORE_NODES,
                // Reserved concurrency is taken from the account's shared pool.
                "reserved_concurrent_executions" => MAX_RESERVED_CONCURRENCY,
                "iops" => MAX_IOPS,
                "throughput" => MAX_THROUGHPUT,
                "volume_type" => {
                    let kind = as_str(attribute.expr());
                    if kind.as_deref().is_none_or(|t| t.starts_with("io")) {
                        self.violation(
                            Rule::SizeNotBounded,
                            format!(
                                "{address}: volume_type is {}; use \"gp3\" (provisioned-IOPS volumes cost by the IOPS).",
                                kind.map_or("not a literal".to_owned(), |k| format!("{k:?}"))
                            ),
                        );
                    }
                    continue;
                }
                _ => continue,
            };
            let value = as_int(attribute.expr());
            if value.is_some_and(|v| (0..=i64::from(bound)).contains(&v)) {
                continue;
            }
            // -1 is "reserve none", what a plan shows for an unset one.
            if key == "reserved_concurrent_executions" && value == Some(-1) {
                continue;
            }
            self.violation(
                Rule::SizeNotBounded,
                format!(
                    "{address}: {key} is {}; write a literal of at most {bound}.",
                    value.map_or("not a literal number".to_owned(), |v| v.to_string())
                ),
            );
        }
        for block in body.blocks() {
            self.sizes(address, block.body(), false);
        }
    }

    pub(super) fn data(&mut self, block: &Block) {
        let Some([kind, name]) = self.labels(block, 2).map(|l| [l[0], l[1]]) else {
            return;
        };
        let address = format!("data.{kind}.{name}");
        self.note_aws_use(kind, &address);
        if !self.data_type(kind, &address) {
            return;
        }
        self.dynamic_blocks(kind, &address, block.body());
        self.provider_reference(&address, block.body());
        self.arguments("data", kind, &address, block.body());
        self.secret_placement(kind, &address, block.body());
        self.region_argument(&address, block.body());
        self.iam(kind, &address, block);
        self.data_scope(kind, &address, block.body());
        self.data_of_own_cluster(kind, &address, block.body());
        self.foreign_literals(&address, block.body());
    }

    /// What the allowed data sources may read.
    fn data_scope(&mut self, kind: &str, address: &str, body: &Body) {
        match kind {
            // Public parameters only (the latest AMI ids), never the account's.
            "aws_ssm_parameter" => {
                let name = attr(body, "name").and_then(as_str);
                if !name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("/aws/service/"))
                {
                    self.violation(
                        Rule::DataSourceScope,
                        format!(
                            "{address}: reads SSM parameter {}; only AWS's public parameters under /aws/service/ may be read (the account's parameters can hold secrets).",
                            name.map_or("named by a computed value".to_owned(), |n| format!("{n:?}"))
                        ),
                    );
                }
            }
            "aws_ami" => {
                self.ami_names(address, body);
                let owners: Vec<Option<String>> = match attr(body, "owners") {
                    Some(Expression::Array(items)) => items.iter().map(as_str).collect(),
                    _ => vec![None],
                };
                let trusted = !owners.is_empty()
                    && owners
                        .iter()
                        .all(|o| o.as_deref().is_some_and(|o| AMI_OWNERS.contains(&o)));
                if !trusted {
                    self.violation(
                        Rule::DataSourceScope,
                        format!(
                            "{address}: owners must be literal trusted image owners ({}), so the image is not someone else's.",
                            AMI_OWNERS.join(", ")
                        ),
                    );
                }
            }
            // A plan holds the cluster's name itself: `planned_data`.
            "aws_eks_cluster" | "aws_eks_cluster_auth" if !self.planned => {
                let own =
                    attr(body, "name").and_then(super::expr::root_name) == Some("aws_eks_cluster");
                if !own {
                    self.violation(
                        Rule::ForeignResource,
                        format!(
                            "{address}: name must be aws_eks_cluster.NAME.name of this configuration, not another cluster."
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    fn note_aws_use(&mut self, kind: &str, address: &str) {
        if kind.starts_with("kubernetes_") && self.first_kubernetes_use.is_none() {
            self.first_kubernetes_use = Some((self.file.clone(), self.line, address.to_owned()));
        }
        if kind.starts_with("aws_") && self.first_aws_use.is_none() {
            self.first_aws_use = Some((self.file.clone(), self.line, address.to_owned()));
        }
    }

    fn provisioners(&mut self, address: &str, body: &Body) {
        for block in body.blocks() {
            let labels = labels(block);
            let kind = match (block.identifier(), labels.as_slice()) {
                ("provisioner", [kind, ..]) => *kind,
                ("dynamic", ["provisioner", ..]) => "dynamic",
                _ => continue,
            };
            self.violation(
                Rule::Provisioner,
                format!(
                    "{address}: provisioner \"{kind}\" runs commands outside Terraform's plan; remove it (configure instances with user_data, resources with arguments)."
                ),
            );
        }
    }

    /// AWS provider 6 lets any resource pick its own region: it must be the chosen one.
    fn region_argument(&mut self, address: &str, body: &Body) {
        let Some(value) = attr(body, "region") else {
            return;
        };
        let region = as_str(value);
        if region.as_deref() != Some(self.policy.region.as_str()) {
            self.violation(
                Rule::RegionNotPinned,
                format!(
                    "{address}: region is {}; remove it or set the literal \"{}\".",
                    region.map_or("not a literal string".to_owned(), |r| format!("{r:?}")),
                    self.policy.region
                ),
            );
        }
    }

    /// `instance_type` and `instance_types`, at any depth (launch templates,
    /// mixed instance policies), must be allowed literals.
    fn instance_types(&mut self, address: &str, body: &Body) {
        for attribute in body.attributes() {
            let store_classes = match attribute.key() {
                "instance_class" => Some(DATABASE_CLASSES),
                "node_type" => Some(CACHE_NODE_TYPES),
                _ => None,
            };
            if let Some(classes) = store_classes {
                let value = as_str(attribute.expr());
                if !value.as_deref().is_some_and(|v| classes.contains(&v)) {
                    self.violation(
                        Rule::InstanceTypeNotPinned,
                        format!(
                            "{address}: {} is {}; a store here is one of {}.",
                            attribute.key(),
                            value.map_or("not a literal string".to_owned(), |v| format!(
                                "{v:?}, which is not allowed"
                            )),
                            classes.join(", ")
                        ),
                    );
                }
                continue;
            }
            let values: Option<Vec<Option<String>>> = match (attribute.key(), attribute.expr()) {
                ("instance_type", value) => Some(vec![as_str(value)]),
                ("instance_types", Expression::Array(items)) => {
                    Some(items.iter().map(as_str).collect())
                }
                ("instance_types", _) => Some(vec![None]),
                _ => None,
            };
            for value in values.into_iter().flatten() {
                if value
                    .as_ref()
                    .is_some_and(|v| self.policy.allowed_instance_types.contains(v))
                {
                    continue;
                }
                self.violation(
                    Rule::InstanceTypeNotPinned,
                    format!(
                        "{address}: {} is {}; {}.",
                        attribute.key(),
                        value.map_or("not a literal string".to_owned(), |v| format!(
                            "{v:?}, which is not allowed"
                        )),
                        if self.policy.allowed_instance_types.is_empty() {
                            "this target runs no EC2 instances".to_owned()
                        } else {
                            format!(
                                "use the literal {}",
                                allowed(&self.policy.allowed_instance_types)
                            )
                        }
                    ),
                );
            }
        }
        for block in body.blocks() {
            self.instance_types(address, block.body());
        }
    }

    fn uploads(&mut self, address: &str, body: &Body) {
        for key in UPLOAD_ARGS {
            if let Some(value) = attr(body, key)
                && !self.is_bundle_path(value)
            {
                self.violation(
                    Rule::LocalFile,
                    format!(
                        "{address}: {key} uploads a file from the machine running terraform; only var.{BUNDLE_PATH_VARIABLE} may be uploaded."
                    ),
                );
            }
        }
    }

    /// `var.bundle_path` where deployflow supplies it (`vm`): elsewhere the
    /// variable's value is the author's own default, any file of the worker.
    fn is_bundle_path(&self, expr: &Expression) -> bool {
        is_var(expr, BUNDLE_PATH_VARIABLE)
            && self
                .policy
                .supplied_variables
                .contains(BUNDLE_PATH_VARIABLE)
    }

    /// Any call that reads a local file, anywhere in a top-level block.
    pub(super) fn local_files(&mut self, block: &Block) {
        let mut calls = Vec::new();
        let mut paths = Vec::new();
        walk_body(block.body(), &mut |expr| match expr {
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                // Its hash only: `filebase64(var.bundle_path)` would put
                // the whole repository in a value (an output, a plan).
                let bundle = matches!(call.args.as_slice(), [arg] if self.is_bundle_path(arg))
                    && BUNDLE_HASHES.contains(&name);
                if FILE_FUNCTIONS.contains(&name) && !bundle {
                    calls.push(name.to_owned());
                }
                if WORKER_PATH_FUNCTIONS.contains(&name) {
                    paths.push(format!("{name}()"));
                }
            }
            Expression::Traversal(t) if matches!(&t.expr, Expression::Variable(v) if v.as_str() == "path") =>
            {
                paths.push("path.…".to_owned());
            }
            _ => {}
        });
        let place = block_address(block);
        for what in paths {
            self.violation(
                Rule::LocalFile,
                format!("{place}: {what} tells where the machine running terraform keeps its files (its working directory, its user's home); a deployment needs none of it."),
            );
        }
        for name in calls {
            let message = if name == "templatestring" {
                format!(
                    "{place}: templatestring() renders text as a template, and a ${{file(...)}} in that text (written $${{...}} to get past a reading) reads files of the machine running terraform; write the text as a plain string or heredoc instead."
                )
            } else {
                format!(
                    "{place}: {name}() reads files of the machine running terraform; only a digest of var.{BUNDLE_PATH_VARIABLE} (filemd5(), filesha256()…) is allowed. Write the content inline instead."
                )
            };
            self.violation(Rule::LocalFile, message);
        }
    }
}

/// The text of a final snapshot name written as a string or template.
fn snapshot_name_text(expr: &Expression) -> Option<String> {
    matches!(expr, Expression::String(_) | Expression::TemplateExpr(_))
        .then(|| hcl::format::to_string(expr).unwrap_or_default())
}

/// `aws_instance.app`, `data.http.x`, `module.m`, `provider "aws"`, `locals`.
pub(super) fn block_address(block: &Block) -> String {
    let labels = labels(block);
    match (block.identifier(), labels.as_slice()) {
        ("resource", [kind, name, ..]) => format!("{kind}.{name}"),
        ("data", [kind, name, ..]) => format!("data.{kind}.{name}"),
        ("module" | "output" | "variable", [name, ..]) => {
            format!("{}.{name}", block.identifier())
        }
        ("provider", [name, ..]) => format!("provider \"{name}\""),
        (identifier, _) => identifier.to_owned(),
    }
}

/// The number of elements of a literal collection: `[…]`, `{…}`, or one
/// wrapped in `toset(…)`/`tomap(…)`/`tolist(…)`.
fn literal_elements(expr: &Expression) -> Option<usize> {
    match expr {
        Expression::Array(items) => Some(items.len()),
        Expression::Object(object) => Some(object.len()),
        Expression::FuncCall(call)
            if matches!(call.name.name.as_str(), "toset" | "tomap" | "tolist")
                && call.args.len() == 1 =>
        {
            literal_elements(&call.args[0])
        }
        Expression::Parenthesis(inner) => literal_elements(inner),
        _ => None,
    }
}

/// A reference written as text (`local.env_keys`), for plain traversals.
fn expr_text(expr: &Expression) -> Option<String> {
    let Expression::Traversal(traversal) = expr else {
        return None;
    };
    let Expression::Variable(root) = &traversal.expr else {
        return None;
    };
    let mut text = root.as_str().to_owned();
    for operator in &traversal.operators {
        let hcl::expr::TraversalOperator::GetAttr(name) = operator else {
            return None;
        };
        text.push('.');
        text.push_str(name.as_str());
    }
    Some(text)
}

/// `dynamic "NAME" { … }`.
fn is_dynamic(block: &hcl::Block, name: &str) -> bool {
    block.identifier() == "dynamic" && labels(block).first() == Some(&name)
}
