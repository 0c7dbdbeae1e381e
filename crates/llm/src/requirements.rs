//! Reading the model's structured requirements, keeping only what the user's
//! sentence supports.

use analysis::Requirements;
use serde_json::Value;

/// The model's answer as [`Requirements`], or why it cannot be read.
pub(crate) fn read(answer: Value, description: &str) -> Result<Requirements, String> {
    let mut requirements: Requirements = serde_json::from_value(answer)
        .map_err(|e| format!("requirements answer has the wrong shape: {e}"))?;
    let sentence = description.to_lowercase();
    // A quote that is not in the sentence was made up.
    requirements
        .evidence
        .retain(|phrase| !phrase.trim().is_empty() && sentence.contains(&phrase.to_lowercase()));
    for field in [
        &mut requirements.database,
        &mut requirements.size,
        &mut requirements.app_hint,
    ] {
        *field = field
            .take()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
    }
    requirements.database = requirements.database.map(|d| d.to_lowercase());
    Ok(requirements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_quotes_from_the_sentence_only() {
        let answer = json!({
            "cost_sensitive": true, "high_availability": false, "expected_load": null,
            "scale_to_zero": false, "database": " Postgres ", "region": "us-east-1",
            "size": "", "target": null, "app_hint": null,
            "evidence": ["cheap", "in Virginia", "Postgres"]
        });
        let r = read(answer, "public API, cheap, postgres").unwrap();
        assert!(r.cost_sensitive);
        assert_eq!(r.database.as_deref(), Some("postgres"));
        assert_eq!(r.size, None);
        assert_eq!(r.evidence, vec!["cheap", "Postgres"]);
    }
}
