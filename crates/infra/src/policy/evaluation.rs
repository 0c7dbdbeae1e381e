//! What Terraform evaluates on the worker, before anyone sees a plan: a
//! name bound by a `for` or a `dynamic` block must not shadow Terraform's
//! own (`[for var in … : file(var.bundle_path)]` reads a file where the
//! gate read the bundle variable), and the work an expression asks for is
//! bounded (three nested `for`s over `range(1024)` are a billion values,
//! and the worker runs out of memory).

use std::collections::HashMap;

use hcl::expr::{Expression, FuncCall, TraversalOperator};
use hcl::template::{Element, Template};

use super::Rule;
use super::expr::{as_int, as_str, walk};
use super::structure::{Gate, key_directory, value_key, value_read};

/// Names Terraform gives meaning to in an expression.
const TERRAFORM_NAMES: &[&str] = &[
    "var",
    "local",
    "data",
    "module",
    "path",
    "terraform",
    "count",
    "each",
    "self",
    "ephemeral",
    "resource",
];

/// The most elements a `range()` may make.
const MAX_RANGE: i64 = 256;
/// `for` expressions inside one another, at most.
const MAX_FOR_DEPTH: usize = 2;
/// The most text, in bytes, a value may grow to: a megabyte is more than
/// any setting, policy or boot script of a deployment.
const MAX_WEIGHT: u128 = 1_000_000;

/// What a value the gate cannot size weighs: `each.value`, an attribute, a
/// variable deployflow passes. A name, an id or an address is far less; a
/// value the file writes out is weighed as written.
const UNSIZED_WEIGHT: u128 = 64;

/// The most text all the configuration's values may grow to together: each
/// may be up to [`MAX_WEIGHT`], but a hundred of them would still take the
/// worker's memory.
const MAX_TOTAL_WEIGHT: u128 = 4 * MAX_WEIGHT;

/// The functions a configuration may call: those deployflow's templates
/// use, and others whose work grows no faster than what they are given.
/// Left out: what compares every element with every other (`distinct`,
/// `matchkeys`, `setunion`, `setintersection`, `setproduct`), what multiplies
/// matches (`regexall`), what decodes text the gate cannot weigh
/// (`yamldecode`, `csvdecode`, `templatestring`), and provider functions.
/// A variable's type (`map(string)`, `object({…})`) reads as calls too.
const ALLOWED_FUNCTIONS: &[&str] = &[
    "abs",
    "abspath",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "base64gzip",
    "base64sha256",
    "basename",
    "can",
    "ceil",
    "chomp",
    "chunklist",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "dirname",
    "element",
    "endswith",
    "file",
    "filebase64",
    "filebase64sha256",
    "filebase64sha512",
    "fileexists",
    "filemd5",
    "fileset",
    "filesha1",
    "filesha256",
    "filesha512",
    "flatten",
    "floor",
    "format",
    "formatdate",
    "formatlist",
    "indent",
    "index",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "list",
    "lookup",
    "lower",
    "map",
    "max",
    "md5",
    "merge",
    "min",
    "object",
    "optional",
    "set",
    "tuple",
    "nonsensitive",
    "one",
    "parseint",
    "pathexpand",
    "plantimestamp",
    "range",
    "regex",
    "replace",
    "reverse",
    "sensitive",
    "setsubtract",
    "sha1",
    "sha256",
    "sha512",
    "signum",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "substr",
    "sum",
    "templatefile",
    "textencodebase64",
    "timeadd",
    "timecmp",
    "timestamp",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "try",
    "upper",
    "urlencode",
    "values",
    "yamlencode",
    "zipmap",
];

/// Functions whose value is one of their arguments, or made of them.
const PASSING_ON: &[&str] = &[
    "coalesce",
    "coalescelist",
    "concat",
    "distinct",
    "element",
    "flatten",
    "lookup",
    "merge",
    "one",
    "reverse",
    "slice",
    "sort",
    "tolist",
    "tomap",
    "toset",
    "try",
    "values",
];

/// Functions whose value is text: arithmetic on one reads a number Terraform
/// writes out in full (`join("", ["1e", "600000000"]) * 1`).
const TEXT_FUNCTIONS: &[&str] = &[
    "base64decode",
    "chomp",
    "format",
    "join",
    "jsonencode",
    "lower",
    "replace",
    "substr",
    "title",
    "tostring",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    "yamlencode",
];

/// Templates inside a template's interpolations, at most: the templates
/// write two levels at the most (`"${local.name}-${formatdate("…", …)}"`).
const MAX_TEMPLATE_DEPTH: usize = 8;

