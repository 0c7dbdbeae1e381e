//! Snapshot schedules (Data Lifecycle Manager): the account's own volumes
//! of this deployment only, a bounded number kept. The arguments list
//! (`arguments.rs`) already refuses sharing, copies to other regions and
//! event policies; these rules read what stays: which volumes the schedule
//! selects and how many snapshots it keeps.

use hcl::Body;
use hcl::expr::Expression;

use super::Rule;
use super::expr::{as_int, as_str, attr, key_text};
use super::structure::Gate;

/// The most snapshots a schedule may keep: each is billed by the month.
const MAX_SNAPSHOTS_KEPT: i64 = 30;

impl Gate<'_> {
    pub(super) fn snapshot_schedule(&mut self, kind: &str, address: &str, body: &Body) {
        if kind != "aws_dlm_lifecycle_policy" {
            return;
        }
        let details: Vec<&Body> = body
            .blocks()
            .filter(|b| b.identifier() == "policy_details")
            .map(|b| b.body())
            .collect();
        // A plan leaves out what is unknown until apply; the files, checked
        // first, hold every argument to these rules.
        if details.is_empty() && !self.planned {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: policy_details is missing; a schedule names the volumes it snapshots (resource_types = [\"VOLUME\"], target_tags of this deployment's data volume)."),
            );
        }
        for details in details {
            self.snapshot_targets(address, details);
            for schedule in details.blocks().filter(|b| b.identifier() == "schedule") {
                for retain in schedule
                    .body()
                    .blocks()
                    .filter(|b| b.identifier() == "retain_rule")
                {
                    let count = attr(retain.body(), "count");
                    if count.is_none() && self.planned {
                        continue;
                    }
                    let kept = count.and_then(|e| as_int(self.resolve(e)));
                    if !kept.is_some_and(|n| (1..=MAX_SNAPSHOTS_KEPT).contains(&n)) {
                        self.violation(
                            Rule::SizeNotBounded,
                            format!("{address}: retain_rule.count must be a number from 1 to {MAX_SNAPSHOTS_KEPT}: each snapshot kept is billed by the month."),
                        );
                    }
                }
            }
        }
    }

    /// Volumes only, selected by tags whose values start with this job's
    /// name: a tag another team's volume carries (`Name = "prod-db"`) would
    /// have its data copied into snapshots this deployment's schedule owns.
    fn snapshot_targets(&mut self, address: &str, details: &Body) {
        let types = attr(details, "resource_types").map(|e| self.resolve(e).clone());
        if types.is_some() || !self.planned {
            self.volumes_only(address, types);
        }
        let tags = attr(details, "target_tags").map(|e| self.resolve(e).clone());
        if tags.is_none() && self.planned {
            return;
        }
        self.own_target_tags(address, tags);
    }

    fn volumes_only(&mut self, address: &str, types: Option<Expression>) {
        let volumes_only = matches!(&types, Some(Expression::Array(items))
            if !items.is_empty() && items.iter().all(|i| as_str(i).as_deref() == Some("VOLUME")));
        if !volumes_only {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: resource_types must be [\"VOLUME\"]: an instance schedule snapshots every volume of the instances it selects."),
            );
        }
    }

    fn own_target_tags(&mut self, address: &str, tags: Option<Expression>) {
        let Some(Expression::Object(tags)) =
            tags.filter(|t| matches!(t, Expression::Object(o) if !o.is_empty()))
        else {
            self.violation(
                Rule::ForeignResource,
                format!("{address}: target_tags must be a literal map naming this deployment's data volume (Name = \"${{local.name}}-data\")."),
            );
            return;
        };
        let Some(job) = self.policy.resource_name.clone() else {
            return;
        };
        for (key, value) in &tags {
            if !self.literal_start(value).starts_with(&job) {
                let key = key_text(key).unwrap_or_default();
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: target_tags {key} must start with this job's name {job:?} (\"${{local.name}}-data\"): the schedule would snapshot whatever volume of the account carries the tag."),
                );
            }
        }
    }
}
