//! A tenth round of attacks: the account's ECS service scaled to zero
//! through a resource id glued from two service names, the app's settings
//! carried out in tags, health check logs in another account's bucket, an
//! image repository under another account's key (its number written as a
//! number), and a function on the account's Lambda Managed Instances.

use super::*;

#[test]
fn a_tenth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let serverless = Policy::for_choice(&choice(Target::Serverless));
    let scaling = |resource_id: &str| {
        format!(
            "resource \"aws_appautoscaling_target\" \"x\" {{\n  service_namespace  = \"ecs\"\n  scalable_dimension = \"ecs:service:DesiredCount\"\n  resource_id        = \"{resource_id}\"\n  min_capacity       = 1\n  max_capacity       = 2\n}}\n"
        )
    };
    assert_each_refused(vec![
        (
            "another cluster's service, its cluster named by a service of this configuration",
            scaling("service/${aws_ecs_service.worker.name}/${aws_ecs_service.app.name}"),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "the app's settings in an instance's tags, read back through tags_all",
            format!("resource \"aws_instance\" \"x\" {{\n  {INSTANCE}\n  tags = merge({{ Name = \"x\" }}, var.app_env)\n}}\n"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "the load balancer's health check logs in another account's bucket",
            "resource \"aws_lb\" \"x\" {\n  name            = \"x\"\n  security_groups = [aws_security_group.alb.id]\n  subnets         = aws_subnet.public[*].id\n  health_check_logs {\n    bucket  = \"ops-lb-logs-archive\"\n    enabled = true\n  }\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "the image repository under another account's key, its number a number",
            "resource \"aws_ecr_repository\" \"x\" {\n  name         = \"x\"\n  force_delete = true\n  encryption_configuration {\n    encryption_type = \"KMS\"\n    kms_key         = join(\":\", [\"arn\", \"aws\", \"kms\", \"ca-central-1\", 444455556666, \"key/0b7f\"])\n  }\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &serverless,
        ),
        (
            "the function on the account's Lambda Managed Instances",
            "resource \"aws_lambda_function\" \"x\" {\n  function_name = \"x\"\n  role          = aws_iam_role.fn.arn\n  package_type  = \"Image\"\n  image_uri     = \"${aws_ecr_repository.app.repository_url}:v1\"\n  capacity_provider_config {\n    lambda_managed_instances_capacity_provider_config {\n      capacity_provider_arn = join(\":\", [\"arn\", data.aws_partition.current.partition, \"lambda\", \"ca-central-1\", data.aws_caller_identity.current.account_id, \"capacity-provider\", \"shared\"])\n    }\n  }\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &serverless,
        ),
    ]);
    // The template's scaling target: its own cluster, its own service.
    assert_passes(
        &scaling("service/${aws_ecs_cluster.main.name}/${aws_ecs_service.app.name}"),
        &container_service,
    );
}
