//! Hostile repositories beyond the size and symlink limits `untrusted_content`
//! covers: the default file-count limit on a 10,000-file tree, trees crafted with
//! git plumbing whose entries climb out of the checkout (`..`) or into its `.git`,
//! submodules, hooks, and redirects of the smart-HTTP handshake.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use repo::{CloneLimits, RepoError, RepoUrl, Snapshot, SnapshotLimits, UrlPolicy};
use test_support::git_fixture::{FixtureFile, GitFixture, git_in};

fn url(input: &str) -> RepoUrl {
    let policy = UrlPolicy {
        allowed_hosts: vec![],
        allow_local: true,
    };
    RepoUrl::parse(input, &policy).expect("test URL passes the policy")
}

fn limits() -> CloneLimits {
    CloneLimits {
        timeout: Duration::from_secs(60),
        ..CloneLimits::default()
    }
}

fn clone(fixture_url: &str, limits: &CloneLimits, work: &Path) -> Result<repo::Cloned, RepoError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(repo::clone_repo(
        &url(fixture_url),
        None,
        None,
        limits,
        work,
    ))
}

/// Every path under `dir`, relative, symlinks not followed.
fn all_paths(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(dir).unwrap().display().to_string());
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            }
        }
    }
    out
}

#[test]
fn ten_thousand_files_clone_under_the_default_limit_and_are_refused_under_a_lower_one() {
    const FILES: usize = 10_000;
    let files: Vec<FixtureFile> = (0..FILES)
        .map(|i| FixtureFile::file(&format!("d{}/f{i}.txt", i % 100), format!("{i}\n")))
        .collect();
    let fixture = GitFixture::create(&files);

    // CLONE_MAX_FILES defaults to 100,000: such a tree is accepted whole.
    assert_eq!(CloneLimits::default().max_files, 100_000);
    let work = tempfile::tempdir().unwrap();
    let cloned = clone(&fixture.file_url(), &limits(), work.path()).expect("within the limits");
    assert_eq!(cloned.file_count, FILES);
    let snapshot = Snapshot::from_dir(&cloned.path, &SnapshotLimits::default()).unwrap();
    assert_eq!(snapshot.files.len(), FILES);

    // Configured lower, it is refused before checkout, saying how many and the limit.
    let work = tempfile::tempdir().unwrap();
    let lower = CloneLimits {
        max_files: 5_000,
        ..limits()
    };
    let err = clone(&fixture.file_url(), &lower, work.path()).expect_err("over the limit");
    assert!(matches!(err, RepoError::TooLarge { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("10000 files, more than the limit of 5000"),
        "{err}"
    );
    assert!(std::fs::read_dir(work.path()).unwrap().next().is_none());
}

/// A repository whose only commit has `entry` (a tree named e.g. `..` or `.git`)
/// holding `inner`, next to a harmless `ok.txt`: built with `git mktree`, since
/// `git add` refuses such names.
fn crafted(entry: &str, inner: &[(&str, &str, &str)]) -> GitFixture {
    let fixture = GitFixture::create(&[]);
    let dir = fixture.path();
    let blob = |content: &str| {
        let mut child = test_support::git_fixture::git_command(dir)
            .args(["hash-object", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(content.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let mktree = |listing: String| {
        let mut child = test_support::git_fixture::git_command(dir)
            .arg("mktree")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(listing.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "mktree refused {listing:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let inner_listing: String = inner
        .iter()
        .map(|(mode, name, content)| format!("{mode} blob {}\t{name}\n", blob(content)))
        .collect();
    let inner_tree = mktree(inner_listing);
    let root = mktree(format!(
        "040000 tree {inner_tree}\t{entry}\n100644 blob {}\tok.txt\n",
        blob("fine\n")
    ));
    let commit = git_in(dir, &["commit-tree", &root, "-m", "crafted"])
        .trim()
        .to_owned();
    git_in(dir, &["update-ref", "refs/heads/main", &commit]);
    fixture
}

#[test]
fn a_tree_entry_named_dot_dot_never_writes_outside_the_checkout() {
    let fixture = crafted("..", &[("100644", "escaped.txt", "pwned\n")]);
    let work = tempfile::tempdir().unwrap();
    let checkouts = work.path().join("checkouts");
    std::fs::create_dir(&checkouts).unwrap();

    let result = clone(&fixture.file_url(), &limits(), &checkouts);

    for path in all_paths(work.path()) {
        assert!(!path.ends_with("escaped.txt"), "wrote {path}");
    }
    match result {
        // Refused: a clear, permanent error.
        Err(err) => assert!(!err.is_retryable(), "{err:?}"),
        // Or sanitised: the entry was dropped and only the harmless file remains.
        Ok(cloned) => {
            let paths = all_paths(&cloned.path);
            assert!(paths.iter().all(|p| !p.contains("escaped")), "{paths:?}");
        }
    }
}

#[test]
fn a_tree_entry_named_dot_git_never_plants_a_hook() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("hook-ran");
    let hook = format!("#!/bin/sh\ntouch {}\n", marker.display());
    let fixture = crafted(
        ".git",
        &[
            ("100755", "post-checkout", &hook),
            ("100644", "config", "[core]\n\thooksPath = .\n"),
        ],
    );
    let work = tempfile::tempdir().unwrap();

    let result = clone(&fixture.file_url(), &limits(), work.path());

    assert!(!marker.exists(), "a hook from the repository ran");
    if let Ok(cloned) = result {
        let git_dir = cloned.path.join(".git");
        for name in ["post-checkout", "hooks/post-checkout"] {
            let planted = git_dir.join(name);
            let text = std::fs::read_to_string(&planted).unwrap_or_default();
            assert!(!text.contains("hook-ran"), "planted {}", planted.display());
        }
        let config = std::fs::read_to_string(git_dir.join("config")).unwrap_or_default();
        assert!(!config.contains("hooksPath"), "{config}");
    }
}

#[test]
fn hooks_of_the_source_repository_and_committed_hooks_never_run() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = |name: &str| marker_dir.path().join(name);
    let hook = |name: &str| format!("#!/bin/sh\ntouch {}\n", marker(name).display());
    let mut fixture = GitFixture::create(&[FixtureFile::file("app.py", "print('hi')\n")]);
    for name in ["post-checkout", "post-merge", "reference-transaction"] {
        fixture.commit(
            &[FixtureFile::file(&format!(".githooks/{name}"), hook(name))],
            "committed hooks",
        );
        fixture.git(&["update-index", "--chmod=+x", &format!(".githooks/{name}")]);
        fixture.git(&["commit", "--quiet", "-m", "executable"]);
        // The source repository's own hooks, and a hooksPath pointing at the committed ones.
        let own = fixture.path().join(".git/hooks").join(name);
        std::fs::write(&own, hook(&format!("source-{name}"))).unwrap();
        let mut perms = std::fs::metadata(&own).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&own, perms).unwrap();
    }
    fixture.git(&["config", "core.hooksPath", ".githooks"]);
    let work = tempfile::tempdir().unwrap();

    let cloned = clone(&fixture.file_url(), &limits(), work.path()).expect("clone");

    assert!(cloned.path.join(".githooks/post-checkout").exists());
    let ran: Vec<_> = std::fs::read_dir(marker_dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(ran.is_empty(), "hooks ran: {ran:?}");
    let config = std::fs::read_to_string(cloned.path.join(".git/config")).unwrap_or_default();
    assert!(!config.contains("hooksPath"), "{config}");
}

#[test]
fn submodules_are_never_fetched() {
    let secret = GitFixture::create(&[FixtureFile::file("secret.txt", "top secret\n")]);
    let secret_head = secret.head();
    let fixture = GitFixture::create(&[
        FixtureFile::file("app.py", "print('hi')\n"),
        FixtureFile::file(
            ".gitmodules",
            format!(
                "[submodule \"vendor/secret\"]\n\tpath = vendor/secret\n\turl = {}\n",
                secret.file_url()
            ),
        ),
    ]);
    fixture.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{secret_head},vendor/secret"),
    ]);
    fixture.git(&["commit", "--quiet", "-m", "submodule"]);
    let work = tempfile::tempdir().unwrap();

    let cloned = clone(&fixture.file_url(), &limits(), work.path()).expect("clone");

    let paths = all_paths(&cloned.path);
    assert!(
        paths.iter().all(|p| !p.contains("secret.txt")),
        "the submodule was fetched: {paths:?}"
    );
    let modules = cloned.path.join(".git/modules");
    assert!(!modules.exists(), "{} exists", modules.display());
    let snapshot = Snapshot::from_dir(&cloned.path, &SnapshotLimits::default()).unwrap();
    assert!(snapshot.files.iter().all(|f| {
        !f.content
            .as_deref()
            .unwrap_or_default()
            .contains("top secret")
    }));
}

/// An HTTP server on `addr` answering every request with a redirect to `location`
/// (plus the request's path and query), counting the requests.
fn redirector(listener: TcpListener, location: String) -> Arc<AtomicUsize> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let target = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let reply = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}{target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    hits
}

/// A server that records every request line and answers 404.
fn canary(listener: TcpListener) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            log.lock()
                .unwrap()
                .push(request.lines().next().unwrap_or_default().to_owned());
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    seen
}

/// The handshake (`info/refs`) redirected to a scheme the policy did not admit
/// (`file://`) is not followed: nothing is read from the local disk.
#[test]
fn a_redirect_to_a_file_url_is_not_followed() {
    let local = GitFixture::create(&[FixtureFile::file(
        "local-only.txt",
        "on the worker's disk\n",
    )]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = redirector(listener, local.file_url());
    let work = tempfile::tempdir().unwrap();

    let err = clone(&format!("http://{addr}/app.git"), &limits(), work.path())
        .expect_err("a redirect to file:// must not be followed");

    assert!(hits.load(Ordering::SeqCst) >= 1, "the server was asked");
    for path in all_paths(work.path()) {
        assert!(
            !path.contains("local-only"),
            "read the local repository: {path}"
        );
    }
    assert!(!err.to_string().is_empty());
}

/// The URL policy admits a host; a redirect of the handshake to another host must
/// not move the clone there. Here both are loopback addresses (the only ones a test
/// may use): the policy admits `127.0.0.1:<port>`, the redirect names `127.0.0.2`.
/// In production the same redirect would take a clone of an allowed host to any
/// host, such as `169.254.169.254`.
#[test]
fn a_redirect_to_another_host_is_not_followed() {
    let canary_listener = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let canary_addr = canary_listener.local_addr().unwrap();
    let seen = canary(canary_listener);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = redirector(listener, format!("http://{canary_addr}"));
    let work = tempfile::tempdir().unwrap();

    let result = clone(&format!("http://{addr}/app.git"), &limits(), work.path());

    assert!(hits.load(Ordering::SeqCst) >= 1, "the server was asked");
    let err = result.expect_err("a redirect must not be followed");
    assert!(
        matches!(err, RepoError::NotARepository { .. }) && !err.is_retryable(),
        "a redirect is a clear, permanent refusal: {err:?}"
    );
    assert!(err.to_string().contains("needs its new URL"), "{err}");
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.is_empty(),
        "the clone followed the redirect to {canary_addr}: {seen:?}"
    );
}
