//! Which clone URLs pass the policy, what they normalise to, and what users are told
//! when they do not.

use repo::{RepoError, RepoUrl, UrlPolicy};

fn github_only() -> UrlPolicy {
    UrlPolicy::default()
}

fn local_allowed() -> UrlPolicy {
    UrlPolicy {
        allowed_hosts: vec!["github.com".into(), "git.example.org".into()],
        allow_local: true,
    }
}

#[test]
fn accepted_urls_normalise() {
    let cases = [
        (
            github_only(),
            "https://github.com/acme/shop",
            "https://github.com/acme/shop",
        ),
        (
            github_only(),
            "https://github.com/acme/shop.git",
            "https://github.com/acme/shop.git",
        ),
        (
            github_only(),
            "  https://GitHub.com/acme/shop/  ",
            "https://github.com/acme/shop",
        ),
        (
            github_only(),
            "HTTPS://github.com/acme/my_repo.v2",
            "https://github.com/acme/my_repo.v2",
        ),
        (
            github_only(),
            "https://github.com:443/acme/shop",
            "https://github.com/acme/shop",
        ),
        (
            local_allowed(),
            "https://git.example.org/team/sub/app.git",
            "https://git.example.org/team/sub/app.git",
        ),
        (
            local_allowed(),
            "file:///srv/repos/app",
            "file:///srv/repos/app",
        ),
        (
            local_allowed(),
            "http://127.0.0.1:8080/app",
            "http://127.0.0.1:8080/app",
        ),
        (
            local_allowed(),
            "http://localhost:9/app.git",
            "http://localhost:9/app.git",
        ),
        (
            local_allowed(),
            "http://[::1]:8080/app",
            "http://[::1]:8080/app",
        ),
    ];
    for (policy, input, expected) in cases {
        let url = RepoUrl::parse(input, &policy)
            .unwrap_or_else(|e| panic!("{input:?} should be accepted: {e}"));
        assert_eq!(url.as_str(), expected, "normalised form of {input:?}");
    }
}

#[test]
fn rejected_urls_say_why() {
    let cases = [
        (github_only(), "", "empty"),
        (github_only(), "github.com/acme/shop", "not a URL"),
        (
            github_only(),
            "git@github.com:acme/shop.git",
            "ssh URLs are not supported",
        ),
        (
            github_only(),
            "ssh://git@github.com/acme/shop.git",
            "ssh:// URLs are not supported",
        ),
        (
            github_only(),
            "git://github.com/acme/shop.git",
            "git:// URLs are not supported",
        ),
        (
            github_only(),
            "ftp://github.com/acme/shop",
            "scheme \"ftp\" is not supported",
        ),
        (
            github_only(),
            "http://github.com/acme/shop",
            "http:// is not allowed",
        ),
        (
            github_only(),
            "https://example.com/acme/shop",
            "host example.com is not allowed; allowed hosts: github.com (set ALLOWED_GIT_HOSTS to widen)",
        ),
        (
            github_only(),
            "https://github.com.evil.io/acme/shop",
            "host github.com.evil.io is not allowed",
        ),
        (
            github_only(),
            "https://user:pw@github.com/acme/shop",
            "credentials in the URL are not allowed",
        ),
        (
            github_only(),
            "https://x-access-token@github.com/acme/shop",
            "credentials in the URL",
        ),
        (
            github_only(),
            "https://github.com/acme/../other/shop",
            "'..' path segments",
        ),
        (
            github_only(),
            "https://github.com/acme/%2e%2e/shop",
            "percent-encoded",
        ),
        (
            github_only(),
            "https://github.com/acme/shop/tree/main",
            "expected https://github.com/<owner>/<repo>",
        ),
        (
            github_only(),
            "https://github.com/acme",
            "expected https://github.com/<owner>/<repo>",
        ),
        (
            github_only(),
            "https://github.com/acme/shop?tab=readme",
            "no query or fragment",
        ),
        (github_only(), "https://github.com/acme/sh op", "whitespace"),
        (
            github_only(),
            "https://127.0.0.1/acme/shop",
            "local or IP address",
        ),
        (
            github_only(),
            "https://localhost/acme/shop",
            "local or IP address",
        ),
        (
            github_only(),
            "https://[::1]/acme/shop",
            "local or IP address",
        ),
        (github_only(), "file:///etc", "file:// URLs are not allowed"),
        (
            local_allowed(),
            "https://10.0.0.5/app",
            "only loopback addresses",
        ),
        (
            local_allowed(),
            "http://git.example.org/app",
            "http:// is not allowed",
        ),
        (local_allowed(), "file://relative/path", "absolute path"),
        (local_allowed(), "file:///srv/../etc", "'..' path segments"),
        (
            github_only(),
            "https://github.com:0/acme/shop",
            "invalid port",
        ),
    ];
    for (policy, input, expected) in cases {
        match RepoUrl::parse(input, &policy) {
            Ok(url) => panic!("{input:?} should be rejected, got {url}"),
            Err(err @ RepoError::InvalidUrl(_)) => {
                let message = err.to_string();
                assert!(
                    message.contains(expected),
                    "{input:?}: message {message:?} should contain {expected:?}"
                );
                assert!(!err.is_retryable(), "a rejected URL is permanent");
            }
            Err(other) => panic!("{input:?}: expected InvalidUrl, got {other:?}"),
        }
    }
}

#[test]
fn rejection_never_echoes_credentials() {
    let err = RepoUrl::parse("https://bob:hunter2@github.com/acme/shop", &github_only())
        .expect_err("userinfo is refused");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}
