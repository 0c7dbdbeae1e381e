//! Which addresses a cloud deployment's health check may reach. The URL it
//! probes is a Terraform output, and the Terraform may be a model's: an
//! `app_url` naming the instance metadata service, the control plane's own
//! database or anything on the worker's network would make the worker send
//! requests there. Only globally routable addresses are probed, checked after
//! every resolution (so a name that resolves elsewhere later is caught too).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is reachable on the public internet: not loopback, private,
/// link-local, shared (CGNAT), documentation, benchmarking, multicast or
/// reserved space, nor such an address carried inside IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space, RFC 6598
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking, RFC 2544
        || a >= 240; // reserved
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    let special = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0100 && ip.segments()[1..4] == [0, 0, 0]); // discard-only
    !special
}

/// The IPv4 address an IPv6 one stands for: mapped (`::ffff:a.b.c.d`),
/// compatible (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let high_zero = s[..5] == [0; 5];
    let mapped = high_zero && s[5] == 0xffff;
    let compatible = high_zero && s[5] == 0 && !ip.is_loopback() && !ip.is_unspecified();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (mapped || compatible || nat64).then_some(low)
}

/// What a name resolved to, as the health check judges it.
#[derive(Debug)]
pub enum Resolution {
    Public(Vec<SocketAddr>),
    /// It resolved, but to no public address.
    NonPublic(Vec<IpAddr>),
    /// It did not resolve (yet: a new load balancer's name takes a while).
    Failed(std::io::Error),
}

pub async fn resolve(host: &str) -> Resolution {
    let all: Vec<SocketAddr> = match tokio::net::lookup_host((host, 0)).await {
        Ok(addresses) => addresses.collect(),
        Err(error) => return Resolution::Failed(error),
    };
    let public: Vec<SocketAddr> = all.iter().copied().filter(|a| is_public(a.ip())).collect();
    if public.is_empty() {
        Resolution::NonPublic(all.iter().map(SocketAddr::ip).collect())
    } else {
        Resolution::Public(public)
    }
}

/// A resolver that answers only with public addresses, failing a name that
/// resolves to none: the client connects only where [`resolve`] allowed,
/// whatever the name resolves to by the time it connects.
#[derive(Debug, Default, Clone, Copy)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            match resolve(&host).await {
                Resolution::Public(addresses) => Ok(Box::new(addresses.into_iter()) as Addrs),
                Resolution::NonPublic(addresses) => {
                    Err(non_public_message(&host, &addresses).into())
                }
                Resolution::Failed(error) => Err(error.into()),
            }
        })
    }
}

pub fn non_public_message(host: &str, addresses: &[IpAddr]) -> String {
    let listed: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
    format!(
        "{host} resolves only to non-public addresses ({}): a cloud deployment's health check probes only the internet",
        listed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn internal_and_special_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.31.0.9",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.0.170",
            "240.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(!public(internal), "{internal} counted as public");
        }
    }

    #[tokio::test]
    async fn a_name_of_this_machine_resolves_to_nothing_public() {
        match resolve("localhost").await {
            Resolution::NonPublic(addresses) => {
                assert!(addresses.iter().all(IpAddr::is_loopback), "{addresses:?}")
            }
            other => panic!("localhost resolved to {other:?}"),
        }
    }

    #[test]
    fn internet_addresses_are_public() {
        for internet in [
            "3.5.140.2",
            "52.94.236.248",
            "100.128.0.1",
            "172.32.0.1",
            "2600:1f18::1",
            "::ffff:54.1.2.3",
        ] {
            assert!(public(internet), "{internet} counted as internal");
        }
    }
}
