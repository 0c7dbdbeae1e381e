//! A thirty-fifth round of attacks: a negative number's exponent went
//! unread (`"n":-1e600000000` in a string `jsondecode()` reads: hours of
//! the worker's CPU), a `required_version` with a ceiling made a
//! deployment impossible to plan or destroy once the worker's Terraform is
//! newer, and `uuid()` made a plan or a destroy fail by chance.

use super::*;

#[test]
fn a_negative_number_with_a_large_exponent_is_refused() {
    let vm = vm_policy();
    assert_each_refused(vec![
        (
            "a minus sign before the number in JSON",
            "locals {\n  n = jsonencode(jsondecode(\"{\\\"n\\\":-1e600000000}\"))\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a minus sign in arithmetic",
            "locals {\n  n = -1e600000000 * 1\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
    ]);
    // A hyphen in a name is no minus sign.
    assert_passes("locals {\n  label = \"app-1e500\"\n}\n", &vm);
}

#[test]
fn a_terraform_version_ceiling_or_pin_is_refused() {
    let vm = vm_policy();
    for constraint in [">= 1.10.0, <= 1.11.4", "= 1.11.4", "~> 1.11.0", "1.11.4"] {
        let report = check_with(
            &format!("terraform {{\n  required_version = \"{constraint}\"\n}}\n"),
            &vm,
        );
        assert!(
            report
                .violations
                .iter()
                .any(|v| v.message.contains("lower bounds only")),
            "{constraint}: {}",
            messages(&report)
        );
    }
    assert_passes(
        "terraform {\n  required_version = \">= 1.6, > 1.5\"\n}\n",
        &vm,
    );
}

#[test]
fn a_value_made_by_chance_is_refused() {
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let report = check_with(
        "locals {\n  coin = substr(uuid(), 0, 1) == \"0\" ? [][0] : \"ok\"\n}\n",
        &kubernetes,
    );
    assert!(
        report.violations.iter().any(|v| v.message.contains("uuid")),
        "{}",
        messages(&report)
    );
}

/// Round thirty-six: an escape hid a number's exponent from the scan of
/// the file, a local named like the snapshot's attribute read the clock,
/// and a provider without a ceiling met its next major at the destroy.
#[test]
fn an_escaped_exponent_a_clock_in_a_local_or_an_unbounded_provider_is_refused() {
    let vm = vm_policy();
    assert_each_refused(vec![
        (
            "an exponent written as a unicode escape",
            "locals {\n  n = jsonencode(jsondecode(\"[1\\u0065600000000]\"))\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a local named final_snapshot_identifier reading the clock",
            "locals {\n  final_snapshot_identifier = [\"x\"][timecmp(plantimestamp(), \"2027-01-01T00:00:00Z\") + 1]\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
        (
            "a provider version without an upper bound",
            "terraform {\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \">= 6.0\"\n    }\n  }\n}\n".to_owned(),
            &[Rule::ProviderVersion],
            &vm,
        ),
    ]);
}

/// Round thirty-six: text made at plan time and read as a number through
/// a conditional, `element()` or `coalesce()` passed the rule for numbers
/// made of computed text.
#[test]
fn computed_text_passed_on_before_it_is_read_as_a_number_is_refused() {
    let vm = vm_policy();
    let locals = "  m = \"1e\"\n  e = \"600000000\"\n";
    let mut cases = Vec::new();
    for read in [
        "tonumber(true ? \"${local.m}${local.e}\" : \"0\")",
        "tonumber(element([\"${local.m}${local.e}\"], 0))",
        "tonumber(coalesce(\"\", \"${local.m}${local.e}\"))",
        "[\"${local.m}${local.e}\"][0] * 1",
    ] {
        cases.push((
            read,
            format!("locals {{\n{locals}  n = jsonencode({read})\n}}\n"),
            &[Rule::SizeNotBounded][..],
            &vm,
        ));
    }
    assert_each_refused(cases);
}
