//! Reasons a person can act on, read from what Docker printed: the
//! Dockerfile step that failed, and where the app listens when it does not
//! answer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why the image did not build: the Dockerfile step that failed, its exit
/// code, and the last lines before it.
pub(crate) fn build_failure(lines: &[String]) -> String {
    let step = lines
        .iter()
        .rev()
        .find_map(|l| dockerfile_step(l))
        .map(|s| format!(" at `{s}`"))
        .unwrap_or_default();
    let code = lines.iter().rev().find_map(|l| exit_code(l));
    let code = code
        .map(|c| format!(" (exit code {c})"))
        .unwrap_or_default();
    let tail: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty() && dockerfile_step(l).is_none())
        .filter(|l| !is_builder_chatter(l))
        .collect();
    let tail = &tail[tail.len().saturating_sub(8)..];
    let hint = if lines.iter().any(|l| needs_buildkit(l)) {
        "; the Dockerfile uses BuildKit syntax (`COPY --link`, `RUN --mount`…), which the classic builder cannot read: isolated builds use the classic builder (only it runs `RUN` on the build network), so this Dockerfile builds only with BUILD_ISOLATION=off and the buildx component (Debian: docker-buildx) on the engine's host"
    } else if lines
        .iter()
        .any(|l| l.contains("not supported by buildkit"))
    {
        "; this engine's Compose builds with BuildKit, whose `RUN` steps cannot join the isolated build network: give deployflow a Compose that honours DOCKER_BUILDKIT=0 (the standalone docker-compose through COMPOSE_BIN, or a Compose v2 that still has the classic builder), or build unisolated with BUILD_ISOLATION=off"
    } else if lines.iter().any(|l| base_image_unreachable(l)) {
        "; a base image could not be pulled: the engine's registry is out of its reach or does not hold that image (BASE_IMAGE_REGISTRY names a mirror that holds the base images)"
    } else if lines.iter().any(|l| refused_by_egress_proxy(l)) {
        "; the build asked for a host that is not on the build network's allow-list (the egress proxy answered 403): add it to BUILD_EGRESS_ALLOW if it is a source you trust"
    } else {
        ""
    };
    format!(
        "the image did not build{step}{code}{hint}; its last lines:\n{}",
        tail.join("\n")
    )
}

/// The classic builder refusing an instruction flag only BuildKit knows.
fn needs_buildkit(line: &str) -> bool {
    line.contains("Unknown flag: link")
        || line.contains("Unknown flag: mount")
        || line.contains("Unknown flag: chmod")
        || line.contains("Unknown flag: exclude")
        || line.contains("Unknown flag: parents")
        || line.contains("Unknown flag: network")
        || line.contains("Unknown flag: security")
        || line.contains("requires BuildKit")
}

/// The engine failing to pull a `FROM` image: refused, unknown, or its
/// registry out of reach.
fn base_image_unreachable(line: &str) -> bool {
    line.contains("pull access denied")
        || line.contains("manifest unknown")
        || line.contains("failed to resolve reference")
        || (line.contains("Error response from daemon: Get ") && line.contains("/v2/"))
}

/// A client told by the build network's proxy that a host is not allowed
/// (tinyproxy answers `403 Filtered`; curl and pip say so in their words).
fn refused_by_egress_proxy(line: &str) -> bool {
    line.contains("403 Filtered")
        || line.contains("CONNECT tunnel failed, response 403")
        || line.contains("Tunnel connection failed: 403")
}

/// The classic builder's own progress lines, which say nothing of the failure.
fn is_builder_chatter(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("--->")
        || line.starts_with("Removing intermediate container")
        || line.starts_with("Running in ")
        || line.starts_with("DEPRECATED")
        || line.starts_with("BuildKit is")
        || line.starts_with("environment-variable")
        || line.starts_with("Sending build context")
        || line.starts_with("Building ")
        || line.starts_with("Install the buildx component")
        || line == "https://docs.docker.com/go/buildx/"
}

/// `Step 4/9 : RUN pip install …` (the classic builder) or `#8 [build 4/6]
/// RUN npm ci` (BuildKit) → the instruction.
fn dockerfile_step(line: &str) -> Option<&str> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("Step ") {
        return rest.split_once(" : ").map(|(_, step)| step.trim());
    }
    let rest = line.strip_prefix('#')?;
    let (_, rest) = rest.split_once(" [")?;
    let (_, step) = rest.split_once("] ")?;
    Some(step.trim())
}

fn exit_code(line: &str) -> Option<i64> {
    for marker in ["returned a non-zero code: ", "exit code: "] {
        if let Some((_, rest)) = line.split_once(marker) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(code) = digits.parse() {
                return Some(code);
            }
        }
    }
    None
}

/// The listening TCP sockets in `/proc/net/tcp` and `/proc/net/tcp6` text.
pub(super) fn listening(proc_net_tcp: &str) -> Vec<(IpAddr, u16)> {
    let mut found = Vec::new();
    for line in proc_net_tcp.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // sl local_address rem_address st …; 0A is LISTEN.
        if fields.len() < 4 || fields[3] != "0A" {
            continue;
        }
        let Some((addr, port)) = fields[1].split_once(':') else {
            continue;
        };
        let (Some(ip), Ok(port)) = (hex_ip(addr), u16::from_str_radix(port, 16)) else {
            continue;
        };
        if !found.contains(&(ip, port)) {
            found.push((ip, port));
        }
    }
    found
}

