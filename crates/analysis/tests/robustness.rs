//! Repository content is untrusted: whatever the files hold, analysis must
//! return an answer, never panic. These tests take the fixture repositories
//! and damage them (cut files short, shuffle lines, switch to CRLF, insert
//! noise), then analyse every variant.

use std::path::Path;

use analysis::{Analysis, FileEntry, Requirements, Snapshot, SnapshotLimits, analyse};

fn fixtures() -> Vec<(String, Snapshot)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<(String, Snapshot)> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .filter_map(|entry| {
            let path = entry.ok()?.path().join("repo");
            let name = path.parent()?.file_name()?.to_string_lossy().into_owned();
            let snapshot = Snapshot::from_dir(&path, &SnapshotLimits::default()).ok()?;
            Some((name, snapshot))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 10,
        "expected the fixture repositories, found {}",
        out.len()
    );
    out
}

/// Every text file of `snapshot` rewritten by `damage`.
fn damaged(snapshot: &Snapshot, damage: impl Fn(&str, usize) -> String) -> Snapshot {
    let files = snapshot
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| FileEntry {
            content: f.content.as_deref().map(|c| damage(c, i)),
            encoding: None,
            ..f.clone()
        })
        .collect();
    Snapshot::new(files)
}

fn cut(text: &str, fraction: usize) -> String {
    let mut end = text.len() * fraction / 3;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Deterministic noise: brackets, quotes and keywords detectors look for.
fn noise(text: &str, seed: usize) -> String {
    const BITS: &[&str] = &[
        "(",
        ")",
        "{",
        "}",
        "\"",
        "'",
        "`",
        "\\",
        "app.run(",
        ".listen(",
        "port=",
        "${",
        "ENV[",
        "process.env.",
        "é",
        "\u{1F600}",
        "\n",
        "#",
        "//",
        "EXPOSE",
        "FROM x AS",
        "services:",
        "- \"",
    ];
    let mut out = String::with_capacity(text.len() + 64);
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for (i, ch) in text.char_indices() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        if (state >> 33).is_multiple_of(17) {
            out.push_str(BITS[(state >> 40) % BITS.len()]);
        }
        if i % 97 != 13 {
            out.push(ch);
        }
    }
    out
}

/// The facts a deployment is built from.
fn key_facts(a: &Analysis) -> serde_json::Value {
    serde_json::json!({
        "http": a.http,
        "language": a.language,
        "framework": a.framework,
        "subdir": a.subdir,
        "port": a.port,
        "port_env": a.port_env,
        "required_env": a.required_env,
        "loopback": a.bind.loopback_only,
    })
}

#[test]
fn damaged_repositories_never_panic() {
    let requirements = Requirements::default();
    for (name, snapshot) in fixtures() {
        let variants = [
            damaged(&snapshot, |t, _| cut(t, 1)),
            damaged(&snapshot, |t, _| cut(t, 2)),
            damaged(&snapshot, |t, _| {
                t.lines().rev().collect::<Vec<_>>().join("\n")
            }),
            damaged(&snapshot, noise),
            damaged(&snapshot, |_, _| String::new()),
        ];
        for (i, variant) in variants.iter().enumerate() {
            let analysis = analyse(variant, &requirements);
            assert!(
                serde_json::to_string(&analysis).is_ok(),
                "{name} variant {i} did not serialise"
            );
            assert!(
                analysis.http || analysis.deny_reason.is_some(),
                "{name} variant {i}: denied without a reason"
            );
        }
    }
}

#[test]
fn line_endings_do_not_change_the_facts() {
    let requirements = Requirements::default();
    for (name, snapshot) in fixtures() {
        let crlf = damaged(&snapshot, |t, _| t.replace('\n', "\r\n"));
        assert_eq!(
            key_facts(&analyse(&crlf, &requirements)),
            key_facts(&analyse(&snapshot, &requirements)),
            "{name} reads differently with CRLF line endings"
        );
    }
}
