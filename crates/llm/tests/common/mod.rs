//! A small Flask repository with secrets in it, the detector facts for it, and
//! well-formed model answers, shared by the LLM tests.
#![allow(dead_code)]

use std::time::Duration;

use analysis::{Analysis, Snapshot};
use llm::{LlmConfig, SecretString};
use serde_json::{Value, json};
use test_support::fake_openai::FakeOpenAi;

pub const KEY: &str = "sk-test-0123456789abcdefghijklmnop";
pub const MODEL: &str = "test-model-7";

/// Secrets planted in the repository; none may ever reach the fake.
pub const ENV_SECRET: &str = "env-file-secret-value-42";
pub const PEM_BODY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC";
pub const SETTINGS_PASSWORD: &str = "hunter2-in-settings";

pub fn config(fake: &FakeOpenAi) -> LlmConfig {
    LlmConfig {
        model: MODEL.to_owned(),
        base_url: fake.base_url(),
        request_timeout: Duration::from_secs(5),
        retry_delay: Duration::from_millis(10),
        ..LlmConfig::new(SecretString::from(KEY))
    }
}

pub const APP_PY: &str = "import os
from flask import Flask

app = Flask(__name__)


@app.get(\"/health\")
def health():
    return \"ok\"


app.run(host=\"0.0.0.0\", port=5000)
";

pub fn snapshot() -> Snapshot {
    let env = format!("SECRET_TOKEN={ENV_SECRET}\n");
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----\n");
    let settings = format!("DB_PASSWORD = \"{SETTINGS_PASSWORD}\"\nDEBUG = False\n");
    Snapshot::from_texts([
        ("app.py", APP_PY),
        (
            "Dockerfile",
            "FROM python:3.12-slim\nEXPOSE 8000\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n",
        ),
        ("requirements.txt", "flask==3.0\ngunicorn\n"),
        (".env", env.as_str()),
        (
            ".env.example",
            "SECRET_TOKEN=\nDATABASE_URL=postgres://localhost/app\n",
        ),
        ("certs/server.pem", pem.as_str()),
        ("settings.py", settings.as_str()),
    ])
}

/// What the detectors would say about [`snapshot`]: the port is certain
/// (app.py line 12), the start command unknown.
pub fn detected() -> Analysis {
    serde_json::from_value(json!({
        "http": true,
        "deny_reason": null,
        "language": "python",
        "framework": "flask",
        "subdir": ".",
        "port": 5000,
        "port_env": null,
        "bind": {"host": "0.0.0.0", "loopback_only": false},
        "start_command": null,
        "required_env": [],
        "env": [],
        "dockerized": true,
        "docker_files": ["Dockerfile"],
        "evidence": [
            {"fact": "framework", "file": "app.py", "line": 2, "detail": "from flask import Flask"},
            {"fact": "port", "file": "app.py", "line": 12, "detail": "app.run(port=5000)"}
        ]
    }))
    .expect("detected analysis")
}

pub fn file_choice(files: &[&str]) -> Value {
    json!({"files": files, "reason": "entry point and container setup"})
}

/// A final facts answer that disagrees on the port and adds a start command.
pub fn facts(more_files: &[&str]) -> Value {
    json!({
        "http": true,
        "deny_reason": null,
        "language": "python",
        "framework": "flask",
        "subdir": ".",
        "port": 8000,
        "port_env": null,
        "start_command": "gunicorn -b 0.0.0.0:8000 app:app",
        "required_env": ["DATABASE_URL"],
        "env": [
            {"name": "DATABASE_URL", "required": true, "secret": true, "default": null}
        ],
        "health_path": "/health",
        "bind": {"host": "0.0.0.0", "loopback_only": false, "fix": null},
        "evidence": [
            {"fact": "port", "file": "Dockerfile", "line": 2},
            {"fact": "start_command", "file": "Dockerfile", "line": 3},
            {"fact": "health_path", "file": "app.py", "line": 7},
            {"fact": "env:DATABASE_URL", "file": ".env.example", "line": 2}
        ],
        "more_files": more_files
    })
}

pub fn requirements() -> Value {
    json!({
        "cost_sensitive": true,
        "high_availability": false,
        "expected_load": "low",
        "scale_to_zero": false,
        "database": "postgres",
        "region": "ca-central-1",
        "size": null,
        "target": null,
        "app_hint": null,
        "evidence": ["cheap", "postgres", "in Canada"]
    })
}

pub const DESCRIPTION: &str = "public API, cheap, postgres, in Canada";
