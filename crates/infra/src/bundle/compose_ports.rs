//! Reading a service's `ports:` and `expose:` entries, in both the short
//! (`"127.0.0.1:3000:3000/tcp"`) and the long (`{target, published}`) form.

use super::yaml::scalar_text;
use serde_yaml_ng::Value;

/// One published or exposed port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PortEntry {
    /// The host port or range (`8080`, `8000-8005`), when published.
    pub published: Option<String>,
    /// The container port or range.
    pub target: String,
}

impl PortEntry {
    pub fn targets(&self, port: u16) -> bool {
        in_range(&self.target, port)
    }

    pub fn publishes(&self, port: u16) -> bool {
        self.published.as_deref().is_some_and(|p| in_range(p, port))
    }

    /// The single host port, when there is one.
    pub fn host_port(&self) -> Option<u16> {
        self.published.as_deref()?.parse().ok()
    }
}

pub(super) fn parse_entry(value: &Value) -> Option<PortEntry> {
    match value {
        Value::Mapping(m) => Some(PortEntry {
            published: m
                .get("published")
                .map(scalar_text)
                .map(|p| interpolate_defaults(&p)),
            target: interpolate_defaults(&scalar_text(m.get("target")?)),
        }),
        other => parse_short(&interpolate_defaults(&scalar_text(other))),
    }
}

/// `[ip:][host:]container[/protocol]`; an IPv6 host ip is bracketed.
fn parse_short(text: &str) -> Option<PortEntry> {
    let text = text.split('/').next()?.trim();
    if text.is_empty() {
        return None;
    }
    let text = match text.rfind(']') {
        Some(end) => text[end + 1..].trim_start_matches(':'),
        None => text,
    };
    let parts: Vec<&str> = text.split(':').collect();
    let target = parts.last()?.to_string();
    let published = (parts.len() >= 2)
        .then(|| parts[parts.len() - 2].to_owned())
        .filter(|p| !p.is_empty());
    Some(PortEntry { published, target })
}

/// `${PORT:-3000}` → `3000`; `${PORT}` → ``: what compose sees when the
/// variable is unset, which is the best a static reading can do.
pub(super) fn interpolate_defaults(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        if let Some((_, default)) = inner.split_once(":-").or_else(|| inner.split_once('-')) {
            out.push_str(default);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn in_range(text: &str, port: u16) -> bool {
    match text.split_once('-') {
        Some((low, high)) => match (low.trim().parse::<u16>(), high.trim().parse::<u16>()) {
            (Ok(low), Ok(high)) => (low..=high).contains(&port),
            _ => false,
        },
        None => text.trim().parse::<u16>() == Ok(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(yaml: &str) -> PortEntry {
        parse_entry(&serde_yaml_ng::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn short_and_long_forms_parse() {
        assert_eq!(
            entry("3000"),
            PortEntry {
                published: None,
                target: "3000".into()
            }
        );
        assert_eq!(
            entry("'8080:80'"),
            PortEntry {
                published: Some("8080".into()),
                target: "80".into()
            }
        );
        assert_eq!(entry("'127.0.0.1:5432:5432/tcp'").host_port(), Some(5432));
        assert_eq!(entry("'[::1]:9000:9000'").host_port(), Some(9000));
        assert_eq!(entry("'${WEB_PORT:-8080}:3000'").host_port(), Some(8080));
        assert!(entry("'8000-8005:8000-8005'").publishes(8003));
        assert_eq!(
            entry("{target: 80, published: '8081'}").host_port(),
            Some(8081)
        );
        assert!(entry("{target: 80}").targets(80));
    }
}
