//! A twenty-ninth round of attacks. The clock read anywhere but a
//! variable's validation (a data source's `state`, an IAM statement's
//! `sid`: `["x"][timecmp(plantimestamp(), "2026-12-20T00:00:00Z") + 1]`)
//! passed every check before its date and failed every plan after it, the
//! one `terraform destroy` makes first among them: the deployment could
//! never be taken down. And the records the templates keep were switched
//! off: a container without its log configuration, an EKS cluster without
//! its audit logs.

use super::*;

#[test]
fn the_clock_read_outside_a_snapshot_name_is_refused() {
    let vm = vm_policy();
    assert_each_refused(vec![
        (
            "a data source's argument indexed by the date",
            "data \"aws_availability_zones\" \"dated\" {\n  state = [\"available\"][timecmp(plantimestamp(), \"2026-12-20T00:00:00Z\") + 1]\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
        (
            "a local of the year",
            "locals {\n  year = formatdate(\"YYYY\", timestamp())\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
        (
            "a snapshot's name that fails after a date",
            "locals {\n  final_snapshot_identifier = [\"x\"][tonumber(formatdate(\"YYYY\", plantimestamp())) - 2026]\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
    ]);
}

#[test]
fn records_the_templates_keep_cannot_be_switched_off() {
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let without_logs = check_with(
        "resource \"aws_ecs_task_definition\" \"quiet\" {\n  family                = \"x\"\n  container_definitions = jsonencode([{ name = \"app\", image = \"${aws_ecr_repository.app.repository_url}:1\" }])\n}\n",
        &container_service,
    );
    assert!(
        without_logs.rules().contains(&Rule::LogsOff),
        "{:#?}",
        without_logs.violations
    );
    let unaudited = check_with(
        "resource \"aws_eks_cluster\" \"quiet\" {\n  name                      = \"x\"\n  role_arn                  = aws_iam_role.cluster.arn\n  enabled_cluster_log_types = [\"api\"]\n  vpc_config {\n    subnet_ids = aws_subnet.public[*].id\n  }\n}\n",
        &kubernetes,
    );
    assert!(
        unaudited.rules().contains(&Rule::LogsOff),
        "{:#?}",
        unaudited.violations
    );
}

/// The worker's round: values the size estimate under-weighed (a part of a
/// local taken as one byte, `jsonencode()` doubling its escapes at each
/// level, `indent()` padding every line, a number written out with six
/// hundred million digits) ran the worker out of memory at plan; and the
/// gate itself took minutes (templates nested sixty deep, a large local
/// read five thousand times) or panicked (`range()` bounds that overflow).
#[test]
fn the_twenty_ninth_round_of_attacks_on_the_worker_is_refused() {
    let vm = vm_policy();
    let local_read = |n: usize, name: &str| vec![format!("local.{name}"); n].join(", ");
    assert_each_refused(vec![
        (
            "locals grown 256 times a step through a part of the one before",
            "locals {\n  pad0 = [\"0123456789\"]\n  pad1 = [join(\"\", [for i in range(256) : local.pad0[0]])]\n  pad2 = [join(\"\", [for i in range(256) : local.pad1[0]])]\n  pad3 = [join(\"\", [for i in range(256) : local.pad2[0]])]\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "jsonencode() nested forty deep",
            format!(
                "locals {{\n  quoted = {}\"\\\\\"{}\n}}\n",
                "jsonencode(".repeat(40),
                ")".repeat(40)
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a number of six hundred million digits",
            "locals {\n  scale      = tonumber(\"1e600000000\")\n  scale_text = \"n${local.scale}\"\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "indent() of a thousand lines in two nested fors",
            format!(
                "locals {{\n  banner      = indent(999, \"{}\")\n  banner_grid = [for a in range(256) : [for b in range(256) : \"${{local.banner}}${{a}}-${{b}}\"]]\n}}\n",
                "\\n".repeat(1000)
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "range() bounds whose difference overflows",
            "locals {\n  steps = range(0, \"-9223372036854775808\", \"-1\")\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "templates nested sixty deep",
            format!(
                "locals {{\n  nest = \"{}1{}\"\n}}\n",
                "${\"".repeat(60),
                "\"}".repeat(60)
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a local of thirty thousand expressions read two hundred times",
            format!(
                "locals {{\n  m = \"x\"\n  l = [{}]\n  c = [{}]\n}}\n\noutput \"o\" {{\n  value = length([{}])\n}}\n",
                local_read(100, "m"),
                local_read(100, "l"),
                local_read(200, "c")
            ),
            &[Rule::SizeNotBounded],
            &vm,
        ),
    ]);
}

/// Thirty thousand comment lines, each naming a heredoc marker of its own:
/// the heredoc check compared every line with every marker (minutes); it
/// now looks each line up once.
#[test]
fn many_heredoc_markers_are_checked_in_one_pass() {
    let comments: String = (0..30_000).map(|n| format!("# <<M{n:06}\n")).collect();
    assert_passes(&comments, &vm_policy());
}

/// A thirtieth round on the worker: the six-hundred-million-digit number
/// made without `tonumber()` (arithmetic on a string, `jsondecode()`), and
/// growth the estimate did not weigh (`base64encode()` nested sixty deep,
/// `format("%#v")` doubling its escapes, a format that writes its one
/// argument a hundred times, a YAML document's aliases).
#[test]
fn the_thirtieth_round_of_attacks_on_the_worker_is_refused() {
    let vm = vm_policy();
    let nested = |function: &str, inner: &str, depth: usize| {
        format!(
            "locals {{\n  grown = {}{inner}{}\n}}\n",
            format!("{function}(").repeat(depth),
            ")".repeat(depth)
        )
    };
    let hundred_times = format!("\"{}\"", "%[1]s".repeat(100));
    let mut repeated = "\"x\"".to_owned();
    for _ in 0..5 {
        repeated = format!("format({hundred_times}, {repeated})");
    }
    assert_each_refused(vec![
        (
            "a huge number by arithmetic on a string",
            "locals {\n  scale = \"n${\"1e600000000\" * 1}\"\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a huge number decoded from JSON",
            "locals {\n  scale = \"n${jsondecode(\"1e600000000\")}\"\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "base64encode() nested sixty deep",
            nested("base64encode", "\"x\"", 60),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "format(\"%#v\") nested sixty deep",
            nested("format", "\"x\"", 60).replace("format(", "format(\"%#v\", "),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a format that writes its argument a hundred times, five deep",
            format!("locals {{\n  grown = {repeated}\n}}\n"),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "a YAML document's aliases",
            "locals {\n  laughs = jsonencode(yamldecode(\"a: &a [x, x]\\nb: *a\\n\"))\n}\n"
                .to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
    ]);
}