/// How deep templates are nested in `expr`, counted from `depth` and
/// given up past [`MAX_TEMPLATE_DEPTH`] (each level parses its text again).
fn template_depth(expr: &Expression, depth: usize) -> usize {
    if depth > MAX_TEMPLATE_DEPTH {
        return depth;
    }
    let inner = |e: &Expression| template_depth(e, depth);
    match expr {
        Expression::TemplateExpr(template) => Template::from_expr(template)
            .map(|parsed| {
                parsed
                    .elements()
                    .iter()
                    .filter_map(|element| match element {
                        Element::Interpolation(i) => Some(template_depth(&i.expr, depth + 1)),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(depth + 1)
            })
            .unwrap_or(depth + 1),
        Expression::Array(items) => items.iter().map(inner).max().unwrap_or(depth),
        Expression::Object(object) => object
            .iter()
            .flat_map(|(key, value)| {
                let key = match key {
                    hcl::expr::ObjectKey::Expression(k) => Some(inner(k)),
                    _ => None,
                };
                key.into_iter().chain([inner(value)])
            })
            .max()
            .unwrap_or(depth),
        Expression::FuncCall(call) => call.args.iter().map(inner).max().unwrap_or(depth),
        Expression::Parenthesis(e) => inner(e),
        Expression::Traversal(t) => std::iter::once(inner(&t.expr))
            .chain(t.operators.iter().filter_map(|op| match op {
                TraversalOperator::Index(i) => Some(inner(i)),
                _ => None,
            }))
            .max()
            .unwrap_or(depth),
        Expression::Conditional(c) => [&c.cond_expr, &c.true_expr, &c.false_expr]
            .into_iter()
            .map(inner)
            .max()
            .unwrap_or(depth),
        Expression::ForExpr(f) => [
            Some(&f.collection_expr),
            Some(&f.value_expr),
            f.key_expr.as_ref(),
            f.cond_expr.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(inner)
        .max()
        .unwrap_or(depth),
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => inner(&u.expr),
            hcl::expr::Operation::Binary(b) => inner(&b.lhs_expr).max(inner(&b.rhs_expr)),
        },
        _ => depth,
    }
}

/// Functions that read or compare the clock.
const CLOCK: &[&str] = &["timestamp", "plantimestamp", "timecmp", "timeadd"];

/// The dates a snapshot's name holds as a template's own part
/// (`"${local.name}-final-${formatdate("YYYYMMDDhhmmss", plantimestamp())}"`,
/// maybe one branch of a condition): text that cannot fail.
fn snapshot_name_dates(expr: &Expression) -> usize {
    match expr {
        Expression::Parenthesis(inner) => snapshot_name_dates(inner),
        Expression::Conditional(c) => {
            snapshot_name_dates(&c.true_expr) + snapshot_name_dates(&c.false_expr)
        }
        Expression::TemplateExpr(template) => Template::from_expr(template)
            .map(|parsed| {
                parsed
                    .elements()
                    .iter()
                    .filter(|element| {
                        matches!(element, Element::Interpolation(i) if is_formatted_now(&i.expr))
                    })
                    .count()
            })
            .unwrap_or(0),
        _ => 0,
    }
}

/// `formatdate("LITERAL", plantimestamp())` or of `timestamp()`.
fn is_formatted_now(expr: &Expression) -> bool {
    let Expression::FuncCall(call) = expr else {
        return false;
    };
    call.name.namespace.is_empty()
        && call.name.name.as_str() == "formatdate"
        && matches!(call.args.as_slice(), [Expression::String(_), Expression::FuncCall(now)]
            if now.args.is_empty()
                && now.name.namespace.is_empty()
                && matches!(now.name.name.as_str(), "plantimestamp" | "timestamp"))
}

/// The longest pattern `regex()` may match with.
const MAX_PATTERN: usize = 256;

/// States times characters a `regex()` may cost: a few seconds' work.
const MAX_MATCH_STEPS: u128 = 50_000_000;

/// How many states RE2 makes of `pattern`, about: one per character, and
/// a counted repetition (`.{1000}`) its count again.
fn pattern_states(pattern: &str) -> u128 {
    let counts = regex::Regex::new(r"\{(\d+)(?:,(\d*))?\}").expect("valid pattern");
    let repeated: u128 = counts
        .captures_iter(pattern)
        .map(|c| {
            let low = c[1].parse::<u128>().unwrap_or(u128::MAX / 4);
            let high = c
                .get(2)
                .and_then(|m| m.as_str().parse::<u128>().ok())
                .unwrap_or(low);
            low.max(high)
        })
        .fold(0, u128::saturating_add);
    (pattern.len() as u128).saturating_add(repeated)
}

/// The widest padding `indent()` or a `format()` verb may ask for.
const MAX_WIDTH: i64 = 999;

/// The most expression nodes a local or default may stand for with every
/// local it reads written out in its place. The templates' largest is a few
/// hundred; ten locals each reading the one before ten times are ten
/// billion, and every check that follows locals would walk them all.
const MAX_EXPANSION: usize = 50_000;

impl Gate<'_> {
    /// The names an expression binds, and the work it asks for.
    pub(super) fn evaluation(&mut self, expr: &Expression) {
        if let Some(why) = self.costly(expr) {
            self.violation(Rule::SizeNotBounded, why);
            self.too_costly = true;
            self.forget_values();
            return;
        }
        let mut problems: Vec<(Rule, String)> = Vec::new();
        walk(expr, &mut |e| match e {
            Expression::ForExpr(f) => {
                for name in std::iter::once(&f.value_var).chain(f.key_var.as_ref()) {
                    if shadows(name.as_str()) {
                        problems.push((Rule::Character, shadowing(name.as_str())));
                    }
                }
            }
            Expression::FuncCall(call) => {
                if let Some(why) = super::destroy_values::element_read(e) {
                    problems.push((Rule::Lifecycle, why));
                }
                if let Some(why) = unbounded(call) {
                    problems.push((Rule::SizeNotBounded, why));
                }
                if call.name.name.as_str() == "regex"
                    && let (Some(pattern), Some(text)) =
                        (call.args.first().and_then(as_str), call.args.get(1))
                {
                    let steps = pattern_states(&pattern)
                        .saturating_mul(self.weight(text, &mut HashMap::new()));
                    if steps > MAX_MATCH_STEPS {
                        problems.push((
                            Rule::SizeNotBounded,
                            format!("regex({pattern:?}, …) may take {steps} steps: its counted repetitions make that many states, each tried at every character of the text; match a shorter pattern or a shorter text."),
                        ));
                    }
                }
                if matches!(call.name.name.as_str(), "tonumber" | "jsondecode")
                    && call.args.first().is_some_and(|arg| self.computed_text(arg))
                {
                    problems.push((Rule::SizeNotBounded, COMPUTED_NUMBER.to_owned()));
                }
            }
            // Escapes are read by now: `"1\u0065600000000"` is `1e600000000`.
            Expression::String(text) if has_large_exponent(text) => {
                problems.push((
                    Rule::SizeNotBounded,
                    format!("{text:?} is a number of that size that takes the worker hours to write out; write a plain number."),
                ));
            }
            Expression::Operation(op) => {
                if let hcl::expr::Operation::Binary(b) = op.as_ref()
                    && is_arithmetic(b.operator)
                    && (self.computed_text(&b.lhs_expr) || self.computed_text(&b.rhs_expr))
                {
                    problems.push((Rule::SizeNotBounded, COMPUTED_NUMBER.to_owned()));
                }
            }
            Expression::Traversal(_) => {
                if let Some(why) = super::destroy_values::element_read(e) {
                    problems.push((Rule::Lifecycle, why));
                }
            }
            _ => {}
        });
        let weight = self.weight(expr, &mut HashMap::new());
        self.total_weight = self.total_weight.saturating_add(weight);
        if self.total_weight > MAX_TOTAL_WEIGHT && !self.over_total {
            self.over_total = true;
            problems.push((
                Rule::SizeNotBounded,
                format!("the configuration's values may grow past {MAX_TOTAL_WEIGHT} bytes together; Terraform would build them all on the worker. Write fewer, smaller values."),
            ));
        }
        if weight > MAX_WEIGHT {
            // Refused already: the rules that follow locals or compute
            // literal text would build what it asks for.
            self.too_costly = true;
            problems.push((
                Rule::SizeNotBounded,
                format!("the value may grow past {MAX_WEIGHT} bytes: its locals copy each other, or replace(), join(), formatlist() or a `for` multiply them; Terraform would build it all on the worker."),
            ));
        }
        if self.for_depth(expr, &mut HashMap::new()) > MAX_FOR_DEPTH {
            problems.push((
                Rule::SizeNotBounded,
                format!("`for` expressions are nested more than {MAX_FOR_DEPTH} deep: each multiplies the values Terraform builds on the worker; write the values out."),
            ));
        }
        for (rule, message) in problems {
            self.violation(rule, message);
        }
    }

    /// Text made at plan time (a template, a text function's value, a local
    /// holding either), which Terraform would read as a number of any size.
    /// A value that passes one of its parts on (a conditional's branch,
    /// `coalesce()`, `element()`, `[x][0]`) is computed text when a part is.
    fn computed_text(&self, expr: &Expression) -> bool {
        match self.resolve(expr) {
            Expression::Parenthesis(inner) => self.computed_text(inner),
            Expression::TemplateExpr(_) => true,
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                TEXT_FUNCTIONS.contains(&name)
                    || PASSING_ON.contains(&name)
                        && call.args.iter().any(|arg| self.computed_text(arg))
            }
            Expression::Conditional(c) => {
                self.computed_text(&c.true_expr) || self.computed_text(&c.false_expr)
            }
            Expression::Array(items) => items.iter().any(|item| self.computed_text(item)),
            Expression::Object(object) => object.values().any(|value| self.computed_text(value)),
            Expression::Traversal(traversal) => self.computed_text(&traversal.expr),
            _ => false,
        }
    }

    /// The clock only names a final snapshot: `"…-${formatdate("…",
    /// plantimestamp())}"` as a `final_snapshot_identifier`. Anywhere else
    /// a value can depend on the date (`["x"][timecmp(plantimestamp(),
    /// "2027-01-01T00:00:00Z") + 1]`) and fail every plan after it, the
    /// plan `terraform destroy` makes first among them: the deployment
    /// could never be taken down.
    pub(super) fn clock(&mut self, key: &str, expr: &Expression, in_resource: bool) {
        let mut uses = 0;
        walk(expr, &mut |e| {
            if let Expression::FuncCall(call) = e
                && call.name.namespace.is_empty()
                && CLOCK.contains(&call.name.name.as_str())
            {
                uses += 1;
            }
        });
        let named = if in_resource && key == "final_snapshot_identifier" {
            snapshot_name_dates(expr)
        } else {
            0
        };
        if uses > named {
            self.violation(
                Rule::Lifecycle,
                format!("{key}: reads the clock (timestamp, plantimestamp, timecmp, timeadd) other than to date a final snapshot's name; a value that depends on the date can fail every plan after it, the destroy's among them. Write the value out."),
            );
        }
    }

    /// Why checking `expr` would cost the gate more than any configuration
    /// of a deployment does: templates nested in templates past
    /// [`MAX_TEMPLATE_DEPTH`] (each level is parsed again by every rule
    /// that reads it), or more than [`MAX_EXPANSION`] expressions once the
    /// locals it reads are written out (every rule that follows locals
    /// walks them all again at each reference).
    fn costly(&self, expr: &Expression) -> Option<String> {
        if template_depth(expr, 0) > MAX_TEMPLATE_DEPTH {
            return Some(format!(
                "templates are nested more than {MAX_TEMPLATE_DEPTH} deep (\"${{\"${{…}}\"}}\"); write the value out."
            ));
        }
        let mut size = 0usize;
        walk(expr, &mut |e| {
            size = size.saturating_add(1);
            if let Some(key) = self.read_key(e) {
                size = size.saturating_add(self.expansions.get(&key).copied().unwrap_or(0));
            }
        });
        (size > MAX_EXPANSION).then(|| format!("the value stands for more than {MAX_EXPANSION} expressions once the locals it reads are written out; write it out, or read each local fewer times."))
    }

    /// Each local and default written out, locals in place of their
    /// references, stays small; when one does not, the configuration is
    /// refused and locals are no longer followed (see [`MAX_EXPANSION`]).
    pub(super) fn bounded_expansion(&mut self) {
        let mut known = HashMap::new();
        let too_large = self
            .named_values()
            .keys()
            .find(|key| self.expansion(key, &mut known) > MAX_EXPANSION)
            .cloned();
        self.expansions = known;
        if let Some(key) = too_large {
            let name = key.replace('\0', " ").trim().to_owned();
            self.file = super::WHOLE_CONFIGURATION.to_owned();
            self.line = None;
            self.violation(
                Rule::SizeNotBounded,
                format!("{name} stands for more than {MAX_EXPANSION} expressions once the locals it reads are written out (locals reading each other many times, or in a cycle); write the value out."),
            );
            self.forget_values();
        }
    }

    /// How many expression nodes the value remembered as `key` stands for,
    /// each local it reads counted with its own expansion; `known` holds
    /// each once found. A local met again while measured is a cycle, which
    /// Terraform refuses: it counts as too large.
    fn expansion(&self, key: &str, known: &mut HashMap<String, usize>) -> usize {
        if let Some(size) = known.get(key) {
            return *size;
        }
        let Some(value) = self.named_values().get(key) else {
            return 1;
        };
        known.insert(key.to_owned(), usize::MAX / 2);
        let dir = key_directory(key);
        let mut size = 0usize;
        let mut references = Vec::new();
        walk(value, &mut |e| {
            size += 1;
            references.extend(value_read(e).map(|name| value_key(dir, &name)));
        });
        for reference in references {
            size = size.saturating_add(self.expansion(&reference, known));
        }
        known.insert(key.to_owned(), size);
        size
    }

    /// A `dynamic` block's iterator (its label, or `iterator = NAME`).
    pub(super) fn dynamic_iterator(&mut self, label: Option<&str>, iterator: Option<&Expression>) {
        let named = match iterator {
            Some(Expression::Variable(v)) => Some(v.as_str()),
            _ => label,
        };
        if let Some(name) = named.filter(|n| shadows(n)) {
            self.violation(Rule::Character, shadowing(name));
        }
    }
}

