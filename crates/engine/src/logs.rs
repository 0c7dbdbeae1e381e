//! A job's log: lines buffered in memory while a step runs and written with the
//! step's next heartbeat or checkpoint, so logging adds no commits of its own.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "debug" => LogLevel::Debug,
            "warn" => LogLevel::Warn,
            "error" => LogLevel::Error,
            _ => LogLevel::Info,
        }
    }
}

/// A line to be stored in a job's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub step: Option<String>,
    pub attempt: Option<i32>,
    pub level: LogLevel,
    pub message: String,
    pub at: DateTime<Utc>,
}

/// A stored log line, with the cursor (`id`) to page after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredLogLine {
    pub id: i64,
    #[serde(flatten)]
    pub line: LogLine,
}

/// Lines kept in memory per job before the oldest are dropped (and counted).
const MAX_BUFFERED_LINES: usize = 2_000;

/// The buffer shared by a running job's steps; cheap to clone.
#[derive(Clone, Default)]
pub struct LogSink {
    inner: Arc<Mutex<Buffer>>,
}

#[derive(Default)]
struct Buffer {
    lines: Vec<LogLine>,
    dropped: usize,
}

impl LogSink {
    pub fn push(&self, step: Option<&str>, attempt: Option<u32>, level: LogLevel, message: String) {
        let mut buffer = self.inner.lock().expect("log buffer lock");
        if buffer.lines.len() >= MAX_BUFFERED_LINES {
            buffer.lines.remove(0);
            buffer.dropped += 1;
        }
        buffer.lines.push(LogLine {
            step: step.map(str::to_owned),
            attempt: attempt.map(|a| a as i32),
            level,
            message,
            at: Utc::now(),
        });
    }

    pub fn is_empty(&self) -> bool {
        let buffer = self.inner.lock().expect("log buffer lock");
        buffer.lines.is_empty() && buffer.dropped == 0
    }

    /// Takes what is buffered; a note is prepended when lines had to be dropped.
    pub fn drain(&self) -> Vec<LogLine> {
        let mut buffer = self.inner.lock().expect("log buffer lock");
        let mut lines = std::mem::take(&mut buffer.lines);
        if buffer.dropped > 0 {
            lines.insert(
                0,
                LogLine {
                    step: None,
                    attempt: None,
                    level: LogLevel::Warn,
                    message: format!("{} log lines were dropped (buffer full)", buffer.dropped),
                    at: Utc::now(),
                },
            );
            buffer.dropped = 0;
        }
        lines
    }

    /// Puts lines back at the front after a write that did not commit.
    pub fn restore(&self, mut lines: Vec<LogLine>) {
        let mut buffer = self.inner.lock().expect("log buffer lock");
        lines.append(&mut buffer.lines);
        let excess = lines.len().saturating_sub(MAX_BUFFERED_LINES);
        lines.drain(..excess);
        buffer.dropped += excess;
        buffer.lines = lines;
    }
}
