//! POST /request bodies come from anyone: every request is either refused with
//! the field at fault, or becomes job input that is clean, normalised and
//! passes the same checks again.

use pipeline::{DeployRequest, MAX_DESCRIPTION_CHARS, MAX_TOKEN_LEN, UrlPolicy};
use proptest::prelude::*;
use repo::RepoUrl;

const FIELDS: &[&str] = &["repo_url", "description", "ref", "github_token"];

fn url() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        Just("github.com".to_owned()),
        Just("GitHub.COM.".to_owned()),
        Just("gitlab.com".to_owned()),
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
        Just("169.254.169.254".to_owned()),
        Just("localhost".to_owned()),
        Just("user:pw@github.com".to_owned()),
        "[a-z0-9.-]{0,12}",
        "\\PC{0,8}",
    ];
    let scheme = prop_oneof![
        Just("https://"),
        Just("http://"),
        Just("HTTPS://"),
        Just("file://"),
        Just("ssh://"),
        Just("git://"),
        Just("git@"),
        Just(""),
    ];
    let port = prop_oneof![
        Just(String::new()),
        Just(":443".to_owned()),
        Just(":0".to_owned()),
        Just(":65536".to_owned()),
        (1u32..70_000).prop_map(|p| format!(":{p}")),
    ];
    let path = prop::collection::vec(
        prop_oneof![
            Just("acme".to_owned()),
            Just("shop.git".to_owned()),
            Just("..".to_owned()),
            Just(".".to_owned()),
            Just("%2e%2e".to_owned()),
            Just("".to_owned()),
            "[A-Za-z0-9_.-]{1,10}",
            "\\PC{1,6}",
        ],
        0..4,
    )
    .prop_map(|s| s.join("/"));
    prop_oneof![
        4 => (scheme, host, port, path).prop_map(|(s, h, p, path)| format!("{s}{h}{p}/{path}")),
        1 => any::<String>(),
        1 => "[a-z]{3000,3100}".prop_map(|s| format!("https://github.com/{s}/x")),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a public API, cheap, in Canada".to_owned()),
        Just("   ".to_owned()),
        Just("line one\nline\ttwo".to_owned()),
        Just("bell\u{7}".to_owned()),
        "\\PC{0,40}",
        any::<String>(),
        (1995usize..2010).prop_map(|n| "é".repeat(n)),
    ]
}

fn git_ref() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("main".to_owned()),
        Just("v1.2".to_owned()),
        Just("feature/x".to_owned()),
        Just("a..b".to_owned()),
        Just("-rf".to_owned()),
        Just("x.lock".to_owned()),
        Just("@{u}".to_owned()),
        "[a-z/._-]{0,20}",
        "\\PC{0,20}",
        (250usize..260).prop_map(|n| "r".repeat(n)),
    ])
}

fn token() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "ghp_[A-Za-z0-9]{36}",
        "\\PC{0,20}",
        (1020usize..1030).prop_map(|n| "t".repeat(n)),
    ])
}

fn request() -> impl Strategy<Value = DeployRequest> {
    (url(), text(), git_ref(), token(), any::<bool>()).prop_map(
        |(repo_url, description, git_ref, github_token, approve_before_apply)| DeployRequest {
            repo_url,
            description,
            git_ref,
            github_token,
            approve_before_apply,
        },
    )
}

fn policies() -> [UrlPolicy; 2] {
    [
        UrlPolicy::default(),
        UrlPolicy {
            allowed_hosts: vec!["github.com".into(), "git.example.org".into()],
            allow_local: true,
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_request_is_refused_by_field_or_clean(request in request()) {
        for policy in policies() {
            match request.clone().validate(&policy) {
                Err(e) => {
                    prop_assert!(FIELDS.contains(&e.field), "{e:?}");
                    prop_assert!(!e.message.trim().is_empty());
                    prop_assert!(e.to_string().starts_with(e.field));
                    if let Some(token) = request.github_token.as_deref().map(str::trim)
                        && token.len() >= 8
                        && e.field != "github_token"
                    {
                        prop_assert!(!e.message.contains(token), "the token is echoed: {e}");
                    }
                }
                Ok((input, token)) => {
                    let url = RepoUrl::parse(&input.repo_url, &policy).unwrap();
                    // Normalised once, stable after.
                    prop_assert_eq!(url.as_str(), input.repo_url.as_str());
                    prop_assert!(!input.repo_url.contains('@'));
                    if !policy.allow_local {
                        prop_assert!(input.repo_url.starts_with("https://github.com/"), "{}", input.repo_url);
                    }
                    let d = &input.description;
                    prop_assert!(!d.is_empty() && d.trim() == d);
                    prop_assert!(d.chars().count() <= MAX_DESCRIPTION_CHARS);
                    prop_assert!(!d.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
                    if let Some(r) = &input.git_ref {
                        prop_assert!(!r.is_empty() && !r.contains("..") && !r.starts_with('-'));
                        prop_assert!(!r.chars().any(char::is_whitespace));
                    }
                    if let Some(t) = &token {
                        prop_assert!(!t.is_empty() && t.len() <= MAX_TOKEN_LEN);
                        prop_assert!(!t.chars().any(char::is_whitespace));
                        // A token of a few characters may occur in the input by chance
                        // ("a" in "approve_before_apply"); a real one may not.
                        if t.len() >= 8 {
                            prop_assert!(!serde_json::to_string(&input).unwrap().contains(t.as_str()));
                        }
                    }
                    prop_assert_eq!(input.approve_before_apply, request.approve_before_apply);
                    // Validating the stored input again accepts it unchanged.
                    let again = DeployRequest {
                        repo_url: input.repo_url.clone(),
                        description: input.description.clone(),
                        git_ref: input.git_ref.clone(),
                        github_token: token.clone(),
                        approve_before_apply: input.approve_before_apply,
                    }
                    .validate(&policy)
                    .unwrap();
                    prop_assert_eq!(again, (input, token));
                }
            }
        }
    }
}
