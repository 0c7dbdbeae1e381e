//! Rules on the app's databases, caches and their secrets: never open to the
//! internet, encrypted, and no password written where the state keeps it.

use hcl::Body;
use hcl::expr::Expression;

use super::Rule;
use super::expr::{as_int, as_str, attr, root_name};
use super::resources::MAX_STORE_GB;
use super::structure::{Gate, allowed};

/// Ephemeral resources that read a secret: only this configuration's own.
const SECRET_READERS: &[&str] = &["aws_secretsmanager_secret_version"];

impl Gate<'_> {
    /// The rules for a database, cache or secret resource (files and plans).
    pub(super) fn stores(&mut self, kind: &str, address: &str, body: &Body) {
        let must_be = |key: &'static str, value: bool| (key, value);
        let settings: &[(&str, bool)] = match kind {
            "aws_db_instance" | "aws_rds_cluster" => &[
                must_be("publicly_accessible", false),
                must_be("storage_encrypted", true),
            ],
            "aws_elasticache_replication_group" => &[
                must_be("at_rest_encryption_enabled", true),
                must_be("transit_encryption_enabled", true),
            ],
            "aws_ebs_volume" => &[must_be("encrypted", true)],
            _ => &[],
        };
        for (key, wanted) in settings {
            let found = attr(body, key).map(|e| self.resolve(e));
            let holds = match found {
                Some(Expression::Bool(value)) => value == wanted,
                Some(Expression::Null) | None => !wanted,
                Some(_) => false,
            };
            if !holds {
                self.violation(
                    Rule::StoreExposure,
                    format!("{address}: {key} must be the literal {wanted}: the app's data stays private and encrypted."),
                );
            }
        }
        // A store made from another one's data: a snapshot, a replica, a
        // backup in a bucket. The app (untrusted code) would read it.
        let copies: &[&str] = match kind {
            "aws_db_instance" | "aws_rds_cluster" => &[
                "snapshot_identifier",
                "replicate_source_db",
                "replication_source_identifier",
                "source_region",
                "restore_to_point_in_time",
                "s3_import",
                "global_cluster_identifier",
            ],
            "aws_elasticache_replication_group" => &[
                "snapshot_name",
                "snapshot_arns",
                "global_replication_group_id",
                "primary_cluster_id",
            ],
            "aws_ebs_volume" => &["snapshot_id"],
            _ => &[],
        };
        for key in copies {
            // A plan shows what is unset as null or an empty list.
            let set = attr(body, key).is_some_and(|e| match e {
                Expression::Null => false,
                Expression::Array(items) => !items.is_empty(),
                _ => true,
            }) || body.blocks().any(|b| {
                b.identifier() == *key
                    || (b.identifier() == "dynamic"
                        && b.labels().first().is_some_and(|l| l.as_str() == *key))
            });
            if set {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: {key} makes the store from an existing one's data (a snapshot, a replica or a backup of the account), which the app could then read; remove it: a deployment starts its stores empty."),
                );
            }
        }
        if kind == "aws_ebs_volume" {
            self.data_volume_size(address, body);
        }
        let plain_secrets: &[&str] = match kind {
            "aws_db_instance" | "aws_rds_cluster" => &["password", "master_password"],
            "aws_elasticache_replication_group" => &["auth_token"],
            "aws_secretsmanager_secret_version" => &["secret_string", "secret_binary"],
            _ => &[],
        };
        for key in plain_secrets {
            if attr(body, key).is_some_and(|e| !matches!(e, Expression::Null)) {
                self.violation(
                    Rule::StoreExposure,
                    format!("{address}: {key} keeps the secret in the Terraform state as plain text; use the write-only {key}_wo (or let AWS manage the password)."),
                );
            }
        }
    }

    /// A data volume is a literal gp3 size within the stores' bound: a
    /// provisioned-IOPS or huge volume bills the account by the month.
    fn data_volume_size(&mut self, address: &str, body: &Body) {
        let size = attr(body, "size").and_then(as_int);
        if !size.is_some_and(|gb| (1..=i64::from(MAX_STORE_GB)).contains(&gb)) {
            self.violation(
                Rule::SizeNotBounded,
                format!(
                    "{address}: size is {}; write a literal of at most {MAX_STORE_GB} (GiB).",
                    size.map_or("not a literal number".to_owned(), |gb| gb.to_string())
                ),
            );
        }
        let kind = attr(body, "type").and_then(as_str);
        if kind.as_deref() != Some("gp3") {
            self.violation(
                Rule::SizeNotBounded,
                format!(
                    "{address}: type is {}; use \"gp3\" (provisioned-IOPS volumes cost by the IOPS).",
                    kind.map_or("not a literal".to_owned(), |k| format!("{k:?}"))
                ),
            );
        }
    }

    pub(super) fn ephemeral(&mut self, block: &hcl::Block) {
        let Some([kind, name]) = self.labels(block, 2).map(|l| [l[0], l[1]]) else {
            return;
        };
        let address = format!("ephemeral.{kind}.{name}");
        if !self.policy.allowed_ephemeral_types.contains(kind) {
            let message = if self.policy.allowed_ephemeral_types.is_empty() {
                format!("{address}: this deployment needs no ephemeral resource; remove it.")
            } else {
                format!(
                    "{address}: ephemeral resource type {kind} is not allowed; use only {}.",
                    allowed(&self.policy.allowed_ephemeral_types)
                )
            };
            self.violation(Rule::EphemeralNotAllowed, message);
            return;
        }
        let body = block.body();
        self.arguments("ephemeral", kind, &address, body);
        if SECRET_READERS.contains(&kind) {
            let own = attr(body, "secret_id").is_some_and(|id| {
                root_name(self.resolve(id))
                    .is_some_and(|root| root.starts_with("aws_secretsmanager_secret"))
                    && self.is_own_reference(id, 0)
            });
            if !own {
                self.violation(
                    Rule::ForeignResource,
                    format!("{address}: secret_id must be a secret this configuration creates (aws_secretsmanager_secret.NAME.id); another secret of the account is not this deployment's."),
                );
            }
        }
        self.secret_placement(kind, &address, body);
        self.foreign_literals(&address, body);
    }
}
