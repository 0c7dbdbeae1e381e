//! A web server in front of the app that hands it requests over FastCGI
//! (nginx's `fastcgi_pass app:9000`, the usual companion of a PHP-FPM
//! image). The app deployflow runs answers HTTP itself, so such a front
//! answers nothing but errors, on a port of its own: it is left out, and
//! the app is published directly.

use analysis::Snapshot;
use serde_yaml_ng::{Mapping, Value};

use super::AdjustmentKind;
use super::bind_mounts::{bind_mount, repository_dir};
use super::existing_compose::{Note, build_dir, remove_service};
use super::yaml::scalar_text;

/// Leaves out every service whose configuration passes FastCGI to `app`.
pub(super) fn drop_fastcgi_fronts(
    services: &mut Mapping,
    app: &str,
    compose_dir: &str,
    repo: &Snapshot,
    note: &mut Note,
) {
    let app_context = services
        .get(app)
        .and_then(Value::as_mapping)
        .and_then(|service| build_dir(service, compose_dir));
    let fronts: Vec<(String, String)> = services
        .iter()
        .filter_map(|(name, service)| {
            let name = scalar_text(name);
            let service = service.as_mapping()?;
            if name == app {
                return None;
            }
            let file = configuration_files(service, compose_dir, app_context.as_deref(), repo)
                .into_iter()
                .find(|path| {
                    repo.text(path)
                        .is_some_and(|text| passes_fastcgi_to(text, app))
                })?;
            Some((name, file))
        })
        .collect();
    for (front, file) in fronts {
        remove_service(services, &front);
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{front}` was left out: {file} hands requests to `{app}` over FastCGI (PHP-FPM), and the app's image here serves HTTP itself, published on the app's port; the front would answer only errors."
            ),
        );
    }
}

/// The repository files a service mounts (a file, or the files of a
/// folder) or builds its image from: a folder of its own, not the
/// repository's root or the app's (a worker built from the app's code
/// holds the front's configuration without being the front).
fn configuration_files(
    service: &Mapping,
    compose_dir: &str,
    app_context: Option<&str>,
    repo: &Snapshot,
) -> Vec<String> {
    let mut dirs: Vec<String> = build_dir(service, compose_dir).into_iter().collect();
    if let Some(Value::Sequence(volumes)) = service.get("volumes") {
        dirs.extend(
            volumes
                .iter()
                .filter_map(bind_mount)
                .filter_map(|(source, _)| repository_dir(compose_dir, &source)),
        );
    }
    dirs.retain(|dir| !dir.is_empty() && Some(dir.as_str()) != app_context);
    repo.files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|path| {
            dirs.iter()
                .any(|dir| path == dir || path.starts_with(&format!("{dir}/")))
        })
        .filter(|path| {
            path.ends_with(".conf") || path.ends_with(".template") || path.ends_with("Caddyfile")
        })
        .map(str::to_owned)
        .collect()
}

/// `fastcgi_pass app:9000;` (nginx) or `php_fastcgi app:9000` (Caddy)
/// naming the app's service, directly or through an `upstream` block.
fn passes_fastcgi_to(text: &str, app: &str) -> bool {
    let host = regex::escape(app);
    let direct = regex::Regex::new(&format!(
        r"(?m)^\s*(?:fastcgi_pass|php_fastcgi|reverse_proxy\s+\S*\s*transport\s+fastcgi)\s+{host}(?::\d+)?\s*;?\s*$"
    ));
    if direct.is_ok_and(|re| re.is_match(text)) {
        return true;
    }
    // `upstream php { server app:9000; }` then `fastcgi_pass php;`
    let upstream = regex::Regex::new(&format!(
        r"(?s)upstream\s+(\w[\w-]*)\s*\{{[^}}]*\bserver\s+{host}(?::\d+)?\s*;"
    ));
    upstream
        .ok()
        .and_then(|re| re.captures(text))
        .is_some_and(|c| {
            let name = regex::escape(&c[1]);
            regex::Regex::new(&format!(r"(?m)^\s*fastcgi_pass\s+{name}\s*;"))
                .is_ok_and(|re| re.is_match(text))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastcgi_to_the_app_directly_or_through_an_upstream() {
        let direct = "server {\n  location ~ \\.php$ {\n    fastcgi_pass app:9000;\n    include fastcgi_params;\n  }\n}\n";
        assert!(passes_fastcgi_to(direct, "app"));
        assert!(!passes_fastcgi_to(direct, "php"));
        let upstream = "upstream php-upstream { server php:9000; }\nserver {\n  location / {\n    fastcgi_pass php-upstream;\n  }\n}\n";
        assert!(passes_fastcgi_to(upstream, "php"));
        assert!(passes_fastcgi_to(
            "example.com {\n  php_fastcgi app:9000\n}\n",
            "app"
        ));
        // An HTTP proxy to the app works with the app's HTTP image.
        assert!(!passes_fastcgi_to(
            "location / { proxy_pass http://app:8000; }\n",
            "app"
        ));
    }

    #[test]
    fn the_front_goes_with_every_mention_of_it() {
        let repo = Snapshot::from_texts([
            (
                "docker/nginx/default.conf",
                "server {\n  listen 80;\n  location ~ \\.php$ {\n    fastcgi_pass app:9000;\n  }\n}\n",
            ),
            ("docker-compose.yml", ""),
        ]);
        let mut services: Mapping = serde_yaml_ng::from_str(
            "app:\n  build: .\nnginx:\n  image: nginx:alpine\n  ports: ['80:80']\n  volumes: ['./docker/nginx/default.conf:/etc/nginx/conf.d/default.conf']\n  depends_on: [app]\nworker:\n  build: .\n  volumes: ['./:/var/www']\n  depends_on: [app, nginx]\n",
        )
        .expect("yaml");
        let mut notes = Vec::new();
        drop_fastcgi_fronts(&mut services, "app", "", &repo, &mut |_, n| notes.push(n));
        assert!(!services.contains_key("nginx"), "{services:?}");
        assert_eq!(
            services["worker"]["depends_on"],
            serde_yaml_ng::from_str::<Value>("[app]").unwrap()
        );
        assert!(notes[0].contains("docker/nginx/default.conf"), "{notes:?}");
        // The worker built from the app's code holds that file, and stays.
        assert!(services.contains_key("worker"), "{services:?}");

        // A folder mounted as nginx's conf.d, or a front that proxies HTTP, stays.
        let mut proxied: Mapping = serde_yaml_ng::from_str(
            "app:\n  build: .\nweb:\n  image: nginx\n  volumes: ['./proxy:/etc/nginx/conf.d:ro']\n",
        )
        .expect("yaml");
        let proxy = Snapshot::from_texts([(
            "proxy/site.conf",
            "location / { proxy_pass http://app:8000; }\n",
        )]);
        drop_fastcgi_fronts(&mut proxied, "app", "", &proxy, &mut |_, _| {});
        assert!(proxied.contains_key("web"));
        let folder = Snapshot::from_texts([("proxy/site.conf", "fastcgi_pass app:9000;\n")]);
        drop_fastcgi_fronts(&mut proxied, "app", "", &folder, &mut |_, _| {});
        assert!(!proxied.contains_key("web"));
    }
}
