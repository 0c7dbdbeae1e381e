//! Human text or Terraform's machine-readable UI (`-json`: one JSON object a
//! line with `@level`, `@message`, `@module`, `@timestamp` and `type`).

use serde_json::{Map, Value, json};

use crate::diag::Diag;

pub const VERSION: &str = "1.9.8-fake";

pub struct Ui {
    pub json: bool,
}

impl Ui {
    /// A machine-UI line of `kind` with `fields`, or `message` as text.
    pub fn event(&self, kind: &str, message: &str, fields: Value) {
        if self.json {
            self.json_line("info", kind, message, fields);
        } else {
            println!("{message}");
        }
    }

    /// Text only in human mode.
    pub fn say(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    /// The first line of a machine-readable stream.
    pub fn version_line(&self) {
        if self.json {
            let fields = json!({"terraform": VERSION, "ui": "1.2"});
            self.json_line("info", "version", &format!("Terraform {VERSION}"), fields);
        }
    }

    /// The error on stderr, and as a diagnostic line on stdout with `-json`.
    pub fn error(&self, diag: &Diag) {
        eprintln!("\nError: {}\n", diag.summary);
        if !diag.detail.is_empty() {
            eprintln!("{}\n", diag.detail);
        }
        if self.json {
            let fields = json!({"diagnostic": {
                "severity": "error",
                "summary": diag.summary,
                "detail": diag.detail,
            }});
            self.json_line(
                "error",
                "diagnostic",
                &format!("Error: {}", diag.summary),
                fields,
            );
        }
    }

    fn json_line(&self, level: &str, kind: &str, message: &str, fields: Value) {
        let mut line = Map::new();
        line.insert("@level".into(), level.into());
        line.insert("@message".into(), message.into());
        line.insert("@module".into(), "terraform.ui".into());
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
        line.insert("@timestamp".into(), now.into());
        if let Value::Object(fields) = fields {
            line.extend(fields);
        }
        line.insert("type".into(), kind.into());
        println!("{}", Value::Object(line));
    }
}
