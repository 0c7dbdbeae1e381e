//! Rules on how a file is written rather than what it says: the gate's parser
//! and Terraform's must read the same text the same way. A character one of
//! them takes for a space (a heredoc marker after a no-break space), or an
//! object key one of them reads differently (a computed key, a key written
//! twice), or a string whose text depends on evaluation (a `%{ if }`
//! directive), would let a block or a value past the gate unseen.

use std::collections::{BTreeSet, HashSet};

use hcl::Body;
use hcl::expr::Expression;
use hcl::template::{Element, Template};

use super::Rule;
use super::expr::{key_text, walk};
use super::structure::Gate;

impl Gate<'_> {
    /// Whether `text` holds only characters both parsers read alike;
    /// reports the first one that is not.
    pub(super) fn characters(&mut self, text: &str) -> bool {
        // A carriage return ends a line only before a newline: alone, one
        // parser may end a line (a heredoc) where the other reads on.
        let lone_return = |index: usize, c: char| c == '\r' && !text[index + 1..].starts_with('\n');
        let Some((index, found)) = text
            .char_indices()
            .find(|(index, c)| is_ambiguous(*c) || lone_return(*index, *c))
        else {
            return true;
        };
        let line = text[..index].matches('\n').count() + 1;
        self.line = u32::try_from(line).ok();
        self.violation(
            Rule::Character,
            format!(
                "line {line} holds U+{:04X}, a character Terraform and this gate may read differently (a control character, a Unicode space or an invisible mark); write plain spaces, tabs and newlines.",
                u32::from(found)
            ),
        );
        self.line = None;
        false
    }

    /// Whether every heredoc ends where both parsers end it. Terraform ends
    /// one only on a line that is its marker alone (spaces around it);
    /// the gate's parser also on a line that starts with the marker
    /// (`EOT # note`, `EOT)`), where Terraform reads on. Two heredocs
    /// written so would hide whole blocks from the gate.
    pub(super) fn heredoc_ends(&mut self, text: &str) -> bool {
        if let Some((line, marker)) = non_ascii_marker(text) {
            self.line = u32::try_from(line).ok();
            self.violation(
                Rule::Character,
                format!("line {line} opens a heredoc with the marker {marker:?}, which is not plain ASCII: write markers such as EOT."),
            );
            self.line = None;
            return false;
        }
        let Some((line, marker)) = ambiguous_heredoc_end(text) else {
            return true;
        };
        self.line = u32::try_from(line).ok();
        self.violation(
            Rule::Character,
            format!(
                "line {line} starts with the heredoc marker {marker} but holds more: Terraform reads it as the heredoc's text, this gate's parser as its end. End a heredoc on a line of its marker alone, and start no line of its text with the marker."
            ),
        );
        self.line = None;
        false
    }

    /// Every object key is a literal, none is written twice, and no string
    /// holds a template directive.
    pub(super) fn written_forms(&mut self, body: &Body, lines: &[Option<u32>]) {
        for attribute in body.attributes() {
            self.forms_of(attribute.expr());
            self.clock(attribute.key(), attribute.expr(), false);
        }
        for (index, block) in body.blocks().enumerate() {
            self.line = lines.get(index).copied().flatten();
            // Only a resource's `final_snapshot_identifier` names a snapshot:
            // a local of that name is any value.
            self.forms_in(block.body(), block.identifier() == "resource");
        }
        self.line = None;
    }

    fn forms_in(&mut self, body: &Body, in_resource: bool) {
        for attribute in body.attributes() {
            self.forms_of(attribute.expr());
            self.clock(attribute.key(), attribute.expr(), in_resource);
        }
        for block in body.blocks() {
            if block.identifier() == "dynamic" {
                let label = block.labels().first().map(|l| l.as_str());
                self.dynamic_iterator(label, super::expr::attr(block.body(), "iterator"));
            }
            self.forms_in(block.body(), in_resource);
        }
    }

    fn forms_of(&mut self, expr: &Expression) {
        self.evaluation(expr);
        let mut problems = Vec::new();
        let mut directives = 0;
        walk(expr, &mut |e| {
            if has_directive(e) {
                directives += 1;
            }
            let Expression::Object(object) = e else {
                return;
            };
            let mut seen = BTreeSet::new();
            for key in object.keys() {
                match key_text(key) {
                    None => problems.push(
                        "an object key is computed; write each key as a literal name".to_owned(),
                    ),
                    Some(text) if !seen.insert(text.clone()) => problems.push(format!(
                        "object key {text:?} is written twice; Terraform keeps only one of them, so write it once"
                    )),
                    Some(_) => {}
                }
            }
        });
        for problem in problems {
            self.violation(Rule::ObjectKey, format!("{problem}."));
        }
        if directives > 0 {
            self.violation(
                Rule::TemplateDirective,
                "a string holds a template directive (%{ if } or %{ for }): its text depends on evaluation the gate does not do, so what it reads is not what Terraform sends; write the value out.".to_owned(),
            );
        }
    }
}

/// A string template with `%{ if }` or `%{ for }` in it.
fn has_directive(expr: &Expression) -> bool {
    let Expression::TemplateExpr(template) = expr else {
        return false;
    };
    // A template that does not parse is not readable either.
    Template::from_expr(template).map_or(true, |parsed| {
        parsed
            .elements()
            .iter()
            .any(|element| matches!(element, Element::Directive(_)))
    })
}

