//! Rules on the app's pods and services in its Kubernetes cluster. The app is
//! the repository's code: a pod with the node's namespaces, its files, added
//! privileges or a service-account token would reach the node and the
//! credentials of its IAM role. So a pod gets what a container needs and no
//! more, and only the app port is exposed through a load balancer.

use hcl::Body;
use hcl::expr::Expression;

use super::Rule;
use super::expr::{as_int, as_str, attr};
use super::structure::Gate;

/// Settings that give a pod or container more than its own sandbox; each
/// must be absent or the literal `false`.
const MUST_BE_FALSE: &[&str] = &[
    "host_network",
    "host_pid",
    "host_ipc",
    "privileged",
    "allow_privilege_escalation",
    "share_process_namespace",
];

/// Blocks that reach past the container: the node's files, and projected
/// volumes, which can hold a service-account token whatever
/// `automount_service_account_token` says.
const FORBIDDEN_BLOCKS: &[&str] = &["host_path", "projected", "service_account_token"];

/// Arguments that reach past the container: a port of the node itself, and
/// a service account of the cluster (a controller's can change anything).
const FORBIDDEN_ARGUMENTS: &[&str] = &[
    "host_port",
    "service_account_name",
    "service_account",
    "node_name",
];

/// The sources a pod's volume may have: scratch space and what the
/// cluster holds for the app. Any other (`nfs`, `iscsi`, `csi`,
/// `git_repo`...) is mounted by the node itself, as root, from wherever
/// it names.
const VOLUME_SOURCES: &[&str] = &["empty_dir", "secret", "config_map"];

/// The only `dynamic` blocks a workload may have: the app's environment.
const DYNAMIC_BLOCKS: &[&str] = &["env"];

/// Service types the app may be exposed with.
const SERVICE_TYPES: &[&str] = &["ClusterIP", "LoadBalancer"];

/// The annotations a Service may carry, with their values.
const SERVICE_ANNOTATIONS: &[(&str, &str)] = &[
    ("service.beta.kubernetes.io/aws-load-balancer-type", "nlb"),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internet-facing",
    ),
];

