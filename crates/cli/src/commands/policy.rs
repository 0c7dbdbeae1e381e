//! `deployflow policy check DIR`: the policy gate on a directory of `.tf`
//! files, for Terraform written by hand and for CI; `deployflow policy
//! check-plan FILE`: the same rules on a plan's changes (`terraform show -json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use infra::choose::Target;
use infra::policy::{Policy, PolicyReport, check, check_plan};

use crate::commands::ConfigError;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Check every file under DIR; exit 0 when it passes, 1 when it does not.
    Check(CheckArgs),
    /// Check a plan's changes, as `terraform show -json PLANFILE` prints
    /// them (FILE, or `-` for standard input); exit 0 when it passes, 1 when
    /// it does not.
    CheckPlan(CheckPlanArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckPlanArgs {
    /// The JSON plan, or `-` to read it from standard input.
    pub file: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The directory of Terraform files (every file in it is checked).
    pub dir: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// What the configuration deploys, which sets the allow-lists.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// vm, container-service, serverless or kubernetes.
    #[arg(long, default_value = "vm")]
    pub target: String,
    /// The region every provider and resource must pin.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// The EC2 instance type allowed (vm and Kubernetes nodes).
    #[arg(long, default_value = "t3.small")]
    pub instance_type: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The configuration did not pass (exit status 1, not a usage error).
#[derive(Debug)]
pub struct PolicyFailed(pub usize);

impl std::fmt::Display for PolicyFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the configuration breaks {} rule(s) of the policy gate",
            self.0
        )
    }
}

impl std::error::Error for PolicyFailed {}

pub fn run(command: PolicyCommand) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Check(args) => {
            let policy = args.target.policy()?;
            if !args.dir.is_dir() {
                return Err(
                    ConfigError(format!("{} is not a directory", args.dir.display())).into(),
                );
            }
            let mut files = BTreeMap::new();
            read_tree(&args.dir, &args.dir, &mut files)?;
            if files.is_empty() {
                return Err(ConfigError(format!("{} holds no files", args.dir.display())).into());
            }
            let passed = format!("{} file(s)", files.len());
            report(&check(&files, &policy), &args.target, &passed)
        }
        PolicyCommand::CheckPlan(args) => {
            let policy = args.target.policy()?;
            let text = if args.file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
            } else {
                std::fs::read_to_string(&args.file)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", args.file.display())))?
            };
            report(&check_plan(&text, &policy), &args.target, "the plan")
        }
    }
}

impl TargetArgs {
    fn policy(&self) -> Result<Policy, ConfigError> {
        let target = Target::parse(self.target.trim())
            .filter(|t| t.is_cloud())
            .ok_or_else(|| {
                ConfigError(format!(
                    "--target must be vm, container-service, serverless or kubernetes, got {:?}",
                    self.target
                ))
            })?;
        Ok(Policy::for_target(
            target,
            self.region.trim(),
            self.instance_type.trim(),
        ))
    }
}

/// Prints the report; the error is the exit status 1 of a refusal.
fn report(report: &PolicyReport, target: &TargetArgs, what: &str) -> anyhow::Result<()> {
    if target.json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else if report.passed {
        println!("passed: {what}, target {}", target.target.trim());
    } else {
        for violation in &report.violations {
            println!("{violation}");
        }
    }
    if report.passed {
        Ok(())
    } else {
        Err(PolicyFailed(report.violations.len()).into())
    }
}

/// Every file under `dir` by path relative to `root` (`/`-separated): the
/// gate refuses what is not a plain `.tf` file, so nothing is skipped.
fn read_tree(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if name != ".terraform" {
                read_tree(root, &path, files)?;
            }
            continue;
        }
        if name == ".terraform.lock.hcl"
            || name.ends_with(".tfstate")
            || name.ends_with(".tfstate.backup")
        {
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .expect("under the root")
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        files.insert(rel, text);
    }
    Ok(())
}
