//! Settings whose values the templates pin, for what each other value
//! costs or opens: the nodes' AMI type (Windows nodes bill a licence and
//! cannot run the app), the image an instance boots (a licence-included
//! Windows or SQL Server image), the cache's engine version (one past
//! standard support bills Extended Support), Container Insights (enhanced
//! bills per metric), the VPC's own range (a public one makes "within the
//! VPC" a range anyone can rent), the app's Kubernetes namespace (a
//! system one holds the cluster's own workloads) and its Service's
//! protocol (the app serves TCP).

use hcl::Body;
use hcl::expr::Expression;

use super::Rule;
use super::expr::{as_int, as_str, attr, key_text};
use super::structure::Gate;

/// Linux node images on x86, as the templates' instance types are.
const NODE_AMI_TYPES: &[&str] = &[
    "AL2023_x86_64_STANDARD",
    "AL2_x86_64",
    "BOTTLEROCKET_x86_64",
];

/// Image names an instance may boot: Ubuntu from Canonical, Amazon Linux.
const AMI_NAME_PREFIXES: &[&str] = &["ubuntu/images/", "al2023-ami-", "amzn2-ami-"];

/// Eight digits in a row: a build's date (`…-server-20250515`).
fn has_date(name: &str) -> bool {
    name.as_bytes()
        .windows(8)
        .any(|w| w.iter().all(u8::is_ascii_digit))
}

/// Ubuntu releases Canonical still publishes images of.
const UBUNTU_RELEASES: &[&str] = &["ubuntu-noble-24.04", "ubuntu-jammy-22.04"];

/// Words of licence-included images, whatever their prefix.
const LICENSED_IMAGE_WORDS: &[&str] = &["windows", "sql", "rhel", "suse", "byol"];

/// How long a log group keeps its lines, in days.
const MIN_RETENTION_DAYS: i64 = 7;
const MAX_RETENTION_DAYS: i64 = 731;

/// The control plane's logs an EKS cluster must keep: its API calls, the
/// audit trail and who signed in.
const CLUSTER_LOG_TYPES: &[&str] = &["api", "audit", "authenticator"];

/// The oldest cache engine major version still in standard support.
const MIN_CACHE_MAJOR: u32 = 6;

