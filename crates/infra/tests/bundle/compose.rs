//! Repositories with their own compose files: rewritten, wrapped in
//! docker-in-docker, or left unused; and the schema check itself.

use super::*;

#[test]
fn a_compose_file_without_a_clear_app_service_runs_in_docker_in_docker() {
    let analysis = with_secrets(with(
        app("node", "express", Some(3000), Some("node server.js")),
        |a| {
            a.subdir = "services/shop".into();
            a.dockerized = true;
            a.docker_files = vec![
                "services/shop/Dockerfile".into(),
                "docker-compose.yml".into(),
            ];
        },
    ));
    let compose = r#"
services:
  gateway:
    build: ./gateway
    ports: ["80:80"]
  orders:
    build: ./orders
  billing:
    build: ./billing
"#;
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        ("services/shop/Dockerfile", "FROM node:22\n"),
        ("services/shop/server.js", ""),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    check_common("wrapper", &analysis, &bundle);
    assert!(bundle.wrapped);
    assert_eq!(bundle.compose_file, "deployflow.compose.yaml");
    assert!(
        !bundle.files.contains_key("docker-compose.yml"),
        "the repository's file runs unchanged"
    );
    let service = compose_service(&bundle);
    assert_eq!(
        strings(&service["ports"]),
        ["${DEPLOYFLOW_HOST_PORT:-8080}:80"],
        "host 8080 reaches the stack's front door"
    );
    assert_eq!(service["privileged"].as_bool(), Some(true));
    let script = strings(&service["entrypoint"]).join(" ");
    assert!(
        script.contains("docker compose -f docker-compose.yml up --build"),
        "{script}"
    );
    assert!(service["image"].as_str().unwrap().ends_with("-dind"));
    assert_eq!(
        service["environment"]["STRIPE_API_KEY"].as_str(),
        Some("${STRIPE_API_KEY:?STRIPE_API_KEY is required}")
    );
    let wrapper = bundle
        .adjustments
        .iter()
        .find(|a| a.kind == AdjustmentKind::Wrapper)
        .unwrap();
    assert_eq!(wrapper.path, "docker-compose.yml");
    assert!(
        wrapper
            .reason
            .contains("several services with their own build contexts"),
        "{}",
        wrapper.reason
    );
    // The app's own image is still described, for targets that run one image.
    assert_eq!(
        (bundle.dockerfile.as_str(), bundle.build_context.as_str()),
        ("services/shop/Dockerfile", "services/shop")
    );
}

