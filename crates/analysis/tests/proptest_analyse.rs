//! Repository content is untrusted: random trees (odd paths, random bytes,
//! huge lines, deep nesting) analyse without panicking, and the facts stay
//! consistent with the tree they came from.

use std::collections::BTreeSet;

use analysis::{Analysis, FileEntry, Requirements, Snapshot, SnapshotLimits, analyse};
use proptest::prelude::*;

/// File names detectors look for, plus hostile ones.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("package.json".to_owned()),
        Just("requirements.txt".to_owned()),
        Just("main.py".to_owned()),
        Just("app.py".to_owned()),
        Just("go.mod".to_owned()),
        Just("main.go".to_owned()),
        Just("Cargo.toml".to_owned()),
        Just("Dockerfile".to_owned()),
        Just("docker-compose.yml".to_owned()),
        Just(".env.example".to_owned()),
        Just("Gemfile".to_owned()),
        Just("pom.xml".to_owned()),
        Just("src".to_owned()),
        Just("apps".to_owned()),
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just("".to_owned()),
        Just("ünïcødé-文件".to_owned()),
        "[a-zA-Z0-9_.-]{1,12}",
        "\\PC{1,8}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(segment(), 1..4).prop_map(|s| s.join("/")),
        // Deep nesting.
        (segment(), 20usize..60).prop_map(|(s, depth)| format!("{}{s}", "d/".repeat(depth))),
    ]
}

/// Source-like text that detectors read, random text, random bytes made
/// lossy, and single huge lines.
fn content() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#"{"scripts":{"start":"node server.js"},"dependencies":{"express":"^4"}}"#.to_owned()),
        Just("from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0', port=5000)\n".to_owned()),
        Just("flask==3.0\ngunicorn\n".to_owned()),
        Just("FROM python:3.12\nEXPOSE 99999\nEXPOSE 0\nEXPOSE 8080\nCMD [\"python\", \"app.py\"]\n".to_owned()),
        Just("services:\n  web:\n    ports:\n      - \"70000:80\"\n      - \"8080:8080\"\n".to_owned()),
        Just("package main\nimport \"net/http\"\nfunc main() { http.ListenAndServe(\":65536\", nil) }\n".to_owned()),
        Just("PORT=\nSECRET_KEY=\nDATABASE_URL=postgres://u:p@h/db\n".to_owned()),
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..512)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ("[ -~]{1,16}", 1000usize..20_000).prop_map(|(unit, n)| unit.repeat(n)),
    ]
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    prop::collection::vec((path(), prop::option::weighted(0.9, content())), 0..24).prop_map(
        |entries| {
            let mut seen = BTreeSet::new();
            let files = entries
                .into_iter()
                .filter(|(path, _)| seen.insert(path.clone()))
                .map(|(path, content)| FileEntry {
                    size: content.as_ref().map_or(4096, |c| c.len() as u64),
                    path,
                    content,
                    encoding: None,
                })
                .collect();
            Snapshot::new(files)
        },
    )
}

/// Every directory that holds a file of the snapshot, and `.`.
fn directories(snapshot: &Snapshot) -> BTreeSet<String> {
    let mut dirs = BTreeSet::from([".".to_owned()]);
    for file in &snapshot.files {
        let mut path = file.path.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            dirs.insert(parent.to_owned());
            path = parent;
        }
    }
    dirs
}

fn assert_consistent(snapshot: &Snapshot, a: &Analysis) -> Result<(), TestCaseError> {
    let dirs = directories(snapshot);
    let known = |p: &str| snapshot.get(p).is_some() || dirs.contains(p);
    for e in &a.evidence {
        prop_assert!(
            known(&e.file),
            "evidence cites {:?}, not in the tree: {e:?}",
            e.file
        );
        prop_assert!(e.line != Some(0), "lines are 1-based: {e:?}");
    }
    if let Some(port) = a.port {
        prop_assert!(port >= 1, "port 0");
    }
    for docker in &a.docker {
        prop_assert!(
            docker
                .ports
                .iter()
                .chain(&docker.published)
                .all(|p| *p >= 1),
            "{docker:?}"
        );
        prop_assert!(snapshot.get(&docker.path).is_some(), "{docker:?}");
    }
    for file in &a.docker_files {
        prop_assert!(
            snapshot.get(file).is_some(),
            "docker file {file:?} not in the tree"
        );
    }
    prop_assert!(known(&a.subdir), "subdir {:?} not in the tree", a.subdir);
    if !a.http {
        prop_assert!(
            a.deny_reason
                .as_deref()
                .is_some_and(|r| !r.trim().is_empty()),
            "{a:?}"
        );
    }
    for name in &a.required_env {
        prop_assert!(
            a.env.iter().any(|v| &v.name == name && v.required),
            "{name}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_trees_analyse_consistently(snapshot in snapshot()) {
        let a = analyse(&snapshot, &Requirements::default());
        assert_consistent(&snapshot, &a)?;
        // The JSON contract round-trips.
        let json = serde_json::to_string(&a).unwrap();
        prop_assert_eq!(serde_json::from_str::<Analysis>(&json).unwrap(), a);
    }
}

/// A file name that can exist on disk: no `/`, NUL, `.` or `..`.
fn disk_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.-]{1,12}",
        "\\PC{1,10}",
        Just("..a".to_owned()),
        Just("ünïcødé-文件".to_owned()),
    ]
    .prop_filter("a plain name", |n| {
        !matches!(n.as_str(), "." | "..") && !n.contains(['/', '\0']) && n.len() < 200
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_directories_load_with_paths_inside_the_tree(
        files in prop::collection::vec(
            (prop::collection::vec(disk_name(), 1..6), prop::collection::vec(any::<u8>(), 0..2048)),
            0..16,
        )
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (segments, bytes) in &files {
            let rel = segments.join("/");
            let dest = dir.path().join(&rel);
            // A name already used as a file cannot also be a directory.
            if std::fs::create_dir_all(dest.parent().unwrap()).is_err()
                || dest.is_dir()
                || std::fs::write(&dest, bytes).is_err()
            {
                continue;
            }
        }
        let snapshot = Snapshot::from_dir(dir.path(), &SnapshotLimits::default()).unwrap();
        for file in &snapshot.files {
            prop_assert!(!file.path.split('/').any(|s| s == ".." || s == "." || s.is_empty()), "{:?}", file.path);
            let on_disk = dir.path().join(&file.path);
            let meta = std::fs::symlink_metadata(&on_disk).unwrap();
            prop_assert_eq!(meta.len(), file.size, "{}", file.path);
            if let Some(text) = &file.content {
                let bytes = std::fs::read(&on_disk).unwrap();
                prop_assert_eq!(text.as_bytes(), bytes.as_slice());
            }
        }
        let a = analyse(&snapshot, &Requirements::default());
        assert_consistent(&snapshot, &a)?;
    }
}
