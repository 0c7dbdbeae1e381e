//! The policy gate: every Terraform file set, vetted template or LLM-written,
//! passes [`check`] before it may be applied.
//!
//! The gate parses each file with hcl-rs and allows only what a deployflow
//! deployment needs: known providers, resource types and data sources for the
//! chosen target; the region and instance type of the choice as literals; no
//! provisioners, no `external`/`http` data, no remote modules, no foreign
//! backend, no reading the worker's files, nothing but the app port open to
//! the world. Each violation names the file and the resource address and says
//! what to do instead, for a person or an LLM repairing its own output.

mod allowlist;
mod arguments;
mod conditions;
mod destroy_values;
mod evaluation;
mod expr;
mod foreign;
pub(crate) use foreign::account_numbers;
mod iam;
mod images;
mod ingress;
mod lexical;
mod plan;
mod resources;
mod rule;
mod secrets;
mod settings;
mod snapshots;
mod stores;
mod structure;
mod trust;
mod workloads;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::choose::{Choice, Target};
use crate::terraform::{BUNDLE_PATH_VARIABLE, HOST_PORT};

pub use plan::PLANNED_CHANGES;
pub use rule::Rule;

/// The `file` of violations about the configuration as a whole (a missing
/// provider or output) rather than one file.
pub const WHOLE_CONFIGURATION: &str = "*";

/// What a Terraform file set may contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Every `provider "aws"` (and any `region` argument) must say exactly this.
    pub region: String,
    /// Provider local names, each from `hashicorp/<name>`.
    pub allowed_providers: BTreeSet<String>,
    pub allowed_resource_types: BTreeSet<String>,
    pub allowed_data_sources: BTreeSet<String>,
    /// `ephemeral` resource types (values Terraform never stores).
    #[serde(default)]
    pub allowed_ephemeral_types: BTreeSet<String>,
    /// AWS-managed policies (`NAME` or `service-role/NAME`) roles may have.
    #[serde(default)]
    pub allowed_managed_policies: BTreeSet<String>,
    /// Literal values `instance_type` / `instance_types` may take.
    pub allowed_instance_types: BTreeSet<String>,
    /// TCP ports that may be open to 0.0.0.0/0 or ::/0.
    pub world_open_ports: BTreeSet<u16>,
    /// The backend type deployflow adds itself, with an empty body (its
    /// settings are passed on the command line); `None`: no backend block.
    pub allowed_backend: Option<String>,
    /// Outputs deployflow reads after `apply`.
    pub required_outputs: BTreeSet<String>,
    /// Variables deployflow passes with `-var`; every other one needs a default.
    pub supplied_variables: BTreeSet<String>,
    /// The largest literal `count` a resource may have.
    #[serde(default = "max_count")]
    pub max_count: u32,
    /// The largest replica, node or task count (`desired_count`, `max_size`…).
    #[serde(default = "max_replicas")]
    pub max_replicas: u32,
    /// The largest task (`cpu`, `memory` of a task definition) or function
    /// (`memory_size`) the choice sized: `fargate-512-1024` is at most 512
    /// CPU units and 1024 MiB, `lambda-512` at most 512 MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_task_size: Option<TaskSize>,
    /// The largest disk (`volume_size`, GiB) an instance or node may have.
    #[serde(default = "max_disk_gb")]
    pub max_disk_gb: u32,
    /// The job's own resource name (`df-…`), when the gate knows the job:
    /// names that can take over an existing resource (an ECS cluster) and
    /// the parameter folders the app may read must be this job's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
}

/// A task's or function's size as the choose step gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSize {
    /// CPU units (1024 a vCPU); `None` for a function.
    pub cpu: Option<i64>,
    /// MiB.
    pub memory: i64,
}

impl TaskSize {
    /// `fargate-CPU-MEMORY` or `lambda-MEMORY`, the choice's instance type
    /// for the container service and serverless.
    pub fn parse(instance_type: &str) -> Option<TaskSize> {
        if let Some(rest) = instance_type.strip_prefix("fargate-") {
            let (cpu, memory) = rest.split_once('-')?;
            return Some(TaskSize {
                cpu: Some(cpu.parse().ok()?),
                memory: memory.parse().ok()?,
            });
        }
        let memory = instance_type.strip_prefix("lambda-")?.parse().ok()?;
        Some(TaskSize { cpu: None, memory })
    }
}

