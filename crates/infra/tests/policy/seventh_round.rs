//! A seventh round of attacks: values whose text only evaluation tells
//! (a template directive, a string function of a literal id), a managed
//! policy on another service's role, clusters and databases billed for
//! extended support, the app's settings in an output, another team's
//! Service Connect namespace as the cluster's default, two stores with one
//! final snapshot name, internal load balancers, and addresses from the
//! company's own pools.

use super::*;

#[test]
fn a_seventh_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    assert_each_refused(vec![(
        "another workload's capacity reservation behind a template directive",
        format!("resource \"aws_instance\" \"x\" {{\n  {INSTANCE}\n  capacity_reservation_specification {{\n    capacity_reservation_target {{\n      capacity_reservation_id = \"%{{ if true }}cr-0123456789abcdef0%{{ endif }}\"\n    }}\n  }}\n}}\n"),
        &[Rule::TemplateDirective, Rule::ForeignResource],
        &vm,
    ),
    (
        "the same in a heredoc",
        "locals {\n  group = <<-EOT\n    %{ if true }cr-0123456789abcdef0%{ endif }\n  EOT\n}\n".to_owned(),
        &[Rule::TemplateDirective],
        &vm,
    ),
    (
        "a cluster left on the default support, billed for extended support past its end",
        "resource \"aws_eks_cluster\" \"main\" {\n  name     = \"x\"\n  version  = \"1.29\"\n  role_arn = aws_iam_role.cluster.arn\n  vpc_config {\n    subnet_ids = aws_subnet.public[*].id\n  }\n}\n".to_owned(),
        &[Rule::SizeNotBounded],
        &kubernetes,
    ),
    (
        "the cluster's managed policy on the nodes' role",
        node_role("AmazonEKSClusterPolicy", "\"ec2.amazonaws.com\""),
        &[Rule::IamManagedPolicy],
        &kubernetes,
    ),
    (
        "the cluster's managed policy on a role the nodes may assume too",
        node_role("AmazonEKSClusterPolicy", "\"eks.amazonaws.com\", \"ec2.amazonaws.com\""),
        &[Rule::IamManagedPolicy],
        &kubernetes,
    )]);
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let database = |extra: &str| {
        format!(
            "resource \"aws_db_instance\" \"x\" {{\n  identifier_prefix        = \"x-\"\n  instance_class           = \"db.t4g.micro\"\n  allocated_storage        = 20\n  storage_encrypted        = true\n  db_subnet_group_name     = aws_db_subnet_group.x.name\n  vpc_security_group_ids   = [aws_security_group.x.id]\n  skip_final_snapshot      = true\n{extra}}}\n"
        )
    };
    let snapshot = "  final_snapshot_identifier = \"${local.name}-db-final-${formatdate(\"YYYYMMDDhhmmss\", plantimestamp())}\"\n";
    let lifecycle = "  engine_lifecycle_support = \"open-source-rds-extended-support-disabled\"\n";
    assert_each_refused(vec![
        (
            "another workload's capacity reservation, its id spelled by lower()",
            format!("resource \"aws_instance\" \"x\" {{\n  {INSTANCE}\n  capacity_reservation_specification {{\n    capacity_reservation_target {{\n      capacity_reservation_id = lower(\"CR-0A1B2C3D4E5F60718\")\n    }}\n  }}\n}}\n"),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "the account's certificate, its ARN spelled by trimspace()",
            "resource \"aws_lb_listener\" \"tls\" {\n  load_balancer_arn = aws_lb.app.arn\n  port              = 8080\n  certificate_arn   = trimspace(\" arn:aws:acm:ca-central-1:123456789012:certificate/3f2b\")\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "the app's settings in an output, their mark lifted",
            "output \"effective_env\" {\n  value = nonsensitive(var.app_env)\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "the app's settings in a sensitive output, through a local",
            "locals {\n  settings = { all = var.app_env }\n}\n\noutput \"settings\" {\n  value     = local.settings\n  sensitive = true\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a parameter's value in an output",
            "output \"key\" {\n  value = aws_ssm_parameter.env[\"SECRET_KEY\"].value\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "another team's Service Connect namespace as the cluster's default",
            "resource \"aws_ecs_cluster\" \"main\" {\n  name = \"x\"\n  service_connect_defaults {\n    namespace = \"arn:aws:servicediscovery:ca-central-1:123456789012:namespace/ns-payments\"\n  }\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "a second database with the first's final snapshot name",
            format!("{}{}", database(&format!("{snapshot}{lifecycle}")), database(&format!("{snapshot}{lifecycle}")).replace("\"x\" {", "\"y\" {")),
            &[Rule::Lifecycle],
            &container_service,
        ),
        (
            "a database on a version past standard support, billed extended support",
            database("  engine         = \"postgres\"\n  engine_version = \"12.22\"\n"),
            &[Rule::SizeNotBounded],
            &container_service,
        ),
        (
            "an internal load balancer, whose address the health check would probe",
            "resource \"aws_lb\" \"health\" {\n  internal        = true\n  security_groups = [aws_security_group.alb.id]\n  subnets         = aws_subnet.public[*].id\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "an internal load balancer for the app's Service",
            service("  type = \"LoadBalancer\"\n  port {\n    port        = 8080\n    target_port = 8080\n  }\n").replace("metadata {", "metadata {\n    annotations = { \"service.beta.kubernetes.io/aws-load-balancer-scheme\" = \"internal\" }"),
            &[Rule::PodPrivilege],
            &kubernetes,
        ),
        (
            "an Elastic IP from the company's own address pool",
            "resource \"aws_eip\" \"app\" {\n  domain           = \"vpc\"\n  public_ipv4_pool = \"ipv4pool-ec2-0a1b2c3d4e5f60718\"\n  address          = \"198.51.100.25\"\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &vm,
        ),
    ]);
    // The templates' own forms pass: names lifted from the settings, one
    // database with its own snapshot name and no extended support.
    assert_passes(
        "locals {\n  keys_only = nonsensitive(toset(keys(var.app_env)))\n}\n\noutput \"names\" {\n  value = sort(local.keys_only)\n}\n",
        &vm,
    );
    assert_passes(
        &database(&format!("{snapshot}{lifecycle}")),
        &container_service,
    );

    // Each policy on the role of the service it is made for passes.
    assert_passes(
        &node_role("AmazonEKSWorkerNodePolicy", "\"ec2.amazonaws.com\""),
        &kubernetes,
    );
    assert_passes(
        &node_role("AmazonEKSClusterPolicy", "\"eks.amazonaws.com\""),
        &kubernetes,
    );
}

/// A role that `services` assume, with the AWS-managed policy `policy`.
fn node_role(policy: &str, services: &str) -> String {
    format!(
        "data \"aws_iam_policy_document\" \"assume\" {{\n  statement {{\n    actions = [\"sts:AssumeRole\"]\n    principals {{\n      type        = \"Service\"\n      identifiers = [{services}]\n    }}\n  }}\n}}\n\nresource \"aws_iam_role\" \"nodes\" {{\n  name_prefix        = \"x-node-\"\n  assume_role_policy = data.aws_iam_policy_document.assume.json\n}}\n\nresource \"aws_iam_role_policy_attachment\" \"x\" {{\n  role       = aws_iam_role.nodes.name\n  policy_arn = \"arn:aws:iam::aws:policy/{policy}\"\n}}\n"
    )
}
