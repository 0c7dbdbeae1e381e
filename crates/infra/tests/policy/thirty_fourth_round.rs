//! A thirty-fourth round of attacks: values the size estimate did not look
//! inside. `[EXPR][0]`, `{ k = EXPR }.k` and `EXPR[*]` weighed 64 bytes
//! whatever EXPR made, a conditional's condition was not weighed, an inner
//! `for` reusing the outer's name reset its weight, and a short literal
//! pattern with counted repetitions (`.{1000}`) took minutes per match.

use super::*;

#[test]
fn growth_hidden_in_a_part_a_condition_or_a_reused_name_is_refused() {
    let vm = vm_policy();
    let big = "a".repeat(20_000);
    let grow = |x: &str| format!("join({x}, split(\"\", {x}))");
    let twice = grow(&grow("x"));
    assert_each_refused(vec![
        (
            "[EXPR][0]",
            format!("locals {{\n  grown = [for x in [\"{big}\"] : [{twice}][0]]\n}}\n"),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "{{ k = EXPR }}.k",
            format!("locals {{\n  grown = [for x in [\"{big}\"] : {{ k = {twice} }}.k]\n}}\n"),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a conditional's condition",
            format!(
                "locals {{\n  grown = [for x in [\"{big}\"] : length({twice}) > 0 ? \"a\" : \"b\"]\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "an inner for reusing the outer's name",
            format!(
                "locals {{\n  grown = [for x in [\"{big}\"] : [[for x in [1] : x], {twice}]]\n}}\n"
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "counted repetitions over a long text",
            format!(
                "locals {{\n  text  = \"{}\"\n  found = can(regex(\"{}c\", local.text))\n}}\n",
                "a".repeat(200_000),
                ".{1000}".repeat(30)
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
    ]);
}

/// The destroy runs without the app's values (`var.app_env` is then an
/// empty map): an expression needing one of its elements fails there, and
/// on Kubernetes the fallback meets an expired cluster token.
#[test]
fn an_element_of_the_apps_values_the_destroy_lacks_is_refused() {
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    for read in [
        "keys(var.app_env)[0]",
        "var.app_env[\"PORT\"]",
        "element(keys(var.app_env), 0)",
        "lookup(var.app_env, \"PORT\")",
        "tolist(values(var.app_env))[0]",
    ] {
        let extra = format!("locals {{\n  first = {read}\n}}\n");
        let report = check_with(&extra, &kubernetes);
        assert!(
            report.violations.iter().any(|v| v.rule == Rule::Lifecycle
                && v.message.contains("which the destroy runs without")),
            "{read}: {}",
            messages(&report)
        );
    }
    // As the templates read it: the names, for a for_each over them.
    assert_passes(
        "locals {\n  setting_names = nonsensitive(toset(keys(var.app_env)))\n}\n",
        &kubernetes,
    );
}
