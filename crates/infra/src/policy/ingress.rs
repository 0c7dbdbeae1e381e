//! Ingress rules of security groups, in all three forms Terraform has
//! (inline `ingress` blocks or attributes, `aws_security_group_rule`,
//! `aws_vpc_security_group_ingress_rule`): nothing but the app port may be
//! open to the world, and a rule the gate cannot read is not trusted.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hcl::expr::{Expression, TraversalOperator};
use hcl::{Body, Object, ObjectKey};

use super::Rule;
use super::expr::{as_int, as_str, attr, computed_str, labels, root_name};

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
                    ObjectKey::Expression(e) => computed_str(e).as_deref() == Some(key),
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
    prefix_list_key: &'static str,
}

/// The problems of one resource's ingress rules, each rule on its own.
pub(super) fn check(kind: &str, body: &Body, world_ports: &BTreeSet<u16>) -> Vec<Problem> {
    rules(kind, body)
        .iter()
        .filter_map(|rule| rule.verdict(world_ports))
        .collect()
}

/// The ingress rules of a resource, in whichever form `kind` writes them.
fn rules<'a>(kind: &str, body: &'a Body) -> Vec<IngressRule<'a>> {
    match kind {
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
            prefix_list_key: "prefix_list_id",
        }],
        _ => vec![],
    }
}

