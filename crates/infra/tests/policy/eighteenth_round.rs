//! An eighteenth round of attacks: each tests one bit of a secret where the
//! gate did not look, with a constant error message Terraform prints
//! unredacted into the plan's log when the test fails: an ephemeral
//! resource's precondition, `self.value` in a parameter's postcondition, a
//! local nothing reads (every local is evaluated), a store password's
//! place computing with it, and `var.app_env`'s own validation.

use super::*;

const BIT: &str = "length(try(values(var.app_env)[0], \"\")) % 2 == 0";

#[test]
fn an_eighteenth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    assert_each_refused(vec![
        (
            "an ephemeral resource's precondition on a bit of a secret",
            format!(
                "ephemeral \"aws_secretsmanager_random_password\" \"audit\" {{\n  password_length     = 40\n  exclude_punctuation = true\n  lifecycle {{\n    precondition {{\n      condition     = {BIT}\n      error_message = \"v0b0\"\n    }}\n  }}\n}}\n"
            ),
            &[Rule::SecretExposure],
            &container_service,
        ),
        (
            "self.value tested in a parameter's postcondition",
            "resource \"aws_ssm_parameter\" \"audit\" {\n  for_each = local.env_keys\n  name     = \"/deployflow/x/audit/${each.key}\"\n  type     = \"SecureString\"\n  value    = var.app_env[each.key]\n  lifecycle {\n    postcondition {\n      condition     = length(self.value) % 2 == 0\n      error_message = \"${each.key}:b0\"\n    }\n  }\n}\n".to_owned(),
            // A second set of parameters beside the app's is over the
            // fleet's count too.
            &[Rule::SecretExposure, Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a local nothing reads, failing on a bit of a secret",
            format!("locals {{\n  flag_0 = {BIT} ? 0 : tonumber(\"v0b0\")\n}}\n"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a parameter's value failing on a bit of the secret it holds",
            format!(
                "resource \"aws_ssm_parameter\" \"audit\" {{\n  for_each = local.env_keys\n  name     = \"/deployflow/x/audit/${{each.key}}\"\n  type     = \"SecureString\"\n  value    = {BIT} ? var.app_env[each.key] : tostring(tonumber(\"v0b0\"))\n}}\n"
            ),
            &[Rule::SecretExposure, Rule::SizeNotBounded],
            &vm,
        ),
    ]);
}

#[test]
fn the_settings_own_validation_reads_their_names_only() {
    let vm = vm_policy();
    let with_validation = |condition: &str| {
        format!(
            "variable \"app_env\" {{\n  type      = map(string)\n  default   = {{}}\n  sensitive = true\n  validation {{\n    condition     = {condition}\n    error_message = \"v0b0\"\n  }}\n}}\n"
        )
    };
    let names = check_with(
        &with_validation(
            "alltrue([for name in keys(var.app_env) : can(regex(\"^[A-Z_]+$\", name))])",
        ),
        &vm,
    );
    assert!(
        names
            .violations
            .iter()
            .all(|v| v.rule != Rule::SecretExposure),
        "{:#?}",
        names.violations
    );
    let values = check_with(&with_validation(BIT), &vm);
    assert!(
        values
            .violations
            .iter()
            .any(|v| v.rule == Rule::SecretExposure && v.message.contains("validation")),
        "{:#?}",
        values.violations
    );
}
