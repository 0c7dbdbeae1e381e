//! Finding things in file text: regex hits with line numbers, comment
//! skipping, call arguments, and the place each fact was seen.

use regex::{Captures, Regex};

use crate::facts::Evidence;
use crate::snapshot::FileEntry;

/// Where something was seen: a file, maybe a line, and a short quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spot {
    pub file: String,
    pub line: Option<u32>,
    pub detail: String,
}

impl Spot {
    pub fn at(file: &str, line: u32, detail: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: Some(line),
            detail: detail.into(),
        }
    }

    pub fn file(file: &str, detail: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            detail: detail.into(),
        }
    }

    /// `file:line`, the way a person would look it up.
    pub fn cite(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }

    pub fn evidence(&self, fact: &str) -> Evidence {
        Evidence {
            fact: fact.to_owned(),
            file: self.file.clone(),
            line: self.line,
            detail: self.detail.clone(),
        }
    }

    /// The same place with another explanation.
    pub fn with_detail(&self, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            ..self.clone()
        }
    }
}

/// A value and where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found<T> {
    pub value: T,
    pub at: Spot,
}

impl<T> Found<T> {
    pub fn new(value: T, at: Spot) -> Self {
        Self { value, at }
    }
}

/// One regex match in a file.
pub(crate) struct Hit<'t> {
    pub file: &'t str,
    pub text: &'t str,
    pub caps: Captures<'t>,
}

impl<'t> Hit<'t> {
    pub fn start(&self) -> usize {
        self.caps.get(0).map_or(0, |m| m.start())
    }

    pub fn end(&self) -> usize {
        self.caps.get(0).map_or(0, |m| m.end())
    }

    pub fn line(&self) -> u32 {
        line_at(self.text, self.start())
    }

    /// Capture group `i`, if it took part in the match.
    pub fn group(&self, i: usize) -> Option<&'t str> {
        self.caps.get(i).map(|m| m.as_str())
    }

    /// The matched line, trimmed, as a quote for evidence.
    pub fn quote(&self) -> String {
        quote(line_text(self.text, self.start()))
    }

    pub fn spot(&self) -> Spot {
        Spot::at(self.file, self.line(), self.quote())
    }

    /// The arguments of a call whose `(` ends the match.
    pub fn call_args(&self) -> &'t str {
        call_args(self.text, self.end())
    }
}

/// Every match of `re` in `file` that is not inside a line comment.
pub(crate) fn hits<'t>(file: &'t FileEntry, re: &'t Regex) -> impl Iterator<Item = Hit<'t>> + 't {
    let text = file.content.as_deref().unwrap_or("");
    re.captures_iter(text)
        .map(move |caps| Hit {
            file: &file.path,
            text,
            caps,
        })
        .filter(|hit| !in_comment(hit.text, hit.start()))
}

/// The first match of `re` across `files`, in their order.
pub(crate) fn first_hit<'t>(
    files: impl IntoIterator<Item = &'t FileEntry>,
    re: &'t Regex,
) -> Option<Hit<'t>> {
    files.into_iter().find_map(|file| hits(file, re).next())
}

/// 1-based line number of byte `offset`.
pub(crate) fn line_at(text: &str, offset: usize) -> u32 {
    let before = &text.as_bytes()[..offset.min(text.len())];
    before.iter().filter(|&&b| b == b'\n').count() as u32 + 1
}

/// The whole line holding byte `offset`, without its newline.
pub(crate) fn line_text(text: &str, offset: usize) -> &str {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    text[start..end].trim_end_matches('\r')
}

/// The 1-based line of the first line containing `needle`.
pub(crate) fn find_line(text: &str, needle: &str) -> Option<u32> {
    text.find(needle).map(|offset| line_at(text, offset))
}

