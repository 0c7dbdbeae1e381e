//! The world-ingress rule against sources that hide the internet: IPv6
//! ranges that carry IPv4 addresses, and managed prefix lists, whose
//! entries the gate cannot see.

use std::collections::{BTreeMap, BTreeSet};

use infra::choose::Target;
use infra::policy::{Policy, PolicyReport, Rule, check};

/// A configuration that passes the `vm` policy on its own.
const BASE: &str = r#"
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.29"
    }
  }
}

provider "aws" {
  region = "ca-central-1"
}

output "app_url" {
  value = "http://example:8080"
}
"#;

fn vm_policy() -> Policy {
    Policy::for_target(Target::Vm, "ca-central-1", "t2.small")
}

fn check_with(extra: &str) -> PolicyReport {
    let files = BTreeMap::from([
        ("main.tf".to_owned(), BASE.to_owned()),
        ("extra.tf".to_owned(), extra.to_owned()),
    ]);
    check(&files, &vm_policy())
}

/// Checks that `extra` breaks exactly `expected`, and returns the messages.
fn assert_only(extra: &str, expected: &[Rule]) -> String {
    let report = check_with(extra);
    assert!(!report.passed, "accepted:\n{extra}");
    assert_eq!(
        report.rules(),
        expected.iter().copied().collect::<BTreeSet<_>>(),
        "violations for:\n{extra}\n{:#?}",
        report.violations
    );
    report
        .violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_passes(extra: &str) {
    let report = check_with(extra);
    assert!(
        report.passed,
        "rejected:\n{extra}\n{:#?}",
        report.violations
    );
}

#[test]
fn ipv6_ranges_carrying_the_ipv4_internet_are_the_world() {
    let cases = [
        (
            "IPv4-mapped, all protocols",
            r#"resource "aws_vpc_security_group_ingress_rule" "mapped" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "-1"
  cidr_ipv6         = "::ffff:0:0/96"
}"#,
            "::ffff:0:0/96 = IPv4 0.0.0.0/0",
        ),
        (
            "half of IPv4 through NAT64, inline",
            r#"resource "aws_security_group" "nat64" {
  name = "nat64"
  ingress {
    from_port        = 22
    to_port          = 22
    protocol         = "tcp"
    ipv6_cidr_blocks = ["64:ff9b::/97"]
  }
}"#,
            "64:ff9b::/97 = IPv4 0.0.0.0/1",
        ),
        (
            "an IPv6 block holding the IPv4-mapped one",
            r#"resource "aws_security_group_rule" "wide" {
  type              = "ingress"
  security_group_id = aws_security_group.app.id
  protocol          = "tcp"
  from_port         = 22
  to_port           = 22
  ipv6_cidr_blocks  = ["::/64"]
}"#,
            "::/64 = IPv4 0.0.0.0/0",
        ),
        (
            "6to4 wider than a /8 of IPv4",
            r#"resource "aws_security_group_rule" "sixtofour" {
  type              = "ingress"
  security_group_id = aws_security_group.app.id
  protocol          = "tcp"
  from_port         = 22
  to_port           = 22
  ipv6_cidr_blocks  = ["2002::/23"]
}"#,
            "2002::/23 = IPv4 0.0.0.0/7",
        ),
    ];
    for (name, extra, shown) in cases {
        let messages = assert_only(extra, &[Rule::WorldIngress]);
        assert!(messages.contains(shown), "{name}: {messages}");
    }
}

#[test]
fn mapped_private_ranges_and_the_app_port_pass() {
    assert_passes(
        r#"resource "aws_vpc_security_group_ingress_rule" "private" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv6         = "::ffff:10.0.0.0/104"
}

resource "aws_vpc_security_group_ingress_rule" "app" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
  cidr_ipv6         = "::ffff:0:0/96"
}"#,
    );
}

#[test]
fn a_prefix_list_source_is_unverifiable_beyond_the_app_port() {
    let cases = [
        (
            "prefix_list_id",
            r#"resource "aws_vpc_security_group_ingress_rule" "listed" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "-1"
  prefix_list_id    = "pl-3b927c52"
}"#,
        ),
        (
            "prefix_list_ids",
            r#"resource "aws_security_group_rule" "listed" {
  type              = "ingress"
  security_group_id = aws_security_group.app.id
  protocol          = "tcp"
  from_port         = 22
  to_port           = 22
  prefix_list_ids   = ["pl-3b927c52"]
}"#,
        ),
        (
            "prefix_list_ids",
            r#"resource "aws_security_group" "listed" {
  name = "listed"
  ingress {
    from_port       = 0
    to_port         = 65535
    protocol        = "tcp"
    cidr_blocks     = ["10.0.0.0/16"]
    prefix_list_ids = [aws_ec2_managed_prefix_list.admins.id]
  }
}"#,
        ),
    ];
    for (key, extra) in cases {
        let messages = assert_only(extra, &[Rule::IngressUnverifiable]);
        assert!(
            messages.contains(&format!("managed prefix list ({key})"))
                && messages.contains("can hold any CIDR")
                && messages.contains("open only tcp port 8080 to the prefix list"),
            "{messages}"
        );
    }
}

#[test]
fn a_prefix_list_on_the_app_port_and_empty_lists_pass() {
    assert_passes(
        r#"resource "aws_vpc_security_group_ingress_rule" "app" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
  prefix_list_id    = "pl-3b927c52"
}

resource "aws_security_group" "ssh_internal" {
  name = "ssh-internal"
  ingress {
    from_port       = 22
    to_port         = 22
    protocol        = "tcp"
    cidr_blocks     = ["10.0.0.0/16"]
    prefix_list_ids = []
  }
}"#,
    );
}
