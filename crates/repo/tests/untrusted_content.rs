//! Repository content is untrusted: size, file-count and time limits hold, and a symlink
//! never lets anything outside the checkout be read.

use std::path::Path;
use std::time::{Duration, Instant};

use repo::{CloneLimits, RepoError, RepoUrl, SnapshotLimits, UrlPolicy};
use test_support::git_fixture::{FixtureFile, GitFixture};

fn url(input: &str) -> RepoUrl {
    let policy = UrlPolicy {
        allowed_hosts: vec![],
        allow_local: true,
    };
    RepoUrl::parse(input, &policy).expect("test URL passes the policy")
}

fn limits(max_bytes: u64, max_files: usize) -> CloneLimits {
    CloneLimits {
        max_bytes,
        max_files,
        timeout: Duration::from_secs(60),
    }
}

/// Bytes that do not compress, so the pack is as large as the files.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn assert_left_nothing(workdir: &Path) {
    let left: Vec<_> = std::fs::read_dir(workdir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "a refused clone left {left:?}");
}

#[tokio::test]
async fn more_files_than_the_limit_is_too_large() {
    let files: Vec<FixtureFile> = (0..25)
        .map(|i| FixtureFile::file(&format!("src/f{i}.txt"), format!("{i}\n")))
        .collect();
    let fixture = GitFixture::create(&files);
    let work = tempfile::tempdir().unwrap();

    let err = repo::clone_repo(
        &url(&fixture.file_url()),
        None,
        None,
        &limits(1 << 30, 10),
        work.path(),
    )
    .await
    .expect_err("too many files");

    assert!(matches!(err, RepoError::TooLarge { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(
        err.to_string()
            .contains("25 files, more than the limit of 10"),
        "{err}"
    );
    assert_left_nothing(work.path());
}

#[tokio::test]
async fn more_bytes_than_the_limit_is_too_large() {
    // Compressible: the pack is small, the files are not; caught before checkout.
    let fixture = GitFixture::create(&[FixtureFile::file("big.txt", vec![b'a'; 3 << 20])]);
    let work = tempfile::tempdir().unwrap();
    let err = repo::clone_repo(
        &url(&fixture.file_url()),
        None,
        None,
        &limits(1 << 20, 100),
        work.path(),
    )
    .await
    .expect_err("too many bytes");
    assert!(matches!(err, RepoError::TooLarge { .. }), "{err:?}");
    assert!(
        err.to_string().contains("more than the limit of 1048576"),
        "{err}"
    );
    assert_left_nothing(work.path());

    // Incompressible: the pack itself is over the limit.
    let fixture = GitFixture::create(&[FixtureFile::file("noise.bin", noise(4 << 20, 7))]);
    let work = tempfile::tempdir().unwrap();
    let err = repo::clone_repo(
        &url(&fixture.file_url()),
        None,
        None,
        &limits(1 << 20, 100),
        work.path(),
    )
    .await
    .expect_err("too many bytes");
    assert!(matches!(err, RepoError::TooLarge { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_left_nothing(work.path());
}

#[tokio::test]
async fn within_the_limits_clones() {
    let fixture = GitFixture::create(&[FixtureFile::file("noise.bin", noise(200_000, 3))]);
    let work = tempfile::tempdir().unwrap();
    let cloned = repo::clone_repo(
        &url(&fixture.file_url()),
        None,
        None,
        &limits(1 << 20, 1),
        work.path(),
    )
    .await
    .expect("a repository exactly within the limits clones");
    assert_eq!(cloned.file_count, 1);
    assert_eq!(cloned.size_bytes, 200_000);
}

#[tokio::test]
async fn symlinks_out_of_the_tree_are_never_followed() {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("this test reads /etc/passwd");
    let marker = passwd
        .lines()
        .next()
        .expect("a line of /etc/passwd")
        .to_owned();
    let fixture = GitFixture::create(&[
        FixtureFile::file("app.py", "print('hi')\n"),
        FixtureFile::symlink("passwd", "/etc/passwd"),
        FixtureFile::symlink("config/secrets", "../../../../../../etc"),
        FixtureFile::symlink("inside", "app.py"),
    ]);
    let work = tempfile::tempdir().unwrap();

    let cloned = repo::clone_repo(
        &url(&fixture.file_url()),
        None,
        None,
        &limits(1 << 20, 100),
        work.path(),
    )
    .await
    .expect("clone");

    // Each link is checked out as a plain file holding the link text.
    for (link, target) in [
        ("passwd", "/etc/passwd"),
        ("config/secrets", "../../../../../../etc"),
        ("inside", "app.py"),
    ] {
        let path = cloned.path.join(link);
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_file(), "{link} is not a plain file");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), target);
    }

    let snapshot = repo::read_snapshot(&cloned.path, &SnapshotLimits::default())
        .await
        .expect("snapshot");
    assert_eq!(snapshot.text("passwd"), Some("/etc/passwd"));
    for file in &snapshot.files {
        let content = file.content.as_deref().unwrap_or_default();
        assert!(
            !content.contains(&marker),
            "{} holds /etc/passwd",
            file.path
        );
        assert!(
            !file.path.starts_with("config/secrets/"),
            "walked into {}",
            file.path
        );
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_is_retryable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept connections and hold them open without a byte in reply.
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let work = tempfile::tempdir().unwrap();
    let limits = CloneLimits {
        timeout: Duration::from_secs(2),
        ..limits(1 << 20, 100)
    };

    let started = Instant::now();
    let err = repo::clone_repo(
        &url(&format!("http://{addr}/app")),
        None,
        None,
        &limits,
        work.path(),
    )
    .await
    .expect_err("nothing ever arrives");

    assert!(matches!(err, RepoError::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("timed out after 2s"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    held.abort();
}
