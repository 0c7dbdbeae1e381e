//! Which arguments each resource, data source and ephemeral type may set:
//! those deployflow's templates set, and a few harmless ones an author
//! reaches for. Every other argument of an allowed type is refused, however
//! harmless it looks: each round of attacks on the gate found one more
//! argument no rule read (an `authenticate_oidc` action, a `placement_group`,
//! an `nfs` volume), so the rules read what is there and this list bounds
//! what may be there.

use hcl::expr::Expression;
use hcl::{Block, Body};

use super::Rule;
use super::expr::{key_text, labels};
use super::structure::Gate;

/// Terraform's own arguments, allowed on every resource (the lifecycle
/// settings that keep a resource alive are refused by their own rule).
const META_ARGUMENTS: &[&str] = &[
    "count",
    "for_each",
    "depends_on",
    "provider",
    "lifecycle.create_before_destroy",
    "lifecycle.ignore_changes",
    "lifecycle.replace_triggered_by",
    "lifecycle.prevent_destroy",
    "lifecycle.precondition.condition",
    "lifecycle.precondition.error_message",
    "lifecycle.postcondition.condition",
    "lifecycle.postcondition.error_message",
];

/// Tag keys the templates write. A tag is not only a label: an account's
/// attribute-based policies grant by tag (`aws:PrincipalTag/team`), so a
/// role or a task tagged like another team's gets what that team gets.
const TAG_KEYS: &[&str] = &[
    "Name",
    "ManagedBy",
    "DeployflowJob",
    "kubernetes.io/role/elb",
];

/// A tag key the templates write with a name inside (the cluster's).
const TAG_KEY_PREFIXES: &[&str] = &["kubernetes.io/cluster/"];

/// The attributes that hold tags.
const TAG_ARGUMENTS: &[&str] = &["tags", "tag_specifications.tags"];

/// The keys an ECS container definition may have: the template's, and
/// sizes, a health check and a working directory. Others reach past the
/// container (`linuxParameters`, `privileged`, `mountPoints`,
/// `volumesFrom`), pull with other credentials (`repositoryCredentials`) or
/// send its logs and secrets elsewhere (`firelensConfiguration`).
const CONTAINER_KEYS: &[&str] = &[
    "name",
    "image",
    "essential",
    "portMappings",
    "environment",
    "secrets",
    "logConfiguration",
    "command",
    "entryPoint",
    "workingDirectory",
    "cpu",
    "memory",
    "memoryReservation",
    "healthCheck",
    "stopTimeout",
    "startTimeout",
    "readonlyRootFilesystem",
];

/// The keys of a container's `logConfiguration`: the log driver and its
/// options, no `secretOptions` (secrets handed to a log driver).
const LOG_CONFIGURATION_KEYS: &[&str] = &["logDriver", "options"];

/// The `awslogs` driver's options a container may set.
pub(super) const AWSLOGS_OPTIONS: &[&str] =
    &["awslogs-group", "awslogs-region", "awslogs-stream-prefix"];

type Table = &'static [(&'static str, &'static [&'static str])];

