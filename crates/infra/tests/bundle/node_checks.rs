//! What a generated Node image checks of its own output: the start
//! command's program is there at run time, variables the build reads reach
//! the build, and the repository's `.dockerignore` keeps nothing out that
//! the Dockerfile copies.

use super::*;

fn node_bundle(start: &str, files: &[(&str, &str)], edit: impl FnOnce(&mut Analysis)) -> Bundle {
    let analysis = with(app("node", "", Some(3000), Some(start)), edit);
    let repo = Snapshot::from_texts(files.iter().copied());
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    check_common("node", &analysis, &bundle);
    bundle
}

#[test]
fn a_start_program_from_dev_dependencies_keeps_them_in_the_image() {
    let bundle = node_bundle(
        "nest start",
        &[
            (
                "package.json",
                r#"{"scripts": {"build": "nest build"}, "dependencies": {"@nestjs/core": "10"}, "devDependencies": {"@nestjs/cli": "10"}}"#,
            ),
            ("package-lock.json", "{}"),
        ],
        |_| {},
    );
    let d = dockerfile(&bundle);
    assert!(d.contains("RUN npm ci\n"), "{d}");
    assert!(!d.contains("prune"), "dev dependencies are kept: {d}");
    assert!(
        notes(&bundle).any(|n| n.contains("`@nestjs/cli` in devDependencies")),
        "{:?}",
        notes(&bundle).collect::<Vec<_>>()
    );
}