#[test]
fn an_ambiguous_compose_file_with_no_known_front_door_is_left_unused() {
    let analysis = app("python", "flask", Some(5000), Some("flask run"));
    let compose = "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n";
    let repo = Snapshot::from_texts([
        ("compose.yaml", compose),
        ("app.py", FLASK_APP),
        ("requirements.txt", "flask\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    check_common("unused compose", &analysis, &bundle);
    assert_eq!(bundle.compose_file, "compose.deployflow.yaml");
    assert!(!bundle.files.contains_key("compose.yaml"));
    assert!(
        bundle
            .adjustments
            .iter()
            .any(|a| a.kind == AdjustmentKind::Kept
                && a.path == "compose.yaml"
                && a.reason.contains("left unused"))
    );
}

#[test]
fn a_compose_file_without_the_app_gets_an_app_service() {
    let analysis = app("node", "express", Some(3000), Some("node server.js"));
    let compose = "services:\n  redis:\n    image: redis:7.4\n    ports: ['6379:6379']\n";
    let repo = Snapshot::from_texts([
        ("compose.yml", compose),
        ("server.js", ""),
        ("package.json", "{}"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    check_common("added service", &analysis, &bundle);
    assert_eq!(
        (bundle.compose_file.as_str(), bundle.app_service.as_str()),
        ("compose.yml", "app")
    );
    let doc = yaml(&bundle.files["compose.yml"]);
    // The cache stays, reached over the compose network, not the host's.
    assert_eq!(
        doc["services"]["redis"]["image"].as_str(),
        Some("redis:7.4")
    );
    assert!(doc["services"]["redis"].get("ports").is_none());
    assert_eq!(doc["services"]["app"]["build"].as_str(), Some("."));
}

/// kener's compose file runs the app's published image (`owner/kener`)
/// beside its database: that service is the app, and builds the repository
/// instead of running the release next to an added copy.
#[test]
fn a_service_running_the_apps_published_image_builds_the_repository() {
    let analysis = app("node", "express", Some(3000), Some("node server.js"));
    let compose = "services:\n  kener:\n    image: ghcr.io/someone/kener:latest\n    ports: ['3000:3000/tcp']\n    volumes: ['data:/app/database']\n    depends_on: [db]\n  db:\n    image: postgres:16\nvolumes:\n  data: {}\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        ("server.js", ""),
        ("package.json", r#"{"name": "kener"}"#),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    check_common("published image", &analysis, &bundle);
    assert_eq!(bundle.app_service, "kener");
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let services = doc["services"].as_mapping().unwrap();
    assert_eq!(services.len(), 2, "no second copy of the app: {doc:?}");
    let kener = &doc["services"]["kener"];
    assert_eq!(kener["build"].as_str(), Some("."));
    assert!(kener.get("image").is_none(), "{kener:?}");
    assert_eq!(strings(&kener["volumes"]), ["data:/app/database"]);
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "ran the published image ghcr.io/someone/kener:latest"
    ));

    // Another project's image on the same port is not the app.
    let grafana = compose.replace("ghcr.io/someone/kener", "grafana/grafana");
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", grafana.as_str()),
        ("server.js", ""),
        ("package.json", r#"{"name": "kener"}"#),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert_eq!(bundle.app_service, "app");

    // A Go module's name is its image's (`image: go-clean-arch`, built by
    // the repository's Makefile, on no registry).
    let go = app("go", "echo", Some(9090), Some("/app/server"));
    let module = "services:\n  web:\n    image: go-clean-arch\n    ports: ['9090:9090']\n    depends_on:\n      mysql:\n        condition: service_healthy\n  mysql:\n    image: mysql:8.3\n";
    let repo = Snapshot::from_texts([
        ("compose.yaml", module),
        (
            "go.mod",
            "module github.com/bxcodec/go-clean-arch/v2\n\ngo 1.22\n",
        ),
        ("main.go", "package main\n"),
    ]);
    let bundle = build_bundle(&go, &repo, &vm_choice(&go)).unwrap();
    assert_eq!(bundle.app_service, "web");
    let doc = yaml(&bundle.files["compose.yaml"]);
    assert!(doc["services"]["web"].get("image").is_none(), "{doc:?}");
    assert_eq!(doc["services"].as_mapping().unwrap().len(), 2, "{doc:?}");

    // A slot for the app's image on its port is the app too.
    let slot = "services:\n  web:\n    image: <ContainerRegistryName>.azurecr.io/<ImageName>\n    ports: ['80:3000']\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", slot),
        ("server.js", ""),
        ("package.json", "{}"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert_eq!(bundle.app_service, "web");
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    assert!(doc["services"]["web"].get("image").is_none());
    assert_eq!(doc["services"].as_mapping().unwrap().len(), 1);
}

#[test]
fn the_schema_rejects_what_compose_would_reject() {
    validate_compose("services:\n  app:\n    image: nginx:1.27\n    ports: ['8080:80']\n").unwrap();
    let bad = [
        (
            "unknown key",
            "services:\n  app:\n    image: nginx:1.27\n    publish: ['8080:80']\n",
        ),
        (
            "ports not a list",
            "services:\n  app:\n    image: nginx:1.27\n    ports: {a: 1}\n",
        ),
        (
            "restart not a string",
            "services:\n  app:\n    image: nginx:1.27\n    restart: [always]\n",
        ),
        ("not YAML", "services: [\n"),
    ];
    for (what, yaml) in bad {
        let err = validate_compose(yaml).unwrap_err().to_string();
        assert!(err.starts_with("invalid compose file"), "{what}: {err}");
    }
    let err = validate_compose(bad[0].1).unwrap_err().to_string();
    assert!(err.contains("/services/app"), "errors say where: {err}");
}

#[test]
fn a_secret_the_repository_compose_file_writes_out_is_replaced() {
    let analysis = with(app("go", "fiber", Some(8080), Some("/app/server")), |a| {
        a.dockerized = true;
        a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
        a.env.push(var("JWT_SECRET", true, true, None));
        a.env.push(var("PAYMENTS_API_KEY", true, true, None));
        a.env.push(var("LOG_LEVEL", false, false, Some("info")));
    });
    let compose = "services:\n  app:\n    build: .\n    ports: ['8080:8080']\n    environment:\n      JWT_SECRET: your-secret-key-change-in-production\n      PAYMENTS_API_KEY: ${PAYMENTS_API_KEY}\n      LOG_LEVEL: debug\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        ("Dockerfile", "FROM golang:1.23\nCMD [\"/app/server\"]\n"),
        ("go.mod", "module x\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let environment = &compose_service(&bundle)["environment"];
    assert_eq!(
        environment["JWT_SECRET"].as_str(),
        Some("${JWT_SECRET:?JWT_SECRET is required}"),
        "the written-out key gives way to the generated one"
    );
    assert_eq!(
        environment["PAYMENTS_API_KEY"].as_str(),
        Some("${PAYMENTS_API_KEY}"),
        "a reference is the repository's to keep"
    );
    assert_eq!(environment["LOG_LEVEL"].as_str(), Some("debug"));
    assert!(has(
        &bundle,
        AdjustmentKind::EnvVar,
        "anyone who reads the repository knows"
    ));
}

#[test]
fn a_mount_of_the_repository_over_the_apps_code_is_dropped() {
    let analysis = with(
        app("node", "express", Some(3000), Some("node server.js")),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
        },
    );
    let compose = "services:\n  web:\n    build: .\n    ports: ['3000:3000']\n    volumes:\n      - .:/usr/src/app\n      - /usr/src/app/node_modules\n      - ./uploads:/usr/src/app/uploads\n      - node_data:/data\n      - type: bind\n        source: ./src\n        target: /usr/src/app/src\nvolumes:\n  node_data: {}\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "Dockerfile",
            "FROM node:22\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
        ),
        ("server.js", ""),
        ("package.json", "{}"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let service = compose_service(&bundle);
    assert_eq!(strings(&service["volumes"]), ["node_data:/data"]);
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "no longer mounts .:/usr/src/app"
    ));
}

/// A compose file in `docker/` mounts the repository as `../`: the mount
/// hid the image's installed packages as `.:/app` does at the root.
#[test]
fn a_mount_of_the_repository_from_a_compose_file_in_a_subfolder_is_dropped() {
    let analysis = with(
        app("node", "express", Some(3000), Some("node server.js")),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker/docker-compose.yml".into()];
        },
    );
    let compose = "services:\n  web:\n    build: ..\n    working_dir: /usr/src/app/server\n    ports: ['3000:3000']\n    volumes:\n      - ../:/usr/src/app\n      - ${PWD}/..:/srv\n      - ../../elsewhere:/elsewhere\n      - ./logs:/var/log/app\n";
    let repo = Snapshot::from_texts([
        ("docker/docker-compose.yml", compose),
        (
            "Dockerfile",
            "FROM node:22\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
        ),
        ("server.js", ""),
        ("package.json", "{}"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let service = compose_service(&bundle);
    assert_eq!(
        strings(&service["volumes"]),
        ["../../elsewhere:/elsewhere"],
        "what is outside the repository stays"
    );
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "no longer mounts ../:/usr/src/app"
    ));
    // It started in the mounted sources, which are the image's now.
    assert!(service.get("working_dir").is_none(), "{service:?}");
}

/// The Dockerfile leaves the command to a compose override file
/// (`node:alpine` with no CMD runs Node's prompt, which exits at once): the
/// app's service starts the app as the repository does (`yarn start`, which
/// finds the script's `pm2`), unless it has a command of its own.
#[test]
fn an_image_that_starts_nothing_is_started_by_the_service() {
    let analysis = with(
        app("node", "express", Some(3000), Some("yarn start")),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
        },
    );
    let dockerfile = "FROM node:alpine\nWORKDIR /usr/src/node-app\nCOPY package.json yarn.lock ./\nRUN yarn install --pure-lockfile\nCOPY . .\nEXPOSE 3000\n";
    let bundle_with = |compose: &str| {
        let repo = Snapshot::from_texts([
            ("docker-compose.yml", compose),
            ("Dockerfile", dockerfile),
            ("src/index.js", ""),
            (
                "package.json",
                r#"{"scripts":{"start":"pm2 start ecosystem.config.json --no-daemon"},"dependencies":{"pm2":"5"}}"#,
            ),
            ("yarn.lock", ""),
        ]);
        build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap()
    };
    let bundle = bundle_with("services:\n  node-app:\n    build: .\n    ports: ['3000:3000']\n");
    assert_eq!(
        strings(&compose_service(&bundle)["command"]),
        ["yarn", "start"]
    );
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "its Dockerfile sets no CMD"
    ));
    let own = bundle_with(
        "services:\n  node-app:\n    build: .\n    ports: ['3000:3000']\n    command: yarn start:prod\n",
    );
    assert_eq!(
        compose_service(&own)["command"].as_str(),
        Some("yarn start:prod")
    );
}

/// The development compose file starts Django's development server over
/// the image's gunicorn: the image's command starts the app.
#[test]
fn a_development_server_of_a_kept_compose_file_gives_way_to_the_images_command() {
    let analysis = with(
        app(
            "python",
            "django",
            Some(8000),
            Some("gunicorn --bind 0.0.0.0:8000 project.wsgi"),
        ),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
        },
    );
    let compose = "services:\n  web:\n    build: .\n    command: python /code/manage.py runserver 0.0.0.0:8000\n    ports: ['8000:8000']\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "Dockerfile",
            "FROM python:3.12\nWORKDIR /code\nCOPY . .\nRUN pip install -r requirements.txt\nCMD gunicorn --bind 0.0.0.0:8000 project.wsgi\n",
        ),
        ("manage.py", ""),
        ("requirements.txt", "django\ngunicorn\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let service = compose_service(&bundle);
    assert!(service["command"].is_null(), "{service:?}");
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "a development server"
    ));
}

