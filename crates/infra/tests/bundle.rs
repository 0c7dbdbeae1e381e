//! The Docker bundle, for a table of analysed repositories: every language
//! template, dockerized or not, loopback binds, secrets, and repositories
//! with their own compose files. Shared helpers live here; the language table
//! is in `bundle/cases.rs`, compose-file handling in `bundle/compose.rs`.

#[path = "bundle/cases.rs"]
mod cases;
#[path = "bundle/compose.rs"]
mod compose;
#[path = "bundle/node_checks.rs"]
mod node_checks;
#[path = "bundle/secrets.rs"]
mod secrets;
#[path = "bundle/stores.rs"]
mod stores;
#[path = "bundle/web_builds.rs"]
mod web_builds;

use analysis::{Analysis, BindAddress, EnvVar, Evidence, Requirements, Snapshot};
use infra::bundle::{AdjustmentKind, Bundle, BundleOptions, validate_compose};
use infra::choose::{Choice, Target, choose};
use serde_yaml_ng::Value;

fn build_bundle(
    analysis: &Analysis,
    repo: &analysis::Snapshot,
    choice: &infra::choose::Choice,
) -> Result<Bundle, infra::InfraError> {
    infra::bundle::bundle(analysis, repo, choice, &BundleOptions::default())
}

/// A secret value planted in `.env` files and (defensively) in the analysis;
/// it must never reach a generated file.
const SECRET: &str = "sk_live_do_not_leak_42";

const FLASK_APP: &str = "from flask import Flask\napp = Flask(__name__)\n";

fn app(language: &str, framework: &str, port: Option<u16>, start: Option<&str>) -> Analysis {
    Analysis {
        http: true,
        deny_reason: None,
        language: Some(language.to_owned()),
        runtime: None,
        framework: (!framework.is_empty()).then(|| framework.to_owned()),
        subdir: ".".to_owned(),
        port,
        port_env: None,
        bind: BindAddress {
            host: None,
            loopback_only: false,
            fix: None,
        },
        start_command: start.map(str::to_owned),
        build_command: None,
        required_env: Vec::new(),
        env: Vec::new(),
        dockerized: false,
        docker_files: Vec::new(),
        docker: Vec::new(),
        datastores: Vec::new(),
        mysql_native_password: false,
        postgres_tls_by_default: false,
        app_dir_named: false,
        workers: Vec::new(),
        health_path: None,
        apps: Vec::new(),
        notes: Vec::new(),
        evidence: Vec::new(),
    }
}

fn with(mut analysis: Analysis, edit: impl FnOnce(&mut Analysis)) -> Analysis {
    edit(&mut analysis);
    analysis
}

fn var(name: &str, required: bool, secret: bool, default: Option<&str>) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        required,
        secret,
        default: default.map(str::to_owned),
        url_scheme: None,
        kind: analysis::variable_kind(name),
        read_at_build: false,
    }
}

/// The app's secrets as an analysis might report them, the value included.
fn with_secrets(analysis: Analysis) -> Analysis {
    with(analysis, |a| {
        a.env.push(var("STRIPE_API_KEY", true, true, Some(SECRET)));
        a.env.push(var("SENTRY_DSN", false, true, None));
        a.env.push(var("LOG_LEVEL", false, false, Some("info")));
        a.required_env.push("STRIPE_API_KEY".to_owned());
    })
}

