//! A thirty-eighth round: a condition on what changes by itself. A public
//! SSM parameter's value (a version AWS moves), an image's id, an attribute
//! of a resource: a `precondition` or `postcondition` that compares one with
//! a literal passes at the first apply and fails every plan once the value
//! moves. Conditions may test only the author's own values. Also: an image
//! name pinned to one build or to a release no longer published (it stops
//! matching once AWS deprecates the images), container logs sent to another
//! region, and node groups whose nodes add up past the cluster's size.

use super::*;

const PARAMETER: &str = "data \"aws_ssm_parameter\" \"release\" {\n  name = \"/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version\"\n}\n";

fn output_with_condition(condition: &str) -> String {
    format!(
        "output \"checked\" {{\n  value = \"checked\"\n  precondition {{\n    condition     = {condition}\n    error_message = \"not yet\"\n  }}\n}}\n"
    )
}

/// Refused for what the condition reads (other rules may refuse the same
/// lines for other reasons: a parameter's value in an output is a secret).
fn assert_condition_refused(case: &str, extra: &str, policy: &Policy) {
    let report = check_with(extra, policy);
    assert!(
        report.violations.iter().any(|v| v.rule == Rule::Lifecycle
            && v.message.contains("can change without this configuration")),
        "case {case:?}:\n{extra}\n{}",
        messages(&report)
    );
}

#[test]
fn a_condition_reads_only_the_authors_values() {
    let vm = vm_policy();
    for (case, extra) in [
        (
            "a public parameter's version in an output's precondition",
            format!(
                "{PARAMETER}{}",
                output_with_condition(
                    "data.aws_ssm_parameter.release.value == \"1.31.0-20260801\""
                )
            ),
        ),
        (
            "the same version through a local",
            format!(
                "{PARAMETER}locals {{\n  release = split(\"-\", data.aws_ssm_parameter.release.value)\n  built   = local.release[1]\n}}\n{}",
                output_with_condition("tonumber(local.built) < 20260901")
            ),
        ),
        (
            "the newest image's id in an output's precondition",
            output_with_condition("data.aws_ami.ubuntu.id == \"ami-0abcdef1234567890\""),
        ),
        (
            "an attribute of a resource of this configuration",
            output_with_condition("aws_instance.app.ami == \"ami-0abcdef1234567890\""),
        ),
    ] {
        assert_condition_refused(case, &extra, &vm);
    }
    assert_condition_refused(
        "the bundle's checksum, another archive at destroy",
        &output_with_condition("filemd5(var.bundle_path) != \"f9016ad360cebb4fe2e6e96e5949f022\""),
        &vm,
    );
    assert_passes(
        &format!(
            "variable \"label\" {{\n  type    = string\n  default = \"app\"\n}}\nlocals {{\n  label = var.label\n}}\n{}",
            output_with_condition("length(local.label) > 0 && var.label != \"\"")
        ),
        &vm,
    );
    assert_passes(
        &output_with_condition("alltrue([for c in [\"a\", \"b\"] : length(c) == 1])"),
        &vm,
    );
}

/// A resource's own `lifecycle` conditions: `self` is what AWS answered.
#[test]
fn a_resource_condition_on_itself_is_refused() {
    let vm = vm_policy();
    assert_condition_refused(
        "a log group's postcondition on itself",
        &format!(
            "{PARAMETER}resource \"aws_cloudwatch_log_group\" \"extra\" {{\n  name              = \"/deployflow/${{local.name}}/extra\"\n  retention_in_days = 7\n  lifecycle {{\n    postcondition {{\n      condition     = self.arn != \"arn:aws:logs:ca-central-1:123456789012:log-group:old\"\n      error_message = \"moved\"\n    }}\n  }}\n}}\n"
        ),
        &vm,
    );
}

fn assert_refused_saying(case: &str, extra: &str, policy: &Policy, rule: Rule, saying: &str) {
    let report = check_with(extra, policy);
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.rule == rule && v.message.contains(saying)),
        "case {case:?}:\n{extra}\n{}",
        messages(&report)
    );
}

fn ami(name: &str) -> String {
    format!(
        "data \"aws_ami\" \"pinned\" {{\n  most_recent = true\n  owners      = [\"099720109477\"]\n  filter {{\n    name   = \"name\"\n    values = [\"{name}\"]\n  }}\n}}\n"
    )
}

#[test]
fn an_image_name_keeps_matching_the_newest_build_of_a_published_release() {
    let vm = vm_policy();
    for (case, name) in [
        (
            "one build, by its date",
            "ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-20250515",
        ),
        (
            "a release Canonical no longer publishes",
            "ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*",
        ),
        (
            "a dated build behind a pattern",
            "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-2025*",
        ),
    ] {
        assert_refused_saying(case, &ami(name), &vm, Rule::DataSourceScope, "deprecates");
    }
    assert_passes(
        &ami("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"),
        &vm,
    );
    assert_passes(&ami("al2023-ami-2023.*-x86_64"), &vm);
}

#[test]
fn container_logs_stay_in_the_deployments_region() {
    let service = Policy::for_choice(&choice(Target::ContainerService));
    let task = |region: &str| {
        format!(
            "resource \"aws_cloudwatch_log_group\" \"app\" {{\n  name              = \"/deployflow/app\"\n  retention_in_days = 7\n}}\nresource \"aws_ecs_task_definition\" \"app\" {{\n  family                   = \"app\"\n  requires_compatibilities = [\"FARGATE\"]\n  network_mode             = \"awsvpc\"\n  cpu                      = \"256\"\n  memory                   = \"512\"\n  container_definitions = jsonencode([{{\n    name  = \"app\"\n    image = \"${{aws_ecr_repository.app.repository_url}}:v1\"\n    logConfiguration = {{\n      logDriver = \"awslogs\"\n      options = {{\n        awslogs-group         = aws_cloudwatch_log_group.app.name\n        awslogs-region        = {region}\n        awslogs-stream-prefix = \"app\"\n      }}\n    }}\n  }}])\n}}\n"
        )
    };
    assert_refused_saying(
        "logs to us-east-1",
        &task("\"us-east-1\""),
        &service,
        Rule::RegionNotPinned,
        "awslogs-region",
    );
    let report = check_with(&task("\"ca-central-1\""), &service);
    assert!(
        !report
            .violations
            .iter()
            .any(|v| v.message.contains("awslogs-region must")),
        "{}",
        messages(&report)
    );
}

#[test]
fn node_groups_are_bounded_together() {
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let group = |name: &str, max: u32| {
        format!(
            "resource \"aws_eks_node_group\" \"{name}\" {{\n  cluster_name    = aws_eks_cluster.main.name\n  node_group_name = \"{name}\"\n  node_role_arn   = aws_iam_role.nodes.arn\n  subnet_ids      = aws_subnet.private[*].id\n  instance_types  = [\"t3.medium\"]\n  scaling_config {{\n    desired_size = 1\n    min_size     = 1\n    max_size     = {max}\n  }}\n}}\n"
        )
    };
    let most = kubernetes.max_replicas;
    assert_refused_saying(
        "two full node groups",
        &format!("{}{}", group("main", most), group("second", most)),
        &kubernetes,
        Rule::SizeNotBounded,
        "node groups' max_size add up",
    );
    let report = check_with(
        &format!("{}{}", group("main", most), group("spare", 1)),
        &kubernetes,
    );
    assert!(
        !report
            .violations
            .iter()
            .any(|v| v.message.contains("node groups' max_size")),
        "{}",
        messages(&report)
    );
}