/// testdrivenio's layout: the image's `ENTRYPOINT` script migrates, then
/// runs what it is given (`exec "$@"`), and it has no `CMD`; the compose
/// file gave it `runserver`. The development server goes, and the service
/// gives the script the app's production command instead of nothing
/// (with nothing it exits at once).
#[test]
fn a_development_server_run_through_a_set_up_script_gives_way_to_the_apps_command() {
    let analysis = with(
        app(
            "python",
            "django",
            Some(8000),
            Some("gunicorn --bind 0.0.0.0:8000 project.wsgi"),
        ),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
        },
    );
    let compose = "services:\n  web:\n    build: .\n    command: python manage.py runserver 0.0.0.0:8000\n    ports: ['1337:8000']\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "Dockerfile",
            "FROM python:3.11-slim\nWORKDIR /usr/src/app\nCOPY . .\nRUN pip install -r requirements.txt\nENTRYPOINT [\"/usr/src/app/entrypoint.sh\"]\n",
        ),
        (
            "entrypoint.sh",
            "#!/bin/sh\npython manage.py migrate --noinput\nexec \"$@\"\n",
        ),
        ("manage.py", ""),
        ("requirements.txt", "django\ngunicorn\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let service = compose_service(&bundle);
    let command = strings(&service["command"]).join(" ");
    assert!(command.contains("gunicorn"), "{service:?}");
    assert!(!command.contains("runserver"), "{service:?}");
}