fn classic<'a>(what: &'static str, fields: Option<Fields<'a>>) -> IngressRule<'a> {
    IngressRule {
        what,
        fields,
        protocol_key: "protocol",
        cidr_keys: ["cidr_blocks", "ipv6_cidr_blocks"],
        prefix_list_key: "prefix_list_ids",
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

    /// The app port alone, over TCP: it may be open to anyone.
    fn app_port_only(&self, fields: &Fields<'_>, world_ports: &BTreeSet<u16>) -> bool {
        matches!(
            self.ports(fields),
            Ports::Range { protocol, from, to }
                if protocol == "tcp"
                    && from == to
                    && u16::try_from(from).is_ok_and(|p| world_ports.contains(&p))
        )
    }

    /// Every CIDR source of the rule, with the argument it is in.
    fn sources<'f>(
        &self,
        fields: &'f Fields<'_>,
    ) -> impl Iterator<Item = (&'static str, Source)> + 'f {
        self.cidr_keys.into_iter().flat_map(move |key| {
            let found = fields.get(key).map(sources).unwrap_or_default();
            found.into_iter().map(move |source| (key, source))
        })
    }

    fn verdict(&self, world_ports: &BTreeSet<u16>) -> Option<Problem> {
        let Some(fields) = &self.fields else {
            return Some(unverifiable(self.what, "its arguments are not literal"));
        };
        if self.app_port_only(fields, world_ports) {
            return None;
        }
        let ports = self.ports(fields);
        let mut doubt = None;
        let mut public = None;
        for (key, source) in self.sources(fields) {
            match source {
                Source::World(cidr) => {
                    return Some(world(self.what, &cidr, &ports, world_ports));
                }
                Source::Unverifiable(why) => {
                    doubt.get_or_insert(format!("{key} is {why}"));
                }
                Source::Range(ip, prefix) => {
                    public.get_or_insert(format!("{ip}/{prefix}"));
                }
                Source::Checked => {}
            }
        }
        if let Some(range) = public {
            return Some(public_range(self.what, &range, &ports, world_ports));
        }
        if fields
            .get(self.prefix_list_key)
            .is_some_and(names_prefix_list)
        {
            return Some(self.prefix_list(&ports, world_ports));
        }
        doubt.map(|why| unverifiable(self.what, &why))
    }

    /// A managed prefix list's entries are not in the configuration: they
    /// can be any CIDR, 0.0.0.0/0 included, and change after the check.
    fn prefix_list(&self, ports: &Ports, world_ports: &BTreeSet<u16>) -> Problem {
        let open: Vec<String> = world_ports.iter().map(u16::to_string).collect();
        Problem {
            rule: Rule::IngressUnverifiable,
            message: format!(
                "{} admits a managed prefix list ({}) on {ports}; a prefix list can hold any CIDR (0.0.0.0/0 too) and be changed after this check, so the gate cannot tell who it lets in. Write the CIDRs literally in {}, reference a security group, or open only tcp port {} to the prefix list.",
                self.what,
                self.prefix_list_key,
                self.cidr_keys[0],
                open.join(", ")
            ),
        }
    }
}

/// Whether a prefix list argument names any list (`[]` and `null` do not).
fn names_prefix_list(expr: &Expression) -> bool {
    match expr {
        Expression::Null => false,
        Expression::Array(items) => items.iter().any(names_prefix_list),
        _ => true,
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

/// A public range narrower than the world: one organisation's addresses,
/// or one rented machine's. deployflow opens nothing but the app port to
/// the public, and a hostile author needs only its own address.
fn public_range(what: &str, cidr: &str, ports: &Ports, world_ports: &BTreeSet<u16>) -> Problem {
    let open: Vec<String> = world_ports.iter().map(u16::to_string).collect();
    Problem {
        rule: Rule::WorldIngress,
        message: format!(
            "{what} admits the public range {cidr} on {ports}; a public address may reach only tcp port {} (whoever holds the range, this configuration's author too, would reach the rest). Admit this deployment's own network ranges or security groups instead, and administer through SSM Session Manager.",
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
    let Some((ip, prefix)) = parsed else {
        return Source::Unverifiable(format!("{cidr:?}, which is not a CIDR"));
    };
    let mapped = ipv4_in_ipv6(ip, prefix);
    let (ip, prefix) = mapped.unwrap_or((ip, prefix));
    // Private ranges reach nothing from the internet, however wide.
    if is_private(ip, prefix) {
        return Source::Checked;
    }
    // Wider than a /24 (IPv6: a /48, one site) is the world: splitting
    // 0.0.0.0/0 into halves must not get past the gate, and a /8 or a /16 of
    // a cloud provider's space is addresses anyone can rent.
    if prefix < world_prefix(ip) {
        let shown = match mapped {
            Some(_) => format!("{cidr} = IPv4 {ip}/{prefix}"),
            None => cidr.to_owned(),
        };
        return Source::World(shown);
    }
    Source::Range(ip, prefix)
}

/// IPv6 blocks whose addresses carry an IPv4 address in the 32 bits after
/// the block's prefix: IPv4-mapped `::ffff:0:0/96` and NAT64 `64:ff9b::/96`
/// (the last 32 bits), 6to4 `2002::/16` (bits 16-47).
const IPV4_IN_IPV6: [(Ipv6Addr, u8); 3] = [
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96),
    (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96),
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16),
];

/// The IPv4 range an IPv6 range admits, when it lies in (or spans) a block
/// of [`IPV4_IN_IPV6`]: `::ffff:0:0/96` is the whole IPv4 internet, and must
/// get the IPv4 checks, not the IPv6 ones.
fn ipv4_in_ipv6(ip: IpAddr, prefix: u8) -> Option<(IpAddr, u8)> {
    let IpAddr::V6(v6) = ip else {
        return None;
    };
    IPV4_IN_IPV6.iter().find_map(|&(block, block_prefix)| {
        let block = IpAddr::V6(block);
        if within(block, block_prefix, ip, prefix) {
            return Some((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
        }
        if !within(ip, prefix, block, block_prefix) {
            return None;
        }
        let embedded = (u128::from(v6) << u32::from(block_prefix)) >> 96;
        let embedded = Ipv4Addr::from(u32::try_from(embedded).expect("32 bits"));
        // A 6to4 range narrower than a /48 is part of one IPv4 address.
        let v4_prefix = (prefix - block_prefix).min(32);
        Some((network(IpAddr::V4(embedded), v4_prefix), v4_prefix))
    })
}

fn world_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 24 } else { 48 }
}

/// Private, loopback and link-local ranges: not reachable from the internet.
const PRIVATE: [(IpAddr, u8); 8] = [
    (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), 8),
    (IpAddr::V4(Ipv4Addr::new(172, 16, 0, 0)), 12),
    (IpAddr::V4(Ipv4Addr::new(192, 168, 0, 0)), 16),
    (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8),
    (IpAddr::V4(Ipv4Addr::new(169, 254, 0, 0)), 16),
    (IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
    (IpAddr::V6(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0)), 7),
    (IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0)), 10),
];

/// The whole range, not just its first address: `192.168.0.0/9` is
/// `192.128.0.0/9`, public.
fn is_private(ip: IpAddr, prefix: u8) -> bool {
    PRIVATE
        .iter()
        .any(|&(block, block_prefix)| within(ip, prefix, block, block_prefix))
}

/// Whether the range `ip/prefix` lies inside `block/block_prefix`.
fn within(ip: IpAddr, prefix: u8, block: IpAddr, block_prefix: u8) -> bool {
    ip.is_ipv4() == block.is_ipv4()
        && prefix >= block_prefix
        && network(ip, block_prefix) == network(block, block_prefix)
}

