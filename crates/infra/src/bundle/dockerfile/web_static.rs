//! Static sites: built with Node when they have a build script (Vite, Create
//! React App), served by unprivileged nginx on port 8080.

use super::node_version::node_image;
use super::{Image, Inputs, Text, node};
use crate::bundle::app_files::{AppFiles, join, parent};
use crate::bundle::health::Probe;
use crate::bundle::images::NGINX;

/// The port nginx-unprivileged listens on; static sites are always served there.
pub(super) const STATIC_PORT: u16 = 8080;
const NGINX_CONF: &str = "deployflow-nginx.conf";

pub(super) fn image(inputs: &Inputs) -> Image {
    let files = inputs.files;
    let build = files.npm_script("build").is_some();
    let mut text = Text::new(inputs, "static site served by nginx");
    let (node, version_note) = node_image(files);
    let mut notes = Vec::new();
    if build {
        notes.extend(version_note);
    }
    let workspace = build
        .then(|| super::node_workspace::workspace_root(files))
        .flatten();
    // Within a workspace, paths in the Dockerfile are the root's.
    let in_context = |rel: &str| match &workspace {
        Some(root) => join(&relative_to(files.subdir(), root), rel),
        None => rel.to_owned(),
    };
    let source = if let Some(root) = &workspace {
        let manager = node::manager(&AppFiles::new(files.repo(), root));
        let app = relative_to(files.subdir(), root);
        text.line(format!("FROM {node} AS build"))
            .line("WORKDIR /repo");
        if let Some(setup) = node::setup(&manager) {
            text.line(format!("RUN {setup}"));
        }
        let build_command =
            node::build_command(inputs, &manager).unwrap_or_else(|| "npm run build".to_owned());
        text.line("COPY . .")
            .line(format!("RUN {}", node::install(&manager, false)))
            .line(format!("WORKDIR /repo/{app}"))
            .build_args(inputs)
            .line(format!("RUN {build_command}"))
            .blank();
        notes.push(format!(
            "The site is a package of the workspace at {}: it is installed from there with the workspace's lock file and built where it lies.",
            if root.is_empty() { "the repository root" } else { root.as_str() }
        ));
        format!("--from=build /repo/{app}/{}/", output_dir(files))
    } else if build {
        let manager = node::manager(files);
        node::build_stage_start(&mut text, files, &manager, node);
        let build_command =
            node::build_command(inputs, &manager).unwrap_or_else(|| "npm run build".to_owned());
        text.line(format!("RUN {}", node::install(&manager, false)))
            .line("COPY . .")
            .build_args(inputs)
            .line(format!("RUN {build_command}"))
            .blank();
        notes.push(node::install_note(&manager, false));
        format!("--from=build /app/{}/", output_dir(files))
    } else {
        format!("{}/", site_root(files))
    };
    text.line(format!("FROM {NGINX}"))
        .line(format!(
            "COPY {} /etc/nginx/conf.d/default.conf",
            in_context(NGINX_CONF)
        ))
        .line(format!("COPY {source} /usr/share/nginx/html/"));
    Image {
        dockerfile: text.finish(inputs, "101", r#"["nginx", "-g", "daemon off;"]"#),
        probe: Probe::Wget,
        ignore: if build {
            &[
                "node_modules",
                "dist",
                "build",
                "out",
                ".svelte-kit",
                ".next",
            ]
        } else {
            &["node_modules"]
        },
        extra_files: vec![(NGINX_CONF.to_owned(), nginx_conf(build))],
        context: workspace,
        notes,
    }
}

/// `apps/web` seen from the workspace at `root` (`""`: the repository root).
fn relative_to(subdir: &str, root: &str) -> String {
    subdir
        .strip_prefix(root)
        .unwrap_or(subdir)
        .trim_start_matches('/')
        .to_owned()
}

/// Where the build writes the site. Each builder has its default, which its
/// config file may change: Vite's and Astro's `outDir`, SvelteKit's static
/// adapter `pages`, Angular's `outputPath` (the application builder puts the
/// site in its `browser/` folder), Next.js's export in `out/`.
fn output_dir(files: &AppFiles) -> String {
    let depends_on = |name: &str| files.depends_on(name);
    let configured = |names: &[&str], key: &str| {
        files
            .first_of(names)
            .and_then(|f| files.text(f))
            .and_then(|c| quoted_after(c, key))
            .map(|dir| {
                dir.trim_start_matches("./")
                    .trim_end_matches('/')
                    .to_owned()
            })
    };
    let found = if depends_on("@sveltejs/kit") {
        configured(
            &["svelte.config.js", "svelte.config.mjs", "svelte.config.ts"],
            "pages",
        )
        .or(Some("build".to_owned()))
    } else if depends_on("next") {
        Some("out".to_owned())
    } else if depends_on("@angular/cli") {
        angular_output(files)
    } else if depends_on("astro") {
        configured(
            &["astro.config.mjs", "astro.config.ts", "astro.config.js"],
            "outDir",
        )
    } else if depends_on("gatsby") {
        Some("public".to_owned())
    } else if depends_on("react-scripts") {
        Some("build".to_owned())
    } else {
        configured(
            &["vite.config.ts", "vite.config.js", "vite.config.mjs"],
            "outDir",
        )
    };
    found.unwrap_or_else(|| "dist".to_owned())
}

/// Angular's `outputPath` of the first project's build: a folder, or
/// `{ base, browser }`; the application builder (Angular 17 on) writes the
/// site to `browser/` under it.
fn angular_output(files: &AppFiles) -> Option<String> {
    let config: serde_json::Value = serde_json::from_str(files.text("angular.json")?).ok()?;
    let build = config
        .get("projects")?
        .as_object()?
        .values()
        .find_map(|project| project.pointer("/architect/build"))?;
    let application = build
        .get("builder")
        .and_then(|b| b.as_str())
        .is_some_and(|b| b.ends_with(":application"));
    let output = build.pointer("/options/outputPath")?;
    let dir = match output {
        serde_json::Value::String(base) if application => format!("{base}/browser"),
        serde_json::Value::String(base) => base.clone(),
        other => {
            let base = other.get("base")?.as_str()?;
            match other.get("browser").and_then(|b| b.as_str()) {
                Some("") => base.to_owned(),
                Some(browser) => format!("{base}/{browser}"),
                None => format!("{base}/browser"),
            }
        }
    };
    Some(
        dir.trim_start_matches("./")
            .trim_end_matches('/')
            .to_owned(),
    )
}

/// The string literal following `key` (`outDir: 'public/build'`).
fn quoted_after<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let rest = &text[text.find(key)? + key.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let quote = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let rest = &rest[1..];
    Some(&rest[..rest.find(quote)?])
}

/// The directory of the shallowest `index.html` (`.` for the app directory).
fn site_root(files: &AppFiles) -> String {
    if files.exists("index.html") {
        return ".".to_owned();
    }
    files
        .with_suffix("index.html")
        .into_iter()
        .find(|p| *p == "index.html" || p.ends_with("/index.html"))
        .map(|p| parent(p).to_owned())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| ".".to_owned())
}

/// A single-page app falls back to `index.html` for client-side routes; a
/// plain site answers 404 for missing pages.
fn nginx_conf(single_page: bool) -> String {
    let fallback = if single_page { "/index.html" } else { "=404" };
    format!(
        "# Generated by deployflow: serves the site on port {STATIC_PORT}.\n\
         server {{\n    listen {STATIC_PORT};\n    server_name _;\n    root /usr/share/nginx/html;\n    index index.html;\n\n    location / {{\n        try_files $uri $uri/ $uri.html {fallback};\n    }}\n}}\n"
    )
}
