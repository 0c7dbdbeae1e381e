//! A twenty-ninth round of attacks. The clock read anywhere but a
//! variable's validation (a data source's `state`, an IAM statement's
//! `sid`: `["x"][timecmp(plantimestamp(), "2026-12-20T00:00:00Z") + 1]`)
//! passed every check before its date and failed every plan after it, the
//! one `terraform destroy` makes first among them: the deployment could
//! never be taken down. And the records the templates keep were switched
//! off: a container without its log configuration, an EKS cluster without
//! its audit logs.

use super::*;

#[test]
fn the_clock_read_outside_a_snapshot_name_is_refused() {
    let vm = vm_policy();
    assert_each_refused(vec![
        (
            "a data source's argument indexed by the date",
            "data \"aws_availability_zones\" \"dated\" {\n  state = [\"available\"][timecmp(plantimestamp(), \"2026-12-20T00:00:00Z\") + 1]\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
        (
            "a local of the year",
            "locals {\n  year = formatdate(\"YYYY\", timestamp())\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
        (
            "a snapshot's name that fails after a date",
            "locals {\n  final_snapshot_identifier = [\"x\"][tonumber(formatdate(\"YYYY\", plantimestamp())) - 2026]\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
    ]);
}

#[test]
fn records_the_templates_keep_cannot_be_switched_off() {
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let without_logs = check_with(
        "resource \"aws_ecs_task_definition\" \"quiet\" {\n  family                = \"x\"\n  container_definitions = jsonencode([{ name = \"app\", image = \"${aws_ecr_repository.app.repository_url}:1\" }])\n}\n",
        &container_service,
    );
    assert!(
        without_logs.rules().contains(&Rule::LogsOff),
        "{:#?}",
        without_logs.violations
    );
    let unaudited = check_with(
        "resource \"aws_eks_cluster\" \"quiet\" {\n  name                      = \"x\"\n  role_arn                  = aws_iam_role.cluster.arn\n  enabled_cluster_log_types = [\"api\"]\n  vpc_config {\n    subnet_ids = aws_subnet.public[*].id\n  }\n}\n",
        &kubernetes,
    );
    assert!(
        unaudited.rules().contains(&Rule::LogsOff),
        "{:#?}",
        unaudited.violations
    );
}