/// Resource types: their arguments, nested blocks' as `block.argument`.
const RESOURCES: Table = &[
    ("aws_cloudwatch_log_group", &["name", "retention_in_days"]),
    (
        "aws_db_instance",
        &[
            "allocated_storage",
            "apply_immediately",
            "auto_minor_version_upgrade",
            "backup_retention_period",
            "copy_tags_to_snapshot",
            "db_name",
            "db_subnet_group_name",
            "deletion_protection",
            "enabled_cloudwatch_logs_exports",
            "engine",
            "engine_lifecycle_support",
            "engine_version",
            "final_snapshot_identifier",
            "iam_database_authentication_enabled",
            "identifier_prefix",
            "instance_class",
            "password_wo",
            "password_wo_version",
            "port",
            "publicly_accessible",
            "skip_final_snapshot",
            "storage_encrypted",
            "storage_type",
            "username",
            "vpc_security_group_ids",
        ],
    ),
    ("aws_db_subnet_group", &["name_prefix", "subnet_ids"]),
    ("aws_default_security_group", &["vpc_id"]),
    ("aws_ecr_lifecycle_policy", &["policy", "repository"]),
    (
        "aws_ecr_repository",
        &[
            "encryption_configuration.encryption_type",
            "force_delete",
            "image_scanning_configuration.scan_on_push",
            "image_tag_mutability",
            "name",
        ],
    ),
    (
        "aws_ecs_cluster",
        &["name", "setting.name", "setting.value"],
    ),
    (
        "aws_ecs_cluster_capacity_providers",
        &[
            "cluster_name",
            "capacity_providers",
            "default_capacity_provider_strategy.capacity_provider",
            "default_capacity_provider_strategy.weight",
            "default_capacity_provider_strategy.base",
        ],
    ),
    (
        "aws_ecs_service",
        &[
            "cluster",
            "desired_count",
            "health_check_grace_period_seconds",
            "launch_type",
            "load_balancer.container_name",
            "load_balancer.container_port",
            "load_balancer.target_group_arn",
            "name",
            "network_configuration.assign_public_ip",
            "network_configuration.security_groups",
            "network_configuration.subnets",
            "task_definition",
        ],
    ),
    (
        "aws_ecs_task_definition",
        &[
            "container_definitions",
            "cpu",
            "execution_role_arn",
            "family",
            "memory",
            "network_mode",
            "requires_compatibilities",
            "runtime_platform.cpu_architecture",
            "runtime_platform.operating_system_family",
            "task_role_arn",
        ],
    ),
    ("aws_eip", &["domain", "tags"]),
    ("aws_eip_association", &["allocation_id", "instance_id"]),
    (
        "aws_appautoscaling_target",
        &[
            "max_capacity",
            "min_capacity",
            "resource_id",
            "scalable_dimension",
            "service_namespace",
        ],
    ),
    (
        "aws_appautoscaling_policy",
        &[
            "name",
            "policy_type",
            "resource_id",
            "scalable_dimension",
            "service_namespace",
            "target_tracking_scaling_policy_configuration.target_value",
            "target_tracking_scaling_policy_configuration.scale_in_cooldown",
            "target_tracking_scaling_policy_configuration.scale_out_cooldown",
            "target_tracking_scaling_policy_configuration.predefined_metric_specification.predefined_metric_type",
        ],
    ),
    (
        "aws_eks_cluster",
        &[
            "access_config.authentication_mode",
            "access_config.bootstrap_cluster_creator_admin_permissions",
            "enabled_cluster_log_types",
            "name",
            "role_arn",
            "upgrade_policy.support_type",
            "version",
            "vpc_config.endpoint_private_access",
            "vpc_config.endpoint_public_access",
            "vpc_config.subnet_ids",
        ],
    ),
    (
        "aws_eks_node_group",
        &[
            "ami_type",
            "cluster_name",
            "instance_types",
            "launch_template.id",
            "launch_template.version",
            "node_group_name",
            "node_role_arn",
            "scaling_config.desired_size",
            "scaling_config.max_size",
            "scaling_config.min_size",
            "subnet_ids",
            "update_config.max_unavailable",
        ],
    ),
    (
        "aws_elasticache_replication_group",
        &[
            "apply_immediately",
            "at_rest_encryption_enabled",
            "auto_minor_version_upgrade",
            "automatic_failover_enabled",
            "description",
            "engine",
            "engine_version",
            "final_snapshot_identifier",
            "node_type",
            "num_cache_clusters",
            "port",
            "replication_group_id",
            "security_group_ids",
            "snapshot_retention_limit",
            "subnet_group_name",
            "transit_encryption_enabled",
        ],
    ),
    ("aws_elasticache_subnet_group", &["name", "subnet_ids"]),
    (
        "aws_ebs_volume",
        &[
            "availability_zone",
            "encrypted",
            "final_snapshot",
            "size",
            "tags",
            "type",
        ],
    ),
    // Only what a snapshot schedule of the account's own volumes needs:
    // no `share_rule`, `cross_region_copy_rule` or event policy, which
    // would hand the snapshots to another account or region.
    (
        "aws_dlm_lifecycle_policy",
        &[
            "description",
            "execution_role_arn",
            "state",
            "policy_details.resource_types",
            "policy_details.target_tags",
            "policy_details.schedule.name",
            "policy_details.schedule.copy_tags",
            "policy_details.schedule.create_rule.interval",
            "policy_details.schedule.create_rule.interval_unit",
            "policy_details.schedule.create_rule.times",
            "policy_details.schedule.retain_rule.count",
        ],
    ),
    ("aws_iam_instance_profile", &["name_prefix", "role"]),
    (
        "aws_iam_role",
        &["assume_role_policy", "name_prefix", "description"],
    ),
    (
        "aws_iam_role_policy",
        &["name", "name_prefix", "policy", "role"],
    ),
    ("aws_iam_role_policy_attachment", &["policy_arn", "role"]),
    (
        "aws_instance",
        &[
            "ami",
            "ebs_optimized",
            "iam_instance_profile",
            "instance_type",
            "metadata_options.http_endpoint",
            "metadata_options.http_put_response_hop_limit",
            "metadata_options.http_tokens",
            "monitoring",
            "root_block_device.delete_on_termination",
            "root_block_device.encrypted",
            "root_block_device.volume_size",
            "root_block_device.volume_type",
            "subnet_id",
            "tags",
            "user_data",
            "user_data_replace_on_change",
            "vpc_security_group_ids",
        ],
    ),
    ("aws_internet_gateway", &["tags", "vpc_id"]),
    (
        "aws_lambda_function",
        &[
            "architectures",
            "environment.variables",
            "function_name",
            "image_uri",
            "logging_config.log_format",
            "logging_config.log_group",
            "memory_size",
            "package_type",
            "role",
            "timeout",
            "tracing_config.mode",
        ],
    ),
    (
        "aws_lambda_function_url",
        &["authorization_type", "function_name"],
    ),
    (
        "aws_lambda_permission",
        &[
            "action",
            "function_name",
            "function_url_auth_type",
            "invoked_via_function_url",
            "principal",
            "statement_id",
        ],
    ),
    (
        "aws_launch_template",
        &[
            "block_device_mappings.device_name",
            "block_device_mappings.ebs.delete_on_termination",
            "block_device_mappings.ebs.encrypted",
            "block_device_mappings.ebs.volume_size",
            "block_device_mappings.ebs.volume_type",
            "instance_type",
            "metadata_options.http_endpoint",
            "metadata_options.http_put_response_hop_limit",
            "metadata_options.http_tokens",
            "name_prefix",
            "tag_specifications.resource_type",
            "tag_specifications.tags",
        ],
    ),
    (
        "aws_lb",
        &[
            "drop_invalid_header_fields",
            "internal",
            "load_balancer_type",
            "name",
            "name_prefix",
            "security_groups",
            "subnets",
        ],
    ),
    (
        "aws_lb_listener",
        &[
            "default_action.target_group_arn",
            "default_action.type",
            "default_action.redirect.port",
            "default_action.redirect.protocol",
            "default_action.redirect.status_code",
            "load_balancer_arn",
            "port",
            "protocol",
        ],
    ),
    (
        "aws_lb_target_group",
        &[
            "health_check.healthy_threshold",
            "health_check.interval",
            "health_check.matcher",
            "health_check.path",
            "health_check.unhealthy_threshold",
            "health_check.timeout",
            "name",
            "name_prefix",
            "port",
            "protocol",
            "target_type",
            "vpc_id",
        ],
    ),
    (
        "aws_route",
        &["destination_cidr_block", "gateway_id", "route_table_id"],
    ),
    ("aws_route_table", &["tags", "vpc_id"]),
    (
        "aws_route_table_association",
        &["route_table_id", "subnet_id"],
    ),
    ("aws_s3_bucket", &["bucket_prefix", "force_destroy"]),
    (
        "aws_s3_bucket_lifecycle_configuration",
        &[
            "bucket",
            "rule.abort_incomplete_multipart_upload.days_after_initiation",
            "rule.filter",
            "rule.id",
            "rule.noncurrent_version_expiration.noncurrent_days",
            "rule.status",
        ],
    ),
    ("aws_s3_bucket_notification", &["bucket", "eventbridge"]),
    (
        "aws_s3_bucket_ownership_controls",
        &["bucket", "rule.object_ownership"],
    ),
    ("aws_s3_bucket_policy", &["bucket", "policy"]),
    (
        "aws_s3_bucket_public_access_block",
        &[
            "block_public_acls",
            "block_public_policy",
            "bucket",
            "ignore_public_acls",
            "restrict_public_buckets",
        ],
    ),
    (
        "aws_s3_bucket_server_side_encryption_configuration",
        &[
            "bucket",
            "rule.apply_server_side_encryption_by_default.sse_algorithm",
        ],
    ),
    (
        "aws_s3_bucket_versioning",
        &["bucket", "versioning_configuration.status"],
    ),
    (
        "aws_s3_object",
        &[
            "bucket",
            "content_type",
            "key",
            "server_side_encryption",
            "source",
            "source_hash",
        ],
    ),
    (
        "aws_secretsmanager_secret",
        &["description", "name_prefix", "recovery_window_in_days"],
    ),
    (
        "aws_secretsmanager_secret_version",
        &["secret_id", "secret_string_wo", "secret_string_wo_version"],
    ),
    (
        "aws_security_group",
        &[
            "description",
            "name",
            "name_prefix",
            "vpc_id",
            "revoke_rules_on_delete",
            "ingress.cidr_blocks",
            "ingress.description",
            "ingress.from_port",
            "ingress.ipv6_cidr_blocks",
            "ingress.prefix_list_ids",
            "ingress.protocol",
            "ingress.security_groups",
            "ingress.self",
            "ingress.to_port",
            "egress.cidr_blocks",
            "egress.description",
            "egress.from_port",
            "egress.ipv6_cidr_blocks",
            "egress.prefix_list_ids",
            "egress.protocol",
            "egress.security_groups",
            "egress.self",
            "egress.to_port",
        ],
    ),
    (
        "aws_security_group_rule",
        &[
            "type",
            "description",
            "from_port",
            "to_port",
            "protocol",
            "cidr_blocks",
            "ipv6_cidr_blocks",
            "prefix_list_ids",
            "security_group_id",
            "self",
            "source_security_group_id",
        ],
    ),
    (
        "aws_ssm_parameter",
        &["name", "type", "value", "description"],
    ),
    (
        "aws_subnet",
        &[
            "availability_zone",
            "cidr_block",
            "map_public_ip_on_launch",
            "tags",
            "vpc_id",
        ],
    ),
    (
        "aws_volume_attachment",
        &[
            "device_name",
            "instance_id",
            "stop_instance_before_detaching",
            "volume_id",
        ],
    ),
    (
        "aws_vpc",
        &[
            "cidr_block",
            "enable_dns_hostnames",
            "enable_dns_support",
            "tags",
        ],
    ),
    ("aws_vpc_security_group_egress_rule", SECURITY_GROUP_RULE),
    ("aws_vpc_security_group_ingress_rule", SECURITY_GROUP_RULE),
    (
        "kubernetes_deployment_v1",
        &[
            "metadata.labels",
            "metadata.name",
            "metadata.namespace",
            "spec.replicas",
            "spec.selector.match_labels",
            "spec.template.metadata.labels",
            "spec.template.spec.automount_service_account_token",
            "spec.template.spec.container.args",
            "spec.template.spec.container.command",
            "spec.template.spec.container.env.name",
            "spec.template.spec.container.env.value",
            "spec.template.spec.container.env_from.secret_ref.name",
            "spec.template.spec.container.image",
            "spec.template.spec.container.image_pull_policy",
            "spec.template.spec.container.liveness_probe.initial_delay_seconds",
            "spec.template.spec.container.liveness_probe.period_seconds",
            "spec.template.spec.container.liveness_probe.tcp_socket.port",
            "spec.template.spec.container.name",
            "spec.template.spec.container.port.container_port",
            "spec.template.spec.container.readiness_probe.http_get.path",
            "spec.template.spec.container.readiness_probe.http_get.port",
            "spec.template.spec.container.readiness_probe.period_seconds",
            "spec.template.spec.container.resources.limits",
            "spec.template.spec.container.resources.requests",
            "spec.template.spec.container.security_context.allow_privilege_escalation",
            "spec.template.spec.container.security_context.capabilities.drop",
            "spec.template.spec.container.security_context.read_only_root_filesystem",
            "spec.template.spec.container.security_context.run_as_non_root",
            "spec.template.spec.container.volume_mount.mount_path",
            "spec.template.spec.container.volume_mount.name",
            "spec.template.spec.container.volume_mount.read_only",
            "spec.template.spec.volume.name",
            "spec.template.spec.volume.empty_dir.medium",
            "spec.template.spec.volume.empty_dir.size_limit",
            "spec.template.spec.volume.secret.secret_name",
            "spec.template.spec.volume.config_map.name",
        ],
    ),
    ("kubernetes_namespace_v1", &["metadata.name"]),
    (
        "kubernetes_secret_v1",
        &[
            "data",
            "data_wo",
            "data_wo_revision",
            "metadata.name",
            "metadata.namespace",
        ],
    ),
    (
        "kubernetes_service_v1",
        &[
            "metadata.annotations",
            "metadata.name",
            "metadata.namespace",
            "spec.port.port",
            "spec.port.protocol",
            "spec.port.target_port",
            "spec.selector",
            "spec.type",
            "wait_for_load_balancer",
        ],
    ),
];

