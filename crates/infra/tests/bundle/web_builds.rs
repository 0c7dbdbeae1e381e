//! Apps a Node build turns into a server of its own (SvelteKit, Astro,
//! Remix) or into files (Vite, Angular, a Next.js export), analysed from
//! their files and bundled: the build runs with the repository's package
//! manager, the server starts from what the build wrote, and the static
//! server serves the folder the builder writes to.

use super::*;

fn analysed_bundle(files: &[(&str, &str)]) -> (Analysis, Bundle) {
    let repo = Snapshot::from_texts(files.iter().copied());
    let analysis = analysis::analyse(&repo, &Requirements::default());
    assert!(analysis.http, "{analysis:#?}");
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    check_common("web build", &analysis, &bundle);
    (analysis, bundle)
}

const SVELTE_PAGE: (&str, &str) = ("src/routes/+page.svelte", "<h1>Hello</h1>\n");

fn sveltekit(adapter: &str, lock: (&'static str, &str)) -> Vec<(&'static str, String)> {
    vec![
        (
            "package.json",
            format!(
                r#"{{"name":"site","type":"module","scripts":{{"dev":"vite dev","build":"vite build","preview":"vite preview"}},"devDependencies":{{"@sveltejs/kit":"^2.5.0","{adapter}":"^5.0.0","svelte":"^4.2.0","vite":"^5.0.0"}}}}"#
            ),
        ),
        (
            "svelte.config.js",
            format!(
                "import adapter from '{adapter}';\n\nexport default {{ kit: {{ adapter: adapter() }} }};\n"
            ),
        ),
        (lock.0, lock.1.to_owned()),
    ]
}

fn files_of<'a>(owned: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    let mut files: Vec<(&str, &str)> = owned.iter().map(|(p, t)| (*p, t.as_str())).collect();
    files.push(SVELTE_PAGE);
    files
}

#[test]
fn sveltekit_on_adapter_node_runs_its_built_server_installed_with_pnpm() {
    let owned = sveltekit(
        "@sveltejs/adapter-node",
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
    );
    let (analysis, bundle) = analysed_bundle(&files_of(&owned));
    assert_eq!(analysis.framework.as_deref(), Some("sveltekit"));
    assert_eq!(analysis.port, Some(3000));
    let d = dockerfile(&bundle);
    assert!(d.contains("RUN pnpm install --frozen-lockfile\n"), "{d}");
    assert!(d.contains("RUN pnpm build\n"), "{d}");
    assert_eq!(cmd(&bundle), ["node", "build"]);
    assert_eq!(env_of(&bundle, "HOST").as_deref(), Some("0.0.0.0"));
    assert_eq!(env_of(&bundle, "PORT").as_deref(), Some("3000"));
}

#[test]
fn sveltekit_on_a_platform_adapter_is_built_with_the_node_adapter() {
    let owned = sveltekit("@sveltejs/adapter-auto", ("package-lock.json", "{}"));
    let (analysis, bundle) = analysed_bundle(&files_of(&owned));
    assert_eq!(analysis.framework.as_deref(), Some("sveltekit"));
    let d = dockerfile(&bundle);
    assert!(
        d.contains("RUN npm install --no-save @sveltejs/adapter-node@5 && sed -i 's#@sveltejs/adapter-auto#@sveltejs/adapter-node#' svelte.config.js && npm run build\n"),
        "{d}"
    );
    assert_eq!(cmd(&bundle), ["node", "build"]);
    assert!(
        analysis
            .notes
            .iter()
            .any(|n| n.contains("installs @sveltejs/adapter-node")),
        "{:?}",
        analysis.notes
    );
}

#[test]
fn sveltekit_on_adapter_static_is_served_from_its_build_folder() {
    let owned = sveltekit("@sveltejs/adapter-static", ("package-lock.json", "{}"));
    let (analysis, bundle) = analysed_bundle(&files_of(&owned));
    assert_eq!(analysis.runtime(), "static");
    let d = dockerfile(&bundle);
    assert!(
        d.contains("COPY --from=build /app/build/ /usr/share/nginx/html/"),
        "{d}"
    );
}

