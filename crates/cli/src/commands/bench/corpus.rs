//! `deployflow bench analyse --corpus FILE`: the deterministic detectors scored
//! against hand-made labels of real repositories (see `corpus/README.md`).
//! Nothing is fetched: each labelled repository is read from `--repos`, as a
//! work tree or a git directory, and one that is absent is named, not scored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use analysis::{Analysis, Snapshot, SnapshotLimits};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// One labelled repository: what a person read off its files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub repo: String,
    pub commit: String,
    #[serde(default = "default_description")]
    pub description: String,
    #[serde(default)]
    pub app_dir: String,
    pub http: bool,
    pub language: Option<String>,
    pub framework: Option<String>,
    pub port: Option<u16>,
    #[serde(default)]
    pub required_env: Vec<String>,
    #[serde(default)]
    pub optional_env: Vec<String>,
    #[serde(default)]
    pub evidence: BTreeMap<String, String>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "read by people; declared so that a misspelt field is an error"
    )]
    pub note: Option<String>,
}

fn default_description() -> String {
    "small web app on a single server".to_owned()
}

/// Reads a JSON Lines label file; a bad line is named with its number.
pub fn read_labels(path: &Path) -> anyhow::Result<Vec<Label>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut labels = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let label: Label = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a label", path.display(), index + 1))?;
        if !seen.insert(label.repo.to_ascii_lowercase()) {
            bail!(
                "{}:{}: {} is labelled twice",
                path.display(),
                index + 1,
                label.repo
            );
        }
        labels.push(label);
    }
    Ok(labels)
}

/// Right answers out of those scored, for one field.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Tally {
    pub right: usize,
    pub scored: usize,
}

impl Tally {
    fn add(&mut self, right: bool) {
        self.scored += 1;
        self.right += usize::from(right);
    }

    pub fn ratio(&self) -> f64 {
        if self.scored == 0 {
            return f64::NAN;
        }
        self.right as f64 / self.scored as f64
    }
}

/// Required variables found, against the labels.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct EnvTally {
    pub found_required: usize,
    pub found_not_required: usize,
    pub missed: usize,
}

impl EnvTally {
    pub fn precision(&self) -> f64 {
        let reported = self.found_required + self.found_not_required;
        if reported == 0 {
            return f64::NAN;
        }
        self.found_required as f64 / reported as f64
    }

    pub fn recall(&self) -> f64 {
        let labelled = self.found_required + self.missed;
        if labelled == 0 {
            return f64::NAN;
        }
        self.found_required as f64 / labelled as f64
    }
}

