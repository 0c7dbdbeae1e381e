//! Reading HCL expressions the way the gate needs: as literals when they are
//! literals, and as a tree to search for function calls, templates included.

use hcl::expr::{Expression, ObjectKey, TemplateExpr, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Block, Body};

/// The string an expression is, when it is a literal (no interpolation).
pub(super) fn as_str(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.clone()),
        Expression::TemplateExpr(template) => literal_template(template),
        _ => None,
    }
}

/// A template whose every part is a literal, `${"text"}` and `${42}`
/// included: `"sour${""}ce"` is the literal `source` to Terraform.
fn literal_template(template: &TemplateExpr) -> Option<String> {
    let parsed = Template::from_expr(template).ok()?;
    parsed
        .elements()
        .iter()
        .map(|element| match element {
            Element::Literal(text) => Some(text.clone()),
            Element::Interpolation(interpolation) => match &interpolation.expr {
                Expression::Number(n) => Some(n.to_string()),
                Expression::Bool(b) => Some(b.to_string()),
                other => as_str(other),
            },
            Element::Directive(_) => None,
        })
        .collect()
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
    visit(expr);
    match expr {
        Expression::Array(items) => items.iter().for_each(|e| walk(e, visit)),
        Expression::Object(object) => {
            for (key, value) in object {
                if let ObjectKey::Expression(key) = key {
                    walk(key, visit);
                }
                walk(value, visit);
            }
        }
        Expression::TemplateExpr(template) => {
            // A template that does not parse holds nothing Terraform would run.
            if let Ok(parsed) = Template::from_expr(template) {
                walk_template(&parsed, visit);
            }
        }
        Expression::Traversal(t) => {
            walk(&t.expr, visit);
            for op in &t.operators {
                if let TraversalOperator::Index(index) = op {
                    walk(index, visit);
                }
            }
        }
        Expression::FuncCall(call) => call.args.iter().for_each(|e| walk(e, visit)),
        Expression::Parenthesis(inner) => walk(inner, visit),
        Expression::Conditional(c) => {
            walk(&c.cond_expr, visit);
            walk(&c.true_expr, visit);
            walk(&c.false_expr, visit);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => walk(&u.expr, visit),
            hcl::expr::Operation::Binary(b) => {
                walk(&b.lhs_expr, visit);
                walk(&b.rhs_expr, visit);
            }
        },
        Expression::ForExpr(f) => {
            walk(&f.collection_expr, visit);
            if let Some(key) = &f.key_expr {
                walk(key, visit);
            }
            walk(&f.value_expr, visit);
            if let Some(cond) = &f.cond_expr {
                walk(cond, visit);
            }
        }
        _ => {}
    }
}

fn walk_template(template: &Template, visit: &mut dyn FnMut(&Expression)) {
    for element in template.elements() {
        match element {
            Element::Literal(_) => {}
            Element::Interpolation(i) => walk(&i.expr, visit),
            Element::Directive(directive) => match directive.as_ref() {
                Directive::If(d) => {
                    walk(&d.cond_expr, visit);
                    walk_template(&d.true_template, visit);
                    if let Some(other) = &d.false_template {
                        walk_template(other, visit);
                    }
                }
                Directive::For(d) => {
                    walk(&d.collection_expr, visit);
                    walk_template(&d.template, visit);
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
