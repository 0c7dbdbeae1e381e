//! A ninth round of attacks: nested blocks written as `dynamic` blocks (an
//! existing launch template's role, the account's address pools, another
//! team's service registry, a bucket of another account, a replicated
//! password), an Elastic IP taken by its address, the app's settings
//! carried out through a local's keys, ARNs spelled with `split`, reserved
//! load balancer capacity, io1 storage by default, and EKS add-ons.

use super::*;

#[test]
fn a_ninth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let load_balancer = |extra: &str| {
        format!(
            "resource \"aws_lb\" \"x\" {{\n  name            = \"x\"\n  security_groups = [aws_security_group.alb.id]\n  subnets         = aws_subnet.public[*].id\n{extra}}}\n"
        )
    };
    let spelled = |arn: &str| format!("join(\":\", split(\",\", \"{}\"))", arn.replace(':', ","));
    assert_each_refused(vec![
        (
            "an existing Elastic IP moved onto the app by its address",
            "resource \"aws_eip_association\" \"takeover\" {\n  instance_id         = aws_instance.app.id\n  public_ip           = \"198.51.100.7\"\n  allow_reassociation = true\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "the app's settings as the keys of a local built by a for",
            "locals {\n  named = { for name, setting in var.app_env : \"${name}=${setting}\" => name }\n}\n\noutput \"configured_env\" {\n  value = nonsensitive(sort(keys(local.named)))\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "an existing launch template (and its role) through a dynamic block",
            format!("resource \"aws_instance\" \"x\" {{\n  {INSTANCE}\n  dynamic \"launch_template\" {{\n    for_each = toset([\"prod-web\"])\n    content {{\n      name = launch_template.value\n    }}\n  }}\n}}\n"),
            &[Rule::BlockNotAllowed],
            &vm,
        ),
        (
            "the company's address pool through a dynamic block",
            load_balancer("  dynamic \"ipam_pools\" {\n    for_each = toset([\"ipam-pool-0a1b2c3d4e5f60718\"])\n    content {\n      ipv4_ipam_pool_id = ipam_pools.value\n    }\n  }\n"),
            &[Rule::BlockNotAllowed, Rule::ForeignResource],
            &container_service,
        ),
        (
            "a replica of the database password in another region, through a dynamic block",
            "resource \"aws_secretsmanager_secret\" \"x\" {\n  name_prefix = \"x-\"\n  dynamic \"replica\" {\n    for_each = toset([\"ap-southeast-1\"])\n    content {\n      region = replica.value\n    }\n  }\n}\n".to_owned(),
            &[Rule::BlockNotAllowed],
            &container_service,
        ),
        (
            "the account's certificate, its ARN spelled with split",
            format!(
                "resource \"aws_lb_listener\" \"tls\" {{\n  load_balancer_arn = aws_lb.app.arn\n  port              = 8080\n  protocol          = \"HTTPS\"\n  certificate_arn   = {}\n}}\n",
                spelled("arn:aws:acm:ca-central-1:123456789012:certificate/3f2b0c1d")
            ),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "the cluster's secrets under another account's key, spelled with split",
            format!(
                "resource \"aws_eks_cluster\" \"x\" {{\n  name     = \"x\"\n  role_arn = aws_iam_role.cluster.arn\n  upgrade_policy {{\n    support_type = \"STANDARD\"\n  }}\n  encryption_config {{\n    resources = [\"secrets\"]\n    provider {{\n      key_arn = {}\n    }}\n  }}\n  vpc_config {{\n    subnet_ids = aws_subnet.public[*].id\n  }}\n}}\n",
                spelled("arn:aws:kms:ca-central-1:444455556666:key/0b7f")
            ),
            &[Rule::ForeignResource],
            &kubernetes,
        ),
        (
            "reserved load balancer capacity",
            load_balancer("  minimum_load_balancer_capacity {\n    capacity_units = 1500\n  }\n"),
            &[Rule::SizeNotBounded],
            &container_service,
        ),
        (
            "IOPS without a storage type, which RDS makes io1",
            "resource \"aws_db_instance\" \"x\" {\n  identifier_prefix        = \"x-\"\n  instance_class           = \"db.t4g.micro\"\n  allocated_storage        = 100\n  iops                     = 3000\n  storage_encrypted        = true\n  skip_final_snapshot      = true\n  engine_lifecycle_support = \"open-source-rds-extended-support-disabled\"\n  db_subnet_group_name     = aws_db_subnet_group.x.name\n  vpc_security_group_ids   = [aws_security_group.x.id]\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &container_service,
        ),
        (
            "an EKS add-on configured to send the pods' DNS elsewhere",
            "resource \"aws_eks_addon\" \"coredns\" {\n  cluster_name         = aws_eks_cluster.main.name\n  addon_name           = \"coredns\"\n  configuration_values = jsonencode({ corefile = \"forward . 203.0.113.53\" })\n}\n".to_owned(),
            &[Rule::ResourceNotAllowed],
            &kubernetes,
        ),
    ]);
    // A security group's rules written as a dynamic block stay readable.
    assert_passes(
        "resource \"aws_security_group\" \"extra\" {\n  name   = \"extra\"\n  vpc_id = aws_vpc.main.id\n  dynamic \"ingress\" {\n    for_each = toset([8080])\n    content {\n      from_port   = ingress.value\n      to_port     = ingress.value\n      protocol    = \"tcp\"\n      cidr_blocks = [\"10.0.0.0/16\"]\n    }\n  }\n}\n",
        &vm,
    );
}
