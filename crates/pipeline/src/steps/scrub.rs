//! The app's variable values kept out of Terraform's log lines and errors.
//! The plan marks them sensitive, but a provider's error may quote what the
//! cloud refused: Lambda answers an environment over 4 KB with the whole of
//! it, values and all, and Terraform prints the error as it came.

/// Values shorter than this are left alone: `1` or `true` would blank out
/// half the log, and say nothing of the secret.
const SHORTEST: usize = 4;
const REDACTED: &str = "[redacted]";

/// The values to take out of text, as written and as JSON escapes them.
#[derive(Debug, Default, Clone)]
pub(in crate::steps) struct Scrub {
    needles: Vec<String>,
}

impl Scrub {
    pub(in crate::steps) fn new<'v>(values: impl IntoIterator<Item = &'v String>) -> Self {
        let mut needles: Vec<String> = values
            .into_iter()
            .filter(|v| v.chars().count() >= SHORTEST)
            .flat_map(|v| {
                let escaped = serde_json::to_string(v).expect("a string serialises");
                let escaped = escaped[1..escaped.len() - 1].to_owned();
                [v.clone(), escaped]
            })
            .collect();
        // Longest first, so a value inside another is not left half out.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Self { needles }
    }

    pub(in crate::steps) fn apply(&self, text: &str) -> String {
        self.needles.iter().fold(text.to_owned(), |text, needle| {
            text.replace(needle, REDACTED)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Scrub;

    #[test]
    fn values_are_taken_out_as_written_and_as_json_escapes_them() {
        let values = [
            "s3cr3t\"quoted".to_owned(),
            "on".to_owned(),
            "sk_live_42".to_owned(),
        ];
        let scrub = Scrub::new(&values);
        let error = r#"InvalidParameterValueException: String measured: {"A":"s3cr3t\"quoted","B":"sk_live_42","C":"on"}"#;
        assert_eq!(
            scrub.apply(error),
            r#"InvalidParameterValueException: String measured: {"A":"[redacted]","B":"[redacted]","C":"on"}"#
        );
        assert_eq!(
            scrub.apply("plain sk_live_42 text"),
            "plain [redacted] text"
        );
    }
}
