//! What a saved plan would do, read from `terraform show -json`: the summary a
//! person approves, and the check that a plan made again after an interrupted
//! apply does nothing the approved one did not.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One resource the plan changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedChange {
    pub address: String,
    /// Terraform's actions: `["create"]`, `["update"]`, `["delete", "create"]`...
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanSummary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub changes: Vec<PlannedChange>,
}

impl PlanSummary {
    /// Reads the `resource_changes` of `terraform show -json <planfile>`.
    pub fn from_show_json(json: &str) -> Result<Self, String> {
        let plan: Value = serde_json::from_str(json)
            .map_err(|e| format!("terraform show -json printed no JSON plan: {e}"))?;
        let mut summary = PlanSummary::default();
        let changes = plan
            .get("resource_changes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for change in changes {
            let address = change
                .get("address")
                .and_then(Value::as_str)
                .ok_or("a resource change has no address")?
                .to_owned();
            let actions: Vec<String> = change
                .pointer("/change/actions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let has = |action: &str| actions.iter().any(|a| a == action);
            if has("no-op") || has("read") || actions.is_empty() {
                continue;
            }
            summary.add += usize::from(has("create"));
            summary.destroy += usize::from(has("delete"));
            summary.change += usize::from(has("update"));
            summary.changes.push(PlannedChange { address, actions });
        }
        Ok(summary)
    }

    /// "3 to add, 0 to change, 0 to destroy", as Terraform says it.
    pub fn describe(&self) -> String {
        format!(
            "{} to add, {} to change, {} to destroy",
            self.add, self.change, self.destroy
        )
    }

    /// Whether every change of `self` was in `approved` with the same actions; the
    /// first one that was not, otherwise.
    pub fn within(&self, approved: &PlanSummary) -> Result<(), String> {
        match self
            .changes
            .iter()
            .find(|change| !approved.changes.contains(change))
        {
            None => Ok(()),
            Some(change) => Err(format!(
                "{} would be {} but the approved plan did not say so",
                change.address,
                change.actions.join("+")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_changes_and_checks_a_replan_against_the_approved_plan() {
        let show = r#"{"format_version":"1.2","resource_changes":[
            {"address":"aws_vpc.main","change":{"actions":["create"]}},
            {"address":"aws_s3_bucket.bundle","change":{"actions":["create"]}},
            {"address":"data.aws_ami.ubuntu","change":{"actions":["read"]}},
            {"address":"aws_iam_role.app","change":{"actions":["no-op"]}}]}"#;
        let approved = PlanSummary::from_show_json(show).unwrap();
        assert_eq!(approved.describe(), "2 to add, 0 to change, 0 to destroy");
        let rest = PlanSummary::from_show_json(
            r#"{"resource_changes":[{"address":"aws_s3_bucket.bundle","change":{"actions":["create"]}}]}"#,
        )
        .unwrap();
        assert_eq!(rest.within(&approved), Ok(()));
        let worse = PlanSummary::from_show_json(
            r#"{"resource_changes":[{"address":"aws_vpc.main","change":{"actions":["delete","create"]}}]}"#,
        )
        .unwrap();
        assert!(
            worse
                .within(&approved)
                .unwrap_err()
                .contains("aws_vpc.main")
        );
        assert!(PlanSummary::from_show_json("not json").is_err());
    }
}