/// Where one repository's analysis differs from its label.
#[derive(Debug, Serialize)]
pub struct Miss {
    pub repo: String,
    pub field: &'static str,
    pub labelled: String,
    pub analysed: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Score {
    pub labelled: usize,
    pub scored: usize,
    /// Labelled repositories not under `--repos`, or present at another commit.
    pub absent: Vec<String>,
    pub http: Tally,
    pub language: Tally,
    pub framework: Tally,
    /// Over the repositories labelled HTTP.
    pub port: Tally,
    pub app_dir: Tally,
    pub required_env: EnvTally,
    pub misses: Vec<Miss>,
    pub analyse_ms_p50: f64,
    pub analyse_ms_p99: f64,
}

/// Scores `labels` against the analysis of each repository present under
/// `repos`; git directories are checked out (at the labelled commit) under
/// `checkouts`.
pub async fn score(labels: &[Label], repos: &Path, checkouts: &Path) -> anyhow::Result<Score> {
    let mut score = Score {
        labelled: labels.len(),
        ..Score::default()
    };
    let mut times = Vec::new();
    for label in labels {
        let Some(tree) = present(label, repos, checkouts).await? else {
            score.absent.push(label.repo.clone());
            continue;
        };
        let snapshot = Snapshot::from_dir(&tree, &SnapshotLimits::default())
            .with_context(|| format!("reading {}", tree.display()))?;
        let requirements = analysis::parse_requirements(&label.description);
        let started = Instant::now();
        let analysed = analysis::analyse(&snapshot, &requirements);
        times.push(started.elapsed());
        score.scored += 1;
        compare(label, &analysed, &mut score);
    }
    times.sort();
    let at = |q: f64| {
        times
            .get(((times.len().max(1) - 1) as f64 * q).round() as usize)
            .map_or(f64::NAN, |d: &Duration| d.as_secs_f64() * 1000.0)
    };
    score.analyse_ms_p50 = at(0.5);
    score.analyse_ms_p99 = at(0.99);
    Ok(score)
}

fn compare(label: &Label, analysed: &Analysis, score: &mut Score) {
    let mut check = |field: &'static str,
                     tally: fn(&mut Score) -> &mut Tally,
                     labelled: String,
                     got: String| {
        let right = labelled == got;
        tally(score).add(right);
        if !right {
            score.misses.push(Miss {
                repo: label.repo.clone(),
                field,
                labelled,
                analysed: got,
            });
        }
    };
    let shown = |value: Option<&str>| value.unwrap_or("none").to_owned();
    check(
        "http",
        |s| &mut s.http,
        label.http.to_string(),
        analysed.http.to_string(),
    );
    check(
        "language",
        |s| &mut s.language,
        shown(
            label
                .language
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref(),
        ),
        shown(analysed.language.as_deref()),
    );
    check(
        "framework",
        |s| &mut s.framework,
        shown(label.framework.as_deref().map(framework_name).as_deref()),
        shown(analysed.framework.as_deref().map(framework_name).as_deref()),
    );
    check(
        "app_dir",
        |s| &mut s.app_dir,
        app_dir(&label.app_dir),
        app_dir(&analysed.subdir),
    );
    if label.http {
        check(
            "port",
            |s| &mut s.port,
            shown(label.port.map(|p| p.to_string()).as_deref()),
            shown(analysed.port.map(|p| p.to_string()).as_deref()),
        );
    }
    let labelled: BTreeSet<&str> = label.required_env.iter().map(String::as_str).collect();
    let found: BTreeSet<&str> = analysed.required_env.iter().map(String::as_str).collect();
    let env = &mut score.required_env;
    env.found_required += labelled.intersection(&found).count();
    let extra: Vec<&str> = found.difference(&labelled).copied().collect();
    let missed: Vec<&str> = labelled.difference(&found).copied().collect();
    env.found_not_required += extra.len();
    env.missed += missed.len();
    let missed: Vec<String> = missed
        .iter()
        .map(|name| match label.evidence.get(*name) {
            Some(at) => format!("{name} ({at})"),
            None => (*name).to_owned(),
        })
        .collect();
    let extra: Vec<String> = extra
        .iter()
        .map(|name| {
            let read_at = analysed
                .evidence
                .iter()
                .find(|e| e.fact == format!("env:{name}"))
                .map(|e| format!("{}:{}", e.file, e.line.unwrap_or_default()))
                .unwrap_or_default();
            if label.optional_env.iter().any(|o| o == name) {
                format!("{name} ({read_at}, labelled optional)")
            } else {
                format!("{name} ({read_at})")
            }
        })
        .collect();
    for (field, names) in [
        ("required_env missed", missed),
        ("required_env extra", extra),
    ] {
        if !names.is_empty() {
            score.misses.push(Miss {
                repo: label.repo.clone(),
                field,
                labelled: String::new(),
                analysed: names.join(", "),
            });
        }
    }
}

/// The root is `""` in labels and `"."` in analyses.
fn app_dir(dir: &str) -> String {
    let dir = dir.trim_start_matches("./").trim_matches('/');
    if dir == "." {
        String::new()
    } else {
        dir.to_owned()
    }
}

/// One name per framework: the labels' vocabulary (`corpus/README.md`).
fn framework_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        // A Vite app is built to files and served as files.
        "vite" => "static".to_owned(),
        "spring" => "spring-boot".to_owned(),
        "next" | "next.js" => "nextjs".to_owned(),
        "nest" => "nestjs".to_owned(),
        "actix" => "actix-web".to_owned(),
        "aspnet" | "asp.net-core" | "aspnetcore" => "aspnet-core".to_owned(),
        _ => lower,
    }
}

/// The repository's work tree at the labelled commit, or `None` when it is
/// not under `repos` (as `owner+name`, a work tree or a git directory, or
/// its `repo/`, itself a git directory or a clone holding `repo/.git`) or
/// lacks the commit.
async fn present(label: &Label, repos: &Path, checkouts: &Path) -> anyhow::Result<Option<PathBuf>> {
    let dir = repos.join(label.repo.replace('/', "+"));
    let git_dir = [dir.join("repo"), dir.join("repo").join(".git"), dir.clone()]
        .into_iter()
        .find(|d| d.join("HEAD").is_file() && d.join("objects").is_dir());
    let Some(git_dir) = git_dir else {
        return Ok(dir.is_dir().then_some(dir));
    };
    let tree = checkouts.join(format!("{}-{}", label.repo.replace('/', "+"), label.commit));
    if tree.is_dir() {
        return Ok(Some(tree));
    }
    let commit = label.commit.clone();
    let staging = checkouts.join(format!(".staging-{}", label.repo.replace('/', "+")));
    let written = tokio::task::spawn_blocking({
        let staging = staging.clone();
        move || export_tree(&git_dir, &commit, &staging)
    })
    .await??;
    if !written {
        return Ok(None);
    }
    std::fs::rename(&staging, &tree)?;
    Ok(Some(tree))
}

