//! Ingress rules of security groups, in all three forms Terraform has
//! (inline `ingress` blocks or attributes, `aws_security_group_rule`,
//! `aws_vpc_security_group_ingress_rule`): nothing but the app port may be
//! open to the world, and a rule the gate cannot read is not trusted.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use hcl::expr::{Expression, TraversalOperator};
use hcl::{Body, Object, ObjectKey};

use super::Rule;
use super::expr::{as_int, as_str, attr, labels, root_name};

/// A violation found in one resource; the caller prefixes the address.
pub(super) struct Problem {
    pub rule: Rule,
    pub message: String,
}

/// Where a rule's arguments come from: a block body or an object literal.
enum Fields<'a> {
    Body(&'a Body),
    Object(&'a Object<ObjectKey, Expression>),
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Expression> {
        match self {
            Fields::Body(body) => attr(body, key),
            Fields::Object(object) => object
                .iter()
                .find(|(k, _)| match k {
                    ObjectKey::Identifier(ident) => ident.as_str() == key,
                    ObjectKey::Expression(e) => as_str(e).as_deref() == Some(key),
                    _ => false,
                })
                .map(|(_, v)| v),
        }
    }
}

/// One ingress rule, read from whichever form it was written in.
struct IngressRule<'a> {
    what: &'static str,
    fields: Option<Fields<'a>>,
    protocol_key: &'static str,
    cidr_keys: [&'static str; 2],
}

pub(super) fn check(kind: &str, body: &Body, world_ports: &BTreeSet<u16>) -> Vec<Problem> {
    let rules = match kind {
        "aws_security_group" | "aws_default_security_group" => inline_rules(body),
        "aws_security_group_rule" => match attr(body, "type").and_then(as_str).as_deref() {
            Some("egress") => vec![],
            Some("ingress") => vec![classic("ingress rule", Some(Fields::Body(body)))],
            _ => vec![classic(
                "rule whose type is not a literal \"ingress\" or \"egress\"",
                None,
            )],
        },
        "aws_vpc_security_group_ingress_rule" => vec![IngressRule {
            what: "ingress rule",
            fields: Some(Fields::Body(body)),
            protocol_key: "ip_protocol",
            cidr_keys: ["cidr_ipv4", "cidr_ipv6"],
        }],
        _ => vec![],
    };
    rules
        .iter()
        .filter_map(|rule| rule.verdict(world_ports))
        .collect()
}

fn classic<'a>(what: &'static str, fields: Option<Fields<'a>>) -> IngressRule<'a> {
    IngressRule {
        what,
        fields,
        protocol_key: "protocol",
        cidr_keys: ["cidr_blocks", "ipv6_cidr_blocks"],
    }
}

/// `ingress { }` blocks, `dynamic "ingress" { content { } }` and the
/// `ingress = [{ }]` attribute form of an `aws_security_group`.
fn inline_rules(body: &Body) -> Vec<IngressRule<'_>> {
    let mut rules = Vec::new();
    for block in body.blocks() {
        match (block.identifier(), labels(block).as_slice()) {
            ("ingress", _) => {
                rules.push(classic("ingress block", Some(Fields::Body(block.body()))))
            }
            ("dynamic", ["ingress", ..]) => {
                let content = block.body().blocks().find(|b| b.identifier() == "content");
                rules.push(classic(
                    "dynamic ingress block",
                    content.map(|c| Fields::Body(c.body())),
                ));
            }
            _ => {}
        }
    }
    match attr(body, "ingress") {
        None => {}
        Some(Expression::Array(items)) => {
            for item in items {
                let fields = match item {
                    Expression::Object(object) => Some(Fields::Object(object)),
                    _ => None,
                };
                rules.push(classic("ingress entry", fields));
            }
        }
        Some(_) => rules.push(classic(
            "ingress attribute that is not a literal list",
            None,
        )),
    }
    rules
}

enum Ports {
    All,
    Range {
        protocol: String,
        from: i64,
        to: i64,
    },
    Unknown,
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ports::All => f.write_str("all protocols and ports"),
            Ports::Range { protocol, from, to } if from == to => {
                write!(f, "{protocol} port {from}")
            }
            Ports::Range { protocol, from, to } => write!(f, "{protocol} ports {from}-{to}"),
            Ports::Unknown => f.write_str("ports that are not literals"),
        }
    }
}

impl Ports {
    fn includes_ssh(&self) -> bool {
        match self {
            Ports::All | Ports::Unknown => true,
            Ports::Range { protocol, from, to } => protocol == "tcp" && (*from..=*to).contains(&22),
        }
    }
}

/// What a rule admits traffic from.
enum Source {
    World(String),
    Unverifiable(String),
    /// A public range narrower than the world threshold.
    Range(IpAddr, u8),
    Checked,
}

