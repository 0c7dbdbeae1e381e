//! A nineteenth round of attacks: a names-only `keys()` met twice (once in
//! the expression, once in the local it follows) was taken off twice, so it
//! cancelled a real read of a secret elsewhere in the expression. And the
//! twentieth: `keys()` of a map indexed by a secret's letters, taken for
//! names only, spelled the secret out in hex. And the twenty-first: an
//! instance picked by a literal key (taken for an attribute's name) and
//! its attribute named by a local (`x["all"][local.attr]`).

use super::*;

#[test]
fn the_nineteenth_to_twenty_first_rounds_of_attacks_are_refused() {
    let vm = vm_policy();
    let bit = "length(try(values(var.app_env)[0], \"\")) % 2 == 0 ? 0 : tonumber(\"v0b0\")";
    assert_each_refused(vec![
        (
            "a nested keys() cancelling a local's test of a secret bit",
            format!(
                "locals {{\n  env_names_again = {{ names = keys(var.app_env) }}\n  flag_0          = [keys(local.env_names_again), {bit}]\n}}\n"
            ),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "keys() of a map picked by a secret's letters",
            "locals {\n  hexof = { \"a\" = { \"61\" = 0 }, \"b\" = { \"62\" = 0 } }\n}\n\nresource \"aws_cloudwatch_log_group\" \"audit\" {\n  name              = \"/deployflow/x/${join(\"\", [for i in range(8) : keys(local.hexof[substr(var.app_env[\"K\"], i, 1)])[0]])}\"\n  retention_in_days = 365\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a keyed parameter's attribute named by a local",
            "locals {\n  attr = \"value\"\n}\n\nresource \"aws_cloudwatch_log_group\" \"audit\" {\n  name              = \"/deployflow/x/${base64encode(aws_ssm_parameter.env[\"DATABASE_URL\"][local.attr])}\"\n  retention_in_days = 365\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a keyed ephemeral secret's attribute named by a local",
            "locals {\n  attr = \"secret_string\"\n}\n\nresource \"aws_cloudwatch_log_group\" \"audit\" {\n  name              = \"/deployflow/x/${base64encode(ephemeral.aws_secretsmanager_secret_version.audit[\"db\"][local.attr])}\"\n  retention_in_days = 365\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a nested keys() cancelling a secret in a log group's name",
            "locals {\n  env_names_again = { names = keys(var.app_env) }\n}\n\nresource \"aws_cloudwatch_log_group\" \"audit\" {\n  name              = \"/deployflow/x/${join(\"\", keys(local.env_names_again))}-${base64encode(values(var.app_env)[0])}\"\n  retention_in_days = 365\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
    ]);
}