impl Gate<'_> {
    /// The rules for one `kubernetes_*` resource.
    pub(super) fn workloads(&mut self, kind: &str, address: &str, body: &Body) {
        if !kind.starts_with("kubernetes_") {
            return;
        }
        self.sandboxed(address, body, "");
        if !kind.starts_with("kubernetes_namespace") {
            self.own_namespace(address, body);
        }
        if let Some(template) = body
            .blocks()
            .filter(|b| b.identifier() == "spec")
            .flat_map(|spec| spec.body().blocks())
            .find(|b| b.identifier() == "template")
        {
            let token = template
                .body()
                .blocks()
                .filter(|b| b.identifier() == "spec")
                .filter_map(|spec| attr(spec.body(), "automount_service_account_token"))
                .map(|e| self.resolve(e))
                .next();
            if !matches!(token, Some(Expression::Bool(false))) {
                self.violation(
                    Rule::PodPrivilege,
                    format!("{address}: the pod spec must set automount_service_account_token = false: the app does not talk to the cluster's API, and a token would let the repository's code do so."),
                );
            }
        }
        if kind.starts_with("kubernetes_service") {
            self.service(address, body);
        }
        if kind.starts_with("kubernetes_secret") {
            self.no_token_secret(address, body);
        }
    }

    /// A Secret of type `kubernetes.io/service-account-token` is filled by
    /// the cluster with an API token, which a volume then hands the pod
    /// whatever `automount_service_account_token` says.
    fn no_token_secret(&mut self, address: &str, body: &Body) {
        let kind = attr(body, "type").map(|t| as_str(self.resolve(t)));
        let token = match kind {
            None => false,
            Some(Some(kind)) => kind.contains("service-account-token"),
            Some(None) => true,
        };
        if token {
            self.violation(
                Rule::PodPrivilege,
                format!("{address}: a Secret's type must be a literal other than kubernetes.io/service-account-token: the cluster fills that one with an API token the app could mount."),
            );
        }
    }

    /// Everything goes into the namespace this configuration creates: in
    /// another (`kube-system`) a pod could mount that namespace's secrets.
    fn own_namespace(&mut self, address: &str, body: &Body) {
        let namespace = body
            .blocks()
            .filter(|b| b.identifier() == "metadata")
            .find_map(|m| attr(m.body(), "namespace"));
        if !namespace.is_some_and(|n| is_own_namespace(self.resolve(n))) {
            self.violation(
                Rule::PodPrivilege,
                format!("{address}: metadata.namespace must be this configuration's namespace (kubernetes_namespace_v1.NAME.metadata[0].name); in another, the app could read that namespace's secrets."),
            );
        }
    }

    /// A container's `security_context.capabilities.drop` holds "ALL".
    fn drops_all(&self, container: &Body) -> bool {
        container
            .blocks()
            .filter(|b| b.identifier() == "security_context")
            .flat_map(|b| b.body().blocks())
            .filter(|b| b.identifier() == "capabilities")
            .filter_map(|b| attr(b.body(), "drop"))
            .any(|drop| {
                matches!(self.resolve(drop), Expression::Array(items)
                    if items.iter().any(|i| super::expr::as_str(self.resolve(i)).as_deref() == Some("ALL")))
            })
    }

    /// Walks every nested block of a workload for settings that leave the
    /// container's sandbox.
    fn sandboxed(&mut self, address: &str, body: &Body, path: &str) {
        for key in MUST_BE_FALSE {
            let Some(value) = attr(body, key) else {
                continue;
            };
            if !matches!(self.resolve(value), Expression::Bool(false)) {
                self.violation(
                    Rule::PodPrivilege,
                    format!("{address}: {path}{key} must be absent or the literal false: it gives the repository's code the node's namespaces or privileges."),
                );
            }
        }
        for key in FORBIDDEN_ARGUMENTS {
            if attr(body, key).is_some() {
                self.violation(
                    Rule::PodPrivilege,
                    format!("{address}: {path}{key} reaches past the pod (a port of the node, a node, or a service account of the cluster); the app needs none of them."),
                );
            }
        }
        if let Some(add) = (path.ends_with("capabilities."))
            .then(|| attr(body, "add"))
            .flatten()
            && !matches!(self.resolve(add), Expression::Array(items) if items.is_empty())
        {
            self.violation(
                Rule::PodPrivilege,
                format!("{address}: {path}add must be empty: drop capabilities (drop = [\"ALL\"]), never add them."),
            );
        }
        for block in body.blocks() {
            let name = block.identifier();
            if matches!(name, "container" | "init_container") && !self.drops_all(block.body()) {
                self.violation(
                    Rule::PodPrivilege,
                    format!("{address}: every {path}{name} sets security_context {{ capabilities {{ drop = [\"ALL\"] }} }}: the runtime's defaults (NET_RAW, SETUID, CHOWN…) are more than an app needs."),
                );
            }
            if name == "volume" {
                for source in block.body().blocks().map(|b| b.identifier()) {
                    if !VOLUME_SOURCES.contains(&source) {
                        self.violation(
                            Rule::PodPrivilege,
                            format!("{address}: a {path}volume's {source} is mounted by the node itself, as root, from where it names; a volume is an empty_dir, secret or config_map."),
                        );
                    }
                }
            }
            if FORBIDDEN_BLOCKS.contains(&name) {
                self.violation(
                    Rule::PodPrivilege,
                    format!("{address}: a {path}{name} block mounts the node's files; keep the app inside its container (an empty_dir volume for scratch space)."),
                );
                continue;
            }
            if name == "dynamic" {
                let label = block.labels().first().map(|l| l.as_str()).unwrap_or("");
                if !DYNAMIC_BLOCKS.contains(&label) {
                    self.violation(
                        Rule::PodPrivilege,
                        format!("{address}: a dynamic \"{label}\" block in {path} is not one the gate can read; write the {label} blocks out one by one."),
                    );
                }
            }
            self.sandboxed(address, block.body(), &format!("{path}{name}."));
        }
    }

    /// A service: a type the app needs, no external IPs (they take traffic
    /// meant for other addresses), and from outside only the app port.
    fn service(&mut self, address: &str, body: &Body) {
        self.service_annotations(address, body);
        for spec in body.blocks().filter(|b| b.identifier() == "spec") {
            let spec = spec.body();
            let kind = attr(spec, "type")
                .map(|e| self.resolve(e))
                .map(|e| as_str(e).unwrap_or_default())
                .unwrap_or_else(|| "ClusterIP".to_owned());
            if !SERVICE_TYPES.contains(&kind.as_str()) {
                self.violation(
                    Rule::PodPrivilege,
                    format!("{address}: service type {kind:?} is not one a deployment uses; allowed: {}.", SERVICE_TYPES.join(", ")),
                );
            }
            if attr(spec, "external_ips").is_some() {
                self.violation(
                    Rule::PodPrivilege,
                    format!("{address}: external_ips lets the service take traffic meant for other addresses; remove it."),
                );
            }
            if kind != "LoadBalancer" {
                continue;
            }
            for port in spec.blocks().filter(|b| b.identifier() == "port") {
                let number = attr(port.body(), "port")
                    .map(|e| self.resolve(e))
                    .and_then(as_int);
                let open = number
                    .and_then(|n| u16::try_from(n).ok())
                    .is_some_and(|n| self.policy.world_open_ports.contains(&n));
                if !open {
                    self.violation(
                        Rule::WorldIngress,
                        format!(
                            "{address}: a load balancer opens port {} to the internet; only the app port ({}) may be.",
                            number.map_or("that is not a literal".to_owned(), |n| n.to_string()),
                            self.policy
                                .world_open_ports
                                .iter()
                                .map(u16::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
        }
    }
}

impl Gate<'_> {
    /// A Service's annotations tell AWS's controller what load balancer to
    /// make: an internal one (whose private address the worker's health
    /// check would probe), the account's Elastic IPs or certificate, its
    /// subnets or security groups. Only the template's are allowed, as a
    /// literal object.
    fn service_annotations(&mut self, address: &str, body: &Body) {
        for metadata in body.blocks().filter(|b| b.identifier() == "metadata") {
            let Some(annotations) = attr(metadata.body(), "annotations") else {
                continue;
            };
            let allowed = match self.resolve(annotations) {
                Expression::Object(object) => object.iter().all(|(key, value)| {
                    let key = super::expr::key_text(key);
                    let value = as_str(self.resolve(value));
                    SERVICE_ANNOTATIONS
                        .iter()
                        .any(|(k, v)| key.as_deref() == Some(*k) && value.as_deref() == Some(*v))
                }),
                _ => false,
            };
            if !allowed {
                self.violation(
                    Rule::PodPrivilege,
                    format!(
                        "{address}: a Service's annotations may only be {} (a literal object): others make an internal load balancer, or one on the account's addresses, certificate, subnets or security groups.",
                        SERVICE_ANNOTATIONS
                            .iter()
                            .map(|(k, v)| format!("{k:?} = {v:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
}

/// `kubernetes_namespace_v1.NAME.metadata[0].name` (or of `kubernetes_namespace`).
fn is_own_namespace(expr: &Expression) -> bool {
    use hcl::expr::TraversalOperator as Op;
    let Expression::Traversal(t) = expr else {
        return false;
    };
    let root_is_namespace = matches!(&t.expr, Expression::Variable(v)
        if matches!(v.as_str(), "kubernetes_namespace_v1" | "kubernetes_namespace"));
    root_is_namespace
        && matches!(t.operators.as_slice(), [
            Op::GetAttr(_),
            Op::GetAttr(metadata),
            Op::Index(Expression::Number(n)),
            Op::GetAttr(name),
        ] if metadata.as_str() == "metadata" && n.as_u64() == Some(0) && name.as_str() == "name")
}
