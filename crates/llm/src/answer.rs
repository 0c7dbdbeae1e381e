//! The shapes of the model's answers: each JSON schema beside the struct it is
//! read into, so the two cannot drift apart. The schemas keep to the subset
//! OpenAI's strict structured outputs accept: every property required, no
//! additional properties, optional values as `null`.

use serde::Deserialize;
use serde_json::{Value, json};

/// Round one: which files the model wants to read.
#[derive(Debug, Deserialize)]
pub(crate) struct FileChoice {
    pub files: Vec<String>,
}

pub(crate) fn file_choice_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["files", "reason"],
        "properties": {
            "files": {
                "type": "array",
                "description": "Repository paths to read, most useful first.",
                "items": {"type": "string"}
            },
            "reason": {"type": "string", "description": "One sentence: why these files."}
        }
    })
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct LlmEvidence {
    pub fact: String,
    pub file: String,
    pub line: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct LlmEnvVar {
    pub name: String,
    pub required: bool,
    pub secret: bool,
    pub default: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct LlmBind {
    pub host: Option<String>,
    pub loopback_only: bool,
    pub fix: Option<String>,
}

/// The facts the model read from the files, and the files it wants next.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct LlmFacts {
    pub http: bool,
    pub deny_reason: Option<String>,
    pub language: Option<String>,
    pub framework: Option<String>,
    pub subdir: Option<String>,
    pub port: Option<u16>,
    pub port_env: Option<String>,
    pub start_command: Option<String>,
    pub required_env: Vec<String>,
    pub env: Vec<LlmEnvVar>,
    pub health_path: Option<String>,
    pub bind: LlmBind,
    pub evidence: Vec<LlmEvidence>,
    pub more_files: Vec<String>,
}

fn nullable_string(description: &str) -> Value {
    json!({"type": ["string", "null"], "description": description})
}

pub(crate) fn facts_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": [
            "http", "deny_reason", "language", "framework", "subdir", "port", "port_env",
            "start_command", "required_env", "env", "health_path", "bind", "evidence",
            "more_files"
        ],
        "properties": {
            "http": {"type": "boolean", "description": "The app is a long-running HTTP server."},
            "deny_reason": nullable_string("Why it cannot be deployed as a web service, when http is false."),
            "language": nullable_string("The language of the code, lower-case: python, javascript, typescript, go, rust, java, kotlin, ruby, php, csharp, html…"),
            "framework": nullable_string("Lower-case framework: flask, fastapi, express, gin, axum, spring-boot…"),
            "subdir": nullable_string("The app's directory relative to the root, '.' for the root."),
            "port": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": 65535,
                "description": "The port the app listens on."
            },
            "port_env": nullable_string("The environment variable that overrides the port."),
            "start_command": nullable_string("The command that starts the app, run in subdir."),
            "required_env": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Environment variables that must be set (no default)."
            },
            "env": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "required", "secret", "default"],
                    "properties": {
                        "name": {"type": "string"},
                        "required": {"type": "boolean"},
                        "secret": {"type": "boolean"},
                        "default": nullable_string("The default value, never for a secret.")
                    }
                }
            },
            "health_path": nullable_string("A path answering health probes, e.g. /health."),
            "bind": {
                "type": "object",
                "additionalProperties": false,
                "required": ["host", "loopback_only", "fix"],
                "properties": {
                    "host": nullable_string("The address the app binds, as written."),
                    "loopback_only": {"type": "boolean", "description": "Listens on 127.0.0.1/localhost only."},
                    "fix": nullable_string("How to make it listen on 0.0.0.0: a flag, env var or start command.")
                }
            },
            "evidence": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["fact", "file", "line"],
                    "properties": {
                        "fact": {"type": "string", "description": "http, language, framework, subdir, port, port_env, start_command, bind, health_path, deny or env:NAME."},
                        "file": {"type": "string"},
                        "line": {"type": ["integer", "null"], "minimum": 1}
                    }
                }
            },
            "more_files": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Further files to read before answering for good; empty when done."
            }
        }
    })
}

