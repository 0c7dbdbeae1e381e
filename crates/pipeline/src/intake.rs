//! The deployment workflow's front door: a user's request checked before a job exists,
//! so a bad one is refused with a reason and leaves nothing behind.

use std::collections::BTreeMap;

use repo::{RepoUrl, UrlPolicy};
use serde::{Deserialize, Serialize};

/// Longest description accepted: one sentence of requirements, generously.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Longest git reference accepted (git itself allows no more than 255 bytes a component).
pub const MAX_REF_LEN: usize = 255;
/// Longest access token accepted; fine-grained GitHub tokens are about 93 characters.
pub const MAX_TOKEN_LEN: usize = 1024;
/// Most variables one deployment may be given values for.
pub const MAX_ENV_VARIABLES: usize = 200;
/// Longest value of one variable (a PEM key or a JSON credential fits).
pub const MAX_ENV_VALUE_LEN: usize = 64 * 1024;

/// What a user asks for, as received.
#[derive(Debug, Clone, Default)]
pub struct DeployRequest {
    pub repo_url: String,
    pub description: String,
    pub git_ref: Option<String>,
    pub github_token: Option<String>,
    pub approve_before_apply: bool,
    /// Values of the app's environment variables (`DATABASE_URL`...):
    /// sealed with the job like the token, never stored in its input.
    pub env: BTreeMap<String, String>,
}

/// A request that passed intake: the job's input, and what is sealed with
/// the job (name, value).
#[derive(Debug, Clone)]
pub struct Accepted {
    pub input: DeployInput,
    pub secrets: Vec<(&'static str, String)>,
}

impl Accepted {
    /// The secrets as the engine's submit takes them.
    pub fn secret_pairs(&self) -> Vec<(&str, &str)> {
        self.secrets
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect()
    }
}

/// The deployment job's input, as stored with the job: never the token, which the
/// engine keeps sealed as the job secret [`TOKEN_SECRET`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployInput {
    pub repo_url: String,
    pub description: String,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub approve_before_apply: bool,
}

/// The name the clone token is stored under (sealed) with the job.
pub const TOKEN_SECRET: &str = "github_token";
/// The name the app's variable values are stored under (sealed), as a JSON
/// object of name to value.
pub const APP_ENV_SECRET: &str = "app_env";

/// A refused request: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct IntakeError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> IntakeError {
    IntakeError {
        field,
        message: message.into(),
    }
}

impl DeployRequest {
    /// Checks every field; returns the job input and the token to seal, if any.
    pub fn validate(self, policy: &UrlPolicy) -> Result<Accepted, IntakeError> {
        let url = RepoUrl::parse(&self.repo_url, policy)
            .map_err(|e| refuse("repo_url", e.to_string()))?;
        let description = self.description.trim();
        if description.is_empty() {
            return Err(refuse(
                "description",
                "must say in a sentence how the app should run, e.g. \"public API, cheap, in Canada\"",
            ));
        }
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(refuse(
                "description",
                format!("is longer than {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        if description
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(refuse("description", "contains control characters"));
        }
        let git_ref = match self.git_ref.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(check_ref(name)?.to_owned()),
        };
        let token = match self.github_token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(token) => Some(check_token(token)?.to_owned()),
        };
        check_env(&self.env)?;
        let mut secrets = Vec::new();
        if let Some(token) = token {
            secrets.push((TOKEN_SECRET, token));
        }
        if !self.env.is_empty() {
            let values =
                serde_json::to_string(&self.env).map_err(|e| refuse("env", e.to_string()))?;
            secrets.push((APP_ENV_SECRET, values));
        }
        Ok(Accepted {
            input: DeployInput {
                repo_url: url.as_str().to_owned(),
                description: description.to_owned(),
                git_ref,
                approve_before_apply: self.approve_before_apply,
            },
            secrets,
        })
    }
}

