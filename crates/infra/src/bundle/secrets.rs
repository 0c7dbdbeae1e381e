//! Values whoever starts the bundle generates once and keeps with the
//! deployment: the stores' passwords, and the keys the app signs or
//! encrypts its own data with (`SECRET_KEY`, `JWT_SECRET`, `APP_KEY`), which
//! any strong random value serves. Nothing here holds a value: `make up`
//! writes them into `.env`, the workflow seals them with the job.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Random bytes a value is made from.
pub const RANDOM_BYTES: usize = 24;

/// Random bytes a `SECRET_KEY_BASE` is made from.
pub const KEY_BASE_BYTES: usize = 64;

/// How a generated value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Hex: any URL, shell or config file carries it as it is.
    Hex,
    /// `SECRET_KEY_BASE` (Rails, Phoenix): 64 bytes in hex, as `rails
    /// secret` makes it. Phoenix's cookie session refuses a key base
    /// shorter than 64 characters.
    KeyBase,
    /// Laravel's `APP_KEY`: `base64:` and 32 bytes, the key length of its
    /// default cipher (AES-256-CBC); Laravel refuses any other length.
    LaravelKey,
}

fn form_of(name: &str) -> Form {
    if name == "APP_KEY" {
        Form::LaravelKey
    } else if name == "SECRET_KEY_BASE" {
        Form::KeyBase
    } else {
        Form::Hex
    }
}

/// A fresh value for `name`, made from `random` (at least
/// [`KEY_BASE_BYTES`] bytes).
pub fn generated_value(name: &str, random: &[u8]) -> String {
    match form_of(name) {
        Form::Hex => hex::encode(&random[..RANDOM_BYTES.min(random.len())]),
        Form::KeyBase => hex::encode(&random[..KEY_BASE_BYTES.min(random.len())]),
        Form::LaravelKey => format!(
            "base64:{}",
            STANDARD.encode(&random[..32.min(random.len())])
        ),
    }
}

/// The Makefile line that appends a fresh value of `name` to `env_file`
/// unless that file already holds one (the first `make up` makes it, every
/// later one keeps it). A file the repository commits without a final
/// newline gets one first, so its last line stays whole.
pub(super) fn makefile_line(name: &str, env_file: &str) -> String {
    let value = match form_of(name) {
        Form::Hex => format!("$$(od -An -N{RANDOM_BYTES} -tx1 /dev/urandom | tr -d ' \\n')"),
        Form::KeyBase => format!("$$(od -An -N{KEY_BASE_BYTES} -tx1 /dev/urandom | tr -d ' \\n')"),
        Form::LaravelKey => "base64:$$(head -c 32 /dev/urandom | base64)".to_owned(),
    };
    format!(
        "\t@grep -qs '^{name}=' {env_file} || {{ [ -z \"$$(tail -c 1 {env_file} 2>/dev/null)\" ] || echo >> {env_file}; echo \"{name}={value}\" >> {env_file}; }}\n"
    )
}

/// Of the `required` variables, those a committed env file sets to the
/// author's credentials: a key or token (`STRIPE_SECRET_KEY=sk_live_…`),
/// or an address that carries a password
/// (`DATABASE_URL=mongodb+srv://admin:…@cluster0.example.net/app`). A
/// deployment that kept them would reach the author's account or database.
pub(super) fn others_credentials(text: &str, required: &[String]) -> Vec<String> {
    let carries_password =
        regex::Regex::new(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s]+@").expect("valid pattern");
    required
        .iter()
        .filter(|name| {
            let Some(value) = committed_value(text, name) else {
                return false;
            };
            !value.is_empty()
                && (analysis::variable_kind(name) == analysis::VariableKind::Credential
                    || carries_password.is_match(value))
        })
        .cloned()
        .collect()
}

/// The value a committed env file gives `name`, unquoted.
fn committed_value<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    text.lines().find_map(|line| {
        let (key, value) = line
            .trim_start()
            .trim_start_matches("export ")
            .split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches(['"', '\'']))
    })
}

/// A committed env file without the lines that set `names`: what the
/// repository shows is public, so `make up` generates them afresh. `None`
/// when it sets none of them.
pub(super) fn without_public_values(text: &str, names: &[String]) -> Option<(String, Vec<String>)> {
    let mut dropped = Vec::new();
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            let assigned = line
                .trim_start()
                .trim_start_matches("export ")
                .split_once('=')
                .map(|(name, _)| name.trim());
            match assigned.filter(|name| names.iter().any(|n| n == name)) {
                Some(name) => {
                    dropped.push(name.to_owned());
                    false
                }
                None => true,
            }
        })
        .collect();
    (!dropped.is_empty()).then(|| (kept.join("\n") + "\n", dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_env_file_loses_the_values_made_afresh() {
        let names = [
            "SECRET_KEY".to_owned(),
            "DEPLOYFLOW_POSTGRES_PASSWORD".to_owned(),
        ];
        let (text, dropped) = without_public_values(
            "DEBUG=0\nSECRET_KEY='w9n5xrs!'\nexport DEPLOYFLOW_POSTGRES_PASSWORD=x\nALLOWED_HOSTS=*\n",
            &names,
        )
        .unwrap();
        assert_eq!(text, "DEBUG=0\nALLOWED_HOSTS=*\n");
        assert_eq!(dropped, names);
        assert!(without_public_values("DEBUG=0\n", &names).is_none());
    }

    #[test]
    fn values_take_the_form_their_app_reads() {
        let random = [7u8; 32];
        let hex = generated_value("SECRET_KEY", &random);
        assert_eq!(hex.len(), 2 * RANDOM_BYTES);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        let key = generated_value("APP_KEY", &random);
        let bytes = STANDARD
            .decode(key.strip_prefix("base64:").expect("Laravel's prefix"))
            .unwrap();
        assert_eq!(bytes.len(), 32);
    }

    #[test]
    fn the_makefile_keeps_a_value_it_made_before() {
        let line = makefile_line("JWT_SECRET", "app/.env");
        assert!(
            line.starts_with(
                "\t@grep -qs '^JWT_SECRET=' app/.env || { [ -z \"$$(tail -c 1 app/.env 2>/dev/null)\" ] || echo >> app/.env; echo \"JWT_SECRET=$$(od -An -N24"
            ),
            "{line}"
        );
        assert!(
            makefile_line("APP_KEY", ".env")
                .contains("APP_KEY=base64:$$(head -c 32 /dev/urandom | base64)")
        );
    }
}