/// django-celery's compose file gives `DJANGO_ALLOWED_HOSTS=localhost
/// 127.0.0.1 [::1]`: Django would answer 400 to every request for the
/// deployment's address. The app's own address replaces it (where
/// `make up` serves it unless given); a real host the file names stays.
#[test]
fn a_local_only_own_address_of_the_file_is_replaced() {
    let analysis = with(
        app(
            "python",
            "django",
            Some(8000),
            Some("gunicorn --bind 0.0.0.0:8000 core.wsgi"),
        ),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
            a.env.push(var("DJANGO_ALLOWED_HOSTS", true, false, None));
            a.required_env.push("DJANGO_ALLOWED_HOSTS".to_owned());
        },
    );
    let bundle_with = |hosts: &str| {
        let compose = format!(
            "services:\n  web:\n    build: .\n    ports: ['8000:8000']\n    environment:\n      - DEBUG=0\n      - DJANGO_ALLOWED_HOSTS={hosts}\n"
        );
        let repo = Snapshot::from_texts([
            ("docker-compose.yml", compose.as_str()),
            (
                "Dockerfile",
                "FROM python:3.12\nWORKDIR /code\nCOPY . .\nRUN pip install -r requirements.txt\nCMD gunicorn --bind 0.0.0.0:8000 core.wsgi\n",
            ),
            ("manage.py", ""),
            ("requirements.txt", "django\ngunicorn\n"),
        ]);
        let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
        strings(&compose_service(&bundle)["environment"])
            .into_iter()
            .find(|e| e.starts_with("DJANGO_ALLOWED_HOSTS="))
            .unwrap_or_default()
    };
    let replaced = bundle_with("localhost 127.0.0.1 [::1]");
    assert!(
        replaced.starts_with("DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS:-"),
        "{replaced}"
    );
    assert_eq!(
        bundle_with("shop.example.org"),
        "DJANGO_ALLOWED_HOSTS=shop.example.org"
    );
}

