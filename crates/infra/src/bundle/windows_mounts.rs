//! A bind mount of a Windows folder (`D:/data:/data/db`,
//! `C:\Users\me\app:/app`) names a folder of its author's machine. Compose
//! on Linux takes the drive letter's colon for the separator and refuses
//! the whole file ("invalid volume specification"). The folder becomes a
//! named volume at the same place in the container: the service starts,
//! and what it writes there outlives the container, as on its author's
//! machine.

use serde_yaml_ng::{Mapping, Value};

use super::yaml::{s, scalar_text};

/// Turns the service's Windows bind mounts into named volumes, and returns
/// the names of the volumes the file must declare.
pub(super) fn replace(
    service: &mut Mapping,
    name: &str,
    note: &mut dyn FnMut(String),
) -> Vec<String> {
    let Some(Value::Sequence(volumes)) = service.get_mut("volumes") else {
        return Vec::new();
    };
    let mut made = Vec::new();
    for (index, volume) in volumes.iter_mut().enumerate() {
        let volume_name = if index == 0 {
            format!("{name}-data")
        } else {
            format!("{name}-data-{index}")
        };
        let replaced = match volume {
            Value::String(short) => short_form(short).map(|(target, mode)| {
                let was = short.clone();
                *short = match mode {
                    Some(mode) => format!("{volume_name}:{target}:{mode}"),
                    None => format!("{volume_name}:{target}"),
                };
                was
            }),
            Value::Mapping(long) => {
                let source = long.get("source").map(scalar_text).unwrap_or_default();
                let bind = long.get("type").map(scalar_text).as_deref() == Some("bind");
                (bind && is_windows_path(&source)).then(|| {
                    long.insert(s("type"), s("volume"));
                    long.insert(s("source"), s(volume_name.clone()));
                    long.shift_remove("bind");
                    source
                })
            }
            _ => None,
        };
        if let Some(was) = replaced {
            note(format!(
                "Service `{name}` mounted `{was}`, a folder of a Windows machine that this host does not have (Compose on Linux refuses the file): it is the named volume `{volume_name}` at the same place in the container."
            ));
            made.push(volume_name);
        }
    }
    made
}

/// The container path and mode of a short-form mount of a Windows folder
/// (`D:/data:/data/db:ro` → `/data/db`, `ro`).
fn short_form(mount: &str) -> Option<(String, Option<String>)> {
    if !is_windows_path(mount) {
        return None;
    }
    let mut rest = mount[2..].split(':').skip(1);
    let target = rest.next().filter(|t| t.starts_with('/'))?.to_owned();
    let mode = rest.next().map(str::to_owned);
    Some((target, mode))
}

/// `C:/…` or `C:\…`: a drive letter, a colon, a separator.
fn is_windows_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() > 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'/' | b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_of_windows_folders() {
        assert_eq!(
            short_form("D:/data:/data/db"),
            Some(("/data/db".to_owned(), None))
        );
        assert_eq!(
            short_form(r"C:\Users\me\app:/app:ro"),
            Some(("/app".to_owned(), Some("ro".to_owned())))
        );
        assert_eq!(short_form("./data:/data"), None);
        assert_eq!(short_form("db:/var/lib/postgresql/data"), None);
    }
}
