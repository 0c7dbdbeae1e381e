//! A compose volume entry read one way for every rule that looks at bind
//! mounts: its source and container path (`./src:/app:ro`, or the long
//! form with `type: bind`), and the repository folder a source names.

use super::app_files::join;
use super::yaml::scalar_text;
use serde_yaml_ng::Value;

/// The source and, when it names one, the container path of a volume
/// entry: any short entry (a named or anonymous volume's source is no
/// repository path, see [`repository_dir`]), a long one of `type: bind`.
pub(super) fn bind_mount(volume: &Value) -> Option<(String, Option<String>)> {
    match volume {
        Value::String(short) => {
            let mut parts = short.split(':');
            let source = parts.next()?.to_owned();
            Some((source, parts.next().map(str::to_owned)))
        }
        Value::Mapping(long) if long.get("type").map(scalar_text).as_deref() == Some("bind") => {
            Some((
                long.get("source").map(scalar_text)?,
                long.get("target").map(scalar_text),
            ))
        }
        _ => None,
    }
}

/// The repository folder or file a source names, relative to the compose
/// file's directory: `.`, `./src`, `..`, `../` (a file in `docker/`
/// mounting the repository), `${PWD}/…`; `None` for a host path, a named
/// volume, or a path outside the checkout.
pub(super) fn repository_dir(compose_dir: &str, source: &str) -> Option<String> {
    let relative = source
        .strip_prefix("${PWD}")
        .or_else(|| source.strip_prefix("$PWD"))
        .map_or(source.to_owned(), |rest| format!(".{rest}"));
    let of_checkout = relative == "."
        || relative == ".."
        || relative.starts_with("./")
        || relative.starts_with("../");
    let dir = join(compose_dir, &relative);
    (of_checkout && !dir.starts_with("..")).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_of_the_checkout_are_told_from_the_rest() {
        assert_eq!(repository_dir("docker", "../").as_deref(), Some(""));
        assert_eq!(repository_dir("", "${PWD}/web").as_deref(), Some("web"));
        assert_eq!(
            repository_dir("", "./db/init.sql").as_deref(),
            Some("db/init.sql")
        );
        for outside in ["data", "/srv/code", "../elsewhere"] {
            assert_eq!(repository_dir("", outside), None, "{outside}");
        }
        let long: Value =
            serde_yaml_ng::from_str("{type: bind, source: ./src, target: /app/src}").expect("yaml");
        assert_eq!(
            bind_mount(&long),
            Some(("./src".to_owned(), Some("/app/src".to_owned())))
        );
        let named: Value =
            serde_yaml_ng::from_str("{type: volume, source: data, target: /data}").expect("yaml");
        assert_eq!(bind_mount(&named), None);
    }
}