/// Copies of one resource a configuration may ask for (subnets, one per zone).
const MAX_COUNT: u32 = 3;
/// Replicas allowed when no choice says how many (`policy check`).
const DEFAULT_MAX_REPLICAS: u32 = 10;

/// Disk allowed when no choice says how much (`policy check`), in GiB.
const DEFAULT_MAX_DISK_GB: u32 = 100;

fn max_disk_gb() -> u32 {
    DEFAULT_MAX_DISK_GB
}

fn max_count() -> u32 {
    MAX_COUNT
}

fn max_replicas() -> u32 {
    DEFAULT_MAX_REPLICAS
}

impl Policy {
    /// The policy for Terraform deploying `choice`: its target's allowlists,
    /// its region and instance type, port 8080, an `app_url` output.
    pub fn for_choice(choice: &Choice) -> Policy {
        let mut policy = Policy::for_target(choice.target, &choice.region, &choice.instance_type);
        // The templates allow one node more than the replicas, for rolling updates.
        policy.max_replicas = choice.replicas.max(1) + 1;
        if choice.disk_gb > 0 {
            policy.max_disk_gb = choice.disk_gb.max(8);
        }
        policy
    }

    /// [`Policy::for_choice`] for the job `job_id`: what its resources may be
    /// named is known too.
    pub fn for_job(choice: &Choice, job_id: &str) -> Policy {
        Policy {
            resource_name: Some(crate::terraform::resource_name(job_id)),
            ..Policy::for_choice(choice)
        }
    }

    /// The policy for Terraform of `target` in `region` whose EC2 instances
    /// (vm, Kubernetes nodes) are `instance_type`.
    pub fn for_target(target: Target, region: &str, instance_type: &str) -> Policy {
        let set = |items: Vec<&str>| items.into_iter().map(str::to_owned).collect();
        // The apply step passes these with -var: their defaults are not
        // what Terraform reads.
        let supplied = match target {
            Target::Vm => vec![BUNDLE_PATH_VARIABLE],
            Target::ContainerService | Target::Serverless | Target::Kubernetes => {
                vec![crate::terraform::IMAGE_TAG_VARIABLE]
            }
            Target::DockerHost => vec![],
        };
        // Fargate and Lambda sizes are not instance types: those targets run no EC2.
        let instance_types = match target {
            Target::Vm | Target::Kubernetes => vec![instance_type],
            Target::ContainerService | Target::Serverless | Target::DockerHost => vec![],
        };
        Policy {
            region: region.to_owned(),
            allowed_providers: set(allowlist::providers(target)),
            allowed_resource_types: set(allowlist::resources(target)),
            allowed_data_sources: set(allowlist::data_sources(target)),
            allowed_ephemeral_types: set(allowlist::ephemeral_types(target)),
            allowed_managed_policies: set(allowlist::managed_policies(target)),
            allowed_instance_types: set(instance_types),
            world_open_ports: BTreeSet::from([HOST_PORT]),
            allowed_backend: None,
            required_outputs: set(vec!["app_url"]),
            supplied_variables: set(supplied),
            max_count: MAX_COUNT,
            max_replicas: DEFAULT_MAX_REPLICAS,
            max_disk_gb: DEFAULT_MAX_DISK_GB,
            max_task_size: match target {
                Target::ContainerService | Target::Serverless => TaskSize::parse(instance_type),
                Target::Vm | Target::Kubernetes | Target::DockerHost => None,
            },
            resource_name: None,
        }
    }

