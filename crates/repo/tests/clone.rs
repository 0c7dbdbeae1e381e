//! Cloning from `file://` and from a real smart-HTTP server (`git http-backend`), public
//! and private, and how failures are classed.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use repo::{CloneLimits, RepoError, RepoUrl, SecretString, SnapshotLimits, UrlPolicy};
use test_support::git_fixture::{FixtureFile, GitFixture, git_in};
use test_support::git_server::{BasicAuth, GitHttpServer};

const TOKEN: &str = "github_pat_11AAAAAAA0secretTOKENvalue";

fn local_policy() -> UrlPolicy {
    UrlPolicy {
        allowed_hosts: vec![],
        allow_local: true,
    }
}

fn url(input: &str) -> RepoUrl {
    RepoUrl::parse(input, &local_policy()).expect("test URL passes the policy")
}

fn limits() -> CloneLimits {
    CloneLimits {
        max_bytes: 50 * 1024 * 1024,
        max_files: 1_000,
        timeout: Duration::from_secs(60),
    }
}

fn token(value: &str) -> SecretString {
    SecretString::from(value.to_owned())
}

fn app_files() -> Vec<FixtureFile> {
    vec![
        FixtureFile::file("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
        FixtureFile::file("requirements.txt", "flask==3.0\n"),
        FixtureFile::file("templates/index.html", "<h1>hi</h1>\n"),
    ]
}

/// Every file under `dir` (the `.git` directory included) as text, for secret scans.
fn all_file_contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            found.extend(all_file_contents(&entry.path()));
        } else if kind.is_file() {
            let bytes = std::fs::read(entry.path()).expect("read file");
            found.push((entry.path().display().to_string(), bytes));
        }
    }
    found
}

fn assert_token_absent(dir: &Path, token: &str) {
    let config = std::fs::read_to_string(dir.join(".git/config")).expect(".git/config exists");
    assert!(
        !config.contains(token),
        ".git/config holds the token:\n{config}"
    );
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
    for (path, bytes) in all_file_contents(dir) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(token), "{path} holds the token");
        assert!(
            !text.contains(&encoded),
            "{path} holds the encoded credentials"
        );
    }
}

fn assert_error_hides(err: &RepoError, secret: &str) {
    assert!(!err.to_string().contains(secret), "Display leaks: {err}");
    assert!(!format!("{err:?}").contains(secret), "Debug leaks: {err:?}");
}

#[tokio::test]
async fn clones_a_file_url_shallow_with_commit_branch_sizes_and_snapshot() {
    let mut fixture = GitFixture::create(&[FixtureFile::file("old.txt", "first version\n")]);
    let first = fixture.head();
    let head = fixture.commit(&app_files(), "the app");
    let work = tempfile::tempdir().unwrap();

    let cloned = repo::clone_repo(
        &url(&fixture.file_url()),
        None,
        None,
        &limits(),
        work.path(),
    )
    .await
    .expect("clone succeeds");

    assert_eq!(cloned.commit, head);
    assert_eq!(cloned.default_branch.as_deref(), Some("main"));
    assert_eq!(cloned.git_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(cloned.path, work.path().join(&head));
    assert_eq!(cloned.file_count, 4);
    let expected_bytes: u64 = [
        "old.txt",
        "app.py",
        "requirements.txt",
        "templates/index.html",
    ]
    .iter()
    .map(|f| std::fs::metadata(fixture.path().join(f)).unwrap().len())
    .sum();
    assert_eq!(cloned.size_bytes, expected_bytes);

    // Depth 1: the parent commit never arrived.
    let parent = std::process::Command::new("git")
        .args(["cat-file", "-e", &first])
        .current_dir(&cloned.path)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(!parent.status.success(), "the clone is not shallow");

    let snapshot = repo::read_snapshot(&cloned.path, &SnapshotLimits::default())
        .await
        .expect("snapshot");
    let paths: Vec<&str> = snapshot.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "app.py",
            "old.txt",
            "requirements.txt",
            "templates/index.html"
        ]
    );
    assert_eq!(snapshot.text("requirements.txt"), Some("flask==3.0\n"));

    let tree = repo::file_tree(&snapshot, 4);
    assert!(tree.iter().any(|e| e.path == "templates" && e.is_dir));
    assert!(tree.iter().all(|e| !e.path.starts_with(".git")));
}

