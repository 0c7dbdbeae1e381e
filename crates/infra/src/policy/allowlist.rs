//! What each target's Terraform may contain: the types the vetted templates
//! use, plus a few harmless ones an author commonly reaches for.

use crate::choose::Target;

/// Every target: roles, logs, parameters.
const COMMON_RESOURCES: &[&str] = &[
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_cloudwatch_log_group",
    "aws_ssm_parameter",
];

/// The dedicated VPC of the `vm`, `container-service` and `kubernetes` targets.
const NETWORK_RESOURCES: &[&str] = &[
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_default_security_group",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
];

const REGISTRY_RESOURCES: &[&str] = &["aws_ecr_repository", "aws_ecr_lifecycle_policy"];

const VM_RESOURCES: &[&str] = &[
    "aws_instance",
    "aws_eip",
    "aws_eip_association",
    "aws_iam_instance_profile",
    "aws_s3_bucket",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_notification",
    "aws_s3_object",
    "aws_ebs_volume",
    "aws_volume_attachment",
    "aws_dlm_lifecycle_policy",
];

const CONTAINER_SERVICE_RESOURCES: &[&str] = &[
    "aws_ecs_cluster",
    "aws_ecs_cluster_capacity_providers",
    "aws_ecs_task_definition",
    "aws_ecs_service",
    "aws_lb",
    "aws_lb_target_group",
    "aws_lb_listener",
    "aws_appautoscaling_target",
    "aws_appautoscaling_policy",
];

/// The managed database and cache of the container service, Kubernetes and
/// the VM, and the secrets that carry their password (and, on ECS and the
/// VM, the app's connection settings).
const STORE_RESOURCES: &[&str] = &[
    "aws_db_instance",
    "aws_db_subnet_group",
    "aws_elasticache_replication_group",
    "aws_elasticache_subnet_group",
    "aws_secretsmanager_secret",
    "aws_secretsmanager_secret_version",
];

/// Ephemeral resources of the stores: a generated password, and the stored
/// one read back.
const STORE_EPHEMERAL: &[&str] = &[
    "aws_secretsmanager_random_password",
    "aws_secretsmanager_secret_version",
];

const SERVERLESS_RESOURCES: &[&str] = &[
    "aws_lambda_function",
    "aws_lambda_function_url",
    "aws_lambda_permission",
];

const KUBERNETES_RESOURCES: &[&str] = &[
    "aws_eks_cluster",
    "aws_eks_node_group",
    "aws_launch_template",
    "kubernetes_namespace_v1",
    "kubernetes_secret_v1",
    "kubernetes_deployment_v1",
    "kubernetes_service_v1",
];

const COMMON_DATA: &[&str] = &[
    "aws_availability_zones",
    "aws_iam_policy_document",
    "aws_partition",
    "aws_region",
    "aws_caller_identity",
];

const VM_DATA: &[&str] = &["aws_ami", "aws_ssm_parameter"];

const KUBERNETES_DATA: &[&str] = &["aws_eks_cluster", "aws_eks_cluster_auth"];

/// Data sources that run a program or reach an arbitrary URL while planning.
pub(super) const FORBIDDEN_DATA: &[&str] = &["external", "http"];

pub(super) fn resources(target: Target) -> Vec<&'static str> {
    let specific: &[&[&str]] = match target {
        Target::Vm => &[NETWORK_RESOURCES, VM_RESOURCES, STORE_RESOURCES],
        Target::ContainerService => &[
            NETWORK_RESOURCES,
            REGISTRY_RESOURCES,
            CONTAINER_SERVICE_RESOURCES,
            STORE_RESOURCES,
        ],
        Target::Serverless => &[REGISTRY_RESOURCES, SERVERLESS_RESOURCES],
        Target::Kubernetes => &[
            NETWORK_RESOURCES,
            REGISTRY_RESOURCES,
            KUBERNETES_RESOURCES,
            STORE_RESOURCES,
        ],
        // No Terraform at all: nothing beyond the common list is allowed.
        Target::DockerHost => &[],
    };
    COMMON_RESOURCES
        .iter()
        .chain(specific.iter().flat_map(|list| list.iter()))
        .copied()
        .collect()
}

pub(super) fn data_sources(target: Target) -> Vec<&'static str> {
    let specific: &[&str] = match target {
        Target::Vm => VM_DATA,
        Target::Kubernetes => KUBERNETES_DATA,
        Target::ContainerService | Target::Serverless | Target::DockerHost => &[],
    };
    COMMON_DATA.iter().chain(specific).copied().collect()
}

pub(super) fn ephemeral_types(target: Target) -> Vec<&'static str> {
    match target {
        Target::Vm | Target::ContainerService | Target::Kubernetes => STORE_EPHEMERAL.to_vec(),
        _ => Vec::new(),
    }
}

/// The AWS-managed policies a target's templates attach. Each grants more
/// than the action allow-list (on every resource of the account), so a
/// target has only the ones its own roles need.
pub(super) fn managed_policies(target: Target) -> Vec<&'static str> {
    match target {
        // It lives under AWS's service-role/ path, as its ARN says.
        Target::ContainerService => vec!["service-role/AmazonECSTaskExecutionRolePolicy"],
        Target::Kubernetes => vec![
            "AmazonEKSClusterPolicy",
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonEC2ContainerRegistryPullOnly",
            "AmazonEC2ContainerRegistryReadOnly",
        ],
        // Data Lifecycle Manager's role, which snapshots the data volume.
        Target::Vm => vec!["service-role/AWSDataLifecycleManagerServiceRole"],
        // A function's role is the app's own: its template grants logs on
        // its own log group, where AWSLambdaBasicExecutionRole writes to any.
        Target::Serverless | Target::DockerHost => Vec::new(),
    }
}

/// The one service whose role each allowed AWS-managed policy is made for.
pub(super) fn managed_policy_service(name: &str) -> Option<&'static str> {
    match name {
        "service-role/AmazonECSTaskExecutionRolePolicy" => Some("ecs-tasks.amazonaws.com"),
        "AmazonEKSClusterPolicy" => Some("eks.amazonaws.com"),
        "AmazonEKSWorkerNodePolicy"
        | "AmazonEKS_CNI_Policy"
        | "AmazonEC2ContainerRegistryPullOnly"
        | "AmazonEC2ContainerRegistryReadOnly" => Some("ec2.amazonaws.com"),
        "service-role/AWSDataLifecycleManagerServiceRole" => Some("dlm.amazonaws.com"),
        _ => None,
    }
}

pub(super) fn providers(target: Target) -> Vec<&'static str> {
    match target {
        Target::Kubernetes => vec!["aws", "kubernetes"],
        _ => vec!["aws"],
    }
}