const SECURITY_GROUP_RULE: &[&str] = &[
    "cidr_ipv4",
    "cidr_ipv6",
    "description",
    "from_port",
    "ip_protocol",
    "prefix_list_id",
    "referenced_security_group_id",
    "security_group_id",
    "to_port",
];

const DATA_SOURCES: Table = &[
    (
        "aws_ami",
        &["filter.name", "filter.values", "most_recent", "owners"],
    ),
    (
        "aws_availability_zones",
        &["filter.name", "filter.values", "state"],
    ),
    ("aws_caller_identity", &[]),
    ("aws_eks_cluster", &["name"]),
    ("aws_eks_cluster_auth", &["name"]),
    (
        "aws_iam_policy_document",
        &[
            "statement.actions",
            "statement.condition.test",
            "statement.condition.values",
            "statement.condition.variable",
            "statement.effect",
            "statement.principals.identifiers",
            "statement.principals.type",
            "statement.resources",
            "statement.sid",
        ],
    ),
    ("aws_partition", &[]),
    ("aws_region", &[]),
    ("aws_ssm_parameter", &["name"]),
];

const EPHEMERAL: Table = &[
    (
        "aws_secretsmanager_random_password",
        &["exclude_punctuation", "password_length"],
    ),
    ("aws_secretsmanager_secret_version", &["secret_id"]),
];

