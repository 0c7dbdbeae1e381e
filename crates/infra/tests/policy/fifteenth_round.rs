//! A fifteenth round of attacks: a typed variable's default (Terraform
//! converts it to the type first: undeclared attributes dropped,
//! `optional(T, DEFAULT)`s filled in), numbers in lists and `format("%d")`
//! written out in full, `title()` Go's way, secrets read as `p["value"]` or
//! through a local alias or a nested `for`, and a validation reading the
//! clock through a local.

use super::*;

#[test]
fn a_fifteenth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let policy_with = |statement: &str, extra: &str| {
        format!(
            "resource \"aws_iam_role_policy\" \"registry\" {{\n  name   = \"registry-login\"\n  role   = aws_iam_role.app.id\n  policy = jsonencode({{ Version = \"2012-10-17\", Statement = [{statement}] }})\n}}\n{extra}"
        )
    };
    let key = |key: &str| {
        policy_with(
            &format!(
                "{{ Effect = \"Allow\", ({key}) = [\"ecr:GetAuthorizationToken\"], Resource = \"*\" }}"
            ),
            "",
        )
    };
    let log_group = |name: &str, extra: &str| {
        format!(
            "resource \"aws_cloudwatch_log_group\" \"audit\" {{\n  name = \"/deployflow/x/${{join(\"\", {name})}}\"\n}}\n{extra}"
        )
    };
    assert_each_refused(vec![
        (
            "a statement from a typed variable whose optional attribute Terraform fills in",
            policy_with(
                "var.registry_statement",
                "variable \"registry_statement\" {\n  type = object({\n    Effect    = string\n    NotAction = optional(list(string), [\"ecr:GetAuthorizationToken\"])\n    Resource  = string\n  })\n  default = {\n    Effect   = \"Allow\"\n    Action   = [\"ecr:GetAuthorizationToken\"]\n    Resource = \"*\"\n  }\n}\n",
            ),
            &[Rule::IamAction],
            &vm,
        ),
        (
            "a key cut out of a list holding a number Terraform writes in full",
            key("replace(substr(join(\"\", [1e99, \"NotAction~Action\"]), 4, 6), \"~\", \"\")"),
            &[Rule::ObjectKey, Rule::IamAction],
            &vm,
        ),
        (
            "a key cut out of format(\"%d\") of a number written in text",
            key("substr(format(\"%d%s\", \"1e60\", \"Action\"), 4, 6)"),
            &[Rule::ObjectKey, Rule::IamAction],
            &vm,
        ),
        (
            "a key split out of title(), which Go capitalises otherwise",
            key("element(concat(split(\"Q\", title(\"z_q\")), [\"Action\", \"NotAction\"]), 2)"),
            &[Rule::ObjectKey, Rule::IamAction],
            &vm,
        ),
        (
            "a parameter's value read as p[\"value\"]",
            log_group("[for p in aws_ssm_parameter.env : p[\"value\"]]", ""),
            &[Rule::SecretExposure],
            &container_service,
        ),
        (
            "a parameter's value read through a local alias",
            log_group(
                "[for p in local.parameters : p.value]",
                "locals {\n  parameters = aws_ssm_parameter.env\n}\n",
            ),
            &[Rule::SecretExposure],
            &container_service,
        ),
        (
            "a parameter's value read through a nested for",
            log_group("[for p in [for q in aws_ssm_parameter.env : q] : p.value]", ""),
            &[Rule::SecretExposure],
            &container_service,
        ),
        (
            "a validation reading the clock through a local",
            "variable \"app_env\" {\n  type      = map(string)\n  sensitive = true\n  default   = {}\n  validation {\n    condition     = local.supported\n    error_message = \"x\"\n  }\n}\n\nlocals {\n  supported = timecmp(plantimestamp(), \"2026-12-20T00:00:00Z\") < 0\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
    ]);
}