fn vm_choice(analysis: &Analysis) -> Choice {
    choose(analysis, &Requirements::default())
}

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| s.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// What must hold for every bundle.
fn check_common(name: &str, analysis: &Analysis, bundle: &Bundle) {
    let compose = bundle.files.get(&bundle.compose_file).unwrap_or_else(|| {
        panic!(
            "{name}: compose file {} not in the bundle",
            bundle.compose_file
        )
    });
    validate_compose(compose).unwrap_or_else(|e| panic!("{name}: {e}\n{compose}"));
    assert!(
        compose.contains("- ${DEPLOYFLOW_HOST_PORT:-8080}:"),
        "{name}: the app is published on host port 8080 unless DEPLOYFLOW_HOST_PORT moves it\n{compose}"
    );
    let doc = yaml(compose);
    let service = &doc["services"][bundle.app_service.as_str()];
    let ports = strings(&service["ports"]);
    if bundle.wrapped {
        assert!(
            ports.len() == 1 && ports[0].starts_with("${DEPLOYFLOW_HOST_PORT:-8080}:"),
            "{name}: {ports:?}"
        );
    } else {
        assert_eq!(
            ports,
            [format!(
                "${{DEPLOYFLOW_HOST_PORT:-8080}}:{}",
                bundle.container_port
            )],
            "{name}"
        );
        let restart = service["restart"].as_str().unwrap_or("no");
        assert!(
            ["unless-stopped", "always"].contains(&restart),
            "{name}: restart {restart}"
        );
    }

    let makefile = bundle
        .files
        .get("Makefile")
        .or(bundle.files.get("GNUmakefile"))
        .unwrap_or_else(|| panic!("{name}: no Makefile"));
    assert!(
        makefile.contains("\nup:\n") && makefile.contains("\t$(COMPOSE) up -d --build\n"),
        "{name}: {makefile}"
    );
    assert!(
        makefile.contains(&format!(
            "COMPOSE := $(COMPOSE_CLI) -f {}\n",
            bundle.compose_file
        )),
        "{name}"
    );
    assert!(
        makefile.contains("\ndown:\n") && makefile.contains("\nlogs:\n"),
        "{name}"
    );

    if let Some(dockerfile) = bundle.files.get(&bundle.dockerfile) {
        check_dockerfile(name, dockerfile, bundle.container_port);
        let ignore = bundle
            .files
            .get(&join(&bundle.build_context, ".dockerignore"))
            .unwrap_or_else(|| panic!("{name}: no .dockerignore beside the generated Dockerfile"));
        assert!(
            ignore.lines().any(|l| l == ".env") && ignore.lines().any(|l| l == ".git"),
            "{name}"
        );
    } else {
        assert!(
            bundle
                .adjustments
                .iter()
                .any(|a| a.kind == AdjustmentKind::Kept && a.path == bundle.dockerfile),
            "{name}: a Dockerfile not in the bundle is the repository's, kept"
        );
    }

    for (path, content) in &bundle.files {
        assert!(
            !content.contains(SECRET),
            "{name}: the secret value leaked into {path}"
        );
        assert!(
            bundle.adjustments.iter().any(|a| &a.path == path),
            "{name}: {path} is in the bundle without an adjustment saying why"
        );
    }
    for secret in analysis.env.iter().filter(|v| v.secret) {
        let written = service["environment"][secret.name.as_str()].as_str();
        if let Some(written) = written {
            // Its own reference, or the address of a provisioned store whose
            // password is itself a reference.
            assert!(
                written.starts_with(&format!("${{{}", secret.name))
                    || written.contains("${DEPLOYFLOW_") && written.contains("_PASSWORD:?"),
                "{name}: {written}"
            );
        }
    }
    assert!(
        bundle.adjustments.iter().all(|a| !a.reason.is_empty()),
        "{name}"
    );
}