/// The kernel prints addresses as host-order 32-bit words in hex.
fn hex_ip(hex: &str) -> Option<IpAddr> {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    match words.as_slice() {
        [v4] => Some(IpAddr::V4(Ipv4Addr::from(v4.to_le_bytes()))),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (i, word) in [a, b, c, d].iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
            }
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

/// Why nothing answers on `port` from outside the container, judged from
/// where the app does listen; `None` when the sockets do not tell.
pub(super) fn not_answering(sockets: &[(IpAddr, u16)], port: u16) -> Option<String> {
    if sockets.is_empty() {
        return Some(format!(
            "nothing listens on any TCP port inside the container (expected port {port})"
        ));
    }
    let on_port: Vec<&IpAddr> = sockets
        .iter()
        .filter(|(_, p)| *p == port)
        .map(|(ip, _)| ip)
        .collect();
    if !on_port.is_empty() {
        if on_port.iter().all(|ip| ip.is_loopback()) {
            return Some(format!(
                "the app listens on {}:{port} inside the container, which is loopback only: it must listen on 0.0.0.0 to be reached",
                on_port[0]
            ));
        }
        return None;
    }
    let others: Vec<String> = sockets
        .iter()
        .map(|(ip, p)| match ip {
            IpAddr::V6(_) => format!("[{ip}]:{p}"),
            IpAddr::V4(_) => format!("{ip}:{p}"),
        })
        .collect();
    Some(format!(
        "the app listens on {} inside the container, not on port {port}, where it is published",
        others.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failed_step_and_its_exit_code_are_named() {
        let lines: Vec<String> = [
            "Step 3/9 : COPY requirements*.txt ./",
            " ---> 1f2e",
            "Step 4/9 : RUN /opt/venv/bin/pip install -r requirements.txt",
            "ERROR: Could not find a version that satisfies the requirement flask==99",
            "ERROR: Service 'app' failed to build : The command '/bin/sh -c /opt/venv/bin/pip install -r requirements.txt' returned a non-zero code: 1",
        ]
        .map(String::from)
        .to_vec();
        let reason = build_failure(&lines);
        assert!(
            reason.starts_with("the image did not build at `RUN /opt/venv/bin/pip install -r requirements.txt` (exit code 1)"),
            "{reason}"
        );
        assert!(reason.contains("flask==99"), "{reason}");
        assert_eq!(
            dockerfile_step("#9 [build 4/6] RUN npm ci"),
            Some("RUN npm ci")
        );
    }

    #[test]
    fn buildkit_syntax_on_the_classic_builder_is_named() {
        let lines: Vec<String> = [
            "DEPRECATED: The legacy builder is deprecated and will be removed in a future release.",
            "            Install the buildx component to build images with BuildKit:",
            "            https://docs.docker.com/go/buildx/",
            "Error response from daemon: dockerfile parse error line 24: Unknown flag: link",
        ]
        .map(String::from)
        .to_vec();
        let reason = build_failure(&lines);
        assert!(reason.contains("BuildKit syntax"), "{reason}");
        assert!(reason.contains("docker-buildx"), "{reason}");
        assert!(!reason.contains("Install the buildx component"), "{reason}");
        assert!(reason.ends_with("Unknown flag: link"), "{reason}");
    }

    #[test]
    fn a_base_image_out_of_reach_is_named_above_the_builders_warnings() {
        let lines: Vec<String> = [
            "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host",
            "DEPRECATED: The legacy builder is deprecated and will be removed in a future release.",
            "            Install the buildx component to build images with BuildKit:",
            "            https://docs.docker.com/go/buildx/",
        ]
        .map(String::from)
        .to_vec();
        let reason = build_failure(&lines);
        assert!(
            reason.contains("a base image could not be pulled"),
            "{reason}"
        );
        assert!(reason.contains("BASE_IMAGE_REGISTRY"), "{reason}");
        assert!(reason.ends_with("no such host"), "{reason}");
        assert!(!reason.contains("buildx"), "{reason}");
    }

    #[test]
    fn a_compose_that_builds_only_with_buildkit_is_named() {
        let lines: Vec<String> =
            ["failed to solve: network mode \"deployflow-builds\" not supported by buildkit"]
                .map(String::from)
                .to_vec();
        let reason = build_failure(&lines);
        assert!(reason.contains("COMPOSE_BIN"), "{reason}");
        assert!(reason.contains("BUILD_ISOLATION=off"), "{reason}");
    }

    #[test]
    fn a_host_the_egress_proxy_refused_is_named() {
        let lines: Vec<String> = [
            "Step 4/6 : RUN pip install --index-url https://pkgs.corp.example/simple app",
            "WARNING: Retrying after connection broken by 'ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 403 Filtered'))'",
            "ERROR: No matching distribution found for app",
            "The command '/bin/sh -c pip install app' returned a non-zero code: 1",
        ]
        .map(String::from)
        .to_vec();
        let reason = build_failure(&lines);
        assert!(reason.contains("BUILD_EGRESS_ALLOW"), "{reason}");
        assert!(reason.contains("exit code 1"), "{reason}");
    }

    #[test]
    fn loopback_and_other_ports_are_told_apart() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
                   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1\n\
                   1: 00000000:1F90 0100007F:1234 01 00000000:00000000 00:00000000 00000000  1000        0 2 1\n";
        let sockets = listening(tcp);
        assert_eq!(sockets, vec![("127.0.0.1".parse().unwrap(), 5000)]);
        let loopback = not_answering(&sockets, 5000).unwrap();
        assert!(loopback.contains("127.0.0.1:5000"), "{loopback}");
        let elsewhere = not_answering(&sockets, 8000).unwrap();
        assert!(elsewhere.contains("not on port 8000"), "{elsewhere}");
        let tcp6 =
            "0: 00000000000000000000000000000000:1F40 00000000000000000000000000000000:0000 0A 0\n";
        assert_eq!(listening(tcp6), vec![("::".parse().unwrap(), 8000)]);
        assert_eq!(not_answering(&listening(tcp6), 8000), None);
    }
}
