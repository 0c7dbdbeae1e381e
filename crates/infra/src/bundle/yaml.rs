//! YAML in and out: compose files are read into `serde_yaml_ng` values (which
//! keep key order, so a rewritten file reads like the original) and
//! converted to JSON for schema validation.

use crate::InfraError;
use serde_yaml_ng::{Mapping, Value};

/// Parses a compose file, expanding `<<: *anchor` merge keys as Compose does.
pub(super) fn parse(yaml: &str) -> Result<Value, InfraError> {
    let mut value: Value = serde_yaml_ng::from_str(yaml)
        .map_err(|e| InfraError::Compose(format!("not valid YAML: {e}")))?;
    value
        .apply_merge()
        .map_err(|e| InfraError::Compose(format!("bad YAML merge key: {e}")))?;
    Ok(value)
}

/// `header` (comment lines) followed by `value` as YAML.
pub(super) fn render(header: &str, value: &Value) -> String {
    let body = serde_yaml_ng::to_string(value).expect("YAML values serialise");
    let body: Vec<String> = body
        .lines()
        .map(quote_port_item)
        .map(|line| quote_yaml11_boolean(&line))
        .collect();
    format!("{header}{}\n", body.join("\n"))
}

/// Quotes a list item such as `- 8080:50`, which YAML 1.1 readers take for a
/// base-60 number; Compose's documentation asks for port mappings quoted.
fn quote_port_item(line: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    let Some(item) = line.trim_start().strip_prefix("- ") else {
        return line.to_owned();
    };
    let port_like = item.starts_with(|c: char| c.is_ascii_digit())
        && item.contains(':')
        && item
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:-/".contains(c));
    if port_like {
        format!("{}- '{item}'", &line[..indent])
    } else {
        line.to_owned()
    }
}

/// Quotes a plain scalar such as `yes` or `off`, which YAML 1.2 writes as a
/// string but YAML 1.1 readers (the standalone Compose) take for a boolean.
fn quote_yaml11_boolean(line: &str) -> String {
    const WORDS: [&str; 6] = ["y", "n", "yes", "no", "on", "off"];
    let (head, scalar) = match line.trim_start().strip_prefix("- ") {
        Some(item) => (&line[..line.len() - item.len()], item),
        None => match line.rsplit_once(": ") {
            Some((key, value)) => (&line[..key.len() + 2], value),
            None => return line.to_owned(),
        },
    };
    let lower = scalar.to_ascii_lowercase();
    // `true`/`false` are booleans in both versions; these are strings only
    // in YAML 1.2 (a real boolean is written `true`/`false`).
    if WORDS.contains(&lower.as_str()) {
        format!("{head}'{scalar}'")
    } else {
        line.to_owned()
    }
}

/// The JSON the compose schema validates: mapping keys become strings (YAML
/// allows `80: x`, JSON does not) and tags are dropped.
pub(super) fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into()
            } else if let Some(u) = n.as_u64() {
                u.into()
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Sequence(items) => items.iter().map(to_json).collect(),
        Value::Mapping(map) => map
            .iter()
            .map(|(k, v)| (scalar_text(k), to_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        Value::Tagged(tagged) => to_json(&tagged.value),
    }
}

/// A scalar as text (`8080`, `true`, `web`); other values as YAML.
pub(super) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

pub(super) fn s(text: impl Into<String>) -> Value {
    Value::String(text.into())
}

/// A mapping built from `(key, value)` pairs, in order.
pub(super) fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    let mut mapping = Mapping::new();
    for (key, value) in entries {
        mapping.insert(s(key), value);
    }
    Value::Mapping(mapping)
}

pub(super) fn strings<I, T>(items: I) -> Value
where
    I: IntoIterator<Item = T>,
    T: Into<String>,
{
    Value::Sequence(items.into_iter().map(|i| s(i)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_yaml_1_1_reads_as_booleans_stay_strings() {
        let value = parse(
            "command: [redis-server, --appendonly, 'yes']\nenv:\n  FLAG: 'off'\n  ON: 'true'\n",
        )
        .unwrap();
        let rendered = render("", &value);
        assert!(rendered.contains("- 'yes'\n"), "{rendered}");
        assert!(rendered.contains("FLAG: 'off'\n"), "{rendered}");
        assert_eq!(parse(&rendered).unwrap(), value);
    }
}