#[tokio::test]
async fn file_urls_are_refused_unless_local_repos_are_allowed() {
    let fixture = GitFixture::create(&app_files());
    let err = RepoUrl::parse(&fixture.file_url(), &UrlPolicy::default()).expect_err("refused");
    assert!(matches!(err, RepoError::InvalidUrl(_)), "{err:?}");
    assert!(
        err.to_string().contains("file:// URLs are not allowed"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_local_repository_is_not_found() {
    let work = tempfile::tempdir().unwrap();
    let missing = format!("file://{}/nothing-here", work.path().display());
    let err = repo::clone_repo(&url(&missing), None, None, &limits(), work.path())
        .await
        .expect_err("nothing to clone");
    assert!(matches!(err, RepoError::NotFound { .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn clones_a_given_branch_tag_or_commit() {
    let mut fixture = GitFixture::create(&app_files());
    let on_main = fixture.head();
    fixture.git(&["tag", "-a", "v1.0", "-m", "release"]);
    fixture.git(&["checkout", "--quiet", "-b", "feature"]);
    let on_feature = fixture.commit(&[FixtureFile::file("feature.txt", "new\n")], "feature");
    fixture.git(&["checkout", "--quiet", "main"]);
    let work = tempfile::tempdir().unwrap();
    let source = url(&fixture.file_url());

    let branch = repo::clone_repo(&source, Some("feature"), None, &limits(), work.path())
        .await
        .expect("branch clone");
    assert_eq!(branch.commit, on_feature);
    assert_eq!(branch.git_ref.as_deref(), Some("refs/heads/feature"));
    assert!(branch.path.join("feature.txt").is_file());

    let tag = repo::clone_repo(&source, Some("v1.0"), None, &limits(), work.path())
        .await
        .expect("tag clone");
    assert_eq!(
        tag.commit, on_main,
        "an annotated tag is peeled to its commit"
    );
    assert_eq!(tag.git_ref.as_deref(), Some("refs/tags/v1.0"));
    assert!(!tag.path.join("feature.txt").exists());

    let by_id = repo::clone_repo(&source, Some(&on_feature), None, &limits(), work.path())
        .await
        .expect("commit clone");
    assert_eq!(by_id.commit, on_feature);
    assert_eq!(by_id.git_ref, None);

    let err = repo::clone_repo(
        &source,
        Some("no-such-branch"),
        None,
        &limits(),
        work.path(),
    )
    .await
    .expect_err("unknown ref");
    assert!(matches!(err, RepoError::RefNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-branch"), "{err}");
    assert!(!err.is_retryable());

    let err = repo::clone_repo(&source, Some("bad..name"), None, &limits(), work.path())
        .await
        .expect_err("invalid ref");
    assert!(matches!(err, RepoError::InvalidRef { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unknown_commit_id_is_a_permanent_ref_not_found() {
    // Over HTTP the server's refusal arrives whole; a file:// upload-pack may die while
    // the request is still being written, which reads as a broken pipe.
    let root = tempfile::tempdir().unwrap();
    GitFixture::create_in(root.path(), "app", &app_files());
    let server = GitHttpServer::start(root.path(), None).await;
    let work = tempfile::tempdir().unwrap();
    let unknown = "0123456789abcdef0123456789abcdef01234567";

    let err = repo::clone_repo(
        &url(&server.url_for("app")),
        Some(unknown),
        None,
        &limits(),
        work.path(),
    )
    .await
    .expect_err("unknown commit");

    assert!(matches!(err, RepoError::RefNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(unknown), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn clones_over_smart_http_without_sending_a_token_to_a_public_repository() {
    let root = tempfile::tempdir().unwrap();
    let fixture = GitFixture::create_in(root.path(), "public", &app_files());
    let server = GitHttpServer::start(root.path(), None).await;
    let work = tempfile::tempdir().unwrap();

    let cloned = repo::clone_repo(
        &url(&server.url_for("public")),
        None,
        Some(&token(TOKEN)),
        &limits(),
        work.path(),
    )
    .await
    .expect("public clone");

    assert_eq!(cloned.commit, fixture.head());
    assert_eq!(cloned.default_branch.as_deref(), Some("main"));
    assert_eq!(
        std::fs::read_to_string(cloned.path.join("requirements.txt")).unwrap(),
        "flask==3.0\n"
    );
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.path.ends_with("/git-upload-pack"))
    );
    assert!(
        requests.iter().all(|r| r.authorization.is_none()),
        "the token went to a server that never asked: {requests:?}"
    );
    assert_token_absent(&cloned.path, TOKEN);
}

#[tokio::test]
async fn clones_a_private_repository_with_the_token_as_basic_auth() {
    let root = tempfile::tempdir().unwrap();
    let fixture = GitFixture::create_in(root.path(), "private", &app_files());
    let auth = BasicAuth::new("x-access-token", TOKEN);
    let server = GitHttpServer::start(root.path(), Some(auth)).await;
    let work = tempfile::tempdir().unwrap();

    let cloned = repo::clone_repo(
        &url(&server.url_for("private")),
        None,
        Some(&token(TOKEN)),
        &limits(),
        work.path(),
    )
    .await
    .expect("private clone with the right token");

    assert_eq!(cloned.commit, fixture.head());
    let requests = server.requests();
    assert!(
        requests[0].authorization.is_none(),
        "the first request goes out without credentials"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.path.ends_with("/git-upload-pack") && r.authorization.is_some()),
        "the pack was fetched with credentials: {requests:?}"
    );
    assert_token_absent(&cloned.path, TOKEN);
    assert!(
        !cloned.path.display().to_string().contains(TOKEN),
        "the token is in the checkout path"
    );
}

#[tokio::test]
async fn a_private_repository_without_a_token_needs_one() {
    let root = tempfile::tempdir().unwrap();
    GitFixture::create_in(root.path(), "private", &app_files());
    let server =
        GitHttpServer::start(root.path(), Some(BasicAuth::new("x-access-token", TOKEN))).await;
    let work = tempfile::tempdir().unwrap();

    let err = repo::clone_repo(
        &url(&server.url_for("private")),
        None,
        None,
        &limits(),
        work.path(),
    )
    .await
    .expect_err("no token, no clone");

    assert!(matches!(err, RepoError::AuthRequired { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("no access token was given"),
        "{err}"
    );
}

#[tokio::test]
async fn a_wrong_token_is_a_permanent_auth_error_that_never_shows_the_token() {
    let root = tempfile::tempdir().unwrap();
    GitFixture::create_in(root.path(), "private", &app_files());
    let server =
        GitHttpServer::start(root.path(), Some(BasicAuth::new("x-access-token", TOKEN))).await;
    let work = tempfile::tempdir().unwrap();
    let wrong = "github_pat_WRONGwrongWRONG123";

    let err = repo::clone_repo(
        &url(&server.url_for("private")),
        None,
        Some(&token(wrong)),
        &limits(),
        work.path(),
    )
    .await
    .expect_err("wrong token refused");

    assert!(matches!(err, RepoError::AuthRefused { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("access token is wrong"), "{err}");
    assert_error_hides(&err, wrong);
    assert_error_hides(&err, TOKEN);
    assert!(
        server.requests().iter().any(|r| r.authorization.is_some()),
        "the wrong token was at least tried"
    );
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        0,
        "a failed clone leaves nothing behind"
    );
}

#[tokio::test]
async fn a_missing_repository_on_the_server_is_not_found() {
    let root = tempfile::tempdir().unwrap();
    GitFixture::create_in(root.path(), "present", &app_files());
    let server = GitHttpServer::start(root.path(), None).await;
    let work = tempfile::tempdir().unwrap();

    let err = repo::clone_repo(
        &url(&server.url_for("absent")),
        None,
        Some(&token(TOKEN)),
        &limits(),
        work.path(),
    )
    .await
    .expect_err("nothing to clone");

    assert!(matches!(err, RepoError::NotFound { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("/absent"), "{err}");
    assert_error_hides(&err, TOKEN);
}

#[tokio::test]
async fn an_unreachable_server_is_retryable() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let work = tempfile::tempdir().unwrap();

    let err = repo::clone_repo(
        &url(&format!("http://127.0.0.1:{port}/app")),
        None,
        Some(&token(TOKEN)),
        &limits(),
        work.path(),
    )
    .await
    .expect_err("nobody listens");

    assert!(matches!(err, RepoError::Network { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_error_hides(&err, TOKEN);
}

#[tokio::test]
async fn a_token_given_for_a_file_url_never_reaches_the_disk() {
    // A file:// clone with a token: the token has nowhere to go and must not land on disk.
    let fixture = GitFixture::create(&app_files());
    let work = tempfile::tempdir().unwrap();
    let cloned = repo::clone_repo(
        &url(&fixture.file_url()),
        None,
        Some(&token(TOKEN)),
        &limits(),
        work.path(),
    )
    .await
    .expect("clone");
    assert_token_absent(&cloned.path, TOKEN);
    let remote = git_in(&cloned.path, &["config", "--get", "remote.origin.url"]);
    assert_eq!(remote.trim(), fixture.file_url());
}
