//! POST /request bodies come from anyone: every request is either refused with
//! the field at fault, or becomes job input that is clean, normalised and
//! passes the same checks again.

use std::collections::BTreeMap;

use pipeline::{
    APP_ENV_SECRET, DeployRequest, MAX_DESCRIPTION_CHARS, MAX_ENV_VALUE_LEN, MAX_TOKEN_LEN,
    TOKEN_SECRET, UrlPolicy,
};
use proptest::prelude::*;
use repo::RepoUrl;

const FIELDS: &[&str] = &["repo_url", "description", "ref", "github_token", "env"];

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

/// Variable values: good names and bad ones, values with NUL or of any size.
fn env() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        prop_oneof![
            "[A-Z_][A-Z0-9_]{0,20}",
            "[a-z][a-z0-9_]{0,8}",
            "\\PC{1,6}",
            "[0-9][A-Z]{1,4}"
        ],
        prop_oneof![
            "\\PC{0,40}",
            "[a-z]{0,3}\\x00[a-z]{0,3}",
            (65530usize..65540).prop_map(|n| "v".repeat(n)),
        ],
        0..4,
    )
}

fn request() -> impl Strategy<Value = DeployRequest> {
    (url(), text(), git_ref(), token(), any::<bool>(), env()).prop_map(
        |(repo_url, description, git_ref, github_token, approve_before_apply, env)| DeployRequest {
            repo_url,
            description,
            git_ref,
            github_token,
            approve_before_apply,
            env,
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
                Ok(accepted) => {
                    let secret = |name: &str| {
                        accepted.secrets.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
                    };
                    let token = secret(TOKEN_SECRET);
                    let input = accepted.input.clone();
                    // The values are sealed whole, and never in the input.
                    let values: BTreeMap<String, String> = secret(APP_ENV_SECRET)
                        .map(|json| serde_json::from_str(&json).unwrap())
                        .unwrap_or_default();
                    prop_assert_eq!(&values, &request.env);
                    for (name, value) in &values {
                        prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                        prop_assert!(!name.starts_with(|c: char| c.is_ascii_digit()));
                        prop_assert!(value.len() <= MAX_ENV_VALUE_LEN && !value.contains('\0'));
                        if value.len() >= 12 {
                            prop_assert!(!serde_json::to_string(&input).unwrap().contains(value.as_str()));
                        }
                    }
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
                        env: values,
                    }
                    .validate(&policy)
                    .unwrap();
                    prop_assert_eq!(&again.input, &input);
                    prop_assert_eq!(&again.secrets, &accepted.secrets);
                }
            }
        }
    }
}
