//! A thirteenth round of attacks: `coalesce()` of a local and the safe
//! value (the gate took the safe one, Terraform takes the local), list
//! functions splitting text Terraform normalises, a secret read through
//! `lookup()`, and an ECS cluster's capacity providers named for another
//! team's instances.

use super::*;

#[test]
fn a_thirteenth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let instance = |replace: &str, with: &str, locals: &str| {
        format!(
            "resource \"aws_instance\" \"x\" {{\n  {}\n}}\n\nlocals {{\n  {locals}\n}}\n",
            INSTANCE.replace(replace, with)
        )
    };
    assert_each_refused(vec![
        (
            "an instance type coalesce() takes from a local",
            instance(
                "\"t2.small\"",
                "coalesce(local.size, \"t2.small\")",
                "size = \"m5.24xlarge\"",
            ),
            &[Rule::InstanceTypeNotPinned],
            &vm,
        ),
        (
            "optional metadata tokens coalesce() takes from a local",
            instance(
                "\"required\"",
                "coalesce(local.tokens, \"required\")",
                "tokens = \"optional\"",
            ),
            &[Rule::PodPrivilege],
            &vm,
        ),
        (
            "a hop limit split out of text Terraform normalises",
            instance(
                "http_put_response_hop_limit = 1",
                "http_put_response_hop_limit = element(concat(split(\"\u{e9}\", \"1e\u{301}2\"), [\"1\"]), 1)",
                "unused = 1",
            ),
            &[Rule::PodPrivilege],
            &vm,
        ),
        (
            "a parameter's value read with lookup() into a log group's name",
            "resource \"aws_cloudwatch_log_group\" \"audit\" {\n  name              = \"/deployflow/x/${try(lookup(aws_ssm_parameter.env[\"STRIPE_API_KEY\"], \"value\", \"none\"), \"none\")}\"\n  retention_in_days = 30\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &container_service,
        ),
        (
            "a cluster's tasks on another team's Auto Scaling group",
            "resource \"aws_ecs_cluster_capacity_providers\" \"main\" {\n  cluster_name       = aws_ecs_cluster.main.name\n  capacity_providers = [\"FARGATE\", \"prod-payments-asg\"]\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
    ]);
    assert_passes(
        "resource \"aws_ecs_cluster_capacity_providers\" \"main\" {\n  cluster_name       = aws_ecs_cluster.main.name\n  capacity_providers = [\"FARGATE\", \"FARGATE_SPOT\"]\n  default_capacity_provider_strategy {\n    capacity_provider = \"FARGATE_SPOT\"\n    weight            = 1\n  }\n}\n",
        &container_service,
    );
}
