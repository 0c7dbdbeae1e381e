//! A thirty-second round of attacks: values the gate weighed at one byte.
//! A variable's default, `each.value`, `count.index` or a data source's
//! attribute seeded `replace(x, "", x)`, which puts `x` between every two
//! characters of itself (nested twice: gigabytes at plan), and a `for` over
//! a variable's long default list squared it. And the gate itself built the
//! text of a literal `replace()` before refusing it, past the process's
//! memory.

use super::*;

/// 300 bytes of text.
fn seed() -> String {
    "a".repeat(300)
}

#[test]
fn growth_seeded_by_values_the_gate_could_not_size_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let seed = seed();
    let grid = (0..12_000)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert_each_refused(vec![
        (
            "replace() of a variable's default by itself, twice",
            format!(
                "variable \"banner\" {{\n  type    = string\n  default = \"{seed}\"\n}}\n\nlocals {{\n  wide  = replace(var.banner, \"\", var.banner)\n  wider = replace(local.wide, \"\", local.wide)\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "replace() of each.value in a precondition",
            format!(
                "resource \"aws_cloudwatch_log_group\" \"pad\" {{\n  for_each          = {{ pad = \"{seed}\" }}\n  name              = \"df-planlocal-${{each.key}}\"\n  retention_in_days = 30\n  lifecycle {{\n    precondition {{\n      condition     = length(replace(replace(each.value, \"\", each.value), \"\", replace(each.value, \"\", each.value))) > 0\n      error_message = \"x\"\n    }}\n  }}\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a regular expression that matches nothing",
            format!(
                "variable \"banner\" {{\n  type    = string\n  default = \"{seed}\"\n}}\n\nlocals {{\n  wide = replace(var.banner, \"/(?:)/\", var.banner)\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "replace() of count.index, nested",
            "locals {\n  grown = [for i in range(1) : replace(replace(replace(tostring(i), \"\", \"0\"), \"\", \"00\"), \"\", \"000\")]\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &container_service,
        ),
        (
            "a for over a variable's long default, squared",
            format!(
                "variable \"grid\" {{\n  type    = list(number)\n  default = [{grid}]\n}}\n\nlocals {{\n  cells = length(flatten([for x in var.grid : [for y in var.grid : x]]))\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
    ]);
}

#[test]
fn a_literal_replace_is_refused_without_being_built() {
    // 2,000 characters put between each other twice: 16 TB of text.
    let s = "a".repeat(2_000);
    let extra = format!(
        "locals {{\n  wide = replace(replace(\"{s}\", \"\", \"{s}\"), \"\", replace(\"{s}\", \"\", \"{s}\"))\n}}\n"
    );
    let started = std::time::Instant::now();
    let report = check_with(&extra, &vm_policy());
    assert!(
        report.rules().contains(&Rule::SizeNotBounded),
        "{}",
        messages(&report)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the gate built the text it refuses: {:?}",
        started.elapsed()
    );
}

#[test]
fn a_replace_that_tidies_a_name_passes() {
    assert_passes(
        "locals {\n  bucket_name = replace(lower(\"df-planlocal_App\"), \"_\", \"-\")\n  dotted      = replace(\"df.planlocal\", \".\", \"-dot-\")\n}\n",
        &vm_policy(),
    );
}

/// A fixed final snapshot name (`flask-todo-final`), or the job's without
/// the date: the first destroy takes it, and the delete of every later
/// deployment that writes it fails on each retry.
#[test]
fn a_final_snapshot_is_named_after_the_deployment_and_dated() {
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let database = |snapshot: &str| {
        format!(
            "resource \"aws_db_instance\" \"x\" {{\n  identifier_prefix        = \"x-\"\n  instance_class           = \"db.t4g.micro\"\n  allocated_storage        = 20\n  storage_encrypted        = true\n  engine_lifecycle_support = \"open-source-rds-extended-support-disabled\"\n  db_subnet_group_name     = aws_db_subnet_group.x.name\n  vpc_security_group_ids   = [aws_security_group.x.id]\n  final_snapshot_identifier = {snapshot}\n}}\n"
        )
    };
    for fixed in ["\"flask-todo-final\"", "\"${local.name}-db-final\""] {
        let report = check_with(&database(fixed), &container_service);
        assert!(
            report
                .violations
                .iter()
                .any(|v| v.rule == Rule::Lifecycle
                    && v.message.contains("final_snapshot_identifier")),
            "{fixed}: {}",
            messages(&report)
        );
    }
    let dated =
        database("\"${local.name}-db-final-${formatdate(\"YYYYMMDDhhmmss\", plantimestamp())}\"");
    let report = check_with(&dated, &container_service);
    assert!(
        !report
            .violations
            .iter()
            .any(|v| v.message.contains("final_snapshot_identifier")),
        "{}",
        messages(&report)
    );
}