/// Control characters other than tab, newline and carriage return; Unicode
/// spaces other than the plain one; invisible and direction marks; and the
/// replacement character that stands for bytes that were not UTF-8.
fn is_ambiguous(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' | ' ' => false,
        c if c.is_control() => true,
        c if c.is_whitespace() => true,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFFD}' => true,
        _ => false,
    }
}

/// The first line (from 1) that starts with a heredoc marker of the file
/// without being the marker alone, with the marker. hcl-edit ends a
/// heredoc on `EOT # …` (the marker, then a character that cannot go on
/// an identifier); Terraform only on the marker alone, so the two would
/// read different blocks from there on. Every `<<EOT` of the file counts,
/// wherever it is (in a comment, nested in `${…}`): following which
/// heredoc is open, as a parser would, is what an author can mislead.
fn ambiguous_heredoc_end(text: &str) -> Option<(usize, String)> {
    let markers: HashSet<&str> = text.lines().flat_map(heredoc_markers).collect();
    // A line starts with a marker and goes on exactly when its leading run
    // of identifier characters is a marker and more follows: one look-up
    // a line, however many markers the file opens.
    text.lines().enumerate().find_map(|(index, line)| {
        let line = line.trim();
        let end = line
            .find(|c: char| !continues_identifier(c))
            .unwrap_or(line.len());
        let (run, rest) = line.split_at(end);
        (!rest.is_empty() && markers.contains(run)).then(|| (index + 1, run.to_owned()))
    })
}

/// The marker of every heredoc opener (`<<EOT`, `<<-EOT`) in a line.
fn heredoc_markers(line: &str) -> impl Iterator<Item = &str> {
    line.match_indices("<<").filter_map(|(at, _)| {
        let rest = &line[at + 2..];
        let rest = rest.strip_prefix('-').unwrap_or(rest);
        let first = rest.chars().next()?;
        // Both parsers take Unicode's identifier characters, which Rust's
        // `is_alphabetic` does not all know (`℘`, `℮`): any character
        // beyond ASCII counts.
        if !(first.is_alphabetic() || first == '_' || !first.is_ascii()) || first.is_whitespace() {
            return None;
        }
        let end = rest
            .find(|c: char| !continues_identifier(c))
            .unwrap_or(rest.len());
        Some(&rest[..end])
    })
}

fn continues_identifier(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || !(c.is_ascii() || c.is_whitespace())
}

/// A heredoc marker that is not plain ASCII: a reader cannot tell `ΕOT`
/// (a Greek capital epsilon) from `EOT`, nor where such a heredoc ends.
fn non_ascii_marker(text: &str) -> Option<(usize, String)> {
    text.lines().enumerate().find_map(|(index, line)| {
        heredoc_markers(line)
            .find(|marker| !marker.is_ascii())
            .map(|marker| (index + 1, marker.to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use super::{ambiguous_heredoc_end, is_ambiguous, non_ascii_marker};

    #[test]
    fn a_heredoc_ends_only_on_its_marker_alone() {
        let plain = "locals {\n  a = <<-EOT\n    echo EOTX is text\n    EOT\n}\n";
        assert_eq!(ambiguous_heredoc_end(plain), None);
        let hidden = "locals {\n  a = <<EOT\nx\n  EOT # the end, to one parser\nEOT\n}\n";
        assert_eq!(ambiguous_heredoc_end(hidden), Some((4, "EOT".to_owned())));
        assert_eq!(
            ambiguous_heredoc_end("x = <<-END\n  END)\nEND\n"),
            Some((2, "END".to_owned()))
        );
        // A comment that looks like an opener does not hide the next one.
        let after_comment = "# motd = <<ABC\nlocals {\n  a = <<EOT\nx\nEOT # the end, to one parser\n  b = <<EOF\nEOT\n}\n";
        assert_eq!(
            ambiguous_heredoc_end(after_comment),
            Some((5, "EOT".to_owned()))
        );
        // Nor does a heredoc nested in an interpolation.
        let nested =
            "locals {\n  a = <<EOT\n${<<EOT\nx\nEOT\n}\nEOT # closes a\n  b = <<EOF\nEOT\n}\n";
        assert_eq!(ambiguous_heredoc_end(nested), Some((7, "EOT".to_owned())));
        // Any Unicode identifier is a marker to both parsers.
        let unicode =
            "locals {\n  a = <<éOT\nx\néOT # the end, to one parser\n  b = <<EOF\néOT\n}\n";
        assert_eq!(ambiguous_heredoc_end(unicode), Some((4, "éOT".to_owned())));
        assert_eq!(non_ascii_marker(unicode), Some((2, "éOT".to_owned())));
        assert_eq!(non_ascii_marker("x = <<-EOT\nEOT\n"), None);
        // Identifier characters Rust does not call alphabetic.
        assert_eq!(
            non_ascii_marker("a = <<℘OT\nx\n℘OT\n"),
            Some((1, "℘OT".to_owned()))
        );
        assert_eq!(
            non_ascii_marker("a = <<-℮OT\nx\n℮OT\n"),
            Some((1, "℮OT".to_owned()))
        );
    }

    #[test]
    fn plain_text_passes_and_lookalike_spaces_do_not() {
        for c in ['a', ' ', '\t', '\n', '\r', 'é', '日'] {
            assert!(!is_ambiguous(c), "{c:?}");
        }
        for c in [
            '\u{A0}', '\u{B}', '\u{C}', '\u{0}', '\u{85}', '\u{2028}', '\u{200B}', '\u{202E}',
            '\u{FEFF}', '\u{FFFD}', '\u{3000}',
        ] {
            assert!(is_ambiguous(c), "{c:?}");
        }
    }
}
