//! `deployflow policy check DIR` and `policy check-plan FILE`: the gate on
//! hand-written Terraform and on a plan's changes, with the exit status a CI
//! job branches on.

use std::path::Path;
use std::process::{Command, Output};

const DEPLOYFLOW: &str = env!("CARGO_BIN_EXE_deployflow");

const PASSING: &str = r#"
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

fn policy_check(dir: &Path, extra: &[&str]) -> Output {
    Command::new(DEPLOYFLOW)
        .args(["policy", "check"])
        .arg(dir)
        .args(["--region", "ca-central-1"])
        .args(extra)
        .output()
        .expect("run deployflow")
}

#[test]
fn a_clean_directory_passes_and_an_attack_fails_with_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), PASSING).unwrap();
    let passed = policy_check(dir.path(), &[]);
    assert_eq!(passed.status.code(), Some(0), "{passed:?}");
    assert!(String::from_utf8_lossy(&passed.stdout).starts_with("passed"));

    std::fs::write(
        dir.path().join("iam.tf"),
        r#"resource "aws_iam_role_policy_attachment" "admin" {
  role       = "OrganizationAccountAccessRole"
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("main_override.tf"), "locals {}\n").unwrap();
    let failed = policy_check(dir.path(), &[]);
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
    let stdout = String::from_utf8_lossy(&failed.stdout);
    for expected in [
        "iam.tf:1: [iam-managed-policy]",
        "iam.tf:1: [foreign-resource]",
        "main_override.tf: [file-not-allowed]",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected} missing from:\n{stdout}"
        );
    }

    let json = policy_check(dir.path(), &["--json"]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert!(
        report["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["rule"] == "iam-managed-policy" && v["line"] == 1)
    );
}

#[test]
fn a_plan_is_checked_with_the_same_rules() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let change = |address: &str, kind: &str, after: serde_json::Value| {
        serde_json::json!({
            "address": address, "mode": "managed", "type": kind, "name": "x",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": ["create"], "before": null, "after": after},
        })
    };
    let clean = serde_json::json!({"resource_changes": [change(
        "aws_vpc.main", "aws_vpc", serde_json::json!({"cidr_block": "10.0.0.0/16"}),
    )]});
    std::fs::write(&plan, clean.to_string()).unwrap();
    let passed = check_plan(&plan, &[]);
    assert_eq!(passed.status.code(), Some(0), "{passed:?}");

    let hostile = serde_json::json!({"resource_changes": [change(
        "aws_security_group_rule.ssh", "aws_security_group_rule",
        serde_json::json!({"type": "ingress", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}),
    )]});
    std::fs::write(&plan, hostile.to_string()).unwrap();
    let failed = check_plan(&plan, &[]);
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(
        stdout.contains("plan: [world-ingress] aws_security_group_rule.ssh"),
        "{stdout}"
    );

    let missing = check_plan(&dir.path().join("nope.json"), &[]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
}

fn check_plan(file: &Path, extra: &[&str]) -> Output {
    Command::new(DEPLOYFLOW)
        .args(["policy", "check-plan"])
        .arg(file)
        .args(["--region", "ca-central-1"])
        .args(extra)
        .output()
        .expect("run deployflow")
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), PASSING).unwrap();
    let bad_target = policy_check(dir.path(), &["--target", "mainframe"]);
    assert_eq!(bad_target.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_target.stderr).contains("--target"));
    let missing = policy_check(&dir.path().join("nope"), &[]);
    assert_eq!(missing.status.code(), Some(2));
}