pub(crate) fn requirements_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": [
            "cost_sensitive", "high_availability", "expected_load", "scale_to_zero",
            "database", "region", "size", "target", "app_hint", "evidence"
        ],
        "properties": {
            "cost_sensitive": {"type": "boolean"},
            "high_availability": {"type": "boolean"},
            "expected_load": {"type": ["string", "null"], "enum": ["low", "medium", "high", null]},
            "scale_to_zero": {"type": "boolean"},
            "database": nullable_string("postgres, mysql, redis, mongodb…"),
            "region": {
                "type": ["string", "null"],
                "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$",
                "description": "An AWS region code such as us-east-1."
            },
            "size": nullable_string("An instance type or size word: t3.micro, small, large."),
            "target": {
                "type": ["string", "null"],
                "enum": ["vm", "container-service", "serverless", "kubernetes", null]
            },
            "app_hint": nullable_string("The app the user means, in a repository with several."),
            "evidence": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The exact phrases of the description each requirement was read from."
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: &Value, answer: &Value) -> Result<(), String> {
        let validator = crate::validate::compile(schema)?;
        crate::validate::parse_and_check(&validator, &answer.to_string()).map(|_| ())
    }

    fn sample_facts() -> Value {
        json!({
            "http": true, "deny_reason": null, "language": "python", "framework": "flask",
            "subdir": ".", "port": 8000, "port_env": "PORT", "start_command": "python app.py",
            "required_env": ["DATABASE_URL"],
            "env": [{"name": "DATABASE_URL", "required": true, "secret": true, "default": null}],
            "health_path": "/health",
            "bind": {"host": "0.0.0.0", "loopback_only": false, "fix": null},
            "evidence": [{"fact": "port", "file": "app.py", "line": 3}],
            "more_files": []
        })
    }

    #[test]
    fn every_schema_compiles_and_is_strict() {
        for schema in [file_choice_schema(), facts_schema(), requirements_schema()] {
            crate::validate::compile(&schema).unwrap();
            assert_strict(&schema);
        }
    }

    /// OpenAI's strict mode: each object lists all its properties as required
    /// and forbids others.
    fn assert_strict(schema: &Value) {
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            assert_eq!(schema["additionalProperties"], json!(false), "{schema}");
            let required: Vec<&str> = schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            for (name, inner) in properties {
                assert!(required.contains(&name.as_str()), "{name} not required");
                assert_strict(inner);
            }
        }
        if let Some(items) = schema.get("items") {
            assert_strict(items);
        }
    }

    #[test]
    fn a_full_answer_validates_and_reads_into_the_struct() {
        let answer = sample_facts();
        check(&facts_schema(), &answer).unwrap();
        let facts: LlmFacts = serde_json::from_value(answer).unwrap();
        assert_eq!(facts.port, Some(8000));
    }

    #[test]
    fn off_schema_answers_are_rejected() {
        let mut missing = sample_facts();
        missing.as_object_mut().unwrap().remove("port");
        assert!(check(&facts_schema(), &missing).is_err());
        let mut wrong_type = sample_facts();
        wrong_type["port"] = json!("8000");
        assert!(check(&facts_schema(), &wrong_type).is_err());
        let mut out_of_range = sample_facts();
        out_of_range["port"] = json!(70000);
        assert!(check(&facts_schema(), &out_of_range).is_err());
        let mut extra = sample_facts();
        extra["surprise"] = json!(1);
        assert!(check(&facts_schema(), &extra).is_err());
    }

    #[test]
    fn requirements_schema_pins_enums_and_region_codes() {
        let good = json!({
            "cost_sensitive": true, "high_availability": false, "expected_load": "low",
            "scale_to_zero": false, "database": "postgres", "region": "ca-central-1",
            "size": null, "target": null, "app_hint": null, "evidence": ["cheap"]
        });
        check(&requirements_schema(), &good).unwrap();
        let mut bad_region = good.clone();
        bad_region["region"] = json!("Canada");
        assert!(check(&requirements_schema(), &bad_region).is_err());
        let mut bad_load = good;
        bad_load["expected_load"] = json!("huge");
        assert!(check(&requirements_schema(), &bad_load).is_err());
    }
}