fn shadows(name: &str) -> bool {
    TERRAFORM_NAMES.contains(&name) || name.starts_with("aws_") || name.starts_with("kubernetes_")
}

fn shadowing(name: &str) -> String {
    format!(
        "the name {name:?} a `for` or `dynamic` block binds is one of Terraform's own: inside it `{name}.…` is not what it reads everywhere else; name it otherwise."
    )
}

const COMPUTED_NUMBER: &str = "a number is read from text made at plan time (a template, join(), format()…): a text like \"1e600000000\" is a number Terraform takes hours to write out. Write the number itself.";

/// `+`, `-`, `*`, `/`, `%`: each reads its operands as numbers.
fn is_arithmetic(operator: hcl::expr::BinaryOperator) -> bool {
    use hcl::expr::BinaryOperator::{Div, Minus, Mod, Mul, Plus};
    matches!(operator, Plus | Minus | Mul | Div | Mod)
}

/// Why a call asks Terraform for work without a bound.
fn unbounded(call: &FuncCall) -> Option<String> {
    let name = call.name.name.as_str();
    if !call.name.namespace.is_empty() || !ALLOWED_FUNCTIONS.contains(&name) {
        return Some(format!(
            "{}() is not among the functions a deployment's configuration may call ({}): the others compare every element with every other, multiply matches or decode text the gate cannot weigh.",
            call.name,
            ALLOWED_FUNCTIONS.join(", ")
        ));
    }
    let number = |i: usize| call.args.get(i).and_then(as_int);
    match name {
        "range" => {
            let bounds: Option<Vec<i64>> = (0..call.args.len()).map(number).collect();
            // Checked: `range(0, "-9223372036854775808", -1)` overflows.
            let size = match bounds.as_deref() {
                Some([end]) => Some(*end),
                Some([start, end]) => end.checked_sub(*start),
                Some([start, end, step]) => {
                    end.checked_sub(*start).and_then(|n| n.checked_div(*step))
                }
                _ => None,
            };
            size.is_none_or(|n| n.checked_abs().is_none_or(|n| n > MAX_RANGE)).then(|| {
                format!("range() must have literal bounds of at most {MAX_RANGE} elements: Terraform builds every one on the worker.")
            })
        }
        // A pattern is compiled into states matched against the text: a
        // long one, made at plan time, takes hours over a long text.
        "regex" => {
            let literal = call.args.first().and_then(as_str);
            literal.is_none_or(|pattern| pattern.len() > MAX_PATTERN).then(|| {
                format!("regex() needs a literal pattern of at most {MAX_PATTERN} characters: a pattern built at plan time can take the worker hours to match.")
            })
        }
        // `tonumber("1e600000000")` is a number Terraform writes out in
        // full, six hundred million digits, when a string holds it.
        "tonumber" => call
            .args
            .first()
            .and_then(as_str)
            .filter(|text| has_large_exponent(text))
            .map(|text| format!("tonumber({text:?}): a number of that size takes the worker hours to write out; write a plain number.")),
        // A string made a template at plan time, with the directives
        // (`%{ for }`) the gate refuses in the files; and a YAML document's
        // aliases, which multiply what it decodes to without bound.
        // `replace(s, "", s)` puts `s` between every two characters of
        // itself: nested twice, gigabytes.
        "replace" => {
            let search = call.args.get(1).and_then(as_str);
            let literal = call.args.get(2).and_then(as_str).is_some();
            let weighable = literal
                && search.is_some_and(|search| {
                    let regex = search.len() > 1 && search.starts_with('/') && search.ends_with('/');
                    !(search.is_empty() || regex)
                });
            (!weighable).then(|| {
                "replace() must replace a literal, non-empty text (not a /regular expression/, which may match nothing) with a literal: an empty match puts the replacement between every two characters, and nested twice that is gigabytes built on the worker.".to_owned()
            })
        }
        "indent" => (!number(0).is_some_and(|n| (0..=MAX_WIDTH).contains(&n)))
            .then(|| format!("indent() must pad with a literal of at most {MAX_WIDTH} spaces.")),
        "format" | "formatlist" => {
            let spec = call.args.first().and_then(as_str);
            (!spec.is_some_and(|s| narrow_verbs(&s))).then(|| {
                format!("{name}() needs a literal format whose widths and precisions are at most {MAX_WIDTH} (no `*`): a wider one pads on the worker.")
            })
        }
        _ => None,
    }
}

