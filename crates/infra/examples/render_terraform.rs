//! Renders the vetted Terraform of every target for a few repositories, so
//! outside scanners (checkov, `terraform fmt`) can read it:
//!
//! ```text
//! cargo run -p deployflow-infra --example render_terraform -- OUT_DIR [REPO_DIR...]
//! ```
//!
//! Each repository is analysed, a choice is made for each target, and the
//! files land in `OUT_DIR/<repo>/<target>/`. A small built-in Express app
//! that needs PostgreSQL and Redis is always rendered too, into
//! `OUT_DIR/sample/`. Every rendering must pass the policy gate.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use analysis::{Snapshot, SnapshotLimits, analyse, parse_requirements};
use infra::choose::{Target, choose};
use infra::policy::{Policy, check};
use infra::terraform::{TerraformInputs, render};

const SAMPLE: &[(&str, &str)] = &[
    (
        "package.json",
        r#"{"name":"sample","scripts":{"start":"node server.js"},"dependencies":{"express":"^4.19.0","pg":"^8.12.0","ioredis":"^5.4.0"}}"#,
    ),
    (
        "server.js",
        "const app = require('express')();\nconst db = process.env.DATABASE_URL;\nconst cache = process.env.REDIS_URL;\napp.get('/health', (req, res) => res.send('ok'));\napp.listen(process.env.PORT || 3000);\n",
    ),
];

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: render_terraform OUT_DIR [REPO_DIR...]")?,
    );
    let repos: Vec<PathBuf> = args.map(PathBuf::from).collect();
    render_all(
        &out.join("sample"),
        &Snapshot::from_texts(SAMPLE.iter().copied()),
    )?;
    for repo in repos {
        let name = repo_name(&repo);
        let snapshot = Snapshot::from_dir(&repo, &SnapshotLimits::default())?;
        render_all(&out.join(name), &snapshot)?;
    }
    Ok(())
}

fn render_all(dir: &Path, snapshot: &Snapshot) -> Result<(), Box<dyn Error>> {
    for target in Target::ALL {
        let mut requirements = parse_requirements("a public API");
        requirements.target = Some(target.as_str().to_owned());
        let analysis = analyse(snapshot, &requirements);
        let choice = choose(&analysis, &requirements);
        let policy = Policy::for_choice(&choice);
        let inputs =
            TerraformInputs::new(choice, "0190a4b2-7c3d-7abc-8def-0123456789ab", &analysis);
        let files = render(&inputs)?;
        let report = check(&files, &policy);
        if !report.passed {
            return Err(
                format!("{target} template fails the gate: {:?}", report.violations).into(),
            );
        }
        let target_dir = dir.join(target.as_str());
        fs::create_dir_all(&target_dir)?;
        for (name, text) in &files {
            fs::write(target_dir.join(name), text)?;
        }
        println!("{}", target_dir.display());
    }
    Ok(())
}

/// `express-payments` for `.../fixtures/express-payments/repo`.
fn repo_name(repo: &Path) -> String {
    let last = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    match last(repo).as_deref() {
        Some("repo") => repo.parent().and_then(last),
        other => other.map(str::to_owned),
    }
    .unwrap_or_else(|| "repo".to_owned())
}
