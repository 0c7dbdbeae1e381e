//! A repository compose file that runs several apps (`frontend/`,
//! `backend/`, an nginx in front of both), when the description names the
//! app's folder ("deploy the app in backend/"): the other apps are not the
//! deployment. Their services are left out, and so is a service that waits
//! for one of them (the front that routes to it), since it cannot start
//! without it; the stores stay for the app.

use serde_yaml_ng::{Mapping, Value};

use super::AdjustmentKind;
use super::existing_compose::{Note, build_dir, remove_service};
use super::own_stores::is_store_image;
use super::yaml::scalar_text;

/// Leaves out the services that build one of `other_apps` (repository
/// folders), and those that depend on a service left out.
pub(super) fn drop_other_apps(
    services: &mut Mapping,
    app: &str,
    compose_dir: &str,
    other_apps: &[String],
    note: &mut Note,
) {
    if other_apps.is_empty() {
        return;
    }
    let builds_other_app = |service: &Mapping| {
        build_dir(service, compose_dir).is_some_and(|dir| {
            other_apps
                .iter()
                .any(|other| dir == *other || dir.starts_with(&format!("{other}/")))
        })
    };
    let mut dropped: Vec<String> = services
        .iter()
        .filter(|(name, service)| {
            scalar_text(name) != app && service.as_mapping().is_some_and(builds_other_app)
        })
        .map(|(name, _)| scalar_text(name))
        .collect();
    if dropped.is_empty() {
        return;
    }
    let others = dropped.clone();
    loop {
        let waiting: Vec<String> = services
            .iter()
            .filter_map(|(name, service)| {
                let name = scalar_text(name);
                let service = service.as_mapping()?;
                let store = service
                    .get("image")
                    .map(scalar_text)
                    .is_some_and(|image| is_store_image(&image));
                let waits = depends_on(service).iter().any(|d| dropped.contains(d));
                (name != app && !store && waits && !dropped.contains(&name)).then_some(name)
            })
            .collect();
        if waiting.is_empty() {
            break;
        }
        dropped.extend(waiting);
    }
    for name in &dropped {
        remove_service(services, name);
    }
    let fronts: Vec<&String> = dropped.iter().filter(|d| !others.contains(d)).collect();
    note(
        AdjustmentKind::Rewritten,
        format!(
            "The description names the app's folder, so the file's other apps are left out ({}){}: the deployment runs `{app}` and the stores it uses.",
            others
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if fronts.is_empty() {
                String::new()
            } else {
                format!(
                    ", with what waits for them ({})",
                    fronts
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
    );
}

/// The services a service's `depends_on` names (list or mapping form).
fn depends_on(service: &Mapping) -> Vec<String> {
    match service.get("depends_on") {
        Some(Value::Sequence(items)) => items.iter().map(scalar_text).collect(),
        Some(Value::Mapping(map)) => map.keys().map(scalar_text).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_apps_and_what_waits_for_them_go_and_the_stores_stay() {
        let mut services: Mapping = serde_yaml_ng::from_str(
            "frontend:\n  build: ./frontend\n  ports: ['3000:3000']\nbackend:\n  build: ./backend\n  ports: ['4000:4000']\n  depends_on: [postgres]\npostgres:\n  image: postgres:16\nnginx:\n  image: nginx\n  ports: ['80:80']\n  depends_on:\n    frontend:\n      condition: service_started\n    backend:\n      condition: service_started\n",
        )
        .expect("yaml");
        let mut notes = Vec::new();
        drop_other_apps(
            &mut services,
            "backend",
            "",
            &["frontend".to_owned()],
            &mut |_, n| notes.push(n),
        );
        let left: Vec<String> = services.keys().map(scalar_text).collect();
        assert_eq!(left, ["backend", "postgres"]);
        assert!(
            notes[0].contains("`frontend`") && notes[0].contains("`nginx`"),
            "{notes:?}"
        );
    }

    #[test]
    fn nothing_goes_without_another_app() {
        let yaml =
            "backend:\n  build: ./backend\nworker:\n  build: ./backend\n  depends_on: [backend]\n";
        let mut services: Mapping = serde_yaml_ng::from_str(yaml).expect("yaml");
        drop_other_apps(&mut services, "backend", "", &[], &mut |_, _| {});
        drop_other_apps(
            &mut services,
            "backend",
            "",
            &["docs".to_owned()],
            &mut |_, _| {},
        );
        assert_eq!(services.len(), 2);
    }
}