/// A number written with an exponent of more than two digits (`1e600`):
/// no setting is that large, and Terraform's arbitrary precision writes
/// every digit of it.
fn has_large_exponent(text: &str) -> bool {
    let text = text.trim();
    let Some(at) = text.find(['e', 'E']) else {
        return false;
    };
    let (mantissa, exponent) = (&text[..at], text[at + 1..].trim_start_matches(['+', '-']));
    mantissa.chars().any(|c| c.is_ascii_digit())
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
        && exponent.len() > 2
        && exponent.chars().all(|c| c.is_ascii_digit())
}

/// The verbs of a format string (`%%` is none).
fn verb_count(spec: &str) -> u128 {
    let mut count = 0u128;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            if chars.peek() == Some(&'%') {
                chars.next();
            } else {
                count += 1;
            }
        }
    }
    count
}

/// The first number of a file's text written with an exponent of more
/// than two digits (`1e600000000`, in a literal or a string that
/// `jsondecode()` or arithmetic reads as one), with its line.
pub(super) fn large_number(text: &str) -> Option<(usize, String)> {
    // `"[1\u0065600000000]"`: Terraform decodes the escape before
    // `jsondecode()` reads the number, so the scan reads what it decodes.
    let decoded = decode_unicode_escapes(text);
    let text = decoded.as_str();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.');
        let before = |n: usize| at.checked_sub(n).map(|i| bytes[i]);
        // A minus sign starts a number (`"n":-1e600000000`); a hyphen in a
        // name (`app-1e500`) does not.
        let starts_token = match before(1) {
            None => true,
            Some(b'-') => !before(2).is_some_and(word),
            Some(b) => !word(b),
        };
        if bytes[at].is_ascii_digit() && starts_token {
            let end = bytes[at..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-')))
                .map_or(bytes.len(), |n| at + n);
            let token = &text[at..end];
            if has_large_exponent(token) {
                return Some((text[..at].matches('\n').count() + 1, token.to_owned()));
            }
            at = end;
        } else {
            at += 1;
        }
    }
    None
}