fn check_dockerfile(name: &str, dockerfile: &str, port: u16) {
    assert!(!dockerfile.contains(":latest"), "{name}: {dockerfile}");
    for from in dockerfile.lines().filter(|l| l.starts_with("FROM ")) {
        let image = from.split_whitespace().nth(1).unwrap();
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
        assert!(
            tag.starts_with(|c: char| c.is_ascii_digit()),
            "{name}: unpinned base image in `{from}`"
        );
    }
    for copy in dockerfile
        .lines()
        .filter(|l| l.contains("COPY --from=") && l.contains(':'))
    {
        let image = copy
            .split_whitespace()
            .find_map(|w| w.strip_prefix("--from="))
            .unwrap();
        if image.contains('/') || image.contains(':') {
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
            assert!(
                tag.starts_with(|c: char| c.is_ascii_digit()),
                "{name}: unpinned image in `{copy}`"
            );
        }
    }
    let user = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("USER "))
        .next_back()
        .unwrap_or_else(|| panic!("{name}: no USER in\n{dockerfile}"));
    assert!(
        !["root", "0", "0:0"].contains(&user.trim()),
        "{name}: runs as {user}"
    );
    assert!(
        dockerfile.contains(&format!("\nEXPOSE {port}\n")),
        "{name}: {dockerfile}"
    );
    let cmd = dockerfile.lines().rfind(|l| l.starts_with("CMD ")).unwrap();
    serde_json::from_str::<Vec<String>>(&cmd[4..])
        .unwrap_or_else(|e| panic!("{name}: CMD not exec form ({e}): {cmd}"));
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

fn dockerfile(bundle: &Bundle) -> &str {
    bundle
        .files
        .get(&bundle.dockerfile)
        .map(String::as_str)
        .unwrap()
}

/// The notes the plan's "changes to the repository" list carries.
fn notes(bundle: &Bundle) -> impl Iterator<Item = &str> {
    bundle
        .adjustments
        .iter()
        .filter(|a| a.kind == AdjustmentKind::Note)
        .map(|a| a.reason.as_str())
}

fn cmd(bundle: &Bundle) -> Vec<String> {
    let line = dockerfile(bundle)
        .lines()
        .rfind(|l| l.starts_with("CMD "))
        .unwrap();
    serde_json::from_str(&line[4..]).unwrap()
}

fn compose_service(bundle: &Bundle) -> Value {
    let doc = yaml(&bundle.files[&bundle.compose_file]);
    doc["services"][bundle.app_service.as_str()].clone()
}

/// Whether `name` is a key of the `mapping` with no value: compose passes
/// it from the shell or `.env` only when it is set there.
fn is_passed_through(mapping: &Value, name: &str) -> bool {
    mapping
        .as_mapping()
        .and_then(|m| m.get(name))
        .is_some_and(Value::is_null)
}

fn env_of(bundle: &Bundle, name: &str) -> Option<String> {
    compose_service(bundle)["environment"][name]
        .as_str()
        .map(str::to_owned)
}

fn has(bundle: &Bundle, kind: AdjustmentKind, text: &str) -> bool {
    bundle
        .adjustments
        .iter()
        .any(|a| a.kind == kind && a.reason.contains(text))
}

