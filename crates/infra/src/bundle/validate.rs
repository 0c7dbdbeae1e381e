//! Validation of compose files against the Compose Specification schema
//! (`crates/infra/schemas/compose-spec.json`, see the README beside it).

use super::yaml;
use crate::InfraError;
use std::sync::LazyLock;

const SCHEMA: &str = include_str!("../../schemas/compose-spec.json");
/// Errors listed in one message; the rest are counted.
const MAX_ERRORS_SHOWN: usize = 5;

static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: serde_json::Value =
        serde_json::from_str(SCHEMA).expect("compose-spec.json is valid JSON");
    jsonschema::draft7::new(&schema).expect("compose-spec.json is a valid draft-07 schema")
});

/// Checks that `yaml` is a compose file the Compose Specification accepts.
/// The error lists where each violation is (`/services/app/ports/0`) and why.
pub fn validate_compose(yaml: &str) -> Result<(), InfraError> {
    let value = yaml::to_json(&yaml::parse(yaml)?);
    let errors: Vec<String> = VALIDATOR
        .iter_errors(&value)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("{at}: {e}")
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let mut message = errors
        .iter()
        .take(MAX_ERRORS_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if errors.len() > MAX_ERRORS_SHOWN {
        message.push_str(&format!(" (and {} more)", errors.len() - MAX_ERRORS_SHOWN));
    }
    Err(InfraError::Compose(format!(
        "does not match the Compose Specification: {message}"
    )))
}