/// The file's own database URL carries the password the file gives its
/// own store: kept, where a secret the file writes out is replaced.
#[test]
fn a_url_of_the_files_own_store_is_kept() {
    let analysis = with(
        app(
            "python",
            "fastapi",
            Some(8000),
            Some("uvicorn app.main:app --host 0.0.0.0"),
        ),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
            a.env.push(var("DATABASE_URL", true, true, None));
            a.env.push(var("API_TOKEN", true, true, None));
            a.required_env = vec!["DATABASE_URL".into(), "API_TOKEN".into()];
        },
    );
    let compose = "services:\n  web:\n    build: .\n    ports: ['8000:8000']\n    environment:\n      - DATABASE_URL=postgres://postgres:postgres@web-db:5432/web_dev\n      - API_TOKEN=abc123\n  web-db:\n    image: postgres:16\n    environment:\n      - POSTGRES_PASSWORD=postgres\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "Dockerfile",
            "FROM python:3.12\nCOPY . .\nCMD uvicorn app.main:app --host 0.0.0.0\n",
        ),
        ("app/main.py", ""),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let environment = strings(&compose_service(&bundle)["environment"]);
    assert!(
        environment
            .contains(&"DATABASE_URL=postgres://postgres:postgres@web-db:5432/web_dev".to_owned()),
        "{environment:?}"
    );
    assert!(
        !environment.iter().any(|e| e.contains("abc123")),
        "a secret written out is still replaced: {environment:?}"
    );
}

/// Folders of its author's Windows machine: Compose on Linux refuses the
/// file, so they become named volumes at the same places.
#[test]
fn a_mount_of_a_windows_folder_becomes_a_named_volume() {
    let analysis = with(
        app("node", "express", Some(3000), Some("node server.js")),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
        },
    );
    let compose = "services:\n  web:\n    build: .\n    ports: ['3000:3000']\n    volumes:\n      - 'C:\\Users\\me\\uploads:/usr/src/app/uploads:rw'\n  mongo:\n    image: mongo:7\n    volumes:\n      - D:/mongo/data:/data/db\n      - type: bind\n        source: D:/mongo/config\n        target: /data/configdb\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "Dockerfile",
            "FROM node:22\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
        ),
        ("server.js", ""),
        ("package.json", "{}"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let doc = yaml(&bundle.files[&bundle.compose_file]);
    assert_eq!(
        strings(&doc["services"]["web"]["volumes"]),
        ["web-data:/usr/src/app/uploads:rw"]
    );
    let mongo = &doc["services"]["mongo"]["volumes"];
    assert_eq!(mongo[0].as_str(), Some("mongo-data:/data/db"));
    assert_eq!(mongo[1]["type"].as_str(), Some("volume"));
    assert_eq!(mongo[1]["source"].as_str(), Some("mongo-data-1"));
    for name in ["web-data", "mongo-data", "mongo-data-1"] {
        assert!(doc["volumes"][name].is_mapping(), "{name} is declared");
    }
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "a folder of a Windows machine"
    ));
}

#[test]
fn a_runtime_image_that_gets_its_code_through_a_mount_keeps_it() {
    let analysis = with(
        app("node", "express", Some(3000), Some("node server.js")),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
        },
    );
    let compose = "services:\n  web:\n    build: .\n    ports: ['3000:3000']\n    volumes:\n      - .:/usr/src/app\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "Dockerfile",
            "FROM node:22\nWORKDIR /usr/src/app\nCMD [\"node\", \"server.js\"]\n",
        ),
        ("server.js", ""),
        ("package.json", "{}"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert_eq!(bundle.app_service, "web");
    assert_eq!(
        strings(&compose_service(&bundle)["volumes"]),
        [".:/usr/src/app"],
        "the image copies nothing: the mount is how the code gets in"
    );
}

