//! Reading HCL expressions the way the gate needs: as literals when they are
//! literals (a value the gate must prove allowed is read from nothing else),
//! computed where a rule looks for a forbidden value, and as a tree to search
//! for function calls, templates included.

use hcl::expr::{Expression, ObjectKey, TemplateExpr, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Block, Body};

/// The string an expression is, when it is literal text: a string, or a
/// template of literals (`"sour${""}ce"`). No function is computed: where
/// the gate must prove a value allowed, only what Terraform cannot read
/// another way counts (every function the gate computed was one more place
/// where its answer and Terraform's could differ).
pub(super) fn as_str(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.clone()),
        Expression::TemplateExpr(template) => literal_template(template, as_str),
        Expression::Parenthesis(inner) => as_str(inner),
        _ => None,
    }
}

/// [`as_str`], and Terraform's string functions of literals computed
/// (`lower("SG-0A1B…")` is the id `sg-0a1b…`): for the rules that look for
/// a forbidden value, where reading more finds more.
/// The longest text the gate computes from literals; Terraform's values
/// past it are refused by their weight anyway (`evaluation.rs`).
const MAX_COMPUTED: usize = 1 << 20;

pub(super) fn computed_str(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.clone()),
        Expression::TemplateExpr(template) => literal_template(template, computed_str),
        Expression::Parenthesis(inner) => computed_str(inner),
        Expression::FuncCall(call) => string_function(call),
        _ => None,
    }
}

/// The value of a call to one of Terraform's string functions whose
/// arguments are all literals; `None` for any other call.
fn string_function(call: &hcl::expr::FuncCall) -> Option<String> {
    // Terraform counts and cases text by Unicode grapheme clusters and Go's
    // simple case mapping (`substr("é́́x", 1, 1)` is "x", `upper("ﬀ")` stays
    // one character): outside ASCII the gate would compute another string.
    let text = |index: usize| {
        call.args
            .get(index)
            .and_then(computed_str)
            .filter(|t| is_plain_text(t))
    };
    let number = |index: usize| call.args.get(index).and_then(as_int);
    if !is_builtin(call) {
        return None;
    }
    Some(match (call.name.name.as_str(), call.args.len()) {
        ("lower", 1) => text(0)?.to_lowercase(),
        ("upper", 1) => text(0)?.to_uppercase(),
        ("trimspace", 1) => text(0)?.trim().to_owned(),
        ("chomp", 1) => text(0)?.trim_end_matches(['\n', '\r']).to_owned(),
        ("strrev", 1) => text(0)?.chars().rev().collect(),
        ("trim", 2) => {
            let cutset = text(1)?;
            text(0)?.trim_matches(|c| cutset.contains(c)).to_owned()
        }
        ("trimprefix", 2) => {
            let (whole, prefix) = (text(0)?, text(1)?);
            whole.strip_prefix(&prefix).unwrap_or(&whole).to_owned()
        }
        ("trimsuffix", 2) => {
            let (whole, suffix) = (text(0)?, text(1)?);
            whole.strip_suffix(&suffix).unwrap_or(&whole).to_owned()
        }
        ("replace", 3) => {
            let pattern = text(1)?;
            // `/…/` is a regular expression: not computed here.
            if pattern.len() > 1 && pattern.starts_with('/') && pattern.ends_with('/') {
                return None;
            }
            let (whole, with) = (text(0)?, text(2)?);
            // An empty text matches between every two characters: the gate
            // refuses that call, and never builds what it would make.
            if pattern.is_empty() {
                return None;
            }
            let grows = with.len().saturating_sub(pattern.len());
            let size = whole
                .len()
                .saturating_add(whole.matches(&pattern).count().saturating_mul(grows));
            if size > MAX_COMPUTED {
                return None;
            }
            whole.replace(&pattern, &with)
        }
        ("substr", 3) => {
            let whole: Vec<char> = text(0)?.chars().collect();
            let offset = usize::try_from(number(1)?).ok()?;
            let length = number(2)?;
            let end = if length < 0 {
                whole.len()
            } else {
                (offset + usize::try_from(length).ok()?).min(whole.len())
            };
            whole.get(offset..end)?.iter().collect()
        }
        ("join", 2) => {
            let (items, separator) = (string_list(call.args.get(1)?)?, text(0)?);
            let size = items.iter().map(String::len).fold(
                separator.len().saturating_mul(items.len()),
                usize::saturating_add,
            );
            if size > MAX_COMPUTED {
                return None;
            }
            items.join(&separator)
        }
        ("element", 2) => {
            let items = string_list(&call.args[0])?;
            let index = usize::try_from(number(1)?).ok()?;
            items.get(index % items.len().max(1))?.clone()
        }
        // The first non-empty argument, when every one before it is known:
        // `coalesce(local.size, "t2.small")` is local.size to Terraform.
        ("coalesce", _) => {
            let mut first = None;
            for arg in &call.args {
                let text = computed_str(arg).filter(|t| is_plain_text(t))?;
                if !text.is_empty() {
                    first = Some(text);
                    break;
                }
            }
            first?
        }
        ("one", 1) => match string_list(&call.args[0])?.as_slice() {
            [single] => single.clone(),
            _ => return None,
        },
        ("format", n) if n >= 1 => {
            let pattern = text(0)?;
            let mut args = (1..n).map(text);
            let mut out = String::new();
            let mut chars = pattern.chars();
            while let Some(c) = chars.next() {
                if c != '%' {
                    out.push(c);
                    continue;
                }
                match chars.next()? {
                    '%' => out.push('%'),
                    's' | 'v' => out.push_str(&args.next()??),
                    // `%d` of "1e60" is sixty-one digits to Terraform.
                    // Terraform prints the number: "0007" is "7".
                    'd' => {
                        let arg = args.next()??;
                        let digits = arg.strip_prefix('-').unwrap_or(&arg);
                        let canonical = digits == "0" && arg == "0"
                            || !digits.is_empty()
                                && !digits.starts_with('0')
                                && digits.bytes().all(|b| b.is_ascii_digit());
                        if !canonical {
                            return None;
                        }
                        out.push_str(&arg);
                    }
                    _ => return None,
                }
            }
            out
        }
        _ => return None,
    })
}

