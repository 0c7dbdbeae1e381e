//! What the client commands share on the way out: the `--json` flag, the API's JSON
//! shapes they read, plain-text tables, and formats for times and durations.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// The output flag every client command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Print the API's JSON answer (pretty-printed, fields in the API's order) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses a job id argument; a clap value parser, so a bad id is a usage error (exit 2).
pub fn job_id(raw: &str) -> Result<Uuid, String> {
    raw.trim().parse().map_err(|_| {
        format!(
            "{raw:?} is not a job id: job ids are UUIDs such as \
             0190f3a2-7c1e-7d3b-9a4e-2f1c0b5d6e7f (`deployflow list` shows them)"
        )
    })
}

/// A job as `POST /workflows/{name}/runs`, `/retry` and `GET /list` answer it.
#[derive(Debug, Deserialize)]
pub struct JobSummary {
    pub id: Uuid,
    pub workflow: String,
    pub status: String,
    pub state: Option<String>,
    pub current_step: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// `GET /list`.
#[derive(Debug, Deserialize)]
pub struct JobList {
    pub jobs: Vec<JobSummary>,
    pub next_cursor: Option<i64>,
}

/// `GET /job/{id}`, the parts the status table shows.
#[derive(Debug, Deserialize)]
pub struct JobView {
    pub id: Uuid,
    pub workflow: String,
    pub workflow_version: String,
    pub status: String,
    pub state: Option<String>,
    pub current_step: Option<String>,
    pub failed_step: Option<String>,
    pub error: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub suggestion: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Deserialize)]
pub struct StepView {
    pub name: String,
    pub status: String,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Deserialize)]
pub struct AttemptView {
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub outcome: String,
    pub error: Option<String>,
}

/// `POST /job/{id}/cancel`.
#[derive(Debug, Deserialize)]
pub struct CancelResponse {
    pub id: Uuid,
    pub status: String,
    pub cancel: String,
}

/// A plain-text table: columns padded to their widest cell, two spaces apart.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows.push(cells);
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let header: Vec<String> = self.header.iter().map(|h| h.to_uppercase()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                let pad = width.saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// Writes a command's result to stdout. A closed pipe (`deployflow list | head`) is not
/// an error: the reader has what it wanted.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write to standard output: {e}"))
        }
        _ => Ok(()),
    }
}

/// `--json` output: the API's answer, pretty-printed, on stdout.
pub fn emit_json(raw: &str) -> anyhow::Result<()> {
    emit(&format!("{}\n", pretty_json(raw)))
}

/// A value, or `-` for none.
pub fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_owned()
}

/// One line of an error message, shortened for a table cell.
pub fn cell(text: Option<&str>, max_chars: usize) -> String {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return String::new();
    };
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None if line.len() < text.len() => format!("{line}…"),
        None => line.to_owned(),
    }
}

/// A timestamp to the second, in UTC.
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

pub fn opt_time(at: Option<DateTime<Utc>>) -> String {
    at.map(time).unwrap_or_else(|| "-".to_owned())
}

/// `840ms`, `12.3s`, `4m05s`, `2h03m`.
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000)
    }
}

/// Pretty-prints JSON text as `serde_json::to_string_pretty` would, but keeping the
/// fields in the order they came in (a parsed `Value` would sort them). `raw` must be
/// valid JSON.
pub fn pretty_json(raw: &str) -> String {
    fn newline(out: &mut String, indent: usize) {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", indent));
    }
    let mut out = String::with_capacity(raw.len() * 2);
    let mut indent = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.next_if(|c| c.is_whitespace()).is_some() {}
                if let Some(close) = chars.next_if(|c| matches!(c, '}' | ']')) {
                    out.push(close);
                } else {
                    indent += 1;
                    newline(&mut out, indent);
                }
            }
            '}' | ']' => {
                indent = indent.saturating_sub(1);
                newline(&mut out, indent);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, indent);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn pretty_json_matches_serde_json_and_keeps_field_order() {
        let value = json!({
            "a": [1, 2.5, {"b": null, "c": []}, {}],
            "d": "quote \" backslash \\ brace { colon : comma ,",
            "e": {"f": true, "g": "ünïcödé"}
        });
        let compact = serde_json::to_string(&value).unwrap();
        assert_eq!(
            pretty_json(&compact),
            serde_json::to_string_pretty(&value).unwrap()
        );
        let spaced = "{ \"z\" : 1 , \"a\" : [ ] }";
        assert_eq!(pretty_json(spaced), "{\n  \"z\": 1,\n  \"a\": []\n}");
        let reparsed: Value = serde_json::from_str(&pretty_json(spaced)).unwrap();
        assert_eq!(reparsed, json!({"z": 1, "a": []}));
    }

    #[test]
    fn tables_pad_columns_and_trim_line_ends() {
        let mut table = Table::new(&["step", "attempt", "error"]);
        table.row(vec!["prepare".into(), "1".into(), String::new()]);
        table.row(vec!["build".into(), "12".into(), "boom".into()]);
        assert_eq!(
            table.to_string(),
            "STEP     ATTEMPT  ERROR\nprepare  1\nbuild    12       boom\n"
        );
    }

    #[test]
    fn durations_and_cells_are_short() {
        assert_eq!(duration_ms(840), "840ms");
        assert_eq!(duration_ms(12_340), "12.3s");
        assert_eq!(duration_ms(245_000), "4m05s");
        assert_eq!(duration_ms(7_380_000), "2h03m");
        assert_eq!(cell(Some("abcdef"), 3), "abc…");
        assert_eq!(cell(Some("one\ntwo"), 10), "one…");
        assert_eq!(cell(None, 3), "");
    }

    #[test]
    fn job_ids_must_be_uuids() {
        assert!(job_id("0190f3a2-7c1e-7d3b-9a4e-2f1c0b5d6e7f").is_ok());
        let error = job_id("not-a-uuid").unwrap_err();
        assert!(error.contains("not a job id"), "{error}");
    }
}
