//! What the model is shown of the repository: a bounded file tree, and the
//! contents of the files it asks for within a file and byte budget.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use analysis::Snapshot;

use crate::secrets::{is_secret_path, redact};

/// Tree lines shown at most; a larger repository is summarised by a count.
const MAX_TREE_ENTRIES: usize = 400;

/// The repository's files with sizes, marking those that will not be sent.
pub(crate) fn tree_listing(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    for file in snapshot.files.iter().take(MAX_TREE_ENTRIES) {
        let mark = if is_secret_path(&file.path) {
            " [withheld: may hold secrets]"
        } else if file.content.is_none() {
            " [not readable: binary or too large]"
        } else {
            ""
        };
        let _ = writeln!(out, "{} ({} bytes){mark}", file.path, file.size);
    }
    if snapshot.files.len() > MAX_TREE_ENTRIES {
        let _ = writeln!(
            out,
            "… and {} more files not listed",
            snapshot.files.len() - MAX_TREE_ENTRIES
        );
    }
    out
}

/// What may still be sent during one analysis.
#[derive(Debug)]
pub(crate) struct Budget {
    pub files_left: usize,
    pub bytes_left: usize,
    pub max_file_bytes: usize,
    pub sent: BTreeSet<String>,
}

impl Budget {
    pub fn exhausted(&self) -> bool {
        self.files_left == 0 || self.bytes_left == 0
    }
}

/// File contents ready to be shown to the model, and what was refused.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub text: String,
    pub sent: Vec<String>,
    /// One sentence per requested file that was not sent, and why.
    pub refused: Vec<String>,
    /// Requested files refused because they look like secrets.
    pub withheld: Vec<String>,
}

/// Renders the requested files that may be sent, spending `budget`.
pub(crate) fn batch(snapshot: &Snapshot, requested: &[String], budget: &mut Budget) -> Batch {
    let mut out = Batch::default();
    for raw in requested {
        let path = normalise(raw);
        if budget.sent.contains(&path) || out.sent.contains(&path) {
            continue;
        }
        if is_secret_path(&path) {
            out.refused
                .push(format!("{path}: withheld, it may hold secrets"));
            out.withheld.push(path);
            continue;
        }
        let Some(file) = snapshot.get(&path) else {
            out.refused.push(format!("{path}: no such file"));
            continue;
        };
        let Some(content) = file.content.as_deref() else {
            out.refused
                .push(format!("{path}: not readable (binary or too large)"));
            continue;
        };
        if budget.exhausted() {
            out.refused
                .push(format!("{path}: not sent, the reading budget is spent"));
            continue;
        }
        let limit = budget.max_file_bytes.min(budget.bytes_left);
        let (shown, cut) = cut_at(&redact(content), limit);
        budget.bytes_left -= shown.len();
        budget.files_left -= 1;
        budget.sent.insert(path.clone());
        render(&mut out.text, &path, file.size, &shown, cut);
        out.sent.push(path);
    }
    out
}

/// Paths as the model writes them (`./app.py`, `/app.py`) to snapshot paths.
fn normalise(path: &str) -> String {
    path.trim()
        .trim_start_matches("./")
        .trim_start_matches('/')
        .to_owned()
}

/// The first `limit` bytes of `text` on a character boundary, and whether
/// anything was cut.
fn cut_at(text: &str, limit: usize) -> (String, bool) {
    if text.len() <= limit {
        return (text.to_owned(), false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_owned(), true)
}

/// Numbered lines, so the model can cite `file:line` as evidence.
fn render(out: &mut String, path: &str, size: u64, shown: &str, cut: bool) {
    let _ = writeln!(out, "=== {path} ({size} bytes) ===");
    for (index, line) in shown.lines().enumerate() {
        let _ = writeln!(out, "{:>5}| {line}", index + 1);
    }
    if cut {
        let _ = writeln!(out, "[… truncated: {} of {size} bytes shown]", shown.len());
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::FileEntry;

    fn budget(files: usize, bytes: usize, per_file: usize) -> Budget {
        Budget {
            files_left: files,
            bytes_left: bytes,
            max_file_bytes: per_file,
            sent: BTreeSet::new(),
        }
    }

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn tree_marks_secret_and_unreadable_files() {
        let mut snapshot = Snapshot::from_texts([("app.py", "x"), (".env", "A=1")]);
        snapshot.files.push(FileEntry {
            path: "logo.png".into(),
            size: 9000,
            content: None,
            encoding: None,
        });
        let tree = tree_listing(&snapshot);
        assert!(tree.contains("app.py (1 bytes)\n"), "{tree}");
        assert!(tree.contains(".env (3 bytes) [withheld"), "{tree}");
        assert!(
            tree.contains("logo.png (9000 bytes) [not readable"),
            "{tree}"
        );
    }

    #[test]
    fn secret_missing_and_over_budget_files_are_refused() {
        let snapshot = Snapshot::from_texts([
            ("app.py", "import os\nprint(1)\n"),
            (".env", "TOKEN=abcdefgh"),
            ("b.py", "b = 1\n"),
        ]);
        let mut budget = budget(1, 1000, 1000);
        let batch = batch(
            &snapshot,
            &paths(&["./app.py", ".env", "nope.py", "b.py"]),
            &mut budget,
        );
        assert_eq!(batch.sent, vec!["app.py"]);
        assert_eq!(batch.withheld, vec![".env"]);
        assert!(batch.text.contains("    1| import os\n    2| print(1)\n"));
        assert!(!batch.text.contains("abcdefgh"));
        assert_eq!(batch.refused.len(), 3, "{:?}", batch.refused);
        assert!(budget.exhausted());
    }

    #[test]
    fn long_files_are_cut_with_a_marker_and_spend_the_byte_budget() {
        let long = "é".repeat(100); // 200 bytes, 2 per char
        let snapshot = Snapshot::from_texts([("a.txt", long.as_str()), ("b.txt", "bbbb")]);
        let mut budget = budget(5, 51, 1000);
        let batch = batch(&snapshot, &paths(&["a.txt", "b.txt"]), &mut budget);
        // 51 bytes end inside a two-byte character: 50 are shown.
        assert_eq!(batch.sent, vec!["a.txt", "b.txt"]);
        assert!(batch.text.contains("[… truncated: 50 of 200 bytes shown]"));
        assert!(batch.text.contains("[… truncated: 1 of 4 bytes shown]"));
        assert_eq!(budget.bytes_left, 0);
        let again = super::batch(&snapshot, &paths(&["a.txt"]), &mut budget);
        assert!(again.sent.is_empty() && again.refused.is_empty());
    }
}