/// Writes the files of `commit` in `git_dir` under `dest` with the git CLI.
/// Blobs the store lacks (snapshots may leave out large files) are skipped:
/// the analysis reads text, not assets. False when the commit is not there.
fn export_tree(git_dir: &Path, commit: &str, dest: &Path) -> anyhow::Result<bool> {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};

    let git = |args: &[&str]| {
        let mut command = Command::new("git");
        command.arg("--git-dir").arg(git_dir).args(args);
        command
    };
    let listed = git(&["ls-tree", "-r", "-z", "--full-tree", commit])
        .stderr(Stdio::null())
        .output()
        .context("cannot run git")?;
    if !listed.status.success() {
        return Ok(false);
    }
    let mut blobs = Vec::new();
    for entry in listed.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        // Regular and executable files only: no symlinks, no submodules.
        if let ["100644" | "100755", "blob", id] = fields.as_slice() {
            blobs.push(((*id).to_owned(), path.to_owned()));
        }
    }
    let _ = std::fs::remove_dir_all(dest);
    std::fs::create_dir_all(dest)?;
    let mut batch = git(&["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run git cat-file")?;
    let mut input = batch.stdin.take().context("git cat-file has no stdin")?;
    let ids: Vec<String> = blobs.iter().map(|(id, _)| id.clone()).collect();
    let feeder = std::thread::spawn(move || {
        for id in ids {
            if writeln!(input, "{id}").is_err() {
                break;
            }
        }
    });
    let mut output = BufReader::new(batch.stdout.take().context("git cat-file has no stdout")?);
    for (_, path) in &blobs {
        let mut header = String::new();
        output.read_line(&mut header)?;
        // `<id> blob <size>`, or `<id> missing`.
        let size = match header.split_whitespace().collect::<Vec<_>>().as_slice() {
            [_, "blob", size] => size.parse::<usize>()?,
            _ => continue,
        };
        let mut content = vec![0; size + 1];
        output.read_exact(&mut content)?;
        content.pop();
        let target = dest.join(path);
        if path.split('/').any(|part| part == ".." || part == ".git") {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, content)?;
    }
    let _ = feeder.join();
    batch.wait()?;
    Ok(true)
}

/// The score as a table, the misses after it.
pub fn print(score: &Score, corpus: &Path) {
    println!(
        "{} of {} labelled repositories scored ({})",
        score.scored,
        score.labelled,
        corpus.display()
    );
    if !score.absent.is_empty() {
        println!("absent (not scored): {}", score.absent.join(", "));
    }
    println!("field            right / scored   accuracy");
    for (name, tally) in [
        ("http", score.http),
        ("language", score.language),
        ("framework", score.framework),
        ("port (http)", score.port),
        ("app directory", score.app_dir),
    ] {
        println!(
            "{name:<16} {:>5} / {:<6}   {:>7.3}",
            tally.right,
            tally.scored,
            tally.ratio()
        );
    }
    let env = score.required_env;
    println!(
        "required variables: recall {:.3} ({} of {}), precision {:.3} ({} reported, {} not required)",
        env.recall(),
        env.found_required,
        env.found_required + env.missed,
        env.precision(),
        env.found_required + env.found_not_required,
        env.found_not_required
    );
    println!(
        "analysis time per repository: p50 {:.2} ms, p99 {:.2} ms",
        score.analyse_ms_p50, score.analyse_ms_p99
    );
    if !score.misses.is_empty() {
        println!("\nmisses:");
    }
    for miss in &score.misses {
        if miss.labelled.is_empty() {
            println!("  {:<40} {}: {}", miss.repo, miss.field, miss.analysed);
        } else {
            println!(
                "  {:<40} {}: labelled {}, analysed {}",
                miss.repo, miss.field, miss.labelled, miss.analysed
            );
        }
    }
}