#[test]
fn a_vite_site_locked_by_pnpm_is_built_with_pnpm() {
    let (_, bundle) = analysed_bundle(&[
        (
            "package.json",
            r#"{"packageManager":"pnpm@9.12.0","scripts":{"build":"vite build"},"devDependencies":{"vite":"^5.0.0"}}"#,
        ),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        ("index.html", "<div id=app></div>\n"),
    ]);
    let d = dockerfile(&bundle);
    assert!(d.contains("RUN npm install -g pnpm@9.12.0\n"), "{d}");
    assert!(d.contains("RUN pnpm install --frozen-lockfile\n"), "{d}");
    assert!(
        !d.contains("npm ci") && !d.contains("RUN npm install\n"),
        "{d}"
    );
    assert!(
        d.contains("COPY --from=build /app/dist/ /usr/share/nginx/html/"),
        "{d}"
    );
}

#[test]
fn a_nextjs_export_is_served_from_out() {
    let (analysis, bundle) = analysed_bundle(&[
        (
            "package.json",
            r#"{"scripts":{"build":"next build"},"dependencies":{"next":"14.2.0","react":"18"}}"#,
        ),
        ("package-lock.json", "{}"),
        ("next.config.js", "module.exports = { output: 'export' };\n"),
        (
            "pages/index.js",
            "export default function Home() { return null }\n",
        ),
    ]);
    assert_eq!(analysis.runtime(), "static");
    let d = dockerfile(&bundle);
    assert!(d.contains("FROM nginxinc/nginx-unprivileged"), "{d}");
    assert!(
        d.contains("COPY --from=build /app/out/ /usr/share/nginx/html/"),
        "{d}"
    );
}

#[test]
fn an_angular_application_build_is_served_from_its_browser_folder() {
    let angular = r#"{"projects":{"shop":{"architect":{"build":{"builder":"@angular-devkit/build-angular:application","options":{"outputPath":"dist/shop"}}}}}}"#;
    let (_, bundle) = analysed_bundle(&[
        (
            "package.json",
            r#"{"scripts":{"build":"ng build"},"dependencies":{"@angular/core":"17"},"devDependencies":{"@angular/cli":"17"}}"#,
        ),
        ("package-lock.json", "{}"),
        ("angular.json", angular),
        ("src/index.html", "<app-root></app-root>\n"),
    ]);
    let d = dockerfile(&bundle);
    assert!(
        d.contains("COPY --from=build /app/dist/shop/browser/ /usr/share/nginx/html/"),
        "{d}"
    );
}

#[test]
fn astro_on_its_node_adapter_runs_the_standalone_server_on_all_interfaces() {
    let (analysis, bundle) = analysed_bundle(&[
        (
            "package.json",
            r#"{"type":"module","scripts":{"dev":"astro dev","build":"astro build"},"dependencies":{"astro":"^4.0.0","@astrojs/node":"^8.0.0"}}"#,
        ),
        ("package-lock.json", "{}"),
        (
            "astro.config.mjs",
            "import node from '@astrojs/node';\nexport default { output: 'server', adapter: node({ mode: 'standalone' }) };\n",
        ),
        ("src/pages/index.astro", "<h1>Hi</h1>\n"),
    ]);
    assert_eq!(analysis.framework.as_deref(), Some("astro"));
    assert_eq!(analysis.port, Some(4321));
    assert_eq!(cmd(&bundle), ["node", "./dist/server/entry.mjs"]);
    assert_eq!(env_of(&bundle, "HOST").as_deref(), Some("0.0.0.0"));
    assert!(dockerfile(&bundle).contains("RUN npm run build\n"));
}

#[test]
fn remix_on_vite_is_a_server_not_a_static_site() {
    let (analysis, bundle) = analysed_bundle(&[
        (
            "package.json",
            r#"{"type":"module","scripts":{"build":"remix vite:build","start":"remix-serve ./build/server/index.js"},"dependencies":{"@remix-run/node":"^2.9.0","@remix-run/serve":"^2.9.0","react":"18"},"devDependencies":{"@remix-run/dev":"^2.9.0","vite":"^5.1.0"}}"#,
        ),
        ("package-lock.json", "{}"),
        (
            "app/root.tsx",
            "export default function App() { return null }\n",
        ),
    ]);
    assert_eq!(analysis.framework.as_deref(), Some("remix"));
    assert_eq!(analysis.runtime(), "node");
    assert_eq!(analysis.port, Some(3000));
    assert_eq!(cmd(&bundle), ["remix-serve", "./build/server/index.js"]);
    assert!(dockerfile(&bundle).contains("RUN npm run build\n"));
}