#[test]
fn a_start_program_nobody_lists_is_installed_in_the_final_stage() {
    let bundle = node_bundle(
        "serve -s build -l 3000",
        &[("package.json", r#"{"dependencies": {"react": "18"}}"#)],
        |_| {},
    );
    let d = dockerfile(&bundle);
    let final_stage = &d[d.rfind("FROM ").unwrap()..];
    assert!(
        final_stage.contains("RUN npm install -g --no-fund --no-audit serve\n"),
        "{d}"
    );
    let install = final_stage.find("npm install -g").unwrap();
    assert!(install < final_stage.find("USER node").unwrap(), "as root");
    assert!(notes(&bundle).any(|n| n.contains("installs `serve` globally")));
}

#[test]
fn pnpm_kept_as_the_start_command_is_installed_in_the_final_stage() {
    let bundle = node_bundle(
        "pnpm start",
        &[
            (
                "package.json",
                r#"{"packageManager": "pnpm@9.12.1", "scripts": {"prestart": "node migrate.js", "start": "node server.js"}}"#,
            ),
            ("pnpm-lock.yaml", ""),
            ("server.js", ""),
        ],
        |_| {},
    );
    assert_eq!(cmd(&bundle), ["pnpm", "start"]);
    assert!(dockerfile(&bundle).contains("RUN npm install -g --no-fund --no-audit pnpm@9.12.1\n"));
}

#[test]
fn public_variables_reach_the_build_as_build_arguments() {
    let bundle = node_bundle(
        "next start",
        &[
            (
                "package.json",
                r#"{"scripts": {"build": "next build"}, "dependencies": {"next": "15"}}"#,
            ),
            ("package-lock.json", "{}"),
        ],
        |a| {
            a.framework = Some("nextjs".into());
            a.env.push(var("NEXT_PUBLIC_API_URL", true, false, None));
            a.env
                .push(var("NEXT_PUBLIC_SITE_NAME", false, false, Some("Shop")));
            a.env.push(var("DATABASE_URL", true, true, None));
        },
    );
    let d = dockerfile(&bundle);
    // A required secret gets a placeholder for the build step alone: `next
    // build` loads the route modules, where a client made without its key
    // throws.
    assert!(
        d.contains("ARG NEXT_PUBLIC_API_URL\nARG NEXT_PUBLIC_SITE_NAME\nRUN DATABASE_URL=postgresql://placeholder:placeholder@build-placeholder.invalid/placeholder npm run build\n"),
        "{d}"
    );
    assert!(
        !d.contains("ARG DATABASE_URL"),
        "secrets stay out of the build"
    );
    let final_stage = &d[d.rfind("FROM ").unwrap()..];
    assert!(!final_stage.contains("placeholder"), "{d}");
    assert!(
        notes(&bundle).any(|n| n.contains("placeholders for DATABASE_URL")),
        "{:?}",
        notes(&bundle).collect::<Vec<_>>()
    );
    let args = &compose_service(&bundle)["build"]["args"];
    assert_eq!(
        args["NEXT_PUBLIC_API_URL"].as_str(),
        Some("${NEXT_PUBLIC_API_URL:?NEXT_PUBLIC_API_URL is required}")
    );
    assert_eq!(
        args["NEXT_PUBLIC_SITE_NAME"].as_str(),
        Some("${NEXT_PUBLIC_SITE_NAME:-Shop}")
    );
    assert!(args["DATABASE_URL"].is_null());
    assert!(
        notes(&bundle).any(|n| n.starts_with("NEXT_PUBLIC_API_URL is read when the app is built"))
    );
}

/// `next.config.js` runs at `next build`, and its `env:` writes the values
/// into the pages: what it reads reaches the build, secrets excepted.
#[test]
fn variables_a_bundler_config_reads_reach_the_build() {
    let bundle = node_bundle(
        "next start",
        &[
            (
                "package.json",
                r#"{"scripts": {"build": "next build"}, "dependencies": {"next": "15"}}"#,
            ),
            ("package-lock.json", "{}"),
        ],
        |a| {
            a.framework = Some("nextjs".into());
            let mut site = var("SITE_NAME", true, false, None);
            site.read_at_build = true;
            a.env.push(site);
            let mut key = var("API_SECRET", true, true, None);
            key.read_at_build = true;
            a.env.push(key);
        },
    );
    let d = dockerfile(&bundle);
    assert!(d.contains("ARG SITE_NAME\nRUN npm run build\n"), "{d}");
    assert!(
        !d.contains("ARG API_SECRET"),
        "secrets stay out of the build: {d}"
    );
    assert!(
        !d.contains("API_SECRET="),
        "no placeholder the configuration would write into the pages: {d}"
    );
    let args = &compose_service(&bundle)["build"]["args"];
    assert_eq!(
        args["SITE_NAME"].as_str(),
        Some("${SITE_NAME:?SITE_NAME is required}")
    );
}

#[test]
fn a_kept_dockerfile_gets_the_app_variables_it_declares() {
    let analysis = with(app("node", "nextjs", Some(3000), Some("next start")), |a| {
        a.dockerized = true;
        a.docker_files = vec!["Dockerfile".into()];
        a.env.push(var("NEXT_PUBLIC_API_URL", false, false, None));
        a.env.push(var("APP_VERSION", false, false, None));
        a.env.push(var("STRIPE_SECRET_KEY", true, true, None));
    });
    let repo = Snapshot::from_texts([
        (
            "Dockerfile",
            "FROM node:20\nARG APP_VERSION\nARG STRIPE_SECRET_KEY\nARG NODE_ENV=production\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"npm\", \"start\"]\n",
        ),
        ("package.json", r#"{"dependencies": {"next": "15"}}"#),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let build = &compose_service(&bundle)["build"];
    // Declared with no value: passed when set, so the Dockerfile's own
    // default (or none) holds otherwise.
    assert!(is_passed_through(&build["args"], "APP_VERSION"));
    assert!(
        build["args"]["NEXT_PUBLIC_API_URL"].is_null(),
        "not declared"
    );
    assert!(
        build["args"]["NODE_ENV"].is_null(),
        "not the app's variable"
    );
    // A secret's value would stay in the image's history.
    assert!(build["args"]["STRIPE_SECRET_KEY"].is_null(), "{build:?}");
    assert!(
        bundle.adjustments.iter().any(|a| a
            .reason
            .contains("STRIPE_SECRET_KEY is a secret the Dockerfile declares with ARG")),
        "{:#?}",
        bundle.adjustments
    );
}

#[test]
fn files_the_dockerfile_copies_are_re_included_in_the_ignore_file() {
    let bundle = node_bundle(
        "node server.js",
        &[
            ("package.json", r#"{"dependencies": {"express": "4"}}"#),
            ("package-lock.json", "{}"),
            ("server.js", ""),
            (".dockerignore", "*.json\n*.js\n!src/**/*.js\n"),
        ],
        |_| {},
    );
    let ignore = &bundle.files[".dockerignore"];
    assert!(
        ignore.ends_with("!package.json\n!package-lock.json\n!server.js\n"),
        "{ignore}"
    );
    assert!(has(
        &bundle,
        AdjustmentKind::Note,
        "excludes package-lock.json, which the generated Dockerfile needs"
    ));
}

#[test]
fn a_native_add_on_gets_a_compiler_in_the_build_stage_only() {
    let bundle = node_bundle(
        "node server.js",
        &[
            (
                "package.json",
                r#"{"dependencies": {"express": "4", "bcrypt": "5.1.1"}}"#,
            ),
            ("package-lock.json", "{}"),
            ("server.js", "require('express')().listen(3000);\n"),
        ],
        |_| {},
    );
    let d = dockerfile(&bundle);
    let (build, runtime) = d.rsplit_once("\nFROM ").expect("two stages");
    let toolchain = "apt-get install -y --no-install-recommends python3 make g++";
    assert!(build.contains(toolchain), "{d}");
    assert!(
        build.find(toolchain) < build.find("npm ci"),
        "the compiler is there before the install: {d}"
    );
    assert!(!runtime.contains("g++"), "the final stage stays lean: {d}");
    assert!(
        notes(&bundle).any(|n| n.contains("bcrypt is a native add-on")),
        "{:?}",
        notes(&bundle).collect::<Vec<_>>()
    );
    let plain = node_bundle(
        "node server.js",
        &[
            ("package.json", r#"{"dependencies": {"express": "4"}}"#),
            ("package-lock.json", "{}"),
        ],
        |_| {},
    );
    assert!(!dockerfile(&plain).contains("g++"));
}

/// Yarn 1 refuses a package whose `engines` leaves out the Node it runs
/// on: both stages run the Node the repository asks for.
#[test]
fn both_stages_run_the_node_version_the_repository_asks_for() {
    let bundle = node_bundle(
        "node server.js",
        &[
            (
                "package.json",
                r#"{"engines": {"node": ">=18 <21"}, "dependencies": {"express": "4"}}"#,
            ),
            ("yarn.lock", ""),
            ("server.js", "require('express')().listen(3000);\n"),
        ],
        |_| {},
    );
    let d = dockerfile(&bundle);
    assert!(
        d.contains("FROM node:20.18.1-bookworm-slim AS build\n"),
        "{d}"
    );
    let final_stage = &d[d.rfind("FROM ").unwrap()..];
    assert!(
        final_stage.starts_with("FROM node:20.18.1-bookworm-slim\n"),
        "{d}"
    );
    assert!(!d.contains("node:22"), "{d}");
    assert!(
        notes(&bundle).any(|n| n.contains("Node 20") && n.contains(">=18 <21")),
        "{:?}",
        notes(&bundle).collect::<Vec<_>>()
    );
    let pinned = node_bundle(
        "node server.js",
        &[
            ("package.json", r#"{"dependencies": {"express": "4"}}"#),
            (".nvmrc", "v18.19.0\n"),
        ],
        |_| {},
    );
    assert!(dockerfile(&pinned).contains("FROM node:18.20.5-bookworm-slim AS build\n"));
}

/// The app's own install scripts run at the end of the install: one that
/// runs a dev dependency gets them (pruned afterwards), one that builds
/// gets the sources first.
#[test]
fn install_scripts_find_what_they_run_in_place() {
    let husky = node_bundle(
        "node server.js",
        &[
            (
                "package.json",
                r#"{"scripts": {"prepare": "husky install"}, "dependencies": {"express": "4"}, "devDependencies": {"husky": "8"}}"#,
            ),
            ("package-lock.json", "{}"),
        ],
        |_| {},
    );
    let d = dockerfile(&husky);
    assert!(
        d.contains("RUN npm ci\nCOPY . .\nRUN npm prune --omit=dev\n"),
        "{d}"
    );
    assert!(
        notes(&husky).any(|n| n.contains("runs `husky` from devDependencies")),
        "{:?}",
        notes(&husky).collect::<Vec<_>>()
    );
    let builds = node_bundle(
        "node dist/server.js",
        &[
            (
                "package.json",
                r#"{"scripts": {"postinstall": "tsc -p ."}, "dependencies": {"express": "4", "typescript": "5"}}"#,
            ),
            ("package-lock.json", "{}"),
        ],
        |_| {},
    );
    let d = dockerfile(&builds);
    assert!(d.contains("COPY . .\nRUN npm ci --omit=dev\n"), "{d}");
    assert_eq!(d.matches("COPY . .").count(), 1, "{d}");
    assert!(notes(&builds).any(|n| n.contains("reads the sources")));
}

/// Prisma's client is generated from the schema before the app is built
/// (its types are imported by the TypeScript), the schema is in place for a
/// `postinstall` that generates it, and both stages have OpenSSL for its
/// engines.
#[test]
fn a_prisma_client_is_generated_before_the_build() {
    let schema = (
        "prisma/schema.prisma",
        "generator client {\n  provider = \"prisma-client-js\"\n}\n",
    );
    let bundle = node_bundle(
        "node dist/main.js",
        &[
            (
                "package.json",
                r#"{"scripts": {"build": "tsc"}, "dependencies": {"@prisma/client": "5.22.0"}, "devDependencies": {"prisma": "5.22.0", "typescript": "5"}}"#,
            ),
            ("package-lock.json", "{}"),
            schema,
        ],
        |_| {},
    );
    let d = dockerfile(&bundle);
    let at = |line: &str| {
        d.find(line)
            .unwrap_or_else(|| panic!("{line:?} not in:\n{d}"))
    };
    assert!(at("COPY prisma ./prisma\n") < at("RUN npm ci\n"));
    assert!(at("COPY . .\n") < at("RUN npx prisma generate\n"));
    assert!(at("RUN npx prisma generate\n") < at("RUN npm run build\n"));
    assert_eq!(
        d.matches("install -y --no-install-recommends openssl")
            .count(),
        2,
        "{d}"
    );

    // A postinstall that generates it already: the schema is copied first,
    // nothing more is run.
    let bundle = node_bundle(
        "node server.js",
        &[
            (
                "package.json",
                r#"{"scripts": {"postinstall": "prisma generate"}, "dependencies": {"@prisma/client": "5.22.0", "prisma": "5.22.0"}}"#,
            ),
            ("package-lock.json", "{}"),
            schema,
        ],
        |_| {},
    );
    let d = dockerfile(&bundle);
    assert!(d.contains("COPY prisma ./prisma\n"), "{d}");
    assert!(!d.contains("npx prisma generate"), "{d}");
}

/// Prisma 7 reads its datasource URL in `prisma.config.ts` with `env()`,
/// which throws when the variable is unset, and `prisma generate` loads that
/// file: the build's generate (and a build script that generates) gets a
/// placeholder; the image keeps no value.
#[test]
fn prisma_generate_gets_placeholders_for_what_its_config_reads() {
    let files = |scripts: &str| {
        vec![
            (
                "package.json".to_owned(),
                format!(
                    r#"{{"type": "module", "scripts": {scripts}, "dependencies": {{"@prisma/client": "7.8.0"}}, "devDependencies": {{"prisma": "7.8.0", "typescript": "5"}}}}"#
                ),
            ),
            ("package-lock.json".to_owned(), "{}".to_owned()),
            (
                "prisma/schema.prisma".to_owned(),
                "generator client {\n  provider = \"prisma-client\"\n}\n".to_owned(),
            ),
            (
                "prisma.config.ts".to_owned(),
                "import { defineConfig, env } from 'prisma/config';\nexport default defineConfig({\n  schema: 'prisma/schema.prisma',\n  datasource: { url: env('DATABASE_URL'), shadowDatabaseUrl: env(\"SHADOW_DATABASE_URL\") },\n});\n".to_owned(),
            ),
        ]
    };
    let bundle_of = |scripts: &str| {
        let owned = files(scripts);
        let refs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        node_bundle("node dist/server.js", &refs, |_| {})
    };
    let bundle = bundle_of(r#"{"build": "tsc"}"#);
    let d = dockerfile(&bundle);
    assert!(
        d.contains("RUN DATABASE_URL=postgresql://placeholder:placeholder@build-placeholder.invalid/placeholder SHADOW_DATABASE_URL=postgresql://placeholder:placeholder@build-placeholder.invalid/placeholder npx prisma generate\n"),
        "{d}"
    );
    assert!(d.contains("RUN npm run build\n"), "{d}");
    assert!(!d.contains("ENV DATABASE_URL"), "{d}");

    let bundle = bundle_of(r#"{"build": "prisma generate && tsc"}"#);
    let d = dockerfile(&bundle);
    assert!(!d.contains("npx prisma generate"), "{d}");
    assert!(
        d.contains("SHADOW_DATABASE_URL=postgresql://placeholder:placeholder@build-placeholder.invalid/placeholder npm run build\n"),
        "{d}"
    );
}

/// `app.listen(config.port)` with `port: process.env.PORT` in a config
/// module: the analysis saw PORT read but not the listen call it reaches.
/// PORT is set to the port the compose file publishes, not left to the
/// example file's default.
#[test]
fn a_port_variable_read_through_a_config_module_is_set_to_the_published_port() {
    let bundle = node_bundle(
        "node dist/server.js",
        &[
            ("package.json", r#"{"dependencies": {"express": "4"}}"#),
            ("package-lock.json", "{}"),
        ],
        |a| a.env.push(var("PORT", false, false, Some("5000"))),
    );
    assert_eq!(env_of(&bundle, "PORT").as_deref(), Some("3000"));
    assert_eq!(bundle.container_port, 3000);
}
