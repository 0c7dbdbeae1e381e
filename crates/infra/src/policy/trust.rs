//! Who assumes each role of the configuration, read from its trust policy:
//! an AWS-managed policy goes only on a role assumed by the one service it
//! is made for (the cluster policy on the cluster's role, the node policies
//! on the nodes' role), never on another role of the same configuration.

use std::collections::BTreeSet;

use hcl::expr::Expression;

use super::expr::{as_str, attr};
use super::iam::policy_document_name;
use super::structure::Gate;

impl Gate<'_> {
    /// The services `aws_iam_role.NAME`'s trust policy lets assume it;
    /// `None` when the role is not in the configuration or its trust policy
    /// is not one the gate reads (a principal that is not a service
    /// literal included).
    pub(super) fn trusted_services(&self, role: &str) -> Option<BTreeSet<String>> {
        let trust = self.resolve(self.role_trust(role)?);
        if let Some(document) = policy_document_name(trust) {
            return self.document_services(document);
        }
        let Expression::FuncCall(call) = trust else {
            return None;
        };
        if call.name.name.as_str() != "jsonencode" {
            return None;
        }
        let policy = self.policy_value(call.args.first()?).ok()?;
        let statements = match &policy["Statement"] {
            serde_json::Value::Array(items) => items.clone(),
            single @ serde_json::Value::Object(_) => vec![single.clone()],
            _ => return None,
        };
        let mut services = BTreeSet::new();
        for statement in &statements {
            let principal = statement.get("Principal")?.as_object()?;
            if principal.keys().any(|k| k != "Service") {
                return None;
            }
            match principal.get("Service")? {
                serde_json::Value::String(one) => {
                    services.insert(one.clone());
                }
                serde_json::Value::Array(many) => {
                    for one in many {
                        services.insert(one.as_str()?.to_owned());
                    }
                }
                _ => return None,
            }
        }
        Some(services)
    }

    fn document_services(&self, document: &str) -> Option<BTreeSet<String>> {
        let body = self.document_block(document)?;
        let mut services = BTreeSet::new();
        for statement in body.blocks().filter(|b| b.identifier() == "statement") {
            for principals in statement.body().blocks() {
                if principals.identifier() != "principals" {
                    continue;
                }
                let kind = attr(principals.body(), "type").and_then(|t| as_str(self.resolve(t)));
                if kind.as_deref() != Some("Service") {
                    return None;
                }
                for identifier in self.strings(attr(principals.body(), "identifiers")) {
                    services.insert(identifier?);
                }
            }
        }
        Some(services)
    }
}