/// The first address of `ip/prefix`: `1.2.3.4/8` is `1.0.0.0/8`.
fn network(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_PORT: u16 = 8080;

    fn app_port() -> BTreeSet<u16> {
        BTreeSet::from([APP_PORT])
    }

    /// A security group with one inline `ingress` block per CIDR.
    fn group(port: u16, cidrs: impl IntoIterator<Item = String>) -> Body {
        let blocks: String = cidrs
            .into_iter()
            .map(|cidr| {
                format!(
                    "ingress {{\n  from_port = {port}\n  to_port = {port}\n  protocol = \"tcp\"\n  cidr_blocks = [\"{cidr}\"]\n}}\n"
                )
            })
            .collect();
        hcl::parse(&format!("name = \"g\"\n{blocks}")).expect("valid HCL")
    }

    #[test]
    fn a_public_range_on_more_than_the_app_port_is_refused() {
        for (port, cidr) in [
            (22, "198.51.100.7/32"),
            (22, "203.0.113.0/24"),
            (3389, "198.51.100.0/25"),
            (5432, "2001:db8:1234::/48"),
        ] {
            let problems = check(
                "aws_security_group",
                &group(port, [cidr.to_owned()]),
                &app_port(),
            );
            assert_eq!(problems.len(), 1, "{cidr}");
            assert_eq!(problems[0].rule, Rule::WorldIngress);
            assert!(
                problems[0].message.contains(cidr),
                "{}",
                problems[0].message
            );
        }
        let every_port =
            hcl::parse("ip_protocol = \"-1\"\ncidr_ipv4 = \"198.51.100.7/32\"\n").unwrap();
        let problems = check(
            "aws_vpc_security_group_ingress_rule",
            &every_port,
            &app_port(),
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].rule, Rule::WorldIngress);
    }

    #[test]
    fn a_cloud_providers_slash_8_or_slash_16_is_the_world() {
        for cidr in ["3.0.0.0/8", "52.94.0.0/16", "2600:1f18::/32"] {
            let all = group(22, [cidr.to_owned()]);
            let problems = check("aws_security_group", &all, &app_port());
            assert_eq!(problems.len(), 1, "{cidr}");
            assert_eq!(problems[0].rule, Rule::WorldIngress);
            assert!(
                problems[0].message.contains("the internet"),
                "{}",
                problems[0].message
            );
        }
    }

    #[test]
    fn the_app_port_from_anywhere_and_private_ranges_on_any_port_pass() {
        let app = group(APP_PORT, ["0.0.0.0/0".to_owned(), "::/0".to_owned()]);
        let narrow_app = group(APP_PORT, ["203.0.113.0/24".to_owned()]);
        let private = group(22, ["10.0.0.0/8".to_owned(), "172.16.0.0/12".to_owned()]);
        for body in [&app, &narrow_app, &private] {
            assert!(check("aws_security_group", body, &app_port()).is_empty());
        }
    }

    #[test]
    fn a_range_named_by_a_private_address_is_private_only_within_the_block() {
        assert!(is_private("192.168.0.0".parse().unwrap(), 16));
        assert!(!is_private("192.168.0.0".parse().unwrap(), 9));
        assert!(!is_private("172.16.0.0".parse().unwrap(), 8));
    }

    #[test]
    fn ipv6_ranges_that_carry_ipv4_addresses_are_their_ipv4_range() {
        let mapped = |cidr: &str| {
            let (ip, prefix) = cidr.split_once('/').unwrap();
            ipv4_in_ipv6(ip.parse().unwrap(), prefix.parse().unwrap())
                .map(|(ip, prefix)| format!("{ip}/{prefix}"))
        };
        assert_eq!(mapped("::ffff:0:0/96").as_deref(), Some("0.0.0.0/0"));
        assert_eq!(mapped("::ffff:10.0.0.0/104").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(mapped("64:ff9b::/97").as_deref(), Some("0.0.0.0/1"));
        assert_eq!(mapped("2002:0102::/24").as_deref(), Some("1.0.0.0/8"));
        assert_eq!(mapped("2002::/23").as_deref(), Some("0.0.0.0/7"));
        assert_eq!(mapped("2002:102:304::/64").as_deref(), Some("1.2.3.4/32"));
        // Wider ranges that hold a whole block reach all of IPv4.
        assert_eq!(mapped("::/64").as_deref(), Some("0.0.0.0/0"));
        assert_eq!(mapped("2001:db8::/32"), None);
        assert_eq!(mapped("10.0.0.0/8"), None);
    }
}
