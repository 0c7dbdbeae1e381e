//! A thirty-eighth round: a condition on what changes by itself. A public
//! SSM parameter's value (a version AWS moves), an image's id, an attribute
//! of a resource: a `precondition` or `postcondition` that compares one with
//! a literal passes at the first apply and fails every plan once the value
//! moves. Conditions may test only the author's own values.

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
    assert_passes(
        &format!(
            "locals {{\n  label = \"app\"\n  path  = var.bundle_path\n}}\n{}",
            output_with_condition("length(local.label) > 0 && local.path != \"\"")
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