/// A trimmed line shortened to what fits in an evidence note.
pub(crate) fn quote(line: &str) -> String {
    const MAX: usize = 120;
    let line = line.trim();
    if line.len() <= MAX {
        return line.to_owned();
    }
    let mut end = MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// True when the text before `offset` on its line opens a line comment
/// (`#`, `//`, `--`, `;`) or sits in a block comment's continuation (`*`).
pub(crate) fn in_comment(text: &str, offset: usize) -> bool {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = text[start..offset].trim_start();
    before.starts_with('#')
        || before.starts_with("//")
        || before.starts_with("/*")
        || before.starts_with("* ")
        || before == "*"
        || before.starts_with("--")
        || before.starts_with("<!--")
        || (before.starts_with(';') && !before.starts_with(";;"))
        || before.contains(" //")
        || before.contains(" # ")
}

/// The text between the `(` just before `open` and its matching `)`,
/// bounded so a missing parenthesis cannot make it swallow a whole file.
pub(crate) fn call_args(text: &str, open: usize) -> &str {
    const MAX: usize = 600;
    let rest = &text[open.min(text.len())..];
    let mut depth = 1usize;
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices() {
        if i > MAX {
            return &rest[..i];
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return &rest[..i];
                }
            }
            _ => {}
        }
    }
    rest
}

/// Splits call arguments at top-level commas.
pub(crate) fn split_args(args: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in args.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = args[start..].trim();
    if !last.is_empty() {
        parts.push(last);
    }
    parts
}

/// The value of a keyword argument or object key in call arguments:
/// `port=5000` (Python, Kotlin), `port: 3000` (JS objects), `port = 8080`.
pub(crate) fn named_arg<'a>(args: &'a str, names: &[&str]) -> Option<&'a str> {
    let args = args.trim();
    // An object argument, maybe cut short by `call_args`' bound.
    let inner = match args.strip_prefix('{') {
        Some(inner) => inner.strip_suffix('}').unwrap_or(inner),
        None => args,
    };
    split_args(inner).into_iter().find_map(|part| {
        // `{ port }`: JavaScript's shorthand for `{ port: port }`.
        if names.contains(&part) {
            return Some(part);
        }
        let (key, value) = part.split_once(['=', ':'])?;
        let key = key.trim().trim_matches(['"', '\'']);
        (names.contains(&key) && !value.starts_with('=')).then(|| value.trim())
    })
}

/// A bare string or number literal's value, without its quotes.
pub(crate) fn literal(expr: &str) -> Option<&str> {
    let expr = expr.trim();
    for q in ['"', '\'', '`'] {
        if let Some(inner) = expr.strip_prefix(q).and_then(|e| e.strip_suffix(q))
            && !inner.contains(q)
            && !inner.contains("${")
        {
            return Some(inner);
        }
    }
    expr.chars()
        .all(|c| c.is_ascii_digit())
        .then_some(expr)
        .filter(|e| !e.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_args_stop_at_the_matching_paren() {
        let text = r#"app.run(host="0.0.0.0", port=int(os.environ.get("PORT", 5000)))
more"#;
        assert_eq!(
            call_args(text, 8),
            r#"host="0.0.0.0", port=int(os.environ.get("PORT", 5000))"#
        );
    }

    #[test]
    fn named_args_in_python_and_js_styles() {
        assert_eq!(
            named_arg(r#"host="0.0.0.0", port=5001"#, &["port"]),
            Some("5001")
        );
        assert_eq!(
            named_arg("{ port: 3000, host: '127.0.0.1' }", &["host"]),
            Some("'127.0.0.1'")
        );
        assert_eq!(named_arg("debug=True", &["port"]), None);
        assert_eq!(named_arg("a == b", &["a"]), None);
        assert_eq!(named_arg("{ port }", &["port"]), Some("port"));
        assert_eq!(
            named_arg("{ port: 3000, async fetch(req) { return 1", &["port"]),
            Some("3000")
        );
    }

    #[test]
    fn comments_are_recognised_before_a_match() {
        let text = "x = 1\n    # app.run(port=1)\napp.run()";
        assert!(in_comment(text, text.find("app.run(port").unwrap()));
        assert!(!in_comment(text, text.rfind("app.run").unwrap()));
    }

    #[test]
    fn literals_lose_their_quotes() {
        assert_eq!(literal("'8080'"), Some("8080"));
        assert_eq!(literal("3000"), Some("3000"));
        assert_eq!(literal("port"), None);
        assert_eq!(literal("`:${port}`"), None);
    }
}
