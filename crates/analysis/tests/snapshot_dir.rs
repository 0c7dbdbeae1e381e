//! Loading a snapshot from a real directory: limits, skipped directories,
//! and symlinks that must never be followed out of the tree.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use analysis::{AnalysisError, Snapshot, SnapshotLimits};

fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn paths(snapshot: &Snapshot) -> Vec<&str> {
    snapshot.files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn reads_text_files_with_relative_slash_paths_and_skips_dependency_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app.py", b"print('hi')\n");
    write(root, "src/pkg/mod.py", b"x = 1\n");
    write(
        root,
        "node_modules/left-pad/index.js",
        b"module.exports = 1",
    );
    write(root, ".git/HEAD", b"ref: refs/heads/main");
    write(root, "target/debug/app", b"\x7fELF");
    write(root, ".venv/lib/site.py", b"");
    write(root, "image.png", b"\x89PNG\r\n\x1a\n\xff\xfe");

    let snapshot = Snapshot::from_dir(root, &SnapshotLimits::default()).unwrap();
    assert_eq!(paths(&snapshot), ["app.py", "image.png", "src/pkg/mod.py"]);
    assert_eq!(snapshot.text("src/pkg/mod.py"), Some("x = 1\n"));
    let png = snapshot.get("image.png").unwrap();
    assert_eq!(
        (png.size, png.content.as_deref()),
        (10, None),
        "binary files are listed, not read"
    );
}

#[test]
fn files_over_the_read_cap_are_listed_without_content() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "big.json", &vec![b'a'; 2048]);
    write(dir.path(), "small.txt", b"ok");
    let limits = SnapshotLimits {
        max_file_bytes_read: 1024,
        ..SnapshotLimits::default()
    };
    let snapshot = Snapshot::from_dir(dir.path(), &limits).unwrap();
    let big = snapshot.get("big.json").unwrap();
    assert_eq!((big.size, big.content.is_none()), (2048, true));
    assert_eq!(snapshot.text("small.txt"), Some("ok"));
}

/// A lock file whose pins decide the image (a Laravel app's composer.lock
/// runs past 300 KB) is read past the cap other files have; a lock file
/// nothing reads pins from is not.
#[test]
fn version_locks_are_read_past_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let lock = format!("{{\"packages\": [], \"pad\": \"{}\"}}", "a".repeat(2048));
    write(dir.path(), "composer.lock", lock.as_bytes());
    write(dir.path(), "api/Gemfile.lock", &vec![b'a'; 2048]);
    write(dir.path(), "package-lock.json", &vec![b'a'; 2048]);
    let limits = SnapshotLimits {
        max_file_bytes_read: 1024,
        ..SnapshotLimits::default()
    };
    let snapshot = Snapshot::from_dir(dir.path(), &limits).unwrap();
    assert_eq!(snapshot.text("composer.lock"), Some(lock.as_str()));
    assert!(snapshot.text("api/Gemfile.lock").is_some());
    assert!(snapshot.text("package-lock.json").is_none());
}

#[test]
fn symlinks_are_entries_without_content_and_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", b"outside the clone");
    let root = dir.path();
    write(root, "main.go", b"package main\n");
    symlink("/etc/passwd", root.join("passwd")).unwrap();
    symlink(outside.path(), root.join("escape")).unwrap();
    symlink("main.go", root.join("inside-link")).unwrap();

    let snapshot = Snapshot::from_dir(root, &SnapshotLimits::default()).unwrap();
    assert_eq!(
        paths(&snapshot),
        ["escape", "inside-link", "main.go", "passwd"]
    );
    for link in ["escape", "inside-link", "passwd"] {
        let entry = snapshot.get(link).unwrap();
        assert_eq!(
            (entry.size, entry.content.as_deref()),
            (0, None),
            "{link} was read through"
        );
    }
    assert!(snapshot.files.iter().all(|f| !f.path.contains("secret")));
    assert!(
        snapshot
            .files
            .iter()
            .all(|f| f.content.as_deref().is_none_or(|c| !c.contains("root:")))
    );
}

#[test]
fn a_fifo_is_skipped_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.js", b"1");
    let status = Command::new("mkfifo")
        .arg(dir.path().join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let snapshot = Snapshot::from_dir(dir.path(), &SnapshotLimits::default()).unwrap();
    assert_eq!(paths(&snapshot), ["app.js"]);
}

#[test]
fn too_many_files_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..6 {
        write(dir.path(), &format!("f{i}.txt"), b"x");
    }
    let limits = SnapshotLimits {
        max_files: 5,
        ..SnapshotLimits::default()
    };
    let err = Snapshot::from_dir(dir.path(), &limits).unwrap_err();
    assert!(matches!(err, AnalysisError::TooManyFiles { limit: 5 }));
    assert_eq!(
        err.to_string(),
        "repository has more than 5 files (limit 5)"
    );
    // Skipped directories do not count towards the limit.
    for i in 0..50 {
        write(dir.path(), &format!("node_modules/m{i}.js"), b"x");
    }
    let limits = SnapshotLimits {
        max_files: 6,
        ..SnapshotLimits::default()
    };
    assert_eq!(
        Snapshot::from_dir(dir.path(), &limits).unwrap().files.len(),
        6
    );
}

#[test]
fn too_many_bytes_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.bin", &vec![0; 600]);
    write(dir.path(), "b.bin", &vec![0; 600]);
    let limits = SnapshotLimits {
        max_total_bytes: 1000,
        ..SnapshotLimits::default()
    };
    let err = Snapshot::from_dir(dir.path(), &limits).unwrap_err();
    assert!(matches!(err, AnalysisError::TooLarge { limit: 1000 }));
    assert!(err.to_string().contains("more than 1000 bytes"), "{err}");
}

#[test]
fn the_root_must_be_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "file", b"x");
    let err = Snapshot::from_dir(&dir.path().join("file"), &SnapshotLimits::default()).unwrap_err();
    assert!(matches!(err, AnalysisError::NotADirectory { .. }), "{err}");
    let link = dir.path().join("link");
    symlink(dir.path(), &link).unwrap();
    let err = Snapshot::from_dir(&link, &SnapshotLimits::default()).unwrap_err();
    assert!(
        matches!(err, AnalysisError::NotADirectory { .. }),
        "a symlinked root is not followed either: {err}"
    );
}