/// With no build script, each framework's own build command runs: the
/// Vite-based Remix has `vite:build` (its classic `remix build` refuses a
/// Vite project), React Router and Astro their `build`.
#[test]
fn without_a_build_script_each_framework_builds_with_its_own_command() {
    for (dependencies, expected) in [
        (
            r#""@remix-run/serve":"^2.9.0"},"devDependencies":{"@remix-run/dev":"^2.9.0","vite":"^5.1.0""#,
            "RUN npx remix vite:build\n",
        ),
        (
            r#""@remix-run/serve":"^1.19.0"},"devDependencies":{"@remix-run/dev":"^1.19.0""#,
            "RUN npx remix build\n",
        ),
        (
            r#""@react-router/serve":"^7.0.0"},"devDependencies":{"@react-router/dev":"^7.0.0","vite":"^6.0.0""#,
            "RUN npx react-router build\n",
        ),
        (
            r#""astro":"^4.0.0","@astrojs/node":"^8.0.0""#,
            "RUN npx astro build\n",
        ),
    ] {
        let package =
            format!(r#"{{"type":"module","dependencies":{{"react":"18",{dependencies}}}}}"#);
        let (_, bundle) = analysed_bundle(&[
            ("package.json", package.as_str()),
            ("package-lock.json", "{}"),
            (
                "app/root.tsx",
                "export default function App() { return null }\n",
            ),
        ]);
        assert!(
            dockerfile(&bundle).contains(expected),
            "{expected:?} for {dependencies}:\n{}",
            dockerfile(&bundle)
        );
    }
}

#[test]
fn django_with_a_static_root_collects_its_static_files_in_the_image() {
    let settings = "import os\nSECRET_KEY = os.environ['DJANGO_SECRET_KEY']\nDATABASE_URL = os.environ['DATABASE_URL']\nSTATIC_URL = '/static/'\nSTATIC_ROOT = BASE_DIR / 'staticfiles'\n";
    let analysis = with(
        app("python", "django", Some(8000), Some("gunicorn shop.wsgi")),
        |a| {
            let mut database = var("DATABASE_URL", true, true, None);
            database.kind = analysis::VariableKind::Datastore;
            a.env.push(database);
            a.env.push(var("DJANGO_SECRET_KEY", true, true, None));
            a.env.push(var("SENTRY_DSN", false, true, None));
        },
    );
    let mut files = vec![
        ("manage.py", "import django\n"),
        ("shop/wsgi.py", "application = None\n"),
        ("requirements.txt", "django\ngunicorn\nwhitenoise\n"),
        ("shop/settings.py", settings),
    ];
    let bundle = build_bundle(
        &analysis,
        &Snapshot::from_texts(files.clone()),
        &vm_choice(&analysis),
    )
    .unwrap();
    let d = dockerfile(&bundle);
    let collect = d
        .lines()
        .find(|l| l.contains("collectstatic"))
        .unwrap_or_else(|| panic!("{d}"));
    assert!(
        collect.starts_with("RUN DATABASE_URL=postgres://build:build@localhost:5432/build DJANGO_SECRET_KEY=build-placeholder python manage.py collectstatic --noinput"),
        "{collect}"
    );
    assert!(!collect.contains("SENTRY_DSN"), "{collect}");
    assert!(
        collect.contains("|| echo"),
        "without a manifest storage the app runs without styles: {collect}"
    );
    let copied = d.find("COPY --chown=app:app . .").unwrap();
    assert!(
        d.find("collectstatic").unwrap() > copied,
        "after the code is copied: {d}"
    );

    // With a manifest storage every page fails until the files are
    // collected: a failed collect fails the build.
    let manifest = format!(
        "{settings}STORAGES = {{'staticfiles': {{'BACKEND': 'whitenoise.storage.CompressedManifestStaticFilesStorage'}}}}\n"
    );
    files[3] = ("shop/settings.py", manifest.as_str());
    let bundle = build_bundle(
        &analysis,
        &Snapshot::from_texts(files.clone()),
        &vm_choice(&analysis),
    )
    .unwrap();
    let d = dockerfile(&bundle);
    let collect = d.lines().find(|l| l.contains("collectstatic")).unwrap();
    assert!(collect.ends_with("collectstatic --noinput"), "{collect}");

    files[3] = ("shop/settings.py", "STATIC_URL = '/static/'\n");
    let bundle = build_bundle(
        &analysis,
        &Snapshot::from_texts(files),
        &vm_choice(&analysis),
    )
    .unwrap();
    assert!(
        !dockerfile(&bundle).contains("collectstatic"),
        "no STATIC_ROOT, nothing to collect"
    );
}

#[test]
fn a_package_of_a_pnpm_workspace_is_installed_and_built_from_the_workspace_root() {
    let repo = Snapshot::from_texts([
        (
            "package.json",
            r#"{"name":"root","private":true,"packageManager":"pnpm@9.15.0","devDependencies":{"turbo":"^2.3.0"}}"#,
        ),
        (
            "pnpm-workspace.yaml",
            "packages:\n  - apps/*\n  - packages/*\n",
        ),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        (
            "turbo.json",
            "{\"tasks\":{\"build\":{\"dependsOn\":[\"^build\"]}}}\n",
        ),
        (
            "apps/web/package.json",
            r#"{"name":"@acme/web","scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"14.2.0","react":"18","@acme/ui":"workspace:*"}}"#,
        ),
        (
            "apps/web/pages/index.js",
            "export default function Home() { return null }\n",
        ),
        (
            "packages/ui/package.json",
            r#"{"name":"@acme/ui","scripts":{"build":"tsc"},"main":"dist/index.js"}"#,
        ),
    ]);
    let analysis = analysis::analyse(
        &repo,
        &analysis::parse_requirements("deploy the web app in apps/web"),
    );
    assert_eq!(analysis.subdir, "apps/web", "{analysis:#?}");
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let d = dockerfile(&bundle);
    assert!(d.contains("RUN npm install -g pnpm@9.15.0\n"), "{d}");
    assert!(d.contains("RUN pnpm install --frozen-lockfile\n"), "{d}");
    assert!(
        d.contains("RUN npx turbo run build --filter=@acme/web...\n"),
        "the app and the workspace packages it depends on are built: {d}"
    );
    assert!(d.contains("WORKDIR /repo/apps/web\n"), "{d}");
    assert!(
        !d.contains("npm ci") && !d.contains("RUN npm install\n"),
        "{d}"
    );
    let build = &compose_service(&bundle)["build"];
    let context = build["context"].as_str().or(build.as_str()).unwrap();
    assert!(
        context == "." || context == "../..",
        "built from the workspace root: {build:?}"
    );
    assert!(
        bundle.files.contains_key(".dockerignore"),
        "{:?}",
        bundle.files.keys()
    );
}

/// An npm workspace's API on Prisma: its client is generated in its own
/// folder, where the schema is, both stages get OpenSSL, and the migration
/// runs from the workspace copied whole into the final stage.
#[test]
fn a_workspace_package_on_prisma_generates_its_client_where_its_schema_is() {
    let repo = Snapshot::from_texts([
        (
            "package.json",
            r#"{"name":"root","private":true,"workspaces":["apps/*"]}"#,
        ),
        ("package-lock.json", "{\"lockfileVersion\": 3}\n"),
        (
            "apps/backend/package.json",
            r#"{"name":"backend","scripts":{"build":"tsc","start":"node dist/index.js"},"dependencies":{"express":"4","@prisma/client":"5"},"devDependencies":{"prisma":"5","typescript":"5"}}"#,
        ),
        (
            "apps/backend/src/index.ts",
            "import express from 'express';\nimport { PrismaClient } from '@prisma/client';\nconst app = express();\napp.listen(process.env.PORT || 4000);\n",
        ),
        (
            "apps/backend/prisma/schema.prisma",
            "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\nmodel User {\n  id Int @id\n}\n",
        ),
        (
            "apps/backend/prisma/migrations/0_init/migration.sql",
            "CREATE TABLE \"User\" (id int);\n",
        ),
        (
            "apps/web/package.json",
            r#"{"name":"web","dependencies":{"next":"14"}}"#,
        ),
    ]);
    let analysis = analysis::analyse(
        &repo,
        &analysis::parse_requirements("deploy the API in apps/backend"),
    );
    assert_eq!(analysis.subdir, "apps/backend", "{analysis:#?}");
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let d = dockerfile(&bundle);
    let generate = d
        .find("WORKDIR /repo/apps/backend\nRUN npx prisma generate\n")
        .unwrap_or_else(|| panic!("{d}"));
    assert!(
        d.find("RUN npm ci")
            .is_some_and(|install| install < generate),
        "{d}"
    );
    assert_eq!(
        d.matches("install -y --no-install-recommends openssl")
            .count(),
        2,
        "{d}"
    );
    let command = compose_service(&bundle)["command"].clone();
    assert!(
        format!("{command:?}").contains("npx prisma migrate deploy"),
        "{command:?}: {:?}",
        bundle.adjustments
    );
}

#[test]
fn a_static_site_in_a_pnpm_workspace_is_built_from_the_workspace_root() {
    let repo = Snapshot::from_texts([
        (
            "package.json",
            r#"{"name":"root","private":true,"packageManager":"pnpm@9.15.0"}"#,
        ),
        (
            "pnpm-workspace.yaml",
            "packages:\n  - apps/*\n  - packages/*\n",
        ),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        (
            "apps/site/package.json",
            r#"{"name":"@acme/site","scripts":{"build":"vite build"},"dependencies":{"@acme/theme":"workspace:*"},"devDependencies":{"vite":"^6"}}"#,
        ),
        ("apps/site/index.html", "<div id=app></div>\n"),
        (
            "packages/theme/package.json",
            r#"{"name":"@acme/theme","main":"index.js"}"#,
        ),
    ]);
    let analysis = analysis::analyse(
        &repo,
        &analysis::parse_requirements("deploy the site in apps/site"),
    );
    assert_eq!(analysis.subdir, "apps/site", "{analysis:#?}");
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let d = dockerfile(&bundle);
    assert!(d.contains("RUN pnpm install --frozen-lockfile\n"), "{d}");
    assert!(d.contains("WORKDIR /repo/apps/site\n"), "{d}");
    assert!(
        d.contains("COPY --from=build /repo/apps/site/dist/ /usr/share/nginx/html/"),
        "{d}"
    );
    assert!(
        d.contains("COPY apps/site/deployflow-nginx.conf /etc/nginx/conf.d/default.conf"),
        "the configuration is copied from the workspace root's context: {d}"
    );
    assert!(bundle.files.contains_key("apps/site/deployflow-nginx.conf"));
    assert_eq!(bundle.build_context, "");
}

/// Auth.js v5 answers UntrustedHost off Vercel unless told to trust the
/// host it is reached by.
#[test]
fn an_auth_js_v5_app_trusts_the_host_it_is_deployed_on() {
    let package = r#"{"scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"14.1.0","react":"18","next-auth":"^5.0.0-beta.4"}}"#;
    let (_, bundle) = analysed_bundle(&[
        ("package.json", package),
        ("package-lock.json", "{}"),
        (
            "app/page.tsx",
            "export default function Page() { return null }\n",
        ),
        (
            "auth.ts",
            "import NextAuth from \"next-auth\"\nexport const { handlers, auth } = NextAuth({ providers: [] });\n",
        ),
    ]);
    assert_eq!(
        bundle
            .runtime_env
            .get("AUTH_TRUST_HOST")
            .map(String::as_str),
        Some("true")
    );
    let (_, plain) = analysed_bundle(&[
        (
            "package.json",
            r#"{"scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"14.1.0","react":"18"}}"#,
        ),
        ("package-lock.json", "{}"),
        (
            "app/page.tsx",
            "export default function Page() { return null }\n",
        ),
    ]);
    assert!(!plain.runtime_env.contains_key("AUTH_TRUST_HOST"));
}
