//! A thirty-first round of attacks. A supplied variable without its
//! default (`image_tag`) made every destroy stop at "No value for required
//! variable": the deployment could never be taken down. And work the
//! worker could not finish: functions that compare every element with every
//! other (`distinct`, `matchkeys`) or multiply matches (`regexall`), a
//! `for` whose condition scans the whole list, many values each just
//! under the bound, and the 600-million-digit number rebuilt from text made
//! at plan time.

use super::*;

/// 400 bytes of text, the seed of the large values below.
fn seed() -> String {
    "abcdefghij".repeat(40)
}

#[test]
fn a_supplied_variable_keeps_its_default_and_no_validation() {
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    assert_each_refused(vec![
        (
            "image_tag without a default",
            "variable \"image_tag\" {\n  type = string\n}\n".to_owned(),
            &[Rule::UnsuppliedVariable],
            &container_service,
        ),
        (
            "image_tag with a validation the destroy's value fails",
            "variable \"image_tag\" {\n  type    = string\n  default = \"latest\"\n  validation {\n    condition     = var.image_tag != \"latest\"\n    error_message = \"x\"\n  }\n}\n".to_owned(),
            &[Rule::UnsuppliedVariable],
            &container_service,
        ),
    ]);
    assert_passes(
        "variable \"image_tag\" {\n  type    = string\n  default = \"latest\"\n}\n",
        &container_service,
    );
}

#[test]
fn work_without_a_bound_is_refused() {
    let vm = vm_policy();
    let pairs =
        "  pairs = flatten([for i in range(256) : [for j in range(256) : \"${i}-${j}\"]])\n";
    let seed = seed();
    let many: String = (0..60)
        .map(|n| format!("  big{n} = join(\"\", [for i in range(256) : local.k])\n"))
        .collect();
    assert_each_refused(vec![
        (
            "distinct() over 65,536 strings",
            format!("locals {{\n{pairs}  unique = length(distinct(local.pairs))\n}}\n"),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "matchkeys() of a list against itself",
            format!(
                "locals {{\n{pairs}  kept = length(matchkeys(local.pairs, local.pairs, local.pairs))\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "regexall() of empty capture groups",
            format!(
                "locals {{\n  k = \"{seed}\"\n  all = length(regexall(\"{}\", local.k))\n}}\n",
                "()".repeat(200)
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a provider function",
            "locals {\n  parts = provider::aws::trim_iam_role_path(\"/path/role\")\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a for whose condition scans the whole list",
            format!(
                "locals {{\n  k = \"{seed}\"\n  chars = split(\"\", join(\"\", [for i in range(256) : local.k]))\n  kept = length([for c in local.chars : c if !contains(local.chars, \"zz\")])\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a dynamic ingress block over 65,536 elements",
            format!(
                "locals {{\n{pairs}}}\n\nresource \"aws_security_group\" \"wide\" {{\n  name_prefix = \"df-planlocal-wide-\"\n  description = \"x\"\n  vpc_id      = aws_vpc.main.id\n\n  dynamic \"ingress\" {{\n    for_each = local.pairs\n    content {{\n      description = ingress.value\n      protocol    = \"tcp\"\n      from_port   = 8080\n      to_port     = 8080\n      cidr_blocks = [\"10.0.0.0/8\"]\n    }}\n  }}\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "sixty values each under the bound",
            format!("locals {{\n  k = \"{seed}\"\n{many}}}\n"),
            &[Rule::SizeNotBounded],
            &vm,
        ),
    ]);
}

#[test]
fn a_number_read_from_text_made_at_plan_time_is_refused() {
    let vm = vm_policy();
    let cases = [
        (
            "the exponent glued in by a template",
            r#""n${"1e${"600000000"}" * 1}""#,
        ),
        (
            "the e written as an escape",
            r#""n${"1\u0065600000000" * 1}""#,
        ),
        (
            "jsondecode() of a format()",
            r#""n${jsondecode(format("1e%d", 600000000))}""#,
        ),
        (
            "tonumber() of a join()",
            r#""n${tonumber(join("", ["1e", "600000000"]))}""#,
        ),
    ];
    assert_each_refused(
        cases
            .iter()
            .map(|(name, value)| {
                (
                    *name,
                    format!("locals {{\n  scale = {value}\n}}\n"),
                    &[Rule::SizeNotBounded][..],
                    &vm,
                )
            })
            .collect(),
    );
    assert_passes(
        "locals {\n  half = parseint(substr(sha256(\"x\"), 0, 12), 16) + 1\n  port = 8000 + 80\n}\n",
        &vm,
    );
}