/// A development compose file: each image copies only its manifests and
/// installs packages, and the code comes through a mount of the
/// repository, which hides the installed `node_modules`. The mounts stay,
/// and an anonymous volume keeps each image's packages, the app's and its
/// worker's.
#[test]
fn a_mount_over_installed_packages_keeps_them_in_an_anonymous_volume() {
    let analysis = with(
        app("node", "express", Some(3000), Some("node server.js")),
        |a| {
            a.dockerized = true;
            a.docker_files = vec![
                "Dockerfile".into(),
                "worker/Dockerfile".into(),
                "docker-compose.yml".into(),
            ];
        },
    );
    let compose = "services:\n  web:\n    build: .\n    ports: ['3000:3000']\n    volumes:\n      - .:/usr/src/app\n  worker:\n    build: ./worker\n    volumes:\n      - ./worker:/app\n";
    let installs = |dir: &str, main: &str| {
        format!(
            "FROM node:22\nWORKDIR {dir}\nCOPY package*.json ./\nRUN npm install\nCMD [\"node\", \"{main}\"]\n"
        )
    };
    let (app_image, worker_image) = (
        installs("/usr/src/app", "server.js"),
        installs("/app", "worker.js"),
    );
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        ("Dockerfile", app_image.as_str()),
        ("server.js", ""),
        ("package.json", "{}"),
        ("worker/Dockerfile", worker_image.as_str()),
        ("worker/worker.js", ""),
        ("worker/package.json", "{}"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert_eq!(bundle.app_service, "web");
    assert_eq!(
        strings(&compose_service(&bundle)["volumes"]),
        [".:/usr/src/app", "/usr/src/app/node_modules"],
        "the image holds the manifests only: the code still comes through the mount"
    );
    let doc = yaml(&bundle.files[&bundle.compose_file]);
    assert_eq!(
        strings(&doc["services"]["worker"]["volumes"]),
        ["./worker:/app", "/app/node_modules"]
    );
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "anonymous volume at /app/node_modules"
    ));
}

/// The compose file builds the development image (`dev.Dockerfile`, a
/// reloading server on another port) beside the production one the plan
/// keeps: the service builds the production one.
#[test]
fn a_service_building_the_development_image_builds_the_apps_own() {
    let analysis = with(
        app(
            "python",
            "fastapi",
            Some(8080),
            Some("uvicorn main:app --host 0.0.0.0 --port 8080"),
        ),
        |a| {
            a.subdir = "api".into();
            a.dockerized = true;
            a.docker_files = vec![
                "api/dev.Dockerfile".into(),
                "api/prod.Dockerfile".into(),
                "docker-compose.yml".into(),
            ];
        },
    );
    let compose = "services:\n  api:\n    build:\n      context: ./api\n      dockerfile: dev.Dockerfile\n    ports: ['8001:8000']\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "api/dev.Dockerfile",
            "FROM python:3.12\nCOPY . .\nCMD [\"uvicorn\", \"main:app\", \"--reload\", \"--port\", \"8000\"]\n",
        ),
        (
            "api/prod.Dockerfile",
            "FROM python:3.12\nCOPY . .\nCMD [\"uvicorn\", \"main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"8080\"]\n",
        ),
        ("api/main.py", ""),
        ("api/requirements.txt", "fastapi\nuvicorn\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert_eq!(bundle.dockerfile, "api/prod.Dockerfile");
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let build = &doc["services"]["api"]["build"];
    assert_eq!(
        build["dockerfile"].as_str(),
        Some("prod.Dockerfile"),
        "{build:?}"
    );
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "built api/dev.Dockerfile"
    ));

    // The command the file gave the development image goes with it: what it
    // runs (a reloader, a wait script) is not in the production image.
    let commanded = compose.replace(
        "    ports:",
        "    command: /usr/local/wait-for-it.sh db:5432 -- npm run start:dev\n    ports:",
    );
    let mut files = repo.files.clone();
    files.retain(|f| f.path != "docker-compose.yml");
    let repo = Snapshot::from_texts(
        files
            .iter()
            .map(|f| (f.path.as_str(), f.content.as_deref().unwrap_or_default()))
            .chain([("docker-compose.yml", commanded.as_str())]),
    );
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    assert!(
        doc["services"]["api"].get("command").is_none(),
        "{:?}",
        doc["services"]["api"]
    );
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "whose own command starts the app"
    ));
}

/// A companion service whose image cannot be built from the repository (its
/// Dockerfile copies folders the build context does not hold) would stop
/// `docker compose up --build` before the app starts: it is left out, with
/// the mentions of it; one that builds stays.
#[test]
fn a_companion_service_that_cannot_be_built_is_left_out() {
    let analysis = with(
        app("node", "express", Some(3000), Some("node server.js")),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
        },
    );
    // `worker` is half of a base-and-override pair: no image, no build.
    let compose = "services:\n  web:\n    build: .\n    ports: ['3000:3000']\n    depends_on: [client, proxy, worker]\n  client:\n    build:\n      context: ./client\n    ports: ['8001:3000']\n  proxy:\n    build: ./proxy\n  worker:\n    command: node worker.js\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "Dockerfile",
            "FROM node:22\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
        ),
        ("server.js", ""),
        ("package.json", "{}"),
        (
            "client/Dockerfile",
            "FROM node:22\nCOPY /public ./public\nCOPY /src ./src\nCMD [\"npm\", \"start\"]\n",
        ),
        ("client/src/index.js", ""),
        (
            "proxy/Dockerfile",
            "FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n",
        ),
        ("proxy/nginx.conf", "events {}\n"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    assert!(doc["services"].get("client").is_none(), "{doc:?}");
    assert!(doc["services"].get("worker").is_none(), "{doc:?}");
    assert!(doc["services"].get("proxy").is_some());
    assert_eq!(strings(&compose_service(&bundle)["depends_on"]), ["proxy"]);
    assert!(has(
        &bundle,
        AdjustmentKind::Rewritten,
        "Service `client` was left out"
    ));
}