/// Names a shell and Terraform accept, values of a sane size without NUL.
fn check_env(env: &BTreeMap<String, String>) -> Result<(), IntakeError> {
    if env.len() > MAX_ENV_VARIABLES {
        return Err(refuse(
            "env",
            format!("has {} variables; at most {MAX_ENV_VARIABLES}", env.len()),
        ));
    }
    for (name, value) in env {
        let valid = name.len() <= 256
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(refuse(
                "env",
                format!(
                    "{name:?} is not a variable name: letters, digits and underscores, not starting with a digit"
                ),
            ));
        }
        if value.len() > MAX_ENV_VALUE_LEN {
            return Err(refuse(
                "env",
                format!("the value of {name} is longer than {MAX_ENV_VALUE_LEN} bytes"),
            ));
        }
        if value.contains('\0') {
            return Err(refuse(
                "env",
                format!("the value of {name} contains a NUL byte"),
            ));
        }
    }
    Ok(())
}

/// A branch, tag or commit name git would accept (the rules of `git check-ref-format`
/// that matter for a name a user types).
fn check_ref(name: &str) -> Result<&str, IntakeError> {
    let bad = |why: &str| {
        refuse(
            "ref",
            format!("{name:?} is not a valid git reference: {why}"),
        )
    };
    if name.len() > MAX_REF_LEN {
        return Err(bad("too long"));
    }
    if name.starts_with('-') || name.starts_with('/') || name.ends_with('/') {
        return Err(bad("it may not start with '-' or '/', or end with '/'"));
    }
    if name.contains("..") || name.contains("//") || name.contains("@{") || name.ends_with(".lock")
    {
        return Err(bad(
            "it may not contain '..', '//', '@{' or end with '.lock'",
        ));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
    {
        return Err(bad("it may not contain spaces or any of ~ ^ : ? * [ \\"));
    }
    Ok(name)
}

fn check_token(token: &str) -> Result<&str, IntakeError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(refuse(
            "github_token",
            format!("is longer than {MAX_TOKEN_LEN} characters"),
        ));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse(
            "github_token",
            "may not contain spaces or control characters",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str, description: &str) -> DeployRequest {
        DeployRequest {
            repo_url: url.into(),
            description: description.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_request_becomes_input_without_the_token_or_the_values() {
        let accepted = DeployRequest {
            github_token: Some(" ghp_abc ".into()),
            git_ref: Some("v1.2".into()),
            env: BTreeMap::from([("DATABASE_URL".into(), "postgres://db/app".into())]),
            ..request("https://github.com/acme/shop", "  public API, cheap ")
        }
        .validate(&UrlPolicy::default())
        .unwrap();
        let input = &accepted.input;
        assert_eq!(input.description, "public API, cheap");
        assert_eq!(input.git_ref.as_deref(), Some("v1.2"));
        assert_eq!(
            accepted.secret_pairs(),
            [
                (TOKEN_SECRET, "ghp_abc"),
                (APP_ENV_SECRET, r#"{"DATABASE_URL":"postgres://db/app"}"#)
            ]
        );
        let stored = serde_json::to_string(input).unwrap();
        assert!(!stored.contains("ghp_abc") && !stored.contains("postgres://"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let policy = UrlPolicy::default();
        let cases = [
            (request("https://gitlab.com/a/b", "x"), "repo_url"),
            (request("file:///etc", "x"), "repo_url"),
            (request("https://github.com/a/b", "   "), "description"),
            (
                request("https://github.com/a/b", &"x".repeat(2001)),
                "description",
            ),
            (
                DeployRequest {
                    git_ref: Some("a..b".into()),
                    ..request("https://github.com/a/b", "x")
                },
                "ref",
            ),
            (
                DeployRequest {
                    github_token: Some("two words".into()),
                    ..request("https://github.com/a/b", "x")
                },
                "github_token",
            ),
            (
                DeployRequest {
                    env: BTreeMap::from([("1BAD".into(), "x".into())]),
                    ..request("https://github.com/a/b", "x")
                },
                "env",
            ),
            (
                DeployRequest {
                    env: BTreeMap::from([("KEY".into(), "a\0b".into())]),
                    ..request("https://github.com/a/b", "x")
                },
                "env",
            ),
        ];
        for (request, field) in cases {
            let error = request.validate(&policy).unwrap_err();
            assert_eq!(error.field, field, "{error}");
        }
    }
}