impl Gate<'_> {
    /// The pinned settings of a resource, as written or as planned.
    pub(super) fn pinned_settings(&mut self, kind: &str, address: &str, body: &Body) {
        let text = |gate: &Self, key: &str| attr(body, key).and_then(|v| as_str(gate.resolve(v)));
        match kind {
            "aws_eks_node_group"
                if attr(body, "ami_type").is_some()
                    && !text(self, "ami_type")
                        .is_some_and(|t| NODE_AMI_TYPES.contains(&t.as_str())) =>
            {
                self.refuse(address, format!(
                    "ami_type must be one of {}: Windows and GPU nodes bill more per hour, and cannot run the app's Linux image.",
                    NODE_AMI_TYPES.join(", ")
                ));
            }
            "aws_elasticache_replication_group" | "aws_elasticache_cluster" => {
                let supported = |version: &str| {
                    version
                        .split('.')
                        .next()
                        .and_then(|major| major.parse::<u32>().ok())
                        .is_some_and(|major| major >= MIN_CACHE_MAJOR)
                };
                if attr(body, "engine_version").is_some()
                    && !text(self, "engine_version").is_some_and(|v| supported(&v))
                {
                    self.refuse(address, format!(
                        "engine_version must be a literal of major version {MIN_CACHE_MAJOR} or later: an older engine is billed ElastiCache Extended Support on top of its nodes."
                    ));
                }
            }
            "aws_ecs_cluster" => {
                let values = nested(body, "setting", "value");
                if values.iter().any(|v| {
                    !as_str(self.resolve(v))
                        .is_some_and(|v| matches!(v.as_str(), "enabled" | "disabled"))
                }) {
                    self.refuse(address, "setting containerInsights must be \"enabled\" or \"disabled\": \"enhanced\" bills every task's and container's metrics.".to_owned());
                }
            }
            // Tasks run on Fargate, each in its own network namespace: on
            // an instance with host networking they share the host's.
            "aws_ecs_service"
                if attr(body, "launch_type").is_some()
                    && text(self, "launch_type").as_deref() != Some("FARGATE") =>
            {
                self.violation(
                    Rule::PodPrivilege,
                    format!("{address}: launch_type must be \"FARGATE\": tasks on instances or external hosts share them with others, and with host networking their network too."),
                );
            }
            "aws_ecs_task_definition" => {
                let fargate_only = match attr(body, "requires_compatibilities") {
                    None => true,
                    Some(Expression::Array(items)) => items
                        .iter()
                        .all(|i| as_str(self.resolve(i)).as_deref() == Some("FARGATE")),
                    Some(_) => false,
                };
                let awsvpc = attr(body, "network_mode")
                    .is_none_or(|_| text(self, "network_mode").as_deref() == Some("awsvpc"));
                if !fargate_only || !awsvpc {
                    self.violation(
                        Rule::PodPrivilege,
                        format!("{address}: requires_compatibilities must be [\"FARGATE\"] and network_mode \"awsvpc\": other modes share an instance's network with its other tasks."),
                    );
                }
            }
            // A record kept long enough to read after the fact, and not
            // billed without end (0 is never expire).
            "aws_cloudwatch_log_group"
                if attr(body, "retention_in_days").is_some_and(|v| {
                    !as_int(self.resolve(v)).is_some_and(|days| {
                        (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days)
                    })
                }) =>
            {
                self.refuse(address, format!(
                    "retention_in_days must be a literal from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}: a shorter one erases the record of what the deployment did, 0 keeps every line, billed without end."
                ));
            }
            // The cluster's own record of who did what through its API.
            "aws_eks_cluster" => {
                let types: Vec<String> = match attr(body, "enabled_cluster_log_types") {
                    Some(Expression::Array(items)) => items
                        .iter()
                        .filter_map(|i| as_str(self.resolve(i)))
                        .collect(),
                    _ => Vec::new(),
                };
                if !CLUSTER_LOG_TYPES
                    .iter()
                    .all(|t| types.iter().any(|have| have == t))
                {
                    self.violation(
                        Rule::LogsOff,
                        format!(
                            "{address}: enabled_cluster_log_types must be a list holding at least {}: without them the control plane keeps no record of who did what in the cluster.",
                            CLUSTER_LOG_TYPES.join(", ")
                        ),
                    );
                }
            }
            "aws_vpc" => {
                let private = text(self, "cidr_block").is_some_and(|cidr| is_private_v4(&cidr));
                if attr(body, "cidr_block").is_some() && !private {
                    self.violation(
                        Rule::WorldIngress,
                        format!("{address}: cidr_block must be a literal private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16): with a public one, \"within the VPC\" admits addresses anyone can rent."),
                    );
                }
            }
            "kubernetes_namespace_v1" | "kubernetes_namespace" => {
                let names = nested(body, "metadata", "name");
                if names.iter().any(|n| {
                    as_str(self.resolve(n))
                        .is_some_and(|n| n == "default" || n.starts_with("kube-"))
                }) {
                    self.violation(
                        Rule::PodPrivilege,
                        format!("{address}: metadata.name must be this deployment's own namespace, not default or kube-*: those hold the cluster's own workloads and secrets."),
                    );
                }
            }
            "kubernetes_service_v1" | "kubernetes_service" => {
                let protocols: Vec<&Expression> = body
                    .blocks()
                    .filter(|b| b.identifier() == "spec")
                    .flat_map(|spec| nested(spec.body(), "port", "protocol"))
                    .chain(
                        nested(body, "spec", "port")
                            .into_iter()
                            .flat_map(|ports| object_values(ports, "protocol")),
                    )
                    .collect();
                if protocols
                    .iter()
                    .any(|p| as_str(self.resolve(p)).as_deref() != Some("TCP"))
                {
                    self.violation(
                        Rule::WorldIngress,
                        format!("{address}: a port's protocol must be absent or \"TCP\": the app serves HTTP, and a UDP listener opens the nodes to the world on a port nothing guards."),
                    );
                }
            }
            _ => {}
        }
    }

    /// An AMI lookup names an image family the templates boot.
    pub(super) fn ami_names(&mut self, address: &str, body: &Body) {
        let mut filters: Vec<(Option<&Expression>, Option<&Expression>)> = body
            .blocks()
            .filter(|b| b.identifier() == "filter")
            .map(|b| (attr(b.body(), "name"), attr(b.body(), "values")))
            .collect();
        if let Some(planned) = attr(body, "filter") {
            let objects = match planned {
                Expression::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for object in objects {
                let first = |key| object_values(object, key).into_iter().next();
                filters.push((first("name"), first("values")));
            }
        }
        let names: Vec<Option<String>> = filters
            .into_iter()
            .filter(|(name, _)| name.and_then(as_str).as_deref() == Some("name"))
            .flat_map(|(_, values)| match values {
                Some(Expression::Array(items)) => items.iter().map(as_str).collect(),
                _ => vec![None],
            })
            .collect();
        // A pattern that keeps matching the newest build of a supported
        // release: a name pinned to one build (its date) or to a release no
        // longer published matches nothing once AWS deprecates the images it
        // found, and every later plan fails.
        let current = |name: &str| {
            name.contains('*')
                // The `*` stands for a whole build, not the rest of a year's.
                && name
                    .match_indices('*')
                    .all(|(at, _)| name[..at].ends_with(['-', '.']))
                && !has_date(name)
                && (!name.starts_with("ubuntu/")
                    || UBUNTU_RELEASES.iter().any(|release| name.contains(release)))
        };
        let allowed = |name: &str| {
            let lower = name.to_ascii_lowercase();
            AMI_NAME_PREFIXES.iter().any(|p| name.starts_with(p))
                && !LICENSED_IMAGE_WORDS.iter().any(|w| lower.contains(w))
                && current(name)
        };
        let named = !names.is_empty() && names.iter().all(|n| n.as_deref().is_some_and(allowed));
        if !named || attr(body, "name_regex").is_some() {
            self.violation(
                Rule::DataSourceScope,
                format!(
                    "{address}: a filter on \"name\" must name the image with literals starting {} with a `*` for the build, without a build date, Ubuntu only {} (no name_regex): any other image of the owner could be a licence-included Windows or SQL Server one, billed by the hour, and a name of one build or of a release no longer published stops matching once AWS deprecates its images.",
                    AMI_NAME_PREFIXES.join(" or "),
                    UBUNTU_RELEASES.join(" or ")
                ),
            );
        }
    }

    fn refuse(&mut self, address: &str, why: String) {
        self.violation(Rule::SizeNotBounded, format!("{address}: {why}"));
    }
}

