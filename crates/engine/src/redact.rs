//! Secrets must never reach a stored log line: known token shapes and URL passwords
//! are replaced before a line is kept.

/// Prefixes of credentials whose shape is public: GitHub tokens, OpenAI keys, AWS key ids.
const TOKEN_PREFIXES: [&str; 8] = [
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "sk-",
    "AKIA",
];
const REDACTED: &str = "[redacted]";

/// `text` with credentials replaced by `[redacted]`.
pub fn redact(text: &str) -> String {
    let text = redact_url_passwords(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let hit = TOKEN_PREFIXES
            .iter()
            .filter_map(|p| rest.find(p).map(|at| (at, *p)))
            .filter(|(at, _)| *at == 0 || !is_token_char(rest[..*at].chars().last().unwrap_or(' ')))
            .min_by_key(|(at, _)| *at);
        let Some((at, prefix)) = hit else {
            out.push_str(rest);
            break;
        };
        let token_len = rest[at..].chars().take_while(|c| is_token_char(*c)).count();
        out.push_str(&rest[..at]);
        if token_len >= prefix.len() + 8 {
            out.push_str(REDACTED);
        } else {
            out.push_str(&rest[at..at + token_len]);
        }
        rest = &rest[at + token_len..];
    }
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `scheme://user:password@host` -> `scheme://user:[redacted]@host`.
fn redact_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme) = rest.find("://") {
        let after = scheme + 3;
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        let authority_end = rest
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(REDACTED);
                }
                None => out.push_str(REDACTED),
            }
            out.push_str(&authority[at..]);
            rest = &rest[authority_end..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn tokens_and_url_passwords_are_redacted() {
        let cases = [
            (
                "cloning with ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "cloning with [redacted]",
            ),
            (
                "pat=github_pat_11ABCDEFG0123456789_abcdefXYZ done",
                "pat=[redacted] done",
            ),
            ("key sk-proj-abcdefghijklmnop1234", "key [redacted]"),
            ("aws AKIAIOSFODNN7EXAMPLE ok", "aws [redacted] ok"),
            (
                "https://x-access-token:s3cret@github.com/a/b",
                "https://x-access-token:[redacted]@github.com/a/b",
            ),
            (
                "https://tok123@github.com/a/b and more",
                "https://[redacted]@github.com/a/b and more",
            ),
            ("postgres://u:pw@db/x", "postgres://u:[redacted]@db/x"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input}");
        }
    }

    #[test]
    fn ordinary_text_is_kept() {
        for text in [
            "step build attempt 2 sleeping 300 ms",
            "risk-free ask-me task_sk-1",
            "https://github.com/acme/shop",
            "sk- is a prefix too short to matter",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}