impl IngressRule<'_> {
    fn ports(&self, fields: &Fields<'_>) -> Ports {
        let Some(protocol) = fields.get(self.protocol_key).and_then(as_str) else {
            return Ports::Unknown;
        };
        let protocol = match protocol.to_ascii_lowercase().as_str() {
            "-1" | "all" => return Ports::All,
            "6" | "tcp" => "tcp".to_owned(),
            "17" | "udp" => "udp".to_owned(),
            other => other.to_owned(),
        };
        let port = |key| fields.get(key).and_then(as_int);
        match (port("from_port"), port("to_port")) {
            (Some(from), Some(to)) => Ports::Range { protocol, from, to },
            _ => Ports::Unknown,
        }
    }

    fn verdict(&self, world_ports: &BTreeSet<u16>) -> Option<Problem> {
        let Some(fields) = &self.fields else {
            return Some(unverifiable(self.what, "its arguments are not literal"));
        };
        let ports = self.ports(fields);
        if let Ports::Range { protocol, from, to } = &ports
            && protocol == "tcp"
            && from == to
            && u16::try_from(*from).is_ok_and(|p| world_ports.contains(&p))
        {
            return None;
        }
        let mut doubt = None;
        let mut public = Coverage::default();
        for key in self.cidr_keys {
            for source in fields.get(key).map(sources).unwrap_or_default() {
                match source {
                    Source::World(cidr) => {
                        return Some(world(self.what, &cidr, &ports, world_ports));
                    }
                    Source::Unverifiable(why) => {
                        doubt.get_or_insert(format!("{key} is {why}"));
                    }
                    Source::Range(ip, prefix) => public.add(ip, prefix),
                    Source::Checked => {}
                }
            }
        }
        if let Some(union) = public.world() {
            return Some(world(self.what, &union, &ports, world_ports));
        }
        doubt.map(|why| unverifiable(self.what, &why))
    }
}

fn world(what: &str, cidr: &str, ports: &Ports, world_ports: &BTreeSet<u16>) -> Problem {
    let open: Vec<String> = world_ports.iter().map(u16::to_string).collect();
    let ssh = if ports.includes_ssh() {
        " This includes SSH (22): administer through SSM Session Manager instead."
    } else {
        ""
    };
    Problem {
        rule: Rule::WorldIngress,
        message: format!(
            "{what} admits {cidr} (the internet) on {ports}; only tcp port {} may be open to the world. Narrow the source or the ports.{ssh}",
            open.join(", ")
        ),
    }
}

fn unverifiable(what: &str, why: &str) -> Problem {
    Problem {
        rule: Rule::IngressUnverifiable,
        message: format!(
            "{what}: {why}, so the gate cannot tell whether it opens more than the app port to the world; write literal CIDRs, ports and protocol (or reference security groups / resources)."
        ),
    }
}

fn sources(expr: &Expression) -> Vec<Source> {
    match expr {
        Expression::Null => vec![],
        Expression::Array(items) => items.iter().flat_map(sources).collect(),
        _ if is_network_range(expr) => vec![Source::Checked],
        Expression::Traversal(_) | Expression::Variable(_) => vec![Source::Unverifiable(
            "a reference to something other than a VPC's or subnet's own address range (a tag or output can hold any CIDR)".to_owned(),
        )],
        _ => match as_str(expr) {
            Some(cidr) => vec![classify(&cidr)],
            None => vec![Source::Unverifiable(
                "computed (a variable, local, function or iterator)".to_owned(),
            )],
        },
    }
}

/// `aws_vpc.main.cidr_block`, `aws_subnet.a.ipv6_cidr_block`,
/// `data.aws_vpc.this.cidr_block`: ranges AWS itself bounds (a VPC is at
/// most a /16, its IPv6 block a /56).
fn is_network_range(expr: &Expression) -> bool {
    let Expression::Traversal(traversal) = expr else {
        return false;
    };
    let names: Vec<&str> = std::iter::once(root_name(expr).unwrap_or_default())
        .chain(traversal.operators.iter().filter_map(|op| match op {
            TraversalOperator::GetAttr(name) => Some(name.as_str()),
            _ => None,
        }))
        .collect();
    let (kind, attribute) = match names.as_slice() {
        ["data", kind, _, attribute] | [kind, _, attribute] => (*kind, *attribute),
        _ => return false,
    };
    matches!(kind, "aws_vpc" | "aws_subnet" | "aws_default_vpc")
        && matches!(attribute, "cidr_block" | "ipv6_cidr_block")
}

fn classify(cidr: &str) -> Source {
    let parsed = cidr.split_once('/').and_then(|(ip, prefix)| {
        let ip: IpAddr = ip.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some((ip, prefix))
    });
    match parsed {
        // Wider than a /8 (IPv6: a /32, one provider's allocation) is the
        // world: splitting 0.0.0.0/0 into halves must not get past the gate.
        Some((ip, prefix)) if prefix < world_prefix(ip) => Source::World(cidr.to_owned()),
        Some((ip, _)) if is_private(ip) => Source::Checked,
        Some((ip, prefix)) => Source::Range(ip, prefix),
        None => Source::Unverifiable(format!("{cidr:?}, which is not a CIDR")),
    }
}

fn world_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 8 } else { 32 }
}

/// Private, loopback and link-local addresses: not reachable from the internet.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// How much of the public internet a rule's ranges cover together: several
/// /8s side by side are as open as one wider block.
#[derive(Default)]
struct Coverage {
    v4_addresses: u128,
    v6_addresses: u128,
    ranges: Vec<String>,
}

impl Coverage {
    fn add(&mut self, ip: IpAddr, prefix: u8) {
        let (count, width) = match ip {
            IpAddr::V4(_) => (&mut self.v4_addresses, 32),
            IpAddr::V6(_) => (&mut self.v6_addresses, 128),
        };
        // Below the world threshold here, so the shift is at most 2^96.
        *count = count.saturating_add(1u128 << (width - u32::from(prefix)));
        self.ranges.push(format!("{ip}/{prefix}"));
    }

    /// The ranges, when together they cover more than one world-threshold
    /// block (a /8, or a /32 for IPv6).
    fn world(&self) -> Option<String> {
        let v4_limit = 1u128 << (32 - u32::from(world_prefix(IpAddr::from([0u8; 4]))));
        let v6_limit = 1u128 << (128 - u32::from(world_prefix(IpAddr::from([0u16; 8]))));
        (self.v4_addresses > v4_limit || self.v6_addresses > v6_limit)
            .then(|| format!("{} together", self.ranges.join(" + ")))
    }
}
