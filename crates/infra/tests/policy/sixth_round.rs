//! A sixth round of attacks by a tester who saw the code: the cluster
//! token in another provider's default tags, health-check addresses built
//! from text the author chooses, ARNs built by functions, volumes written
//! in a loop and kept, dedicated hardware, resources that outlive the
//! destroy, and a capacity reservation of the account named by id.

use super::*;

#[test]
fn a_sixth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let instance =
        |extra: &str| format!("resource \"aws_instance\" \"x\" {{\n  {INSTANCE}\n{extra}}}\n");
    assert_each_refused(vec![
        (
            "the operator's cluster token in a second aws provider's default tags",
            "provider \"aws\" {\n  alias  = \"tagged\"\n  region = \"ca-central-1\"\n  default_tags {\n    tags = { t = data.aws_eks_cluster_auth.main.token }\n  }\n}\n".to_owned(),
            &[Rule::ProviderCredentials, Rule::SecretExposure],
            &kubernetes,
        ),
        (
            "the app URL taken from a pod's host alias, text the author chooses",
            BASE.replace(
                "value = \"http://${aws_eip.app.public_ip}:8080\"",
                "value = \"http://${kubernetes_deployment_v1.app.spec[0].template[0].spec[0].host_aliases[0].ip}:8080\"",
            ),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "the own host made the user name of a URL to the metadata service",
            BASE.replace(
                "value = \"http://${aws_eip.app.public_ip}:8080\"",
                "value = \"http://${aws_eip.app.public_ip}:8080@169.254.169.254/latest/\"",
            ),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "the account's certificate named by an ARN format() builds",
            "resource \"aws_lb_listener\" \"tls\" {\n  load_balancer_arn = aws_lb.app.arn\n  port              = 8080\n  certificate_arn   = format(\"arn:aws:acm:ca-central-1:%s:certificate/3f2b\", data.aws_caller_identity.current.account_id)\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "volumes written in a loop and kept after the instance",
            instance("  dynamic \"ebs_block_device\" {\n    for_each = toset([\"b\", \"c\"])\n    content {\n      device_name           = \"/dev/sd${ebs_block_device.value}\"\n      delete_on_termination = false\n    }\n  }\n"),
            &[Rule::SizeNotBounded, Rule::BlockNotAllowed],
            &vm,
        ),
        (
            "dedicated hardware and unlimited CPU credits",
            instance("  tenancy = \"dedicated\"\n  credit_specification {\n    cpu_credits = \"unlimited\"\n  }\n"),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a log group that outlives the destroy",
            "resource \"aws_cloudwatch_log_group\" \"x\" {\n  name_prefix  = \"x\"\n  skip_destroy = true\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &container_service,
        ),
        (
            "a bucket policy denying everyone the delete, so destroy never succeeds",
            "data \"aws_iam_policy_document\" \"lock\" {\n  statement {\n    effect    = \"Deny\"\n    actions   = [\"s3:DeleteBucket\", \"s3:DeleteObject\"]\n    resources = [aws_s3_bucket.bundle.arn]\n    principals {\n      type        = \"*\"\n      identifiers = [\"*\"]\n    }\n  }\n}\n".to_owned(),
            &[Rule::IamAction],
            &vm,
        ),
        (
            "the same written as JSON, with a condition that always holds",
            "resource \"aws_s3_bucket_policy\" \"lock\" {\n  bucket = aws_s3_bucket.bundle.id\n  policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [{ Effect = \"Deny\", Principal = \"*\", Action = \"s3:DeleteBucket\", Resource = aws_s3_bucket.bundle.arn, Condition = { Bool = { \"aws:SecureTransport\" = [\"false\", \"true\"] } } }]\n  })\n}\n".to_owned(),
            &[Rule::IamAction],
            &vm,
        ),
        (
            "another workload's capacity reservation, named by id",
            instance("  capacity_reservation_specification {\n    capacity_reservation_target {\n      capacity_reservation_id = \"cr-0123456789abcdef0\"\n    }\n  }\n"),
            &[Rule::ForeignResource],
            &vm,
        ),
    ]);
    // What the templates write still passes: one root volume, deleted
    // with the instance.
    assert_passes(
        &instance("  root_block_device {\n    volume_size = 20\n    encrypted   = true\n  }\n"),
        &vm,
    );
}
