//! A thirty-third round of attacks: a name a `for` binds weighed one byte
//! (`join(x, split("", x))` over a large element, nested twice: out of
//! memory at every plan), a pattern built at plan time for `regex()`, the
//! bundle archive read whole into a value, and a final snapshot name too
//! long for RDS to take.

use super::*;

#[test]
fn work_hidden_behind_a_for_or_a_pattern_is_refused() {
    let vm = vm_policy();
    let big = "a".repeat(20_000);
    assert_each_refused(vec![
        (
            "join(x, split(\"\", x)) of each element, twice",
            format!(
                "locals {{\n  grown = [for x in [\"{big}\"] : join(join(x, split(\"\", x)), split(\"\", join(x, split(\"\", x))))]\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a pattern made by join() over range()",
            "locals {\n  pattern = join(\"\", [for i in range(256) : \"(a|aa)*\"])\n  found   = can(regex(local.pattern, \"aaaa\"))\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "the bundle archive read whole into an output",
            "output \"repository\" {\n  value = filebase64(var.bundle_path)\n}\n".to_owned(),
            &[Rule::LocalFile],
            &vm,
        ),
    ]);
    assert_passes(
        "locals {\n  tag_ok = can(regex(\"^[0-9a-f]{12}$\", \"0123456789ab\"))\n  names  = [for name in [\"a\", \"b\"] : upper(name)]\n}\n",
        &vm,
    );
}

#[test]
fn a_final_snapshot_name_too_long_for_rds_is_refused() {
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let padding = "x".repeat(250);
    let extra = format!(
        "resource \"aws_db_instance\" \"x\" {{\n  identifier_prefix        = \"x-\"\n  instance_class           = \"db.t4g.micro\"\n  allocated_storage        = 20\n  storage_encrypted        = true\n  engine_lifecycle_support = \"open-source-rds-extended-support-disabled\"\n  db_subnet_group_name     = aws_db_subnet_group.x.name\n  vpc_security_group_ids   = [aws_security_group.x.id]\n  final_snapshot_identifier = \"${{local.name}}-{padding}-${{formatdate(\"YYYYMMDDhhmmss\", plantimestamp())}}\"\n}}\n"
    );
    let report = check_with(&extra, &container_service);
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.rule == Rule::Lifecycle && v.message.contains("final_snapshot_identifier")),
        "{}",
        messages(&report)
    );
}
