//! Reads the code makes only once it has checked the variable is set: the
//! app runs without it, with a feature off (`if "X" in os.environ:`, or
//! `KEY = os.getenv("KEY")` and later `if KEY:`).

use super::env::EnvRead;
use super::scan::line_text;
use crate::snapshot::FileEntry;

/// Marks the reads of `text` that a presence check guards as optional (a
/// default of "unset is fine"), unless the code also reads them strictly.
pub(crate) fn mark_guarded(text: &str, reads: &mut [EnvRead]) {
    let members = membership_checks(text);
    let blocks = presence_blocks(text);
    for read in reads.iter_mut() {
        if read.example || read.default.is_some() {
            continue;
        }
        let in_block = read
            .at
            .line
            .is_some_and(|line| blocks.iter().any(|block| block.contains(&line)));
        let guarded = members.contains(&read.name)
            || in_block
            || read
                .at
                .line
                .is_some_and(|line| guarded_on_its_line(text, line, &read.name))
            || (!read.strict
                && read
                    .at
                    .line
                    .and_then(|line| assigned_name(text, line))
                    .is_some_and(|var| tested_when_set(text, var)));
        if guarded {
            // Copes without, even where an empty default would not count (the
            // address of another service: `if "PRIMARY_HOST" in os.environ:`).
            read.default = Some(super::env::COPES_WITHOUT.to_owned());
            read.strict = false;
        }
    }
}

