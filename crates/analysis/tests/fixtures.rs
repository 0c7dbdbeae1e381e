//! Runs the detectors over every synthetic repository in `tests/fixtures` and
//! compares their facts with what a careful person would say about each
//! repository (`expected.json`). Prints accuracy per field and every
//! mismatch; see `tests/fixtures/README.md` for the format and the choices
//! behind the expected values.
//!
//! `cargo nextest run -p deployflow-analysis --no-capture -E 'binary(fixtures)'`
//! shows the table.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use analysis::{Snapshot, SnapshotLimits, analyse, parse_requirements};
use serde_json::{Map, Value};

/// The floor the detectors must hold: correct checks over all checks, every
/// field of every fixture together. Raise it as the detectors improve; never
/// lower it to make a change pass.
const MIN_ACCURACY: f64 = 0.9;

/// Fields compared by plain JSON equality with the same field of `Analysis`.
const EQUAL_FIELDS: &[&str] = &[
    "http",
    "language",
    "framework",
    "subdir",
    "port",
    "port_env",
    "dockerized",
];

/// Fields compared as sets of strings, order ignored.
const SET_FIELDS: &[&str] = &["required_env", "docker_files"];

/// Keys of `expected.json` that are inputs or notes, not checks.
const NON_CHECK_KEYS: &[&str] = &["description", "note"];

struct Fixture {
    name: String,
    repo: PathBuf,
    expected: Map<String, Value>,
}

/// One stated expectation, checked against the analysis.
struct Outcome {
    fixture: String,
    field: &'static str,
    expected: String,
    got: String,
    correct: bool,
}

#[test]
fn detectors_meet_the_accuracy_floor_on_the_fixture_set() {
    let fixtures = load_fixtures();
    let outcomes: Vec<Outcome> = fixtures.iter().flat_map(check_fixture).collect();

    println!("{}", accuracy_table(&outcomes));
    let mismatches: Vec<&Outcome> = outcomes.iter().filter(|o| !o.correct).collect();
    for o in &mismatches {
        println!(
            "MISMATCH {:<28} {:<18} expected {:<40} got {}",
            o.fixture, o.field, o.expected, o.got
        );
    }

    // Deciding "server or not" wrongly either deploys a CLI tool or refuses a
    // real app; no accuracy average may hide that.
    let http_wrong: Vec<&str> = mismatches
        .iter()
        .filter(|o| o.field == "http")
        .map(|o| o.fixture.as_str())
        .collect();
    assert!(http_wrong.is_empty(), "`http` wrong for: {http_wrong:?}");

    let correct = outcomes.iter().filter(|o| o.correct).count();
    let accuracy = correct as f64 / outcomes.len() as f64;
    assert!(
        accuracy >= MIN_ACCURACY,
        "overall accuracy {:.1}% ({correct}/{}) is below the floor of {:.0}%",
        accuracy * 100.0,
        outcomes.len(),
        MIN_ACCURACY * 100.0
    );
}

/// The set itself must keep covering what the analysis promises, so that a
/// fixture removed or rewritten cannot quietly shrink what is measured.
#[test]
fn fixture_set_covers_every_framework_and_hard_case() {
    let fixtures = load_fixtures();
    let count = |pred: &dyn Fn(&Map<String, Value>) -> bool| {
        fixtures.iter().filter(|f| pred(&f.expected)).count()
    };
    let is_true = |e: &Map<String, Value>, k: &str| e.get(k) == Some(&Value::Bool(true));

    assert!(fixtures.len() >= 30, "only {} fixtures", fixtures.len());
    let denied = count(&|e| e.get("http") == Some(&Value::Bool(false)));
    assert!(denied >= 8, "only {denied} non-servers");
    let dockerized = count(&|e| is_true(e, "http") && is_true(e, "dockerized"));
    assert!(dockerized >= 6, "only {dockerized} dockerized servers");
    let port_env = count(&|e| e.get("port_env").is_some_and(Value::is_string));
    assert!(
        port_env >= 4,
        "only {port_env} with the port from an env var"
    );
    let monorepos = count(&|e| e.get("subdir").is_some_and(|s| s != "."));
    assert!(monorepos >= 3, "only {monorepos} monorepos");
    let needs_env = count(&|e| {
        e.get("required_env")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    });
    assert!(needs_env >= 3, "only {needs_env} needing env vars");
    let loopback = count(&|e| is_true(e, "bind_loopback_only"));
    assert!(loopback >= 2, "only {loopback} binding loopback only");

    let covered: BTreeSet<&str> = fixtures
        .iter()
        .filter_map(|f| f.expected.get("framework").and_then(Value::as_str))
        .collect();
    let missing: Vec<&str> = [
        "flask",
        "fastapi",
        "django",
        "aiohttp",
        "streamlit",
        "gradio",
        "express",
        "fastify",
        "nestjs",
        "nextjs",
        "koa",
        "nuxt",
        "node-http",
        "deno",
        "bun",
        "net-http",
        "gin",
        "echo",
        "fiber",
        "axum",
        "actix-web",
        "rocket",
        "spring-boot",
        "ktor",
        "quarkus",
        "rails",
        "sinatra",
        "laravel",
        "php",
        "aspnet-core",
        "static",
        "vite",
    ]
    .into_iter()
    .filter(|f| !covered.contains(f))
    .collect();
    assert!(
        missing.is_empty(),
        "frameworks without a fixture: {missing:?}"
    );
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load_fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let mut fixtures: Vec<Fixture> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("fixture dir entry").path())
        .filter(|path| path.is_dir())
        .map(|path| load_fixture(&path))
        .collect();
    fixtures.sort_by(|a, b| a.name.cmp(&b.name));
    fixtures
}

