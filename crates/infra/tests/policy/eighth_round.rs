//! An eighth round of attacks: a provisioned EKS control plane, the app's
//! settings carried out through the keys of a `for`, a Service's
//! annotations naming an internal load balancer or the account's addresses
//! and certificate, a final snapshot name hidden in a function, and a key
//! or reservation of the account named through a function.

use super::*;

#[test]
fn an_eighth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let annotated = |annotations: &str| {
        service("  type = \"LoadBalancer\"\n  port {\n    port        = 8080\n    target_port = 8080\n  }\n")
            .replace("metadata {", &format!("metadata {{\n    annotations = {annotations}"))
    };
    let database = |name: &str, extra: &str| {
        format!(
            "resource \"aws_db_instance\" \"{name}\" {{\n  identifier_prefix        = \"{name}-\"\n  instance_class           = \"db.t4g.micro\"\n  allocated_storage        = 20\n  storage_encrypted        = true\n  engine_lifecycle_support = \"open-source-rds-extended-support-disabled\"\n  db_subnet_group_name     = aws_db_subnet_group.x.name\n  vpc_security_group_ids   = [aws_security_group.x.id]\n{extra}}}\n"
        )
    };
    let snapshot = "\"${local.name}-db-final-${formatdate(\"YYYYMMDDhhmmss\", plantimestamp())}\"";
    assert_each_refused(vec![
        (
            "a provisioned control plane, billed by the hour",
            "resource \"aws_eks_cluster\" \"main\" {\n  name     = \"x\"\n  role_arn = aws_iam_role.cluster.arn\n  upgrade_policy {\n    support_type = \"STANDARD\"\n  }\n  control_plane_scaling_config {\n    tier = \"tier-4xl\"\n  }\n  vpc_config {\n    subnet_ids = aws_subnet.public[*].id\n  }\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &kubernetes,
        ),
        (
            "the app's settings as the keys of a for",
            "output \"configured_env\" {\n  value = nonsensitive(sort(keys({ for name, setting in var.app_env : \"${name}=${setting}\" => name })))\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "an internal load balancer named by a computed annotation",
            annotated("merge({ \"service.beta.kubernetes.io/aws-load-balancer-type\" = \"nlb\" }, zipmap([replace(\"service.beta.kubernetes.io/aws-load-balancer-inter_nal\", \"/_/\", \"\")], [\"true\"]))"),
            // A /regular expression/ may match nothing, between every two characters.
            &[Rule::PodPrivilege, Rule::SizeNotBounded],
            &kubernetes,
        ),
        (
            "the account's Elastic IPs on the app's load balancer",
            annotated("{\n      \"service.beta.kubernetes.io/aws-load-balancer-type\"            = \"nlb\"\n      \"service.beta.kubernetes.io/aws-load-balancer-eip-allocations\" = \"eipalloc-0a1b2c3d4e5f60718,eipalloc-0f1e2d3c4b5a69788\"\n    }"),
            &[Rule::PodPrivilege],
            &kubernetes,
        ),
        (
            "the account's certificate on the app's load balancer",
            annotated("{\n      \"service.beta.kubernetes.io/aws-load-balancer-type\"     = \"nlb\"\n      \"service.beta.kubernetes.io/aws-load-balancer-ssl-cert\" = \"arn:aws:acm:ca-central-1:${data.aws_caller_identity.current.account_id}:certificate/3f2a\"\n    }"),
            &[Rule::PodPrivilege],
            &kubernetes,
        ),
        (
            "a second database whose final snapshot name is the first's, lower-cased",
            format!(
                "{}{}",
                database("main", &format!("  final_snapshot_identifier = {snapshot}\n")),
                database("reporting", &format!("  final_snapshot_identifier = lower({snapshot})\n"))
            ),
            &[Rule::Lifecycle],
            &container_service,
        ),
        (
            "the database encrypted under another account's key",
            database("x", "  skip_final_snapshot = true\n  kms_key_id = jsondecode(\"\\\"arn:aws:kms:ca-central-1:444455556666:key/0b7f\\\"\")\n"),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "another workload's capacity reservation through a regular expression",
            format!("resource \"aws_instance\" \"x\" {{\n  {INSTANCE}\n  capacity_reservation_specification {{\n    capacity_reservation_target {{\n      capacity_reservation_id = replace(\"cr-0a1b2c3d4e5f60718x\", \"/x$/\", \"\")\n    }}\n  }}\n}}\n"),
            &[Rule::ForeignResource, Rule::SizeNotBounded],
            &vm,
        ),
    ]);
    // The template's own annotation passes.
    assert_passes(
        &annotated(
            "{\n      \"service.beta.kubernetes.io/aws-load-balancer-type\" = \"nlb\"\n    }",
        ),
        &kubernetes,
    );
}