/// A read whose own line runs only when the variable is set: Ruby's
/// modifier (`use Rack::CanonicalHost, ENV['HOST'] if ENV['HOST']`), a
/// one-line JavaScript `if (process.env.X) …`, Python's `… if
/// os.getenv("X") else None`.
fn guarded_on_its_line(text: &str, line: u32, name: &str) -> bool {
    let Some(code) = text.lines().nth(line.saturating_sub(1) as usize) else {
        return false;
    };
    let name = regex::escape(name);
    let guards = [
        format!(r#"\bif\s+ENV\[\s*["']{name}["']\s*\](?:\.present\?)?\s*(?:#.*)?$"#),
        format!(r#"^\s*if\s*\(\s*process\.env\.{name}\s*\)\s*\S"#),
        format!(r#"\bif\s+os\.(?:getenv|environ\.get)\(\s*["']{name}["']\s*\)\s+else\b"#),
    ];
    guards
        .iter()
        .any(|guard| regex::Regex::new(guard).is_ok_and(|re| re.is_match(code)))
}

/// The lines (1-based) of Python and Ruby blocks that run only when a
/// variable is set:
/// `if "GS_BUCKET_NAME" in os.environ:` guards the `GS_PROJECT_ID` read in
/// its body too, and a condition may span lines (`if (\n "A" in os.environ\n
/// or "B" in os.environ\n):`). A condition with `not` may be the branch
/// that refuses to go on, so it guards nothing.
fn presence_blocks(text: &str) -> Vec<std::ops::RangeInclusive<u32>> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut blocks = Vec::new();
    // The first line at or left of `own` after `header` ends the body: a
    // Python dedent, Ruby's `end`, `else` or `elsif`.
    let body = |header: usize, own: usize| {
        let body_end = lines[header + 1..]
            .iter()
            .position(|l| {
                !l.trim().is_empty() && !l.trim_start().starts_with('#') && indent(l) <= own
            })
            .map_or(lines.len(), |p| header + 1 + p);
        (body_end > header + 1).then(|| (header + 2) as u32..=body_end as u32)
    };
    for (at, line) in lines.iter().enumerate() {
        // Ruby's `if ENV["MEMCACHIER_SERVERS"]` (or `.present?`), the
        // whole condition on its line.
        if re!(r#"^\s*if\s+ENV\[\s*["']\w+["']\s*\](?:\.present\?)?\s*(?:(?:&&|and)\s+ENV\[\s*["']\w+["']\s*\](?:\.present\?)?\s*)*(?:#.*)?$"#)
            .is_match(line)
        {
            blocks.extend(body(at, indent(line)));
            continue;
        }
        if !re!(r"^\s*(?:if|elif)\b").is_match(line) {
            continue;
        }
        // The header runs to the first line ending in `:` (a few lines at most).
        let Some(end) = (at..lines.len().min(at + 8)).find(|&i| {
            lines[i]
                .split('#')
                .next()
                .unwrap_or("")
                .trim_end()
                .ends_with(':')
        }) else {
            continue;
        };
        let condition = lines[at..=end].join(" ");
        let presence = re!(
            r#"["']\w+["']\s+in\s+os\.environ\b|\bos\.(?:environ\.get|getenv)\(\s*["']\w+["']\s*\)\s*(?::|\)|and\b|or\b)"#
        );
        if !presence.is_match(&condition) || re!(r"\bnot\b").is_match(&condition) {
            continue;
        }
        blocks.extend(body(end, indent(line)));
    }
    blocks
}

/// `ELASTICSEARCH_URL = os.environ.get('ELASTICSEARCH_URL')` in a
/// settings class, tested in another file as the framework's setting
/// (`… if app.config['ELASTICSEARCH_URL'] else None`, `if not
/// current_app.config['MS_TRANSLATOR_KEY']: return …`): the app runs
/// without it, that feature off.
pub(crate) fn mark_setting_guarded(files: &[&FileEntry], reads: &mut [EnvRead]) {
    let python: Vec<&str> = files
        .iter()
        .filter(|f| f.path.ends_with(".py"))
        .filter_map(|f| f.content.as_deref())
        .collect();
    for read in reads.iter_mut() {
        if read.example || read.strict || read.default.is_some() || !read.at.file.ends_with(".py") {
            continue;
        }
        let Some(text) = files
            .iter()
            .find(|f| f.path == read.at.file)
            .and_then(|f| f.content.as_deref())
        else {
            continue;
        };
        let Some(name) = read.at.line.and_then(|line| assigned_name(text, line)) else {
            continue;
        };
        let name = regex::escape(name.trim_start_matches("self."));
        let Ok(tested) = regex::Regex::new(&format!(
            r#"\b(?:if|elif)\b(?:[^\n]|\\\n)*?\bconfig(?:\[\s*['"]{name}['"]\s*\]|\.get\(\s*['"]{name}['"])|\bconfig\[\s*['"]{name}['"]\s*\]\s+else\b"#
        )) else {
            continue;
        };
        let raises = |text: &str| {
            tested
                .find_iter(text)
                .any(|m| line_text(text, m.start()).contains("raise"))
        };
        if python.iter().any(|t| tested.is_match(t)) && !python.iter().any(|t| raises(t)) {
            // Copes without, even where an empty default would not count
            // (the address of another service).
            read.default = Some(super::env::COPES_WITHOUT.to_owned());
        }
    }
}

/// `"X" in os.environ`, `'X' in process.env`, `ENV.key?("X")`,
/// `ENV["X"].present?`.
fn membership_checks(text: &str) -> Vec<String> {
    let re = re!(
        r#"["'](\w+)["']\s+in\s+(?:os\.environ|process\.env)\b|\bENV\.(?:key|has_key|include)\?\(\s*["'](\w+)["']|process\.env\.hasOwnProperty\(\s*["'](\w+)["']|\bENV\[\s*["'](\w+)["']\s*\]\.present\?"#
    );
    re.captures_iter(text)
        .filter_map(|c| c.get(1).or(c.get(2)).or(c.get(3)).or(c.get(4)))
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// `KEY = os.getenv("KEY")`, `const key = process.env.KEY;` on line
/// `line` (1-based): the name the value is kept in, when the read gives
/// nothing for an unset variable (a reader that raises, such as
/// django-environ's `env("X", bool)`, is no optional read).
fn assigned_name(text: &str, line: u32) -> Option<&str> {
    let offset = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let line = line_text(text, offset);
    let tolerant = re!(
        r"\bos\.getenv\(|\benviron\.get\(|\bprocess\.env\b|\bimport\.meta\.env\b|\bBun\.env\b|\bENV\[|\bos\.Getenv\("
    );
    if !tolerant.is_match(line) {
        return None;
    }
    re!(r"^\s*(?:(?:const|let|var)\s+)?((?:self\.)?[A-Za-z_]\w*)\s*(?::\s*[\w\[\]|. ]+)?=[^=]")
        .captures(line)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// The name is tested for being set (`if KEY:`, `if (key)`, `if KEY is not
/// None`, `key ? a : b`, `a if KEY else b`) and never for being unset, which
/// would be where the app refuses to go on without it.
fn tested_when_set(text: &str, var: &str) -> bool {
    let var = regex::escape(var);
    // A ternary's `?` is neither `?.` nor `??`, nor a TypeScript `key?:`.
    let set = regex::Regex::new(&format!(
        r"\b(?:if|elif)\s*\(?\s*{var}\s*(?:\)|:|\bis\s+not\s+None\b|&&|\band\b)|\b{var}\s*\?\s*[^?.:\s]|\bif\s+{var}\s+else\b"
    ));
    let unset = regex::Regex::new(&format!(
        r"(?:\bnot\s+|!\s*){var}\b|\b{var}\s+is\s+None\b|\b{var}\s*(?:===?|==)\s*(?:undefined|null|None|''|\x22\x22)"
    ));
    match (set, unset) {
        (Ok(set), Ok(unset)) => set.is_match(text) && !unset.is_match(text),
        _ => false,
    }
}
