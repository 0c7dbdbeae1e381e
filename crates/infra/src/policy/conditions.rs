//! Conditions (`precondition`/`postcondition` of a resource's `lifecycle`, an
//! output's `precondition`) that test only what the author wrote: input
//! variables (not the bundle's path, another archive at each run), literals,
//! `each`/`count`. What changes on its own (a data
//! source's answer, an attribute AWS sets, a resource another deployment
//! replaced) would let a condition pass at the first apply and fail every plan
//! after, the destroy's among them.

use std::collections::HashSet;

use hcl::{Block, Body, Expression};

use super::Rule;
use super::expr::{root_name, walk};
use super::structure::Gate;

/// How many locals deep a condition's reads are followed.
const MAX_DEPTH: usize = 16;

impl Gate<'_> {
    /// Every condition block of `body`: its `lifecycle`'s for a resource,
    /// its own `precondition` for an output.
    pub(super) fn conditions(&mut self, address: &str, body: &Body) {
        let blocks: Vec<&Block> = body
            .blocks()
            .flat_map(|b| match b.identifier() {
                "lifecycle" => b.body().blocks().collect::<Vec<_>>(),
                _ => vec![b],
            })
            .filter(|b| matches!(b.identifier(), "precondition" | "postcondition"))
            .collect();
        for block in blocks {
            let Some(condition) = super::expr::attr(block.body(), "condition") else {
                continue;
            };
            let mut reads = Vec::new();
            self.changing_reads(condition, 0, &mut HashSet::new(), &mut reads);
            if let Some(read) = reads.first() {
                self.violation(
                    Rule::Lifecycle,
                    format!(
                        "{address}: a {} reads {read}, which can change without this configuration changing (a data source's answer, an attribute AWS sets); it would pass today and fail every later plan, the destroy's among them. A condition may test only input variables and literals.",
                        block.identifier()
                    ),
                );
            }
        }
    }

    /// The roots of what `expr` reads that are not the author's own values,
    /// followed through locals.
    fn changing_reads(
        &self,
        expr: &Expression,
        depth: usize,
        seen: &mut HashSet<String>,
        reads: &mut Vec<String>,
    ) {
        let mut locals = Vec::new();
        walk(expr, &mut |e| {
            let Expression::Traversal(traversal) = e else {
                return;
            };
            match root_name(&traversal.expr) {
                Some("local") => locals.push(e.clone()),
                // The bundle is another archive at each run (an empty one
                // at destroy): a condition on it changes by itself too.
                Some("var") if super::expr::is_var(e, crate::terraform::BUNDLE_PATH_VARIABLE) => {
                    reads.push(format!("var.{}", crate::terraform::BUNDLE_PATH_VARIABLE))
                }
                // A resource's type names itself with an underscore; a
                // name without one is a variable, `each`, `count` or a `for`'s.
                Some(root @ ("data" | "self" | "module" | "path" | "terraform")) => {
                    reads.push(reference(root, e))
                }
                Some(root) if root.contains('_') => reads.push(reference(root, e)),
                _ => {}
            }
        });
        for local in locals {
            let name = reference("local", &local);
            if depth >= MAX_DEPTH || !seen.insert(name.clone()) {
                continue;
            }
            let value = self.resolve(&local);
            if std::ptr::eq(value, &local) {
                // A local the gate has no value for is read as unknown.
                reads.push(name);
                continue;
            }
            self.changing_reads(value, depth + 1, seen, reads);
        }
    }
}

/// `data.aws_ami.ubuntu` of a traversal rooted at `root`, for the message.
fn reference(root: &str, expr: &Expression) -> String {
    let Expression::Traversal(traversal) = expr else {
        return root.to_owned();
    };
    let mut text = root.to_owned();
    for operator in traversal
        .operators
        .iter()
        .take(if root == "data" { 2 } else { 1 })
    {
        if let hcl::expr::TraversalOperator::GetAttr(name) = operator {
            text.push('.');
            text.push_str(name.as_str());
        }
    }
    text
}