/// A call of Terraform's own functions: unqualified, or `core::lower`.
fn is_builtin(call: &hcl::expr::FuncCall) -> bool {
    match call.name.namespace.as_slice() {
        [] => true,
        [core] => core.as_str() == "core",
        _ => false,
    }
}

/// The strings a list expression of literals is: `["a", "b"]`, and
/// Terraform's list functions of such lists (`split(",", "a,b")`,
/// `reverse`, `concat`, `compact`, `tolist`, `distinct`, `sort`).
pub(super) fn string_list(expr: &Expression) -> Option<Vec<String>> {
    // As for text: outside ASCII Terraform may read other items (it
    // normalises `e` and a combining accent into one letter).
    string_list_of_any_text(expr).filter(|items| items.iter().all(|item| is_plain_text(item)))
}

fn string_list_of_any_text(expr: &Expression) -> Option<Vec<String>> {
    match expr {
        // Terraform turns numbers into strings where a string is wanted.
        Expression::Array(items) => items
            .iter()
            .map(|item| match item {
                // A number is never written into text here: hcl-edit reads
                // `1.000000000000000000001` as the integer 1 and `1e99` as a
                // float, where Terraform writes every digit.
                Expression::Number(_) => None,
                other => computed_str(other),
            })
            .collect(),
        Expression::Parenthesis(inner) => string_list(inner),
        Expression::FuncCall(call) if is_builtin(call) => {
            let arg = |index: usize| call.args.get(index);
            match (call.name.name.as_str(), call.args.len()) {
                ("split", 2) => {
                    let separator = computed_str(arg(0)?)?;
                    let whole = computed_str(arg(1)?)?;
                    if separator.is_empty() {
                        return None;
                    }
                    if !is_plain_text(&separator) || !is_plain_text(&whole) {
                        return None;
                    }
                    Some(whole.split(separator.as_str()).map(str::to_owned).collect())
                }
                ("reverse", 1) => {
                    let mut items = string_list(arg(0)?)?;
                    items.reverse();
                    Some(items)
                }
                ("tolist" | "distinct" | "sort", 1) => {
                    let mut items = string_list(arg(0)?)?;
                    if call.name.name.as_str() == "sort" {
                        items.sort();
                    }
                    if call.name.name.as_str() == "distinct" {
                        let mut seen = std::collections::BTreeSet::new();
                        items.retain(|item| seen.insert(item.clone()));
                    }
                    Some(items)
                }
                ("compact", 1) => {
                    let mut items = string_list(arg(0)?)?;
                    items.retain(|item| !item.is_empty());
                    Some(items)
                }
                ("concat", _) => {
                    let lists: Option<Vec<Vec<String>>> =
                        call.args.iter().map(string_list).collect();
                    Some(lists?.concat())
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A template whose every part is a literal, `${"text"}` and `${42}`
/// included: `"sour${""}ce"` is the literal `source` to Terraform.
fn literal_template(
    template: &TemplateExpr,
    read: fn(&Expression) -> Option<String>,
) -> Option<String> {
    // A heredoc's indentation is stripped by rules of Terraform's own (a
    // line of spaces does not count): not computed here.
    if matches!(template, TemplateExpr::Heredoc(_)) {
        return None;
    }
    let parsed = Template::from_expr(template).ok()?;
    parsed
        .elements()
        .iter()
        .map(|element| match element {
            Element::Literal(text) => Some(text.clone()),
            // `${~ x}` strips the spaces beside it, which the literal holds.
            Element::Interpolation(interpolation)
                if interpolation.strip != hcl::template::Strip::None =>
            {
                None
            }
            Element::Interpolation(interpolation) => match &interpolation.expr {
                // `${1e99}` is a hundred digits to Terraform: only integers
                // both write the same way.
                // A number is never written into text here: hcl-edit reads
                // `1.000000000000000000001` as the integer 1 and `1e99` as a
                // float, where Terraform writes every digit.
                Expression::Number(_) => None,
                Expression::Bool(b) => Some(b.to_string()),
                other => read(other),
            },
            Element::Directive(_) => None,
        })
        .collect()
}

/// Text whose letters the gate counts, cases and splits as Terraform does:
/// printable ASCII. Terraform counts grapheme clusters (`"\r\n"` and `e`
/// with its accents are one each) and cases by Go's simple mapping.
pub(super) fn is_plain_text(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The integer an expression is, when it is a literal number (or a string
/// of one, which Terraform converts).
pub(super) fn as_int(expr: &Expression) -> Option<i64> {
    match expr {
        Expression::Number(n) => n.as_i64(),
        _ => as_str(expr)?.trim().parse().ok(),
    }
}

/// The first name of a reference: `aws_vpc` in `aws_vpc.main.cidr_block`,
/// `var` in `var.x`.
pub(super) fn root_name(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::Variable(v) => Some(v.as_str()),
        Expression::Traversal(t) => root_name(&t.expr),
        Expression::Parenthesis(inner) => root_name(inner),
        _ => None,
    }
}

/// True for exactly `var.<name>`.
pub(super) fn is_var(expr: &Expression, name: &str) -> bool {
    let Expression::Traversal(t) = expr else {
        return false;
    };
    matches!(&t.expr, Expression::Variable(v) if v.as_str() == "var")
        && matches!(t.operators.as_slice(), [TraversalOperator::GetAttr(attr)] if attr.as_str() == name)
}

/// Calls `visit` on every expression in `body`, its nested blocks, and the
/// sub-expressions of each (interpolations inside strings and heredocs too).
pub(super) fn walk_body(body: &Body, visit: &mut dyn FnMut(&Expression)) {
    for attr in body.attributes() {
        walk(attr.expr(), visit);
    }
    for block in body.blocks() {
        walk_body(block.body(), visit);
    }
}

/// Calls `visit` on `expr` and each of its sub-expressions.
pub(super) fn walk(expr: &Expression, visit: &mut dyn FnMut(&Expression)) {
    walk_except(expr, &|_| false, visit);
}

/// [`walk`], except that an expression `skip` picks is neither visited nor
/// entered.
pub(super) fn walk_except(
    expr: &Expression,
    skip: &dyn Fn(&Expression) -> bool,
    visit: &mut dyn FnMut(&Expression),
) {
    if skip(expr) {
        return;
    }
    visit(expr);
    match expr {
        Expression::Array(items) => items.iter().for_each(|e| walk_except(e, skip, visit)),
        Expression::Object(object) => {
            for (key, value) in object {
                if let ObjectKey::Expression(key) = key {
                    walk_except(key, skip, visit);
                }
                walk_except(value, skip, visit);
            }
        }
        Expression::TemplateExpr(template) => {
            // A template that does not parse holds nothing Terraform would run.
            if let Ok(parsed) = Template::from_expr(template) {
                walk_template(&parsed, skip, visit);
            }
        }
        Expression::Traversal(t) => {
            walk_except(&t.expr, skip, visit);
            for op in &t.operators {
                if let TraversalOperator::Index(index) = op {
                    walk_except(index, skip, visit);
                }
            }
        }
        Expression::FuncCall(call) => call.args.iter().for_each(|e| walk_except(e, skip, visit)),
        Expression::Parenthesis(inner) => walk_except(inner, skip, visit),
        Expression::Conditional(c) => {
            walk_except(&c.cond_expr, skip, visit);
            walk_except(&c.true_expr, skip, visit);
            walk_except(&c.false_expr, skip, visit);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => walk_except(&u.expr, skip, visit),
            hcl::expr::Operation::Binary(b) => {
                walk_except(&b.lhs_expr, skip, visit);
                walk_except(&b.rhs_expr, skip, visit);
            }
        },
        Expression::ForExpr(f) => {
            walk_except(&f.collection_expr, skip, visit);
            if let Some(key) = &f.key_expr {
                walk_except(key, skip, visit);
            }
            walk_except(&f.value_expr, skip, visit);
            if let Some(cond) = &f.cond_expr {
                walk_except(cond, skip, visit);
            }
        }
        _ => {}
    }
}

fn walk_template(
    template: &Template,
    skip: &dyn Fn(&Expression) -> bool,
    visit: &mut dyn FnMut(&Expression),
) {
    for element in template.elements() {
        match element {
            Element::Literal(_) => {}
            Element::Interpolation(i) => walk_except(&i.expr, skip, visit),
            Element::Directive(directive) => match directive.as_ref() {
                Directive::If(d) => {
                    walk_except(&d.cond_expr, skip, visit);
                    walk_template(&d.true_template, skip, visit);
                    if let Some(other) = &d.false_template {
                        walk_template(other, skip, visit);
                    }
                }
                Directive::For(d) => {
                    walk_except(&d.collection_expr, skip, visit);
                    walk_template(&d.template, skip, visit);
                }
            },
        }
    }
}

/// The text of an object key Terraform would use, when it is a literal.
pub(super) fn key_text(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Identifier(ident) => Some(ident.as_str().to_owned()),
        ObjectKey::Expression(expr) => match expr {
            Expression::Variable(v) => Some(v.as_str().to_owned()),
            other => as_str(other),
        },
        _ => None,
    }
}

/// The value of attribute `key` directly in `body`.
pub(super) fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

/// The labels of a block as strings.
pub(super) fn labels(block: &Block) -> Vec<&str> {
    block.labels().iter().map(|l| l.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(src: &str) -> Expression {
        src.parse().unwrap()
    }

    #[test]
    fn a_value_to_prove_is_read_from_literals_only() {
        assert_eq!(as_str(&expr("lower(\"T2.SMALL\")")), None);
        assert_eq!(as_str(&expr("\"t2.${lower(\"SMALL\")}\"")), None);
        assert_eq!(
            as_str(&expr("(\"t2.${\"small\"}\")")).as_deref(),
            Some("t2.small")
        );
        assert_eq!(
            computed_str(&expr("\"t2.${lower(\"SMALL\")}\"")).as_deref(),
            Some("t2.small")
        );
    }

    #[test]
    fn what_terraform_writes_or_counts_otherwise_is_not_computed() {
        // "\r\n" is one grapheme cluster to Terraform's substr.
        assert_eq!(
            computed_str(&expr("substr(\"a\\r\\nNotAction\", 2, 9)")),
            None
        );
        // A float is written out in full, not as 1e99.
        assert_eq!(as_str(&expr("\"x${1e99}\"")), None);
        // `~` strips the spaces beside it.
        assert_eq!(as_str(&expr("\"a ${~ \"b\"}\"")), None);
        let heredoc: Expression = "<<-EOT\n    x\n  EOT".parse().unwrap();
        assert_eq!(as_str(&heredoc), None);
    }

    #[test]
    fn coalesce_is_known_only_when_the_arguments_before_its_answer_are() {
        assert_eq!(
            computed_str(&expr("coalesce(local.size, \"t2.small\")")),
            None
        );
        assert_eq!(
            computed_str(&expr("coalesce(\"\", \"t2.small\", local.size)")).as_deref(),
            Some("t2.small")
        );
        assert_eq!(
            string_list(&expr("split(\"\u{e9}\", \"1e\u{301}2\")")),
            None
        );
    }

    #[test]
    fn text_outside_ascii_is_not_computed() {
        // Terraform's substr counts "é" and its combining marks as one.
        assert_eq!(
            computed_str(&expr("substr(\"e\u{0301}\u{0301}t2.small\", 3, 8)")),
            None
        );
        assert_eq!(computed_str(&expr("upper(\"\u{fb00}x\")")), None);
        assert_eq!(
            computed_str(&expr("substr(\"xxt2.small\", 2, 8)")).as_deref(),
            Some("t2.small")
        );
    }

    #[test]
    fn literals_and_references() {
        assert_eq!(
            as_str(&expr(r#""ca-central-1""#)).as_deref(),
            Some("ca-central-1")
        );
        assert_eq!(as_str(&expr(r#""${var.region}""#)), None);
        assert_eq!(as_int(&expr("22")), Some(22));
        assert_eq!(as_int(&expr(r#""8080""#)), Some(8080));
        assert_eq!(as_int(&expr("var.port")), None);
        assert_eq!(root_name(&expr("aws_vpc.main.cidr_block")), Some("aws_vpc"));
        assert!(is_var(&expr("var.bundle_path"), "bundle_path"));
        assert!(!is_var(&expr("var.bundle_path.x"), "bundle_path"));
        assert!(!is_var(&expr("local.bundle_path"), "bundle_path"));
    }

    #[test]
    fn walk_reaches_calls_inside_templates() {
        let mut calls = Vec::new();
        walk(
            &expr(
                r#"upper("x ${lower(file("/etc/passwd"))} %{ if true }${abspath(".")}%{ endif }")"#,
            ),
            &mut |e| {
                if let Expression::FuncCall(call) = e {
                    calls.push(call.name.name.to_string());
                }
            },
        );
        assert_eq!(calls, ["upper", "lower", "file", "abspath"]);
    }
}