#[test]
fn a_loopback_bind_in_code_is_patched_on_the_evidenced_line() {
    let source = "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == '__main__':\n    app.run(host='127.0.0.1', port=5000)\n";
    let analysis = with(
        app("python", "flask", Some(5000), Some("python app.py")),
        |a| {
            a.bind = BindAddress {
                host: Some("127.0.0.1".into()),
                loopback_only: true,
                fix: None,
            };
            a.evidence.push(Evidence {
                fact: "bind".into(),
                file: "app.py".into(),
                line: Some(5),
                detail: "app.run(host='127.0.0.1')".into(),
            });
        },
    );
    let repo = Snapshot::from_texts([("app.py", source), ("requirements.txt", "flask\n")]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    check_common("code patch", &analysis, &bundle);
    assert_eq!(
        bundle.files["app.py"],
        source.replace("127.0.0.1", "0.0.0.0")
    );
    let patch = bundle
        .adjustments
        .iter()
        .find(|a| a.path == "app.py")
        .unwrap();
    assert_eq!(patch.kind, AdjustmentKind::BindFix);
    assert!(patch.reason.contains("Line 5"));
}

/// `rails new`'s production settings force TLS; the deployment answers on
/// plain HTTP, so the bundle's copy of them follows a variable instead.
#[test]
fn a_rails_app_forcing_tls_is_served_on_plain_http() {
    let production = "Rails.application.configure do\n  config.assume_ssl = true\n  config.force_ssl = true\nend\n";
    let analysis = app("ruby", "rails", Some(3000), Some("bin/rails server"));
    let repo = Snapshot::from_texts([
        ("Gemfile", "gem 'rails'\n"),
        ("config/environments/production.rb", production),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let rewritten = &bundle.files["config/environments/production.rb"];
    assert!(
        rewritten.contains("config.force_ssl = ENV[\"RAILS_FORCE_SSL\"] == \"true\"")
            && rewritten.contains("config.assume_ssl = ENV[\"RAILS_ASSUME_SSL\"] == \"true\""),
        "{rewritten}"
    );
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "redirects every request to https://"
    ));
    let flask = app("python", "flask", Some(5000), Some("python app.py"));
    let unrelated = Snapshot::from_texts([
        ("app.py", ""),
        ("requirements.txt", "flask\n"),
        ("config/environments/production.rb", production),
    ]);
    let bundle = build_bundle(&flask, &unrelated, &vm_choice(&flask)).unwrap();
    assert!(
        !bundle
            .files
            .contains_key("config/environments/production.rb")
    );
}

#[test]
fn the_analysis_bind_fix_is_applied() {
    let by_env = with(app("node", "koa", Some(3000), Some("node index.js")), |a| {
        a.bind = BindAddress {
            host: Some("localhost".into()),
            loopback_only: true,
            fix: Some("HOST=0.0.0.0".into()),
        };
    });
    let repo = Snapshot::from_texts([("index.js", ""), ("package.json", "{}")]);
    let bundle = build_bundle(&by_env, &repo, &vm_choice(&by_env)).unwrap();
    assert_eq!(env_of(&bundle, "HOST").as_deref(), Some("0.0.0.0"));
    assert!(dockerfile(&bundle).contains("ENV HOST=\"0.0.0.0\""));
    assert!(has(&bundle, AdjustmentKind::EnvVar, "HOST"));
    assert!(
        bundle.files.keys().all(|p| p != "index.js"),
        "the env fix makes a code patch needless"
    );

    let by_flag = with(
        app(
            "python",
            "aiohttp",
            Some(8080),
            Some("python -m aiohttp.web app:init"),
        ),
        |a| {
            a.bind = BindAddress {
                host: Some("localhost".into()),
                loopback_only: true,
                fix: Some("--hostname 0.0.0.0".into()),
            };
        },
    );
    let repo = Snapshot::from_texts([("app.py", ""), ("requirements.txt", "aiohttp\n")]);
    let bundle = build_bundle(&by_flag, &repo, &vm_choice(&by_flag)).unwrap();
    assert_eq!(
        cmd(&bundle),
        [
            "python",
            "-m",
            "aiohttp.web",
            "app:init",
            "--hostname",
            "0.0.0.0"
        ]
    );
}

#[test]
fn a_kept_dockerfile_gets_the_fixed_command_from_compose() {
    let analysis = with(app("python", "flask", Some(5000), Some("flask run")), |a| {
        a.dockerized = true;
        a.docker_files = vec!["Dockerfile".into()];
    });
    let plain = Snapshot::from_texts([("Dockerfile", "FROM python:3.12-slim\nCMD flask run\n")]);
    let bundle = build_bundle(&analysis, &plain, &vm_choice(&analysis)).unwrap();
    assert_eq!(
        strings(&compose_service(&bundle)["command"]),
        ["flask", "run", "--host", "0.0.0.0", "--port", "5000"]
    );
    assert!(has(
        &bundle,
        AdjustmentKind::BindFix,
        "listens on all interfaces"
    ));

    let entrypoint = Snapshot::from_texts([(
        "Dockerfile",
        "FROM python:3.12-slim\nENTRYPOINT [\"flask\", \"run\"]\n",
    )]);
    let bundle = build_bundle(&analysis, &entrypoint, &vm_choice(&analysis)).unwrap();
    assert!(compose_service(&bundle)["command"].is_null());
    assert!(has(&bundle, AdjustmentKind::Note, "ENTRYPOINT"));
}

/// godotenv fails without `.env`, which the image never has (the ignore
/// file keeps the developer's out): the final stage gets an empty one.
#[test]
fn a_go_app_loading_its_dotenv_file_finds_one_in_the_image() {
    let analysis = app("go", "net-http", Some(8080), None);
    let repo = Snapshot::from_texts([
        (
            "main.go",
            "package main\n\nfunc main() {\n\tif err := godotenv.Load(\".env\"); err != nil {\n\t\tlog.Fatal(err)\n\t}\n}\n",
        ),
        ("go.mod", "module x\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    check_common("godotenv", &analysis, &bundle);
    let d = dockerfile(&bundle);
    let final_stage = &d[d.rfind("FROM ").unwrap()..];
    assert!(final_stage.contains("WORKDIR /app\n"), "{d}");
    assert!(final_stage.contains("RUN touch .env\n"), "{d}");
    assert!(bundle.files[".dockerignore"].lines().any(|l| l == ".env"));
    assert!(has(&bundle, AdjustmentKind::Note, "godotenv"));
}

#[test]
fn a_repository_makefile_is_left_alone() {
    let analysis = app("go", "net-http", Some(8080), None);
    let repo = Snapshot::from_texts([
        ("Makefile", "build:\n\tgo build\n"),
        ("main.go", "package main\n"),
        ("go.mod", "module x\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    check_common("own Makefile", &analysis, &bundle);
    assert!(!bundle.files.contains_key("Makefile"));
    assert!(bundle.files.contains_key("GNUmakefile"));
    assert!(has(
        &bundle,
        AdjustmentKind::Note,
        "GNUmakefile, which GNU make reads first"
    ));
}

#[test]
fn a_repository_dockerignore_is_extended_not_replaced() {
    let analysis = app("python", "flask", Some(5000), Some("flask run"));
    let repo = Snapshot::from_texts([
        (".dockerignore", "data/\n.env\n"),
        ("app.py", FLASK_APP),
        ("requirements.txt", "flask\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let ignore = &bundle.files[".dockerignore"];
    assert!(ignore.starts_with("data/\n.env\n"));
    assert_eq!(ignore.lines().filter(|l| *l == ".env").count(), 1);
    assert!(ignore.contains("\n.git\n"));
    assert!(
        bundle
            .adjustments
            .iter()
            .any(|a| a.path == ".dockerignore" && a.kind == AdjustmentKind::Rewritten)
    );
}

#[test]
fn bundles_are_refused_with_a_reason() {
    let repo = Snapshot::from_texts([("main.py", "")]);
    let cli = with(app("python", "", None, None), |a| {
        a.http = false;
        a.deny_reason = Some("looks like a CLI tool".into());
    });
    let err = build_bundle(&cli, &repo, &vm_choice(&cli))
        .unwrap_err()
        .to_string();
    assert!(err.contains("looks like a CLI tool"), "{err}");

    let no_port = app("python", "flask", None, Some("flask run"));
    let err = build_bundle(&no_port, &repo, &vm_choice(&no_port))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no port"), "{err}");

    let cobol = app("cobol", "", Some(8080), Some("./server"));
    let err = build_bundle(&cobol, &repo, &vm_choice(&cobol))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no Dockerfile template for cobol"), "{err}");
}

#[test]
fn adjustments_serialise_for_the_checkpoint() {
    let analysis = app("python", "flask", Some(5000), Some("flask run"));
    let repo = Snapshot::from_texts([("app.py", FLASK_APP), ("requirements.txt", "flask\n")]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let json = serde_json::to_value(&bundle).unwrap();
    let kinds: Vec<&str> = json["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    for kind in ["added", "bind-fix", "note"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    let back: Bundle = serde_json::from_value(json).unwrap();
    assert_eq!(back, bundle);
    assert!(
        bundle.adjustments[0]
            .to_string()
            .starts_with("[added] Dockerfile: ")
    );
}

#[test]
fn only_the_apps_own_or_an_enclosing_dockerfile_is_kept() {
    let sibling = with(
        app("python", "fastapi", Some(8000), Some("uvicorn main:app")),
        |a| {
            a.subdir = "api".into();
            a.dockerized = true;
            a.docker_files = vec!["web/Dockerfile".into()];
        },
    );
    let repo = Snapshot::from_texts([
        ("web/Dockerfile", "FROM nginx:1.27\n"),
        ("api/main.py", ""),
        ("api/requirements.txt", "fastapi\n"),
    ]);
    let bundle = build_bundle(&sibling, &repo, &vm_choice(&sibling)).unwrap();
    check_common("sibling Dockerfile", &sibling, &bundle);
    assert_eq!(
        bundle.dockerfile, "api/Dockerfile",
        "web's Dockerfile is not the api's"
    );
    assert!(bundle.files.contains_key("api/Dockerfile"));

    let enclosing = with(sibling.clone(), |a| {
        a.docker_files = vec!["Dockerfile".into(), "web/Dockerfile".into()]
    });
    let repo = Snapshot::from_texts([
        ("Dockerfile", "FROM python:3.12-slim\nCOPY api/ /app/\n"),
        ("web/Dockerfile", "FROM nginx:1.27\n"),
        ("api/main.py", ""),
    ]);
    let bundle = build_bundle(&enclosing, &repo, &vm_choice(&enclosing)).unwrap();
    check_common("root Dockerfile", &enclosing, &bundle);
    assert_eq!(
        (bundle.dockerfile.as_str(), bundle.build_context.as_str()),
        ("Dockerfile", "")
    );
    assert_eq!(compose_service(&bundle)["build"].as_str(), Some("."));

    let development = with(sibling.clone(), |a| {
        a.docker_files = vec!["api/Dockerfile.dev".into()];
    });
    let repo = Snapshot::from_texts([
        (
            "api/Dockerfile.dev",
            "FROM python:3.12\nCMD [\"uvicorn\", \"main:app\", \"--reload\"]\n",
        ),
        ("api/main.py", ""),
        ("api/requirements.txt", "fastapi\nuvicorn\n"),
    ]);
    let bundle = build_bundle(&development, &repo, &vm_choice(&development)).unwrap();
    assert_eq!(
        bundle.dockerfile, "api/Dockerfile",
        "a development image is not the deployment's"
    );
    assert!(has(&bundle, AdjustmentKind::Note, "is a development image"));
}

#[test]
fn a_serverless_target_with_a_kept_dockerfile_says_what_lambda_needs() {
    let analysis = with(
        app("node", "express", Some(3000), Some("node server.js")),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into()];
        },
    );
    let repo = Snapshot::from_texts([("Dockerfile", "FROM node:22\nCMD node server.js\n")]);
    let choice = choose(
        &analysis,
        &Requirements {
            scale_to_zero: true,
            ..Requirements::default()
        },
    );
    assert_eq!(choice.target, Target::Serverless);
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    assert!(has(&bundle, AdjustmentKind::Note, "Lambda Web Adapter"));
}

/// A Dockerfile that copies a build output the repository does not hold
/// (a jar a build outside Docker makes), or a Gitpod workspace image, is
/// not the app's image: one is generated, and the plan says why.
#[test]
fn a_dockerfile_that_cannot_build_from_the_repository_is_replaced() {
    let analysis = with(
        app("python", "flask", Some(5000), Some("gunicorn app:app")),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into()];
        },
    );
    let repo = Snapshot::from_texts([
        (
            "Dockerfile",
            "FROM python:3.12-slim\nCOPY dist/app.whl /tmp/\nRUN pip install /tmp/app.whl\nCMD [\"gunicorn\", \"app:app\"]\n",
        ),
        ("app.py", FLASK_APP),
        ("requirements.txt", "flask\ngunicorn\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert!(
        !dockerfile(&bundle).contains("dist/app.whl"),
        "{}",
        dockerfile(&bundle)
    );
    assert!(
        notes(&bundle)
            .any(|n| n.contains("copies dist/app.whl, which the repository does not hold"))
    );

    let analysis = with(analysis, |a| {
        a.docker_files = vec![".gitpod.dockerfile".into()]
    });
    let repo = Snapshot::from_texts([
        (
            ".gitpod.dockerfile",
            "FROM gitpod/workspace-full\nRUN pip install black\n",
        ),
        ("app.py", FLASK_APP),
        ("requirements.txt", "flask\ngunicorn\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert_eq!(bundle.dockerfile, "Dockerfile");
    assert!(
        dockerfile(&bundle).contains("gunicorn"),
        "{}",
        dockerfile(&bundle)
    );
}

/// The common Laravel image of PHP-FPM behind a compose file's nginx:
/// FastCGI on 9000, no HTTP. The app gets an image that serves HTTP.
#[test]
fn a_php_fpm_image_is_replaced_by_one_that_serves_http() {
    let analysis = with(app("php", "laravel", Some(9000), Some("php-fpm")), |a| {
        a.dockerized = true;
        a.docker_files = vec!["Dockerfile".into()];
    });
    let repo = Snapshot::from_texts([
        (
            "Dockerfile",
            "FROM php:8.2-fpm\nWORKDIR /var/www\nCOPY . /var/www\nEXPOSE 9000\nCMD [\"php-fpm\"]\n",
        ),
        ("artisan", "<?php\n"),
        (
            "composer.json",
            r#"{"require": {"laravel/framework": "^11.0"}}"#,
        ),
        ("public/index.php", "<?php\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert!(
        notes(&bundle).any(|n| n.contains("runs php-fpm")),
        "{:?}",
        notes(&bundle).collect::<Vec<_>>()
    );
    assert_eq!(cmd(&bundle)[..3], ["php", "artisan", "serve"]);
}

/// A Flask app started by `app.run()` binds loopback: the line is
/// rebound, and the analysis's other suggestion (a `flask run` command in
/// prose) is not reported as a fix left undone.
#[test]
fn a_rebound_loopback_line_leaves_no_warning_that_the_bind_was_not_fixed() {
    let repo = Snapshot::from_texts([
        ("requirements.txt", "Flask==3.0.0\n"),
        (
            "app.py",
            "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n\n    @app.get(\"/\")\n    def index():\n        return \"ok\"\n\n    return app\n",
        ),
        (
            "run.py",
            "from app import create_app\n\napp = create_app()\n\nif __name__ == \"__main__\":\n    app.run()\n",
        ),
    ]);
    let analysis = analysis::analyse(&repo, &analysis::Requirements::default());
    assert!(analysis.bind.loopback_only, "{:?}", analysis.bind);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let reasons: Vec<&str> = bundle
        .adjustments
        .iter()
        .map(|a| a.reason.as_str())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("is now 0.0.0.0")),
        "{reasons:#?}"
    );
    assert!(
        !reasons
            .iter()
            .any(|r| r.contains("not applied") || r.contains("no fix is known")),
        "{reasons:#?}"
    );
}

/// The nginx in front of that PHP-FPM image passes FastCGI to the app,
/// which now serves HTTP itself: the front goes, the app is published.
#[test]
fn the_fastcgi_front_of_a_php_fpm_image_is_left_out() {
    let analysis = with(app("php", "laravel", Some(9000), Some("php-fpm")), |a| {
        a.dockerized = true;
        a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
    });
    let repo = Snapshot::from_texts([
        (
            "Dockerfile",
            "FROM php:8.2-fpm\nWORKDIR /var/www\nCOPY . /var/www\nEXPOSE 9000\nCMD [\"php-fpm\"]\n",
        ),
        (
            "docker-compose.yml",
            "services:\n  app:\n    build: .\n    volumes: ['./:/var/www']\n  nginx:\n    image: nginx:alpine\n    ports: ['8000:80']\n    volumes: ['./:/var/www', './docker/nginx:/etc/nginx/conf.d']\n    depends_on: [app]\n",
        ),
        (
            "docker/nginx/app.conf",
            "server {\n  listen 80;\n  root /var/www/public;\n  location ~ \\.php$ {\n    fastcgi_pass app:9000;\n    include fastcgi_params;\n  }\n}\n",
        ),
        ("artisan", "<?php\n"),
        (
            "composer.json",
            r#"{"require": {"laravel/framework": "^11.0"}}"#,
        ),
        ("public/index.php", "<?php\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let compose: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&bundle.files[bundle.compose_file.as_str()]).unwrap();
    let services = compose["services"].as_mapping().unwrap();
    assert!(!services.contains_key("nginx"), "{compose:?}");
    let ports = format!("{:?}", compose["services"]["app"]["ports"]);
    assert!(
        ports.contains("8080"),
        "the app is published itself: {ports}"
    );
    assert!(
        bundle
            .adjustments
            .iter()
            .any(|a| a.reason.contains("over FastCGI")),
        "{:?}",
        bundle.adjustments
    );
}

/// A Python app with no dependency file: the image installs what its
/// imports name (the distribution, not the import), not the standard
/// library or the app's own modules, and the plan says they are unpinned.
#[test]
fn a_python_app_without_a_dependency_file_gets_what_its_imports_name() {
    let analysis = app("python", "flask", Some(5000), Some("gunicorn app:app"));
    let repo = Snapshot::from_texts([
        (
            "app.py",
            "import os, json\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\nimport yaml\nfrom controller import routes\nfrom .models import User\n",
        ),
        ("controller.py", "from PIL import Image\nimport models\n"),
        ("models.py", "import sqlite3\n"),
        ("tests/test_app.py", "import pytest\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let d = dockerfile(&bundle);
    assert!(
        d.contains("RUN /opt/venv/bin/pip install Flask-SQLAlchemy Pillow PyYAML flask\n"),
        "{d}"
    );
    assert!(d.contains("gunicorn"), "the start command's server: {d}");
    assert!(
        notes(&bundle).any(|n| n.contains("no requirements.txt") && n.contains("unpinned")),
        "{:#?}",
        notes(&bundle).collect::<Vec<_>>()
    );
    // Nothing to infer from: refused with the reason.
    let bare = Snapshot::from_texts([("app.py", "import os\n")]);
    let err = build_bundle(&analysis, &bare, &vm_choice(&analysis))
        .unwrap_err()
        .to_string();
    assert!(err.contains("lists no Python dependencies"), "{err}");
}

#[test]
fn an_example_default_naming_another_variable_gets_that_variables_default() {
    let analysis = with(
        app("php", "laravel", Some(8000), Some("php artisan serve")),
        |a| {
            a.env.push(var("APP_NAME", false, false, Some("Laravel")));
            a.env
                .push(var("MAIL_FROM_NAME", false, false, Some("${APP_NAME}")));
            a.env
                .push(var("GREETING", false, false, Some("Hi from ${APP_NAME}!")));
            a.env
                .push(var("FEED_URL", false, false, Some("${UNKNOWN}/feed")));
        },
    );
    let repo = Snapshot::from_texts([("artisan", "<?php\n"), ("composer.json", "{}")]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    // Compose would hand the app the text `${APP_NAME}`, which only the
    // app's dotenv loader expands.
    assert_eq!(
        env_of(&bundle, "MAIL_FROM_NAME").as_deref(),
        Some("${MAIL_FROM_NAME:-Laravel}")
    );
    assert_eq!(
        env_of(&bundle, "GREETING").as_deref(),
        Some("${GREETING:-Hi from Laravel!}")
    );
    // A reference to nothing known stays the literal text it was.
    assert_eq!(
        env_of(&bundle, "FEED_URL").as_deref(),
        Some("$${UNKNOWN}/feed")
    );
}
