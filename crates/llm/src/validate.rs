//! Turning the model's text into JSON that matches a schema, with an error
//! message short and precise enough to feed back to the model.

use jsonschema::Validator;
use serde_json::Value;

/// Errors listed in the feedback at most; the model needs the first few, not all.
const MAX_REPORTED_ERRORS: usize = 5;

pub(crate) fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::validator_for(schema).map_err(|e| e.to_string())
}

/// Parses `content` and checks it against `validator`. The error says what is
/// wrong in terms the model can act on.
pub(crate) fn parse_and_check(validator: &Validator, content: &str) -> Result<Value, String> {
    let text = strip_code_fence(content.trim());
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the reply is not valid JSON: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .take(MAX_REPORTED_ERRORS)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("at {at}: {e}")
        })
        .collect();
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(format!(
            "the reply does not match the schema: {}",
            errors.join("; ")
        ))
    }
}

/// Servers without structured output often wrap JSON in a Markdown fence.
fn strip_code_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let Some(body) = rest.strip_suffix("```") else {
        return text;
    };
    // Drop the info string (`json`) on the fence's first line.
    match body.split_once('\n') {
        Some((_, json)) => json.trim(),
        None => body.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validator() -> Validator {
        compile(&json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["port"],
            "properties": {"port": {"type": "integer", "minimum": 1, "maximum": 65535}}
        }))
        .unwrap()
    }

    #[test]
    fn accepts_matching_json_even_in_a_fence() {
        let v = validator();
        assert_eq!(
            parse_and_check(&v, r#"{"port": 80}"#).unwrap(),
            json!({"port": 80})
        );
        assert_eq!(
            parse_and_check(&v, "```json\n{\"port\": 80}\n```").unwrap(),
            json!({"port": 80})
        );
    }

    #[test]
    fn explains_what_is_wrong() {
        let v = validator();
        let not_json = parse_and_check(&v, "sure! port is 80").unwrap_err();
        assert!(not_json.contains("not valid JSON"), "{not_json}");
        let off_schema = parse_and_check(&v, r#"{"port": 70000}"#).unwrap_err();
        assert!(off_schema.contains("/port"), "{off_schema}");
        let missing = parse_and_check(&v, r#"{}"#).unwrap_err();
        assert!(missing.contains("port"), "{missing}");
    }
}