/// What a block of `block_kind` (`resource`, `data`, `ephemeral`) of type
/// `kind` may set; `None` for a type no target allows (refused as a type).
fn arguments(block_kind: &str, kind: &str) -> Option<&'static [&'static str]> {
    let table = match block_kind {
        "resource" => RESOURCES,
        "data" => DATA_SOURCES,
        "ephemeral" => EPHEMERAL,
        _ => return None,
    };
    table.iter().find(|(t, _)| *t == kind).map(|(_, a)| *a)
}

/// Whether `path` (an argument, or a block holding some) may be written.
fn allowed(list: &[&str], path: &str, top: bool) -> bool {
    let listed = |entries: &[&str]| {
        entries.iter().any(|entry| {
            *entry == path
                || entry
                    .strip_prefix(path)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    };
    listed(list) || (top || path.starts_with("lifecycle")) && listed(META_ARGUMENTS)
}

/// The arguments `list` allows directly under `parent` (`""`: the top).
fn siblings(list: &[&str], parent: &str) -> Vec<String> {
    let mut names: Vec<String> = list
        .iter()
        .chain(if parent.is_empty() {
            META_ARGUMENTS
        } else {
            &[]
        })
        .filter_map(|entry| {
            let rest = if parent.is_empty() {
                Some(*entry)
            } else {
                entry.strip_prefix(parent)?.strip_prefix('.')
            };
            rest.map(|r| r.split('.').next().unwrap_or(r).to_owned())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

impl Gate<'_> {
    /// Every argument and nested block of `block` is one its type may set.
    pub(super) fn arguments(&mut self, block_kind: &str, kind: &str, address: &str, body: &Body) {
        let Some(list) = arguments(block_kind, kind) else {
            return;
        };
        let mut refused = Vec::new();
        walk(list, "", body, &mut refused);
        for (path, parent) in refused {
            let may = siblings(list, &parent);
            self.violation(
                Rule::ArgumentNotAllowed,
                format!(
                    "{address}: {path} is not an argument a deployflow deployment sets on {kind}; remove it. {}",
                    if may.is_empty() {
                        format!("{} takes nothing there.", if parent.is_empty() { kind } else { &parent })
                    } else {
                        format!(
                            "{} may set only: {}.",
                            if parent.is_empty() { kind } else { &parent },
                            may.join(", ")
                        )
                    }
                ),
            );
        }
        if block_kind == "data" {
            self.data_meta_arguments(address, body);
        }
        self.tag_keys(address, body);
        if block_kind == "resource" && kind == "aws_ecs_task_definition" {
            self.container_keys(address, body);
        }
    }

    /// A data source is read again by every plan and every destroy: one that
    /// waits on another (`depends_on`), checks what it read (`lifecycle`
    /// conditions) or is counted can be made to fail once something AWS
    /// changes by itself moves (a cluster's version), and the destroy then
    /// fails with it (the cluster token's refresh reads what it depends on).
    /// deployflow's templates read each data source plainly.
    fn data_meta_arguments(&mut self, address: &str, body: &Body) {
        const REFUSED: &[&str] = &["depends_on", "lifecycle", "count", "for_each"];
        let written = body
            .attributes()
            .map(|a| a.key())
            .chain(body.blocks().map(|b| b.identifier()));
        let found: Vec<&str> = written.filter(|name| REFUSED.contains(name)).collect();
        for name in found {
            self.violation(
                Rule::ArgumentNotAllowed,
                format!(
                    "{address}: {name} on a data source is refused: a data source is read again by every plan and destroy, and one tied to other values by {name} can fail later and keep the deployment from being destroyed; read it plainly."
                ),
            );
        }
    }

    /// The keys of each container of an ECS task definition's
    /// `container_definitions` (an unreadable one is refused by the image
    /// rule already).
    pub(super) fn container_keys(&mut self, address: &str, body: &Body) {
        let Some(definitions) = body
            .attributes()
            .find(|a| a.key() == "container_definitions")
            .map(|a| a.expr())
        else {
            return;
        };
        let mut containers = Vec::new();
        self.containers(definitions, 0, &mut containers);
        let mut refused = Vec::new();
        let mut foreign_logs = false;
        let mut no_logs = false;
        for container in containers {
            no_logs |= !container.iter().any(|(key, _)| key == "logConfiguration");
            for (key, value) in container {
                if !CONTAINER_KEYS.contains(&key.as_str()) {
                    refused.push(key);
                } else if key == "logConfiguration" {
                    foreign_logs |= !self.logs_to_own_group(value);
                    let mut entries = Vec::new();
                    if self.object_entries(value, 0, &mut entries) {
                        refused.extend(
                            entries
                                .into_iter()
                                .map(|(k, _)| k)
                                .filter(|k| !LOG_CONFIGURATION_KEYS.contains(&k.as_str()))
                                .map(|k| format!("logConfiguration.{k}")),
                        );
                    }
                }
            }
        }
        if foreign_logs {
            self.violation(
                Rule::ForeignResource,
                format!(
                    "{address}: a container's logConfiguration must be logDriver = \"awslogs\" with options {} only (its own log group): another driver sends everything the app prints to a host of its own.",
                    AWSLOGS_OPTIONS.join(", ")
                ),
            );
        }
        if no_logs {
            self.violation(
                Rule::LogsOff,
                format!("{address}: every container must have a logConfiguration (logDriver = \"awslogs\", its own log group): without one nothing the app prints is kept."),
            );
        }
        refused.sort();
        refused.dedup();
        for key in refused {
            self.violation(
                Rule::ArgumentNotAllowed,
                format!(
                    "{address}: a container definition sets {key:?}, which deployflow's containers do not; remove it. A container may set only {} (logConfiguration: {}).",
                    CONTAINER_KEYS.join(", "),
                    LOG_CONFIGURATION_KEYS.join(", ")
                ),
            );
        }
    }

    /// A container logs to its own log group through `awslogs` only: the
    /// `splunk`, `fluentd`, `gelf`… drivers send everything the app prints
    /// to a host of the author's choosing, and CloudWatch gets none of it.
    fn logs_to_own_group(&self, value: &Expression) -> bool {
        let mut entries = Vec::new();
        let readable = self.object_entries(value, 0, &mut entries);
        let driver = entries
            .iter()
            .find(|(key, _)| key == "logDriver")
            .and_then(|(_, v)| super::expr::as_str(self.resolve(v)));
        let mut options = Vec::new();
        let options_readable = entries
            .iter()
            .find(|(key, _)| key == "options")
            .is_none_or(|(_, v)| self.object_entries(v, 0, &mut options));
        let foreign_options: Vec<&str> = options
            .iter()
            .map(|(key, _)| key.as_str())
            .filter(|key| !AWSLOGS_OPTIONS.contains(key))
            .collect();
        readable
            && options_readable
            && driver.as_deref() == Some("awslogs")
            && foreign_options.is_empty()
    }

    /// The containers of `container_definitions`, each as its literal keys
    /// and values: the objects of its list, through `jsonencode`, `merge`,
    /// `concat` and locals, and the keys a `for` takes from a literal object.
    fn containers<'e>(
        &'e self,
        expr: &'e Expression,
        depth: usize,
        out: &mut Vec<Vec<(String, &'e Expression)>>,
    ) {
        if depth > 8 {
            return;
        }
        match self.resolve(expr) {
            Expression::Array(items) => {
                for item in items {
                    self.containers(item, depth + 1, out);
                }
            }
            Expression::Parenthesis(inner) => self.containers(inner, depth + 1, out),
            Expression::FuncCall(call) if call.name.name.as_str() == "merge" => {
                let mut merged = Vec::new();
                for arg in &call.args {
                    let mut parts = Vec::new();
                    self.containers(arg, depth + 1, &mut parts);
                    merged.extend(parts.into_iter().flatten());
                }
                out.push(merged);
            }
            Expression::FuncCall(call)
                if matches!(
                    call.name.name.as_str(),
                    "jsonencode" | "concat" | "tolist" | "flatten"
                ) =>
            {
                for arg in &call.args {
                    self.containers(arg, depth + 1, out);
                }
            }
            Expression::Object(object) => out.push(
                object
                    .iter()
                    .filter_map(|(key, value)| key_text(key).map(|k| (k, value)))
                    .collect(),
            ),
            // `{ for key, value in { command = … } : key => value }`.
            Expression::ForExpr(f) if f.key_expr.is_some() => {
                if let Expression::Object(object) = self.resolve(&f.collection_expr) {
                    out.push(
                        object
                            .iter()
                            .filter_map(|(key, value)| key_text(key).map(|k| (k, value)))
                            .collect(),
                    );
                }
            }
            _ => {}
        }
    }

    /// The keys of every `tags` argument, and of the provider's default tags.
    pub(super) fn tag_keys(&mut self, address: &str, body: &Body) {
        let mut found = Vec::new();
        for path in TAG_ARGUMENTS {
            tag_expressions(body, path, &mut found);
        }
        for expr in found {
            let mut found = Vec::new();
            let readable = self.object_entries(expr, 0, &mut found);
            let entries: Vec<(String, bool)> = found
                .into_iter()
                .map(|(key, value)| (key, self.is_fixed_text(value, 0)))
                .collect();
            if !readable {
                self.violation(
                    Rule::ArgumentNotAllowed,
                    format!("{address}: tags must be an object with literal keys (merge() of such objects at most): the gate reads which tags a resource gets."),
                );
                continue;
            }
            let mut keys = Vec::new();
            for (key, fixed) in entries {
                if !fixed {
                    self.violation(
                        Rule::ArgumentNotAllowed,
                        format!("{address}: the tag {key:?} must be literal text, local.name or count.index: a tag is readable by the whole account, and its value is shown as the resource's tags_all."),
                    );
                }
                keys.push(key);
            }
            for key in keys {
                let known = TAG_KEYS.contains(&key.as_str())
                    || TAG_KEY_PREFIXES.iter().any(|p| key.starts_with(p));
                if !known {
                    self.violation(
                        Rule::ArgumentNotAllowed,
                        format!(
                            "{address}: the tag {key:?} is not one deployflow writes; tags may be only {}, or kubernetes.io/cluster/NAME. An account's policies can grant by tag, so a tag is a permission.",
                            TAG_KEYS.join(", ")
                        ),
                    );
                }
            }
        }
    }

    /// The literal keys of an object and their values, `merge()` of objects
    /// and locals followed; `false` when a key cannot be read.
    fn object_entries<'e>(
        &'e self,
        expr: &'e Expression,
        depth: usize,
        entries: &mut Vec<(String, &'e Expression)>,
    ) -> bool {
        if depth > 8 {
            return false;
        }
        match self.resolve(expr) {
            Expression::Object(object) => object.iter().all(|(key, value)| match key_text(key) {
                Some(text) => {
                    entries.push((text, value));
                    true
                }
                None => false,
            }),
            Expression::FuncCall(call) if call.name.name.as_str() == "merge" => call
                .args
                .iter()
                .all(|arg| self.object_entries(arg, depth + 1, entries)),
            Expression::Parenthesis(inner) => self.object_entries(inner, depth + 1, entries),
            _ => false,
        }
    }

    /// Text the author wrote: literals, `count.index`, and locals that are
    /// such text themselves (`"${local.name}-vpc"`).
    fn is_fixed_text(&self, expr: &Expression, depth: usize) -> bool {
        if depth > 8 {
            return false;
        }
        match self.resolve(expr) {
            Expression::String(_) | Expression::Number(_) | Expression::Bool(_) => true,
            Expression::Traversal(t) => {
                matches!(&t.expr, Expression::Variable(v) if v.as_str() == "count")
                    && matches!(t.operators.as_slice(), [hcl::expr::TraversalOperator::GetAttr(a)] if a.as_str() == "index")
            }
            Expression::TemplateExpr(template) => {
                let Ok(template) = hcl::template::Template::from_expr(template) else {
                    return false;
                };
                template.elements().iter().all(|element| match element {
                    hcl::template::Element::Literal(_) => true,
                    hcl::template::Element::Interpolation(i) => {
                        self.is_fixed_text(&i.expr, depth + 1)
                    }
                    hcl::template::Element::Directive(_) => false,
                })
            }
            _ => false,
        }
    }
}

/// Collects `(path, parent)` of every argument or block of `body` (under
/// `parent`) that `list` does not allow.
fn walk(list: &[&str], parent: &str, body: &Body, refused: &mut Vec<(String, String)>) {
    let path_of = |name: &str| {
        if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}.{name}")
        }
    };
    let top = parent.is_empty();
    for attribute in body.attributes() {
        let path = path_of(attribute.key());
        if !allowed(list, &path, top) {
            refused.push((path, parent.to_owned()));
        }
    }
    for block in body.blocks() {
        let (name, inner) = written_block(block);
        let path = path_of(name);
        if !allowed(list, &path, top) {
            refused.push((path, parent.to_owned()));
            continue;
        }
        if let Some(inner) = inner {
            walk(list, &path, inner, refused);
        }
    }
}

/// The name and body of the blocks `block` writes: `dynamic "x" { for_each
/// … content { … } }` writes `x` blocks of its `content`.
fn written_block(block: &Block) -> (&str, Option<&Body>) {
    match block.identifier() {
        "dynamic" => (
            labels(block).first().copied().unwrap_or_default(),
            block
                .body()
                .blocks()
                .find(|b| b.identifier() == "content")
                .map(Block::body),
        ),
        name => (name, Some(block.body())),
    }
}

/// The values of the tag attribute at `path` (`a.b`: attribute `b` of
/// blocks `a`) in `body`.
fn tag_expressions<'b>(body: &'b Body, path: &str, found: &mut Vec<&'b Expression>) {
    match path.split_once('.') {
        None => found.extend(
            body.attributes()
                .filter(|a| a.key() == path)
                .map(|a| a.expr()),
        ),
        Some((block, rest)) => {
            for inner in body.blocks() {
                let (name, inner_body) = written_block(inner);
                if name == block
                    && let Some(inner_body) = inner_body
                {
                    tag_expressions(inner_body, rest, found);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choose::Target;

    #[test]
    fn every_allowed_type_has_its_arguments() {
        for target in Target::ALL {
            for kind in super::super::allowlist::resources(target) {
                assert!(arguments("resource", kind).is_some(), "resource {kind}");
            }
            for kind in super::super::allowlist::data_sources(target) {
                assert!(arguments("data", kind).is_some(), "data {kind}");
            }
            for kind in super::super::allowlist::ephemeral_types(target) {
                assert!(arguments("ephemeral", kind).is_some(), "ephemeral {kind}");
            }
        }
    }

    #[test]
    fn blocks_and_arguments_by_path() {
        let list = &["a.b.c", "d"];
        assert!(allowed(list, "a", true));
        assert!(allowed(list, "a.b", false));
        assert!(allowed(list, "a.b.c", false));
        assert!(!allowed(list, "a.b.x", false));
        assert!(!allowed(list, "ab", true));
        assert!(allowed(list, "count", true));
        assert!(!allowed(list, "a.count", false));
        assert!(allowed(list, "lifecycle.ignore_changes", false));
        assert_eq!(
            siblings(list, ""),
            [
                "a",
                "count",
                "d",
                "depends_on",
                "for_each",
                "lifecycle",
                "provider"
            ]
        );
        assert_eq!(siblings(list, "a"), ["b"]);
    }
}