    /// The rules as sentences, to tell an author up front what will be checked.
    pub fn describe(&self) -> Vec<String> {
        let list = |set: &BTreeSet<String>| {
            set.iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let ports = self
            .world_open_ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let mut rules = vec![
            "Only *.tf files (no .tf.json, .tfvars or other files), and no override.tf or *_override.tf.".to_owned(),
            "Provider blocks set only: aws region (and alias) with a default_tags block; kubernetes host, cluster_ca_certificate and token from this configuration's aws_eks_cluster / data.aws_eks_cluster_auth. No exec, profile, assume_role, endpoints.".to_owned(),
            "IAM: actions only ecr:GetAuthorizationToken, ecr:BatchCheckLayerAvailability, ecr:GetDownloadUrlForLayer, ecr:BatchGetImage, logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, ssm:GetParameter(s|sByPath), secretsmanager:GetSecretValue, s3:GetObject, xray:PutTraceSegments, xray:PutTelemetryRecords (trust policies: sts:AssumeRole, sts:TagSession for Service principals ec2/ecs-tasks/lambda/eks.amazonaws.com); resources = \"*\" only for ecr:GetAuthorizationToken and xray, every other resource a reference to this configuration's own (aws_s3_bucket.x.arn, \"${aws_s3_bucket.x.arn}/*\") or a parameter under its own /deployflow/NAME/ folder; statements use only Sid, Effect, Action, Resource, Principal, Condition; aws_lambda_permission only lambda:InvokeFunction(Url), to \"*\" only through the function URL; ssm:UpdateInstanceInformation and ssmmessages channels (Session Manager) unscoped too; managed policies only those the target's templates attach (vm: none; container service: service-role/AmazonECSTaskExecutionRolePolicy; serverless: none; Kubernetes: AmazonEKSClusterPolicy, AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy, AmazonEC2ContainerRegistryPullOnly/ReadOnly).".to_owned(),
            "Only resources this configuration creates: ids, buckets, roles, clusters and ARNs are references to a resource of the matching type through its id, arn or name (aws_vpc.main.id, aws_s3_bucket.b.id), never literal ids (sg-…, vpc-…), names, account ARNs or attributes that repeat the author's text (a parameter's value, a name_prefix); stores start empty (no snapshot_identifier, replicate_source_db, snapshot_name...).".to_owned(),
            "data aws_ssm_parameter only for names under /aws/service/; data aws_ami only with owners amazon, 137112412989 or 099720109477.".to_owned(),
            "Conditions (a resource's lifecycle precondition/postcondition, an output's precondition) test only var.*, literals and locals made of them: never data sources, self or other resources, whose values change by themselves.".to_owned(),
            format!(
                "Providers: only {} (source hashicorp/<name>), each in required_providers with a version constraint; no credentials in provider blocks (they come from the environment).",
                list(&self.allowed_providers)
            ),
            format!(
                "Every provider \"aws\" block sets region = \"{}\" as a literal string, and any region argument says the same.",
                self.region
            ),
            format!("Resource types: only {}.", list(&self.allowed_resource_types)),
            "Each resource, data source and container definition sets only the arguments and nested blocks deployflow's templates set for its type (a refusal lists those allowed there), besides count, for_each, depends_on, provider and lifecycle; tags (and the provider's default_tags) only with the keys Name, ManagedBy, DeployflowJob, kubernetes.io/role/elb and kubernetes.io/cluster/NAME.".to_owned(),
            format!(
                "Data sources: only {}; never data \"external\" or data \"http\".",
                list(&self.allowed_data_sources)
            ),
            if self.allowed_instance_types.is_empty() {
                "No instance_type / instance_types: this target runs no EC2 instances.".to_owned()
            } else {
                format!(
                    "instance_type / instance_types: only the literal {}.",
                    list(&self.allowed_instance_types)
                )
            },
            format!(
                "count is a literal of at most {}; desired_count, desired_size, min_size, max_size, min_capacity and max_capacity are literals of at most {}, as is the number of EC2 instances all aws_instance blocks make together; volume_size at most {} GiB, no io1/io2 volumes, iops at most 3000 and throughput at most 125.",
                self.max_count, self.max_replicas, self.max_disk_gb
            ),
            "No provisioner blocks of any kind (local-exec, remote-exec, file), no null_resource or terraform_data.".to_owned(),
            "Kubernetes pods: no host_network, host_pid, host_ipc, share_process_namespace, privileged or allow_privilege_escalation other than false, no host_path volumes or host_port, no added capabilities, automount_service_account_token = false, dynamic blocks only for env; services only ClusterIP or LoadBalancer, no external_ips, a load balancer only on the app port.".to_owned(),
            "Modules only from local ./ paths (or none), count and for_each bounded like a resource's; a module's variables are read as what its call passes, not their defaults.".to_owned(),
            format!(
                "Ingress from 0.0.0.0/0 or ::/0 only on tcp port(s) {ports}; no SSH from the world (administer through SSM Session Manager). Ingress sources are literal CIDRs or references to resources."
            ),
            format!(
                "No file(), templatefile(), templatestring() or other reads of local files, except file functions on var.{BUNDLE_PATH_VARIABLE}."
            ),
            "At most 2 of each: aws_ecs_service, aws_ecs_task_definition, aws_eks_node_group, aws_lambda_function, aws_db_instance, aws_elasticache_*, aws_lb, aws_launch_template (count included); 1 aws_eks_cluster. A node group has a launch_template block naming this configuration's aws_launch_template. data.aws_eks_cluster_auth is read only by the kubernetes provider's token. An own ARN takes a /path only for an S3 bucket or DynamoDB table (\"${aws_s3_bucket.x.arn}/*\"); other ARNs take only :* (a log group's streams).".to_owned(),
            "Top-level blocks: terraform, provider, resource, data, module, variable, output, locals. A terraform block sets only required_version, required_providers and an empty backend (no encryption block).".to_owned(),
            format!("Outputs required: {}.", list(&self.required_outputs)),
        ];
        rules.push(match &self.allowed_backend {
            Some(backend) => format!(
                "No backend or cloud block, except backend \"{backend}\" {{}} with an empty body."
            ),
            None => "No backend or cloud block: deployflow configures the state.".to_owned(),
        });
        if let Some(name) = &self.resource_name {
            rules.push(format!(
                "This job's resources are named after {name}: every name, name_prefix, identifier_prefix, bucket_prefix, family, function_name, replication_group_id and node_group_name of an AWS resource starts with it (a log group's after /deployflow/, /aws/lambda/ or /aws/eks/); an aws_ecs_cluster's name and an aws_ecs_task_definition's family start with it (an existing cluster's name takes that cluster over, an existing family's makes this image its newest revision), and parameters the app reads are under /deployflow/{name}/."
            ));
        }
        rules.push(if self.supplied_variables.is_empty() {
            "Every variable has a default.".to_owned()
        } else {
            format!(
                "Every variable has a default, except {} (deployflow supplies it).",
                list(&self.supplied_variables)
            )
        });
        rules
    }
}

/// One broken rule, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The file name, or [`WHOLE_CONFIGURATION`].
    pub file: String,
    /// The line (from 1) where the block the violation is about starts, when
    /// it is about one block of a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub rule: Rule,
    /// Names the resource address and says what to change.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: [{}] {}", self.file, self.rule, self.message),
            None => write!(f, "{}: [{}] {}", self.file, self.rule, self.message),
        }
    }
}