/// The values of `key` in the nested blocks called `block`, whether
/// written as blocks or, as a plan has them, as a list of objects.
fn nested<'b>(body: &'b Body, block: &str, key: &str) -> Vec<&'b Expression> {
    let mut found: Vec<&Expression> = body
        .blocks()
        .filter(|b| b.identifier() == block)
        .filter_map(|b| attr(b.body(), key))
        .collect();
    if let Some(planned) = attr(body, block) {
        found.extend(object_values(planned, key));
    }
    found
}

/// The values of `key` in an object, or in each object of a list.
fn object_values<'e>(expr: &'e Expression, key: &str) -> Vec<&'e Expression> {
    match expr {
        Expression::Array(items) => items.iter().flat_map(|i| object_values(i, key)).collect(),
        Expression::Object(object) => object
            .iter()
            .filter(|(k, _)| key_text(k).as_deref() == Some(key))
            .map(|(_, v)| v)
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `cidr` is an IPv4 range inside one of RFC 1918's.
fn is_private_v4(cidr: &str) -> bool {
    let Some((ip, prefix)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(ip), Ok(prefix)) = (ip.parse::<std::net::Ipv4Addr>(), prefix.parse::<u8>()) else {
        return false;
    };
    let [a, b, ..] = ip.octets();
    match (a, b) {
        (10, _) => prefix >= 8,
        (172, 16..=31) => prefix >= 12,
        (192, 168) => prefix >= 16,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_private_v4;

    #[test]
    fn a_vpc_range_is_private_only_inside_rfc_1918() {
        for cidr in ["10.42.0.0/16", "172.20.0.0/16", "192.168.10.0/24"] {
            assert!(is_private_v4(cidr), "{cidr}");
        }
        for cidr in [
            "3.96.0.0/16",
            "10.0.0.0/7",
            "172.15.0.0/16",
            "192.168.0.0/15",
            "x",
        ] {
            assert!(!is_private_v4(cidr), "{cidr}");
        }
    }
}
