//! A fourteenth round of attacks: more values the gate computed otherwise
//! than Terraform does, all in ASCII (`"\r\n"` is one letter to `substr`,
//! `${1e99}` a hundred digits, a heredoc's indentation and a `~` strip
//! marker remove spaces), secrets read through a `for` over `values()` or
//! a list, the app's settings no longer sensitive, and a validation that
//! fails every plan after a date.

use super::*;

#[test]
fn a_fourteenth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let serverless = Policy::for_choice(&choice(Target::Serverless));
    let policy_with_key = |key: &str| {
        format!(
            "resource \"aws_iam_role_policy\" \"registry\" {{\n  name = \"registry-login\"\n  role = aws_iam_role.app.id\n  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [{{\n      Effect   = \"Allow\"\n      ({key}) = [\"ecr:GetAuthorizationToken\"]\n      Resource = \"*\"\n    }}]\n  }})\n}}\n"
        )
    };
    assert_each_refused(vec![
        (
            "a policy key cut out of text holding \\r\\n",
            policy_with_key("replace(substr(\"a\\r\\nActionNotAction~~~\", 8, 9), \"~\", \"\")"),
            &[Rule::ObjectKey, Rule::IamAction],
            &vm,
        ),
        (
            "a policy key cut out of a number Terraform writes in full",
            policy_with_key("substr(\"${1e99}Action\", 4, 6)"),
            &[Rule::ObjectKey, Rule::IamAction],
            &vm,
        ),
        (
            "a policy key behind a strip marker",
            policy_with_key("substr(\"x ${~ \"NotAction\"}\", 2, 9)"),
            &[Rule::ObjectKey, Rule::IamAction],
            &vm,
        ),
        (
            "a key cut out of a heredoc Terraform strips otherwise",
            policy_with_key("trimspace(<<-EOT\n      Action\n   \n    EOT\n  )"),
            &[Rule::ObjectKey, Rule::IamAction],
            &vm,
        ),
        (
            "a parameter's value read through a for over values()",
            "resource \"aws_cloudwatch_log_group\" \"audit\" {\n  name = \"/deployflow/x/${join(\"\", [for p in values(aws_ssm_parameter.env) : p.value])}\"\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &container_service,
        ),
        (
            "a function's environment read through a for over a list",
            "output \"function_settings\" {\n  value = [for f in [aws_lambda_function.app] : f.environment]\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &serverless,
        ),
        (
            "the app's settings no longer sensitive",
            "variable \"app_env\" {\n  type    = map(string)\n  default = {}\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a validation that fails every plan after a date",
            "variable \"app_env\" {\n  type      = map(string)\n  sensitive = true\n  default   = {}\n  validation {\n    condition     = timecmp(plantimestamp(), \"2026-12-20T00:00:00Z\") < 0\n    error_message = \"x\"\n  }\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
    ]);
}