/// nestjs-boilerplate's compose file builds `maildev` from
/// `maildev.Dockerfile` in the app's folder, beside `api` built from its
/// `Dockerfile`: the helper is not the app, whatever port it serves.
#[test]
fn a_helper_built_from_its_own_dockerfile_in_the_apps_folder_is_not_the_app() {
    let analysis = app("node", "nestjs", Some(3000), Some("node dist/main"));
    let compose = "services:\n  maildev:\n    build:\n      context: .\n      dockerfile: maildev.Dockerfile\n    ports:\n      - ${MAIL_CLIENT_PORT}:1080\n  api:\n    build:\n      context: .\n      dockerfile: Dockerfile\n    ports:\n      - ${APP_PORT}:${APP_PORT}\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yaml", compose),
        (
            "maildev.Dockerfile",
            "FROM node:22-alpine\nRUN npm i -g maildev\nCMD [\"maildev\"]\n",
        ),
        (
            "Dockerfile",
            "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"dist/main\"]\n",
        ),
        ("package.json", "{}"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert_eq!(bundle.app_service, "api");
    let doc = yaml(&bundle.files["docker-compose.yaml"]);
    assert_eq!(
        doc["services"]["maildev"]["build"]["dockerfile"].as_str(),
        Some("maildev.Dockerfile"),
        "the helper keeps its own image"
    );
}

/// awesome-nest-boilerplate's `depends_on: {meilisearch: {}}`: Compose
/// starts the service first (the condition defaults to `service_started`),
/// so the file is kept with its search service, not set aside as invalid.
#[test]
fn a_dependency_written_without_its_condition_keeps_the_file() {
    let analysis = app("node", "nestjs", Some(3000), Some("node dist/main"));
    let compose = "services:\n  app:\n    build: .\n    ports: ['3000:3000']\n    depends_on:\n      search: {}\n      cache:\n  search:\n    image: getmeili/meilisearch:v1.10\n  cache:\n    image: redis:7.4\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "Dockerfile",
            "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"dist/main\"]\n",
        ),
        ("package.json", "{}"),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert_eq!(bundle.compose_file, "docker-compose.yml");
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    assert_eq!(
        doc["services"]["app"]["depends_on"]["search"]["condition"].as_str(),
        Some("service_started")
    );
    assert_eq!(
        doc["services"]["app"]["depends_on"]["cache"]["condition"].as_str(),
        Some("service_started")
    );
    assert!(doc["services"]["search"].is_mapping());
}

