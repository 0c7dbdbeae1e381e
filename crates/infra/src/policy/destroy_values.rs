//! `var.app_env` holds the app's values at plan and apply; the destroy is
//! run without them, where it is an empty map. An expression that needs an
//! element of it (`keys(var.app_env)[0]`, `var.app_env["PORT"]`,
//! `element(…)`, `lookup()` without a default) fails there, and with it the
//! destroy's refresh; on Kubernetes the fallback then meets an expired
//! cluster token, and the deployment stays up. The map may be read whole,
//! through `keys()`, or as `var.app_env[each.key]` of a `for_each` over it.

use hcl::expr::{Expression, TraversalOperator};

use super::expr::{is_var, walk};
use crate::terraform::APP_ENV_VARIABLE;

/// Why `expr` (one expression, not its parts) reads an element of
/// `var.app_env` that may be absent; `None` when it does not.
pub(super) fn element_read(expr: &Expression) -> Option<String> {
    let why = |what: &str| {
        Some(format!(
            "{what} needs an element of var.{APP_ENV_VARIABLE}, which the destroy runs without (an empty map): it would fail there and leave the deployment up. Read the map whole, through keys(), or as var.{APP_ENV_VARIABLE}[each.key] of a for_each over it."
        ))
    };
    match expr {
        Expression::Traversal(t) => {
            let direct = matches!(&t.expr, Expression::Variable(v) if v.as_str() == "var")
                && matches!(t.operators.first(), Some(TraversalOperator::GetAttr(a)) if a.as_str() == APP_ENV_VARIABLE);
            if direct {
                let each_key = matches!(t.operators.as_slice(), [_, TraversalOperator::Index(Expression::Traversal(key))]
                    if matches!(&key.expr, Expression::Variable(v) if v.as_str() == "each"));
                return (t.operators.len() > 1 && !each_key)
                    .then(|| why("an index of it"))
                    .flatten();
            }
            reads_app_env(&t.expr)
                .then(|| why("an index or attribute of a value made from it"))
                .flatten()
        }
        Expression::FuncCall(call)
            if call.name.namespace.is_empty()
                && matches!(
                    call.name.name.as_str(),
                    "element" | "lookup" | "index" | "one"
                )
                && call.args.iter().any(reads_app_env) =>
        {
            let name = call.name.name.as_str();
            let lookup_with_default = name == "lookup" && call.args.len() == 3;
            (!lookup_with_default)
                .then(|| why(&format!("{name}()")))
                .flatten()
        }
        _ => None,
    }
}

fn reads_app_env(expr: &Expression) -> bool {
    let mut found = false;
    walk(expr, &mut |e| {
        if is_var(e, APP_ENV_VARIABLE)
            || matches!(e, Expression::Traversal(t) if matches!(&t.expr, Expression::Variable(v) if v.as_str() == "var")
                && matches!(t.operators.first(), Some(TraversalOperator::GetAttr(a)) if a.as_str() == APP_ENV_VARIABLE))
        {
            found = true;
        }
    });
    found
}