/// `text` with HCL's `\uNNNN` and `\UNNNNNNNN` escapes of ASCII
/// characters written out (others kept as written); lines keep their
/// numbers, since an escape holds no newline worth counting.
fn decode_unicode_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let width = match after.as_bytes().first() {
            Some(b'u') => 4,
            Some(b'U') => 8,
            _ => {
                // Another escape (`\\`, `\"`) passes as written, both characters.
                let next = after.chars().next().map_or(0, char::len_utf8);
                out.push_str(&rest[at..at + 1 + next]);
                rest = &after[next..];
                continue;
            }
        };
        let ascii = after
            .get(1..1 + width)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32)
            .filter(|c| c.is_ascii() && *c != '\n');
        match ascii {
            Some(c) => {
                out.push(c);
                rest = &after[1 + width..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether every verb of a format string pads to at most `MAX_WIDTH`.
fn narrow_verbs(spec: &str) -> bool {
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            continue;
        }
        while chars.peek().is_some_and(|c| "-+ #0".contains(*c)) {
            chars.next();
        }
        // The width, then the precision after a `.`.
        for part in 0..2 {
            if part == 1 {
                if chars.peek() != Some(&'.') {
                    break;
                }
                chars.next();
            }
            if chars.peek() == Some(&'*') {
                return false;
            }
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|c| c.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            if !digits.is_empty() && !digits.parse::<i64>().is_ok_and(|n| n <= MAX_WIDTH) {
                return false;
            }
        }
    }
    true
}

impl Gate<'_> {
    /// How big, in bytes, the value of `expr` may grow (see [`Self::weight`]).
    pub(super) fn value_weight(&self, expr: &Expression) -> u128 {
        self.weight(expr, &mut HashMap::new())
    }

    /// How big, in bytes, the value of `expr` may grow, locals followed:
    /// a sum where an expression puts values together, a product where one
    /// repeats a value for each piece of another's (`replace(s, "a", s)`,
    /// `join(s, list)`, a `for` over a list). Each local is weighed once
    /// (`known`).
    fn weight(&self, expr: &Expression, known: &mut HashMap<String, u128>) -> u128 {
        let sum = |gate: &Self,
                   items: &mut dyn Iterator<Item = &Expression>,
                   known: &mut HashMap<String, u128>| {
            items.fold(1u128, |total, e| {
                total.saturating_add(gate.weight(e, known))
            })
        };
        match expr {
            Expression::Traversal(t) => {
                if let (Expression::Variable(root), Some(TraversalOperator::GetAttr(name))) =
                    (&t.expr, t.operators.first())
                    && root.as_str() == "var"
                {
                    let key = format!("var.{name}");
                    if let Some(weight) = known.get(&key) {
                        return *weight;
                    }
                    // A default is written out; a value deployflow passes
                    // (the image tag, the app's settings) is of a known kind.
                    let weight = match self.variable_defaults.get(&key) {
                        Some(default) => self.weight(default, known).max(UNSIZED_WEIGHT),
                        None => UNSIZED_WEIGHT,
                    };
                    known.insert(key, weight);
                    return weight;
                }
                if let (Expression::Variable(root), Some(TraversalOperator::GetAttr(name))) =
                    (&t.expr, t.operators.first())
                    && root.as_str() == "local"
                {
                    // `local.x[0]`, `local.x.y`: a part weighs what the
                    // whole may, at the most.
                    let Some(value) = self.value_of(&format!("local.{name}")) else {
                        return 1;
                    };
                    if let Some(weight) = known.get(name.as_str()) {
                        return *weight;
                    }
                    // A cycle weighs too much; Terraform refuses it anyway.
                    known.insert(name.to_string(), u128::MAX / 4);
                    let weight = self.weight(value, known);
                    known.insert(name.to_string(), weight);
                    return weight;
                }
                // `[EXPR][0]`, `{ k = EXPR }.k`, `EXPR[*]`: a part of a
                // value made here weighs what the whole may, at the most.
                if !matches!(t.expr, Expression::Variable(_)) {
                    return self.weight(&t.expr, known).max(UNSIZED_WEIGHT);
                }
                // `each.value`, `count.index`, a data source's or a
                // resource's attribute: an id, a name, an address, at most
                // a small document; never one byte for the sake of a sum.
                if let Expression::Variable(root) = &t.expr
                    && let Some(bound) = known.get(&format!("for:{}", root.as_str()))
                {
                    // `x.name` of a name a `for` binds.
                    return (*bound).max(UNSIZED_WEIGHT);
                }
                UNSIZED_WEIGHT
            }
            Expression::String(text) => text.len().max(1) as u128,
            Expression::Parenthesis(inner) => self.weight(inner, known),
            Expression::Array(items) => sum(self, &mut items.iter(), known),
            Expression::Object(object) => sum(self, &mut object.values(), known),
            Expression::TemplateExpr(template) => match Template::from_expr(template) {
                Ok(parsed) => {
                    let parts: Vec<Expression> = parsed
                        .elements()
                        .iter()
                        .map(|e| match e {
                            Element::Interpolation(i) => i.expr.clone(),
                            Element::Literal(text) => Expression::String(text.clone()),
                            Element::Directive(_) => Expression::Null,
                        })
                        .collect();
                    sum(self, &mut parts.iter(), known)
                }
                Err(_) => 1,
            },
            // The condition is evaluated too, whichever side it picks.
            Expression::Conditional(c) => self.weight(&c.cond_expr, known).saturating_add(
                self.weight(&c.true_expr, known)
                    .max(self.weight(&c.false_expr, known)),
            ),
            Expression::ForExpr(f) => {
                // The expression made for each element, its bound names
                // weighing `bound` each.
                let collection = self.weight(&f.collection_expr, known);
                let names: Vec<String> = std::iter::once(&f.value_var)
                    .chain(f.key_var.as_ref())
                    .map(|name| format!("for:{}", name.as_str()))
                    .collect();
                // An outer `for` of the same name gets its weight back after.
                let outer: Vec<Option<u128>> =
                    names.iter().map(|n| known.get(n).copied()).collect();
                let each = |bound: u128, known: &mut HashMap<String, u128>| {
                    for name in &names {
                        known.insert(name.clone(), bound);
                    }
                    // The condition runs for every element too.
                    [
                        Some(&f.value_expr),
                        f.key_expr.as_ref(),
                        f.cond_expr.as_ref(),
                    ]
                    .into_iter()
                    .flatten()
                    .fold(1u128, |total, e| {
                        total.saturating_add(self.weight(e, known))
                    })
                };
                // Many small elements (at most one per byte of the
                // collection), or one element as large as all of it, which
                // an expression that grows faster than its input
                // (`join(x, split("", x))`) weighs most on.
                let many = collection.saturating_mul(each(1, known));
                let one = each(collection, known);
                for (name, weight) in names.iter().zip(outer) {
                    match weight {
                        Some(weight) => known.insert(name.clone(), weight),
                        None => known.remove(name),
                    };
                }
                many.max(one)
            }
            Expression::Variable(name) => known
                .get(&format!("for:{}", name.as_str()))
                .copied()
                .unwrap_or(UNSIZED_WEIGHT),
            Expression::FuncCall(call) => {
                let args: Vec<u128> = call.args.iter().map(|a| self.weight(a, known)).collect();
                let total = args.iter().fold(1u128, |t, w| t.saturating_add(*w));
                let arg = |i: usize| args.get(i).copied().unwrap_or(1).max(1);
                match call.name.name.as_str() {
                    // As many elements as it counts (it is bounded).
                    "range" => call
                        .args
                        .iter()
                        .filter_map(as_int)
                        .map(|n| n.unsigned_abs() as u128)
                        .max()
                        .unwrap_or(MAX_RANGE as u128)
                        .max(1),
                    // Escaping may double every character, at each level.
                    "jsonencode" | "yamlencode" => total.saturating_mul(2),
                    // The padding once for each line of the text.
                    "indent" => arg(1).saturating_mul(
                        call.args
                            .first()
                            .and_then(as_int)
                            .map_or(MAX_WIDTH as u128, |n| n.unsigned_abs() as u128)
                            .saturating_add(1),
                    ),
                    // Never longer than its text (see `unbounded`).
                    // A literal, non-empty text (see `unbounded`) matches at
                    // most once per its length of the text.
                    "replace" => {
                        let growth = match (
                            call.args.get(1).and_then(as_str),
                            call.args.get(2).and_then(as_str),
                        ) {
                            (Some(search), Some(with)) if !search.is_empty() => {
                                with.len().div_ceil(search.len()).max(1) as u128
                            }
                            _ => arg(2),
                        };
                        arg(0).saturating_mul(growth)
                    }
                    // The separator once for each element.
                    "join" => arg(0).saturating_mul(total),
                    // Each verb (`%[1]s` a hundred times) writes an
                    // argument again, `%#v` and `%q` with its escapes doubled.
                    "format" => {
                        let verbs = call
                            .args
                            .first()
                            .and_then(as_str)
                            .map_or(MAX_WIDTH as u128, |spec| verb_count(&spec));
                        let widest = args.iter().skip(1).copied().max().unwrap_or(1);
                        total.saturating_add(verbs.saturating_mul(2).saturating_mul(widest))
                    }
                    // The format once for each element of the lists.
                    "formatlist" => arg(0).saturating_mul(total),
                    // Four characters for every three, then the padding.
                    "base64encode" | "textencodebase64" | "base64gzip" | "urlencode" => {
                        total.saturating_mul(3)
                    }
                    _ => total,
                }
            }
            Expression::Operation(op) => match op.as_ref() {
                hcl::expr::Operation::Unary(u) => self.weight(&u.expr, known),
                hcl::expr::Operation::Binary(b) => self
                    .weight(&b.lhs_expr, known)
                    .saturating_add(self.weight(&b.rhs_expr, known)),
            },
            _ => 1,
        }
    }

    /// How deep `for` expressions are nested in `expr`, counting those of
    /// the locals it reads: `[for c in local.grid : …]` over a `grid` of
    /// two `for`s is three deep. `known` holds each local's depth once
    /// found, so a local read many times is measured once.
    fn for_depth(&self, expr: &Expression, known: &mut HashMap<String, usize>) -> usize {
        if let Expression::ForExpr(f) = expr {
            let parts = [
                Some(&f.collection_expr),
                Some(&f.value_expr),
                f.key_expr.as_ref(),
                f.cond_expr.as_ref(),
            ];
            return parts
                .into_iter()
                .flatten()
                .map(|part| self.for_depth(part, known))
                .max()
                .unwrap_or(0)
                .saturating_add(1);
        }
        let mut fors: Vec<Expression> = Vec::new();
        let mut locals: Vec<(String, Expression)> = Vec::new();
        walk(expr, &mut |e| match e {
            Expression::ForExpr(f) if !std::ptr::eq(e, expr) => {
                fors.push(Expression::ForExpr(f.clone()));
            }
            Expression::Traversal(t) => {
                if let (Expression::Variable(root), Some(TraversalOperator::GetAttr(name))) =
                    (&t.expr, t.operators.first())
                    && root.as_str() == "local"
                {
                    let value = self.resolve(e);
                    if !std::ptr::eq(value, e) {
                        locals.push((name.to_string(), value.clone()));
                    }
                }
            }
            _ => {}
        });
        let mut deepest = fors
            .iter()
            .map(|f| self.for_depth(f, known))
            .max()
            .unwrap_or(0);
        for (name, value) in locals {
            let depth = match known.get(&name) {
                Some(depth) => *depth,
                None => {
                    // A local met again while measured (a cycle) counts as
                    // too deep; Terraform refuses cycles anyway.
                    known.insert(name.clone(), usize::MAX / 2);
                    let depth = self.for_depth(&value, known);
                    known.insert(name, depth);
                    depth
                }
            };
            deepest = deepest.max(depth);
        }
        deepest
    }
}

#[cfg(test)]
mod tests {
    use super::narrow_verbs;

    #[test]
    fn format_widths_are_bounded() {
        assert!(narrow_verbs("%s-%05d-%.2f"));
        assert!(!narrow_verbs("%0999999999d"));
        assert!(!narrow_verbs("%*d"));
        assert!(!narrow_verbs("%.99999s"));
    }
}
