//! `deployflow bench analyse`: the deterministic detectors over a set of repositories
//! (the analysis fixtures by default), per repository and in all, against a baseline
//! measured in the same run: one plain pass over the same files counting lines, the
//! least any analysis must do.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use analysis::{Snapshot, SnapshotLimits};
use anyhow::Context;
use clap::Args;

#[derive(Args)]
pub struct AnalyseBench {
    /// A directory of repositories: each subdirectory (or its `repo/` subdirectory) is one.
    #[arg(long, default_value = "crates/analysis/tests/fixtures")]
    dir: PathBuf,
    /// Times each repository is analysed.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Score the detectors against hand-made labels of real repositories (JSON
    /// Lines, see corpus/README.md) instead of timing the fixtures.
    #[arg(long, value_name = "FILE")]
    corpus: Option<PathBuf>,
    /// Where the corpus's repositories are: `owner+name` work trees or git
    /// directories (nothing is fetched; absent ones are named, not scored).
    #[arg(long, value_name = "DIR", default_value = "corpus/repos")]
    repos: PathBuf,
    /// Where git directories are checked out at the labelled commit (a
    /// temporary directory by default).
    #[arg(long, value_name = "DIR")]
    checkouts: Option<PathBuf>,
}

pub async fn run(args: AnalyseBench) -> anyhow::Result<()> {
    if let Some(corpus) = &args.corpus {
        return score_corpus(corpus, &args).await;
    }
    let repos = repositories(&args.dir)?;
    if repos.is_empty() {
        anyhow::bail!("no repositories under {}", args.dir.display());
    }
    let limits = SnapshotLimits::default();
    let snapshots: Vec<Snapshot> = repos
        .iter()
        .map(|path| {
            Snapshot::from_dir(path, &limits).with_context(|| format!("reading {}", path.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    let requirements = analysis::Requirements::default();

    let mut load = Vec::new();
    let mut detect = Vec::new();
    let mut scan = Vec::new();
    let started = Instant::now();
    for _ in 0..args.rounds.max(1) {
        for (path, snapshot) in repos.iter().zip(&snapshots) {
            let t = Instant::now();
            let loaded = Snapshot::from_dir(path, &limits)?;
            load.push(t.elapsed());
            std::hint::black_box(&loaded);

            let t = Instant::now();
            std::hint::black_box(analysis::analyse(snapshot, &requirements));
            detect.push(t.elapsed());

            let t = Instant::now();
            std::hint::black_box(count_lines(snapshot));
            scan.push(t.elapsed());
        }
    }
    let wall = started.elapsed();
    let analyses = detect.len();
    let detect_total: Duration = detect.iter().sum();
    let scan_total: Duration = scan.iter().sum();
    let report = serde_json::json!({
        "repositories": repos.len(),
        "rounds": args.rounds.max(1),
        "analyses": analyses,
        "repos_per_second_detectors": analyses as f64 / detect_total.as_secs_f64(),
        "repos_per_second_read_and_detect": analyses as f64 / (detect_total + load.iter().sum::<Duration>()).as_secs_f64(),
        "detect_ms": percentiles(&mut detect),
        "read_ms": percentiles(&mut load),
        "baseline_line_count_ms": percentiles(&mut scan),
        "detect_over_baseline": detect_total.as_secs_f64() / scan_total.as_secs_f64().max(1e-9),
        "wall_seconds": wall.as_secs_f64(),
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let ms = |key: &str, p: &str| report[key][p].as_f64().unwrap_or_default();
    println!(
        "{} repositories x {} rounds = {analyses} analyses (detectors only, no LLM)",
        repos.len(),
        args.rounds.max(1)
    );
    println!("                    p50 ms   p99 ms   max ms");
    for (label, key) in [
        ("detectors", "detect_ms"),
        ("read snapshot", "read_ms"),
        ("baseline scan", "baseline_line_count_ms"),
    ] {
        println!(
            "{label:<18} {:>8.3} {:>8.3} {:>8.3}",
            ms(key, "p50"),
            ms(key, "p99"),
            ms(key, "max")
        );
    }
    println!(
        "detectors: {:.0} repos/s; with reading the files: {:.0} repos/s",
        report["repos_per_second_detectors"]
            .as_f64()
            .unwrap_or_default(),
        report["repos_per_second_read_and_detect"]
            .as_f64()
            .unwrap_or_default()
    );
    println!(
        "detectors / baseline line scan of the same files: {:.1}x",
        report["detect_over_baseline"].as_f64().unwrap_or_default()
    );
    Ok(())
}

async fn score_corpus(corpus: &Path, args: &AnalyseBench) -> anyhow::Result<()> {
    let labels = super::corpus::read_labels(corpus)?;
    let scratch = tempfile::tempdir()?;
    let checkouts = args.checkouts.as_deref().unwrap_or(scratch.path());
    let score = super::corpus::score(&labels, &args.repos, checkouts).await?;
    if score.scored == 0 {
        anyhow::bail!(
            "none of the {} labelled repositories is under {}",
            labels.len(),
            args.repos.display()
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&score)?);
    } else {
        super::corpus::print(&score, corpus);
    }
    Ok(())
}

/// Each subdirectory of `dir`, or its `repo/` when it has one (the fixtures' layout).
fn repositories(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut repos = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        let inner = path.join("repo");
        repos.push(if inner.is_dir() { inner } else { path });
    }
    repos.sort();
    Ok(repos)
}

fn count_lines(snapshot: &Snapshot) -> usize {
    snapshot
        .files
        .iter()
        .filter_map(|f| f.content.as_deref())
        .map(|text| text.bytes().filter(|b| *b == b'\n').count())
        .sum()
}

fn percentiles(samples: &mut [Duration]) -> serde_json::Value {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1000.0
    };
    serde_json::json!({"p50": at(0.5), "p99": at(0.99), "max": at(1.0)})
}