/// The full-stack FastAPI template builds `backend/Dockerfile` from the
/// repository's root (`context: .`): it copies `uv.lock` and `backend/app`
/// from there. It is kept, built from the root, and its service is the app.
#[test]
fn a_dockerfile_in_the_apps_folder_built_from_the_root_is_kept_with_its_service() {
    let analysis = with(
        app(
            "python",
            "fastapi",
            Some(8000),
            Some("fastapi run app/main.py"),
        ),
        |a| {
            a.subdir = "backend".into();
            a.dockerized = true;
            a.docker_files = vec!["backend/Dockerfile".into(), "compose.yml".into()];
        },
    );
    let compose = "services:\n  backend:\n    build:\n      context: .\n      dockerfile: backend/Dockerfile\n    ports: ['8000:8000']\n";
    let repo = Snapshot::from_texts([
        ("compose.yml", compose),
        (
            "backend/Dockerfile",
            "FROM python:3.12\nWORKDIR /app\nCOPY uv.lock pyproject.toml /app/\nCOPY backend/app /app/app\nCMD [\"fastapi\", \"run\", \"app/main.py\", \"--port\", \"8000\"]\n",
        ),
        ("uv.lock", ""),
        (
            "pyproject.toml",
            "[tool.uv.workspace]\nmembers = [\"backend\"]\n",
        ),
        ("backend/pyproject.toml", "[project]\nname = \"app\"\n"),
        ("backend/app/main.py", ""),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    assert_eq!(bundle.dockerfile, "backend/Dockerfile");
    assert!(
        !bundle.files.contains_key("backend/Dockerfile"),
        "the repository's Dockerfile is kept: {:?}",
        notes(&bundle).collect::<Vec<_>>()
    );
    assert_eq!(bundle.app_service, "backend");
    let doc = yaml(&bundle.files["compose.yml"]);
    assert!(doc["services"].get("app").is_none(), "{doc:?}");
}

/// "Deploy the app in the backend/ folder" of a repository whose compose
/// file also builds its frontend behind an nginx: the frontend and the
/// front that waits for it are not the deployment; the database stays.
#[test]
fn a_named_folder_deploys_without_the_files_other_apps() {
    let repo = Snapshot::from_texts([
        (
            "docker-compose.yml",
            "services:\n  frontend:\n    build: ./frontend\n    ports: ['3000:3000']\n  backend:\n    build: ./backend\n    ports: ['4000:4000']\n    depends_on: [postgres]\n  postgres:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: example\n  nginx:\n    image: nginx\n    ports: ['80:80']\n    depends_on: [frontend, backend]\n",
        ),
        (
            "backend/package.json",
            r#"{"name": "api", "scripts": {"start": "node index.js"}, "dependencies": {"express": "^4.19.2"}}"#,
        ),
        (
            "backend/index.js",
            "const app = require('express')();\napp.get('/', (q, r) => r.send('ok'));\napp.listen(4000, '0.0.0.0');\n",
        ),
        (
            "backend/Dockerfile",
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"node\", \"index.js\"]\n",
        ),
        (
            "frontend/package.json",
            r#"{"name": "web", "scripts": {"build": "next build", "start": "next start"}, "dependencies": {"next": "14.2.0", "react": "18.3.1", "react-dom": "18.3.1"}}"#,
        ),
        (
            "frontend/app/page.js",
            "export default function Page() { return 'hi'; }\n",
        ),
        (
            "frontend/Dockerfile",
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install && npm run build\nCMD [\"npm\", \"start\"]\n",
        ),
    ]);
    let requirements =
        analysis::parse_requirements("deploy the app in the backend/ folder on a single server");
    let analysis = analysis::analyse(&repo, &requirements);
    assert_eq!(analysis.subdir, "backend");
    assert!(analysis.app_dir_named);
    let bundle = build_bundle(&analysis, &repo, &choose(&analysis, &requirements)).unwrap();
    let doc = yaml(&bundle.files[&bundle.compose_file]);
    let services = service_names(&doc);
    assert_eq!(services, ["backend", "postgres"], "{doc:?}");

    // Not named: the file's whole stack runs, as before.
    let picked = analysis::analyse(&repo, &Requirements::default());
    assert!(!picked.app_dir_named);
}

/// A compose file that runs the app from its mounted source on a stock
/// runtime image (`image: ruby`, `.:/app`, a command) instead of building
/// it: that service is the app's, and builds the repository, rather than
/// running beside an added copy.
#[test]
fn a_service_running_the_mounted_source_is_the_apps() {
    let repo = Snapshot::from_texts([
        (
            "docker-compose.yml",
            "services:\n  postgres:\n    image: postgres:16\n    environment: [POSTGRES_HOST_AUTH_METHOD=trust]\n  app:\n    image: ruby\n    working_dir: /app\n    volumes: ['.:/app']\n    ports: ['3000:3000']\n    command: sh -c 'bundle && ruby app.rb -o 0.0.0.0 -p 3000'\n    depends_on: [postgres]\n",
        ),
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem 'sinatra', '~> 3.0'\ngem 'puma'\n",
        ),
        ("app.rb", "require 'sinatra'\n\nget '/' do\n  'ok'\nend\n"),
    ]);
    let analysis = analysis::analyse(&repo, &Requirements::default());
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let doc = yaml(&bundle.files[&bundle.compose_file]);
    let services = service_names(&doc);
    assert_eq!(services, ["postgres", "app"], "{doc:?}");
    assert_eq!(bundle.app_service, "app");
    let app = &doc["services"]["app"];
    assert!(app.get("build").is_some(), "{doc:?}");
    // Its command was for the stock image: the built one starts the app,
    // where the image puts it.
    assert!(app.get("command").is_none(), "{doc:?}");
    assert!(app.get("working_dir").is_none(), "{doc:?}");
}

/// The names of a compose document's services, in the file's order.
fn service_names(doc: &Value) -> Vec<String> {
    doc["services"]
        .as_mapping()
        .map(|services| {
            services
                .keys()
                .map(|k| k.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
