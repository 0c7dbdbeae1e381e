//! A resuming worker gets back exactly the checkpointed commit, whatever the branch did
//! since, from its cache or from the server.

use std::time::Duration;

use repo::{CloneLimits, RepoError, RepoUrl, SecretString, UrlPolicy};
use test_support::git_fixture::{FixtureFile, GitFixture, git_in};
use test_support::git_server::{BasicAuth, GitHttpServer, GitServerOptions};

const TOKEN: &str = "github_pat_materialiseSECRET42";

fn url(input: &str) -> RepoUrl {
    let policy = UrlPolicy {
        allowed_hosts: vec![],
        allow_local: true,
    };
    RepoUrl::parse(input, &policy).expect("test URL passes the policy")
}

fn limits() -> CloneLimits {
    CloneLimits {
        max_bytes: 50 * 1024 * 1024,
        max_files: 1_000,
        timeout: Duration::from_secs(60),
    }
}

fn version(n: u32) -> Vec<FixtureFile> {
    vec![FixtureFile::file("VERSION", format!("{n}\n"))]
}

fn head_of(checkout: &std::path::Path) -> String {
    git_in(checkout, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// Clones `main`, moves `main` on twice, then materialises the cloned commit in an empty
/// cache: it must come back unchanged. Returns how many connections (ref advertisements)
/// materialising took.
async fn moved_branch_round_trip(options: GitServerOptions, token: Option<&SecretString>) -> usize {
    let root = tempfile::tempdir().unwrap();
    let mut fixture = GitFixture::create_in(root.path(), "app", &version(1));
    let server = GitHttpServer::start_with(root.path(), options).await;
    let source = url(&server.url_for("app"));
    let work = tempfile::tempdir().unwrap();
    let cloned = repo::clone_repo(&source, Some("main"), token, &limits(), work.path())
        .await
        .expect("clone");
    fixture.commit(&version(2), "two");
    let tip = fixture.commit(&version(3), "three");
    assert_ne!(tip, cloned.commit);

    let before = server.requests().len();
    let fresh_cache = tempfile::tempdir().unwrap();
    let path = repo::materialise(
        &source,
        &cloned.commit,
        token,
        &limits(),
        fresh_cache.path(),
    )
    .await
    .expect("materialise the checkpointed commit");

    assert_eq!(path, fresh_cache.path().join(&cloned.commit));
    assert_eq!(head_of(&path), cloned.commit);
    assert_eq!(
        std::fs::read_to_string(path.join("VERSION")).unwrap(),
        "1\n"
    );
    let config = std::fs::read_to_string(path.join(".git/config")).unwrap();
    assert!(
        !config.contains(TOKEN),
        ".git/config holds the token:\n{config}"
    );
    server.requests()[before..]
        .iter()
        .filter(|r| r.path.ends_with("/info/refs"))
        .count()
}

#[tokio::test]
async fn materialise_returns_the_same_commit_after_the_branch_moved_on() {
    let connections = moved_branch_round_trip(GitServerOptions::default(), None).await;
    assert_eq!(
        connections, 1,
        "protocol v2 serves the commit by id at once"
    );
}

#[tokio::test]
async fn materialise_works_against_a_protocol_v0_server() {
    let connections = moved_branch_round_trip(
        GitServerOptions {
            protocol_v0_only: true,
            ..GitServerOptions::default()
        },
        None,
    )
    .await;
    assert_eq!(
        connections, 1,
        "over HTTP even v0 serves a commit reachable from a ref by id"
    );
}

#[tokio::test]
async fn materialise_a_private_repository_with_the_token() {
    let token = SecretString::from(TOKEN.to_owned());
    moved_branch_round_trip(
        GitServerOptions {
            auth: Some(BasicAuth::new("x-access-token", TOKEN)),
            protocol_v0_only: false,
        },
        Some(&token),
    )
    .await;
}

#[tokio::test]
async fn materialise_uses_the_cache_without_the_network() {
    let root = tempfile::tempdir().unwrap();
    GitFixture::create_in(root.path(), "app", &version(1));
    let server = GitHttpServer::start(root.path(), None).await;
    let source = url(&server.url_for("app"));
    let cache = tempfile::tempdir().unwrap();
    let cloned = repo::clone_repo(&source, None, None, &limits(), cache.path())
        .await
        .expect("clone");
    let served = server.requests().len();
    drop(server);

    let path = repo::materialise(&source, &cloned.commit, None, &limits(), cache.path())
        .await
        .expect("from the cache");

    assert_eq!(path, cloned.path);
    assert_eq!(head_of(&path), cloned.commit);
    assert!(served > 0);
}

#[tokio::test]
async fn a_commit_rewritten_out_of_history_is_served_until_the_server_deletes_it() {
    let root = tempfile::tempdir().unwrap();
    let mut fixture = GitFixture::create_in(root.path(), "app", &version(1));
    let first = fixture.head();
    let dropped = fixture.commit(&version(2), "two");
    // A force-push: `dropped` is still stored but no ref reaches it.
    fixture.git(&["reset", "--quiet", "--hard", &first]);
    let server = GitHttpServer::start(root.path(), None).await;
    let source = url(&server.url_for("app"));

    // Protocol v2 serves any commit the server still stores: the job can resume.
    let cache = tempfile::tempdir().unwrap();
    let path = repo::materialise(&source, &dropped, None, &limits(), cache.path())
        .await
        .expect("the stored commit is served");
    assert_eq!(head_of(&path), dropped);

    // Garbage-collected: gone for good, and retrying cannot help.
    fixture.git(&["reflog", "expire", "--expire=now", "--all"]);
    fixture.git(&["gc", "--quiet", "--prune=now"]);
    let cache = tempfile::tempdir().unwrap();
    let err = repo::materialise(&source, &dropped, None, &limits(), cache.path())
        .await
        .expect_err("a deleted commit is not served");

    assert!(matches!(err, RepoError::CommitGone { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains(&dropped), "{err}");
    assert!(err.to_string().contains("history was rewritten"), "{err}");
}

#[tokio::test]
async fn materialise_rejects_anything_but_a_full_commit_id() {
    let cache = tempfile::tempdir().unwrap();
    let source = url("http://127.0.0.1:9/app");
    for bad in ["main", "abc123", "zz".repeat(20).as_str()] {
        let err = repo::materialise(&source, bad, None, &limits(), cache.path())
            .await
            .expect_err("not a commit id");
        assert!(
            matches!(err, RepoError::InvalidRef { .. }),
            "{bad}: {err:?}"
        );
    }
}
