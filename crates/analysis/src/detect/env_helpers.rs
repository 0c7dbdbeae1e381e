//! An app's own helper that reads a variable and stops without it
//! (`fn env_var(name: &str) -> String { env::var(name).expect(..) }`,
//! `def require_env(name): ... raise`, `function mustEnv(name) { ... throw }`):
//! every call with a literal name is a read that cannot do without.

use super::env::EnvRead;
use super::env_frameworks::read;
use super::scan::{Spot, line_at, quote};
use super::view::file_name;
use crate::snapshot::FileEntry;

/// Lines a helper's body is read over.
const BODY_LINES: usize = 8;

/// The names of the helpers defined in `files` that read the variable
/// named by their parameter and fail when it is unset.
pub(crate) fn strict_helpers<'f>(files: impl IntoIterator<Item = &'f FileEntry>) -> Vec<String> {
    let definition = re!(
        r"(?m)^\s*(?:pub(?:\([\w:]+\))?\s+)?(?:fn|def|func|function|(?:export\s+)?(?:const|let)\s+\w+\s*=\s*(?:\([^)]*\)|\w+)\s*=>)\s*(\w*)\s*\(?\s*(\w+)"
    );
    let mut names = Vec::new();
    for file in files {
        let Some(text) = file.content.as_deref() else {
            continue;
        };
        if !is_code(&file.path) {
            continue;
        }
        for caps in definition.captures_iter(text) {
            let (Some(whole), Some(param)) = (caps.get(0), caps.get(2)) else {
                continue;
            };
            // `const name = (param) =>` names the helper before the arrow.
            let name = caps
                .get(1)
                .map(|m| m.as_str())
                .filter(|n| !n.is_empty())
                .or_else(|| {
                    re!(r"(?:const|let)\s+(\w+)")
                        .captures(whole.as_str())
                        .and_then(|c| c.get(1))
                        .map(|m| m.as_str())
                });
            let Some(name) = name else { continue };
            let body: String = text[whole.end()..]
                .lines()
                .take(BODY_LINES)
                .collect::<Vec<_>>()
                .join("\n");
            if reads_parameter_strictly(&body, param.as_str()) {
                names.push(name.to_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

fn is_code(path: &str) -> bool {
    let name = file_name(path);
    [".rs", ".py", ".go", ".js", ".mjs", ".cjs", ".ts", ".mts"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// The body reads the variable its parameter names and stops without it.
fn reads_parameter_strictly(body: &str, param: &str) -> bool {
    let param = regex::escape(param);
    let Ok(read) = regex::Regex::new(&format!(
        r"(?:env::var\(|os\.environ\[|os\.environ\.get\(|os\.getenv\(|os\.Getenv\(|os\.LookupEnv\(|process\.env\[)\s*&?{param}\b"
    )) else {
        return false;
    };
    let fails = re!(
        r"\.expect\(|\.unwrap\(\)|panic!?\(|\braise\b|\bthrow\b|log\.Fatal|os\.Exit\(|process\.exit\(|os\.environ\["
    );
    read.is_match(body) && fails.is_match(body)
}

/// The calls of `helpers` with a literal variable name in `file`.
pub(crate) fn calls(file: &FileEntry, helpers: &[String]) -> Vec<EnvRead> {
    let Some(text) = file.content.as_deref() else {
        return Vec::new();
    };
    if helpers.is_empty() || !is_code(&file.path) {
        return Vec::new();
    }
    let call = re!(r#"\b(\w+)\s*\(\s*["']([A-Z][A-Z0-9_]*)["']"#);
    call.captures_iter(text)
        .filter(|c| helpers.iter().any(|h| *h == c[1]))
        .filter_map(|c| {
            let at = c.get(0)?;
            let line_start = text[..at.start()].rfind('\n').map_or(0, |n| n + 1);
            let line_end = text[at.start()..]
                .find('\n')
                .map_or(text.len(), |n| at.start() + n);
            let spot = Spot::at(
                &file.path,
                line_at(text, at.start()),
                quote(&text[line_start..line_end]),
            );
            Some(read(&c[2], true, spot))
        })
        .collect()
}
