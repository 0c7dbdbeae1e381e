//! A seventeenth round of attacks: secrets read through a whole parameter
//! (`values(aws_ssm_parameter.env)[i]`, then `lookup(…, "value")`) or a
//! `for` variable used whole, into log group names whose ARNs an output
//! carries out unmarked; and validations (or an output's precondition) that
//! fail on one bit of a secret each, printing their messages into the log.

use super::*;

#[test]
fn a_seventeenth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let log_groups = |suffix: &str| {
        format!(
            "resource \"aws_cloudwatch_log_group\" \"audit\" {{\n  count             = 3\n  name              = \"/deployflow/x/audit-${{{suffix}}}\"\n  retention_in_days = 365\n}}\n"
        )
    };
    assert_each_refused(vec![
        (
            "a secret looked up in a whole parameter picked out of values()",
            log_groups(
                "base64encode(try(lookup(values(aws_ssm_parameter.env)[count.index], \"value\", \"\"), \"\"))",
            ),
            &[Rule::SecretExposure],
            &container_service,
        ),
        (
            "a secret read through a for variable bound to a list of the outer one",
            format!(
                "locals {{\n  suffixes = [for p in aws_ssm_parameter.env : [for v in [p] : base64encode(v.value)][0]]\n}}\n\n{}",
                log_groups("try(local.suffixes[count.index], \"none\")")
            ),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a whole parameter written out by jsonencode in a for",
            log_groups("base64encode(jsonencode([for p in aws_ssm_parameter.env : p][count.index]))"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a validation failing on one bit of a secret",
            "variable \"check_0\" {\n  default = \"ok\"\n  validation {\n    condition     = var.check_0 == \"\" || length(try(values(var.app_env)[0], \"\")) % 2 == 0\n    error_message = \"v0b0\"\n  }\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &container_service,
        ),
        (
            "an output's precondition failing on one bit of a secret",
            "output \"ready\" {\n  value = \"yes\"\n  precondition {\n    condition     = length(try(values(var.app_env)[0], \"\")) % 2 == 0\n    error_message = \"v0b0\"\n  }\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
    ]);
}

#[test]
fn parameters_named_by_an_attribute_or_waited_for_pass() {
    let vm = vm_policy();
    let passing = [
        "output \"parameter_arns\" {\n  value = [for p in aws_ssm_parameter.env : p.arn]\n}\n",
        "output \"parameter_names\" {\n  value = [for name, p in aws_ssm_parameter.env : name]\n}\n",
        "resource \"aws_cloudwatch_log_group\" \"after\" {\n  name              = \"/deployflow/x/after\"\n  retention_in_days = 365\n  depends_on        = [aws_ssm_parameter.env]\n}\n",
        "variable \"retention\" {\n  default = 7\n  validation {\n    condition     = var.retention > 0\n    error_message = \"retention must be positive\"\n  }\n}\n",
    ];
    for extra in passing {
        let report = check_with(extra, &vm);
        assert!(
            report
                .violations
                .iter()
                .all(|v| v.rule != Rule::SecretExposure),
            "{extra}\n{:#?}",
            report.violations
        );
    }
}
