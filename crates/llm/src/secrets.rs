//! What never leaves for the model: files that are likely to hold secrets, and
//! secret-looking values inside the files that are sent.

use std::sync::LazyLock;

use regex::Regex;

const REDACTED: &str = "[REDACTED]";

/// True for files that commonly hold credentials. Example files
/// (`.env.example`, `.env.sample`, `.env.template`) are meant to be shared and
/// are allowed.
pub fn is_secret_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let shared_example = [".example", ".sample", ".template"]
        .iter()
        .any(|suffix| name.ends_with(suffix));
    if shared_example {
        return false;
    }
    let exact = [
        ".env",
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        ".htpasswd",
        ".dockercfg",
    ];
    let prefixes = [
        ".env.",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "credentials",
        "secrets.",
    ];
    let suffixes = [
        ".pem",
        ".key",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".tfvars",
        ".tfstate",
    ];
    exact.contains(&name.as_str())
        || prefixes.iter().any(|p| name.starts_with(p))
        || suffixes.iter().any(|s| name.ends_with(s))
}

/// Well-known token formats, wherever they appear.
static TOKENS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
        r"\bsk-[A-Za-z0-9_-]{20,}",
        r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
        r"\bgh[pousr]_[A-Za-z0-9]{30,}",
        r"\bgithub_pat_[A-Za-z0-9_]{20,}",
        r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
        r"\bAIza[0-9A-Za-z_-]{35}",
        r"\bsk_live_[A-Za-z0-9]{16,}",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("token pattern"))
    .collect()
});

/// A name that says "secret", as a group for the assignment patterns below.
const SECRET_NAME: &str = r"[A-Za-z0-9_.-]*(?:secret|passw(?:or)?d|token|api_?key|apikey|access_?key|private_?key|credential|auth_?key)[A-Za-z0-9_.-]*";

/// `password = "hunter2"`, `"apiKey": "…"`, `SECRET_KEY: 'abc'`: a quoted literal
/// assigned to a secret-looking name. Reads of the environment are not literals
/// and stay, since they are what the analysis needs.
static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)({SECRET_NAME}["']?\s*[:=]\s*["'])([^"'\n]{{4,}})(["'])"#
    ))
    .expect("quoted pattern")
});

/// `API_TOKEN=abc123` or `password: hunter2` on a line of its own (env files,
/// YAML). A value that starts with `$` is a reference, not a secret.
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?im)^(\s*(?:export\s+)?{SECRET_NAME}\s*[:=]\s*)([A-Za-z0-9_+/=.@!%*-]{{4,}})(\s*(?:#.*)?)$"
    ))
    .expect("bare pattern")
});

/// Passwords inside URLs: `postgres://user:pw@host/db`.
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b([a-z][a-z0-9+.-]*://[^:/\s@]+:)([^@\s/]+)(@)").expect("url pattern")
});

/// Replaces secret-looking values in `text` with a marker.
pub fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    for token in TOKENS.iter() {
        out = token.replace_all(&out, REDACTED).into_owned();
    }
    out = QUOTED
        .replace_all(&out, format!("${{1}}{REDACTED}${{3}}"))
        .into_owned();
    out = BARE
        .replace_all(&out, format!("${{1}}{REDACTED}${{3}}"))
        .into_owned();
    URL_PASSWORD
        .replace_all(&out, format!("${{1}}{REDACTED}${{3}}"))
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_are_recognised() {
        for path in [
            ".env",
            "api/.env",
            ".env.production",
            ".env.local",
            "certs/server.pem",
            "tls.key",
            "config/master.key",
            "home/.ssh/id_rsa",
            "id_ed25519.pub",
            "credentials.json",
            "aws/credentials",
            "secrets.yaml",
            "cert.p12",
            "prod.tfvars",
            ".npmrc",
        ] {
            assert!(is_secret_path(path), "{path} should be withheld");
        }
        for path in [
            ".env.example",
            "api/.env.sample",
            ".env.template",
            "app.py",
            "Dockerfile",
            "keyboard.js",
            "src/secrets_test_helpers.py",
            "docs/credentials-howto.md.example",
            "environment.ts",
        ] {
            assert!(!is_secret_path(path), "{path} should be readable");
        }
    }

    #[test]
    fn literal_secrets_are_redacted_and_env_reads_kept() {
        let source = r#"
SECRET_KEY = "django-insecure-abcdef123456"
api_key = os.environ["OPENAI_API_KEY"]
token = os.getenv("TOKEN", "")
config = {"password": "hunter2-hunter2", "port": 5000}
DATABASE_URL=postgres://app:s3cretpw@db:5432/app
STRIPE_TOKEN=tok_12345678 # test token
OPENAI=sk-abcdefghijklmnopqrstuvwxyz123456
aws = "AKIAABCDEFGHIJKLMNOP"
db_password: ${DB_PASSWORD}
"#;
        let out = redact(source);
        for secret in [
            "django-insecure-abcdef123456",
            "hunter2-hunter2",
            "s3cretpw",
            "tok_12345678",
            "sk-abcdefghijklmnopqrstuvwxyz123456",
            "AKIAABCDEFGHIJKLMNOP",
        ] {
            assert!(!out.contains(secret), "{secret} leaked:\n{out}");
        }
        for kept in [
            r#"os.environ["OPENAI_API_KEY"]"#,
            r#"os.getenv("TOKEN", "")"#,
            r#""port": 5000"#,
            "postgres://app:",
            "@db:5432/app",
            "${DB_PASSWORD}",
            "# test token",
        ] {
            assert!(out.contains(kept), "{kept} lost:\n{out}");
        }
    }

    #[test]
    fn private_keys_are_redacted_whole() {
        let pem = "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY-----\nb";
        assert_eq!(redact(pem), "a\n[REDACTED]\nb");
    }
}
