//! A development compose file mounts the repository over the directory its
//! image installed Node packages into (`.:/app` over `/app/node_modules`):
//! the checkout holds no `node_modules`, so the service starts without its
//! packages. An anonymous volume at `<dir>/node_modules` keeps the image's
//! (compose fills it from the image on the first start), and the mounted
//! sources stay, since such an image often holds only its manifests.

use super::app_files::join;
use super::bind_mounts::{bind_mount, repository_dir};
use super::yaml::s;
use super::{AdjustmentKind, existing_compose::Note};
use analysis::Snapshot;
use regex::Regex;
use serde_yaml_ng::{Mapping, Value};
use std::sync::LazyLock;

static NODE_INSTALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?mi)^\s*RUN\b.*\b(?:npm\s+(?:install|i|ci)|yarn(?:\s+install)?|pnpm\s+(?:install|i))\b",
    )
    .expect("valid pattern")
});

/// Adds `<dir>/node_modules` for every repository directory with a
/// `package.json` mounted at `<dir>`, when `dockerfile` installs packages.
pub(super) fn keep_installed_node_modules(
    service: &mut Mapping,
    name: &str,
    compose_dir: &str,
    dockerfile: &str,
    repo: &Snapshot,
    note: &mut Note,
) {
    if !NODE_INSTALL.is_match(dockerfile) {
        return;
    }
    let Some(Value::Sequence(volumes)) = service.get_mut("volumes") else {
        return;
    };
    let targets: Vec<String> = volumes.iter().filter_map(container_path).collect();
    let mut added: Vec<String> = Vec::new();
    let mounts = volumes
        .iter()
        .filter_map(bind_mount)
        .filter_map(|(source, target)| Some((source, target?)));
    for (source, target) in mounts {
        let Some(dir) = repository_dir(compose_dir, &source) else {
            continue;
        };
        let modules = format!("{}/node_modules", target.trim_end_matches('/'));
        let has_manifest = repo.get(&join(&dir, "package.json")).is_some();
        if has_manifest && !targets.contains(&modules) && !added.contains(&modules) {
            added.push(modules);
        }
    }
    if added.is_empty() {
        return;
    }
    volumes.extend(added.iter().map(s));
    note(
        AdjustmentKind::Rewritten,
        format!(
            "Service `{name}` keeps the packages its image installed: an anonymous volume at {} stops the repository's mount hiding them.",
            added.join(", ")
        ),
    );
}

/// Where a volume is mounted in the container, anonymous ones included.
fn container_path(volume: &Value) -> Option<String> {
    match volume {
        Value::String(anonymous) if !anonymous.contains(':') => Some(anonymous.clone()),
        _ => bind_mount(volume).and_then(|(_, target)| target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::yaml::scalar_text;

    fn volumes_after(
        compose_volumes: &str,
        dockerfile: &str,
        files: &[(&str, &str)],
    ) -> Vec<String> {
        let mut service: Mapping =
            serde_yaml_ng::from_str(&format!("volumes: {compose_volumes}")).expect("yaml");
        let repo = Snapshot::from_texts(files.iter().copied());
        let mut notes = Vec::new();
        keep_installed_node_modules(
            &mut service,
            "worker",
            "",
            dockerfile,
            &repo,
            &mut |_, n| notes.push(n),
        );
        service["volumes"]
            .as_sequence()
            .expect("volumes")
            .iter()
            .map(scalar_text)
            .collect()
    }

    const INSTALLS: &str = "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCMD [\"node\", \"worker.js\"]\n";

    #[test]
    fn a_mounted_node_project_keeps_the_images_packages() {
        assert_eq!(
            volumes_after(
                "[\".:/app\", \"data:/data\"]",
                INSTALLS,
                &[("package.json", "{}")]
            ),
            [".:/app", "data:/data", "/app/node_modules"]
        );
        assert_eq!(
            volumes_after(
                "[\"./web/:/srv/web/\"]",
                INSTALLS,
                &[("web/package.json", "{}")]
            ),
            ["./web/:/srv/web/", "/srv/web/node_modules"]
        );
    }

    #[test]
    fn nothing_is_added_without_packages_to_hide() {
        let already = volumes_after(
            "[\".:/app\", \"/app/node_modules\"]",
            INSTALLS,
            &[("package.json", "{}")],
        );
        assert_eq!(already, [".:/app", "/app/node_modules"]);
        let no_install = volumes_after(
            "[\".:/app\"]",
            "FROM node:20\nCOPY . .\n",
            &[("package.json", "{}")],
        );
        assert_eq!(no_install, [".:/app"]);
        let no_manifest = volumes_after("[\"./docs:/docs\"]", INSTALLS, &[("package.json", "{}")]);
        assert_eq!(no_manifest, ["./docs:/docs"]);
        let host_path = volumes_after("[\"/srv/code:/app\"]", INSTALLS, &[("package.json", "{}")]);
        assert_eq!(host_path, ["/srv/code:/app"]);
    }
}