/// The gate's verdict, part of the `generate` checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyReport {
    pub passed: bool,
    pub violations: Vec<Violation>,
}

impl PolicyReport {
    /// The distinct rules broken.
    pub fn rules(&self) -> BTreeSet<Rule> {
        self.violations.iter().map(|v| v.rule).collect()
    }
}

/// Checks every file of a Terraform configuration against `policy`.
pub fn check(files: &BTreeMap<String, String>, policy: &Policy) -> PolicyReport {
    let mut gate = structure::Gate::new(policy);
    for (name, text) in files {
        gate.remember_values(name, text);
    }
    gate.bounded_expansion();
    for (name, text) in files {
        gate.file(name, text);
    }
    let violations = gate.finish();
    PolicyReport {
        passed: violations.is_empty(),
        violations,
    }
}

/// Checks the changes of a saved plan, as `terraform show -json PLANFILE`
/// prints them, with the rules [`check`] applies to files: the gate's second
/// look, on values the files compute, before a plan is approved or applied.
pub fn check_plan(show_json: &str, policy: &Policy) -> PolicyReport {
    let violations = match serde_json::from_str::<serde_json::Value>(show_json) {
        Ok(plan) => plan::check(&plan, policy),
        Err(error) => vec![Violation {
            file: PLANNED_CHANGES.to_owned(),
            line: None,
            rule: Rule::ParseError,
            message: format!(
                "not a JSON plan ({error}); give the output of terraform show -json PLANFILE."
            ),
        }],
    };
    PolicyReport {
        passed: violations.is_empty(),
        violations,
    }
}