fn load_fixture(dir: &Path) -> Fixture {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let repo = dir.join("repo");
    assert!(repo.is_dir(), "fixture {name} has no repo/ directory");
    let path = dir.join("expected.json");
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {name}: reading expected.json: {e}"));
    let expected = match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => map,
        Ok(_) => panic!("fixture {name}: expected.json is not an object"),
        Err(e) => panic!("fixture {name}: expected.json: {e}"),
    };
    validate_keys(&name, &expected);
    Fixture {
        name,
        repo,
        expected,
    }
}

/// A misspelt key would silently check nothing; refuse it instead.
fn validate_keys(name: &str, expected: &Map<String, Value>) {
    assert!(
        expected.get("http").is_some_and(Value::is_boolean),
        "fixture {name}: expected.json must state \"http\": true|false"
    );
    for key in expected.keys() {
        let known = EQUAL_FIELDS.contains(&key.as_str())
            || SET_FIELDS.contains(&key.as_str())
            || NON_CHECK_KEYS.contains(&key.as_str())
            || matches!(
                key.as_str(),
                "bind_loopback_only"
                    | "start_command_contains"
                    | "start_command_contains_any"
                    | "deny_reason_contains"
            );
        assert!(
            known,
            "fixture {name}: unknown key {key:?} in expected.json"
        );
    }
}

fn check_fixture(fixture: &Fixture) -> Vec<Outcome> {
    let snapshot = Snapshot::from_dir(&fixture.repo, &SnapshotLimits::default())
        .unwrap_or_else(|e| panic!("fixture {}: loading snapshot: {e}", fixture.name));
    let requirements = fixture
        .expected
        .get("description")
        .and_then(Value::as_str)
        .map(parse_requirements)
        .unwrap_or_default();
    let analysis = serde_json::to_value(analyse(&snapshot, &requirements)).expect("serialise");

    let e = &fixture.expected;
    let mut outcomes = Vec::new();
    let mut push = |field: &'static str, expected: String, got: &Value, correct: bool| {
        outcomes.push(Outcome {
            fixture: fixture.name.clone(),
            field,
            expected,
            got: got.to_string(),
            correct,
        });
    };
    for &field in EQUAL_FIELDS {
        if let Some(want) = e.get(field) {
            let got = analysis.get(field).unwrap_or(&Value::Null);
            push(field, want.to_string(), got, want == got);
        }
    }
    for &field in SET_FIELDS {
        if let Some(want) = e.get(field) {
            let got = analysis.get(field).unwrap_or(&Value::Null);
            push(
                field,
                want.to_string(),
                got,
                string_set(want) == string_set(got),
            );
        }
    }
    if let Some(want) = e.get("bind_loopback_only") {
        let got = analysis
            .pointer("/bind/loopback_only")
            .unwrap_or(&Value::Null);
        push("bind_loopback_only", want.to_string(), got, want == got);
    }
    if let Some((expected, correct)) = check_start_command(e, &analysis) {
        let got = analysis.get("start_command").unwrap_or(&Value::Null);
        push("start_command", expected, got, correct);
    }
    if e.get("http") == Some(&Value::Bool(false)) {
        let (expected, correct) = check_deny_reason(e, &analysis);
        let got = analysis.get("deny_reason").unwrap_or(&Value::Null);
        push("deny_reason", expected, got, correct);
    }
    outcomes
}

/// Start commands have many right spellings (`npm start`, `node server.js`),
/// so a fixture names substrings: all of `start_command_contains`, or any of
/// `start_command_contains_any`. Case is ignored.
fn check_start_command(e: &Map<String, Value>, analysis: &Value) -> Option<(String, bool)> {
    let got = analysis
        .get("start_command")
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let contains = |s: &String| {
        got.as_deref()
            .is_some_and(|g| g.contains(&s.to_lowercase()))
    };
    if let Some(all) = e.get("start_command_contains") {
        let all = strings(all);
        return Some((format!("contains all of {all:?}"), all.iter().all(contains)));
    }
    let any = strings(e.get("start_command_contains_any")?);
    Some((format!("contains one of {any:?}"), any.iter().any(contains)))
}

/// A denied repository needs a reason a person can read; its wording is not
/// a contract, so a fixture may at most name one word it should contain.
fn check_deny_reason(e: &Map<String, Value>, analysis: &Value) -> (String, bool) {
    let reason = analysis
        .get("deny_reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    match e.get("deny_reason_contains").and_then(Value::as_str) {
        Some(word) => (format!("contains {word:?}"), reason.contains(word)),
        None => ("non-empty".to_owned(), !reason.trim().is_empty()),
    }
}

/// A string or a list of strings, as a list.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().expect("a list of strings").to_owned())
            .collect(),
        other => panic!("expected a string or a list of strings, got {other}"),
    }
}

fn string_set(value: &Value) -> Option<BTreeSet<String>> {
    value.as_array().map(|items| {
        items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    })
}

fn accuracy_table(outcomes: &[Outcome]) -> String {
    let mut per_field: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for o in outcomes {
        let entry = per_field.entry(o.field).or_default();
        entry.0 += usize::from(o.correct);
        entry.1 += 1;
    }
    let row = |name: &str, (correct, total): (usize, usize)| {
        let pct = 100.0 * correct as f64 / total.max(1) as f64;
        format!("{name:<20} {correct:>7} {total:>7} {pct:>7.1}%\n")
    };
    let mut table = format!(
        "{:<20} {:>7} {:>7} {:>8}\n",
        "field", "correct", "total", "accuracy"
    );
    let mut overall = (0, 0);
    for (field, counts) in per_field {
        table.push_str(&row(field, counts));
        overall = (overall.0 + counts.0, overall.1 + counts.1);
    }
    table.push_str(&row("overall", overall));
    table
}
