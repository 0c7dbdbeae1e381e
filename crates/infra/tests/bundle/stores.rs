//! Databases and caches the choice provisions: compose services beside the
//! app, wired into its variables, migrated before it starts; and what is
//! said when they are not provisioned.

use super::*;
use infra::choose::StoreKind;

const DJANGO_FILES: &[(&str, &str)] = &[
    ("manage.py", "import django\n"),
    (
        "requirements.txt",
        "django\npsycopg2-binary\nredis\ngunicorn\n",
    ),
    ("site/wsgi.py", "application = None\n"),
];

/// A Django app that needs a PostgreSQL URL (split settings for its cache).
fn django() -> Analysis {
    with(
        app("python", "django", Some(8000), Some("gunicorn site.wsgi")),
        |a| {
            a.env.push(var("DATABASE_URL", true, true, None));
            a.env.push(var("REDIS_HOST", true, false, None));
            a.env.push(var("REDIS_PORT", false, false, Some("6379")));
            a.env.push(var("SECRET_KEY", true, true, None));
            a.required_env = vec![
                "DATABASE_URL".into(),
                "REDIS_HOST".into(),
                "SECRET_KEY".into(),
            ];
            a.datastores = vec!["postgres".into(), "redis".into()];
        },
    )
}

/// `analysis` with a required `DATABASE_URL` for PostgreSQL.
fn reads_a_postgres_url(analysis: Analysis) -> Analysis {
    with(analysis, |a| {
        a.env.push(var("DATABASE_URL", true, true, None));
        a.required_env = vec!["DATABASE_URL".into()];
        a.datastores = vec!["postgres".into()];
    })
}

/// The compose `command` of the app service in the bundle of `files`.
fn app_command(
    analysis: &Analysis,
    choice: &Choice,
    files: &[(&str, &str)],
) -> Option<Vec<String>> {
    let repo = Snapshot::from_texts(files.iter().copied());
    let bundle = build_bundle(analysis, &repo, choice).unwrap();
    yaml(&bundle.files["compose.yaml"])["services"]["app"]
        .get("command")
        .map(strings)
}

fn on(target: Target, analysis: &Analysis, requirements: &Requirements) -> Choice {
    let mut choice = choose(analysis, requirements);
    choice.target = target;
    choice.services = infra::choose::services(analysis, requirements, target);
    choice
}

#[test]
fn a_flask_migrate_app_is_upgraded_before_it_starts() {
    let analysis =
        reads_a_postgres_url(app("python", "flask", Some(5000), Some("gunicorn app:app")));
    let with_migrations = [
        (
            "requirements.txt",
            "Flask\nFlask_Migrate\npsycopg2-binary\ngunicorn\n",
        ),
        ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
        ("migrations/env.py", "from alembic import context\n"),
        ("migrations/alembic.ini", "[alembic]\n"),
    ];
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let command = |files: &[(&str, &str)]| app_command(&analysis, &choice, files);
    assert_eq!(
        command(&with_migrations).unwrap()[2],
        "flask db upgrade && exec \"$$@\""
    );
    // Without the extension, or without its migrations, nothing runs.
    let mut without_extension = with_migrations;
    without_extension[0].1 = "Flask\npsycopg2-binary\ngunicorn\n";
    assert_eq!(command(&without_extension), None);
    assert_eq!(command(&with_migrations[..2]), None);
}

/// A factory in a package is found through `FLASK_APP`, which every Flask
/// reads (`--app` came in 2.2): the image sets it, so `flask db upgrade`
/// finds the app as the server does.
#[test]
fn a_flask_factory_is_found_through_flask_app_by_the_server_and_the_migration() {
    let analysis = reads_a_postgres_url(app(
        "python",
        "flask",
        Some(5000),
        Some("FLASK_APP='flaskr:create_app()' flask run --host 0.0.0.0 --port 5000"),
    ));
    let repo = Snapshot::from_texts([
        (
            "requirements.txt",
            "Flask==2.0.3
Flask-Migrate
psycopg2-binary
",
        ),
        (
            "flaskr/__init__.py",
            "from flask import Flask
def create_app():
    return Flask(__name__)
",
        ),
        (
            "migrations/env.py",
            "from alembic import context
",
        ),
    ]);
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let d = dockerfile(&bundle);
    assert!(d.contains("ENV FLASK_APP=\"flaskr:create_app()\""), "{d}");
    assert!(
        d.contains(r#"CMD ["flask","run","--host","0.0.0.0","--port","5000"]"#),
        "{d}"
    );
    let compose = yaml(&bundle.files["compose.yaml"]);
    assert_eq!(
        strings(&compose["services"]["app"]["command"])[2],
        "flask db upgrade && exec \"$$@\""
    );

    // Served by gunicorn, the image names the same target.
    let gunicorn = reads_a_postgres_url(app(
        "python",
        "flask",
        Some(5000),
        Some("gunicorn --bind 0.0.0.0:5000 'flaskr:create_app()'"),
    ));
    let bundle = build_bundle(&gunicorn, &repo, &choice).unwrap();
    let d = dockerfile(&bundle);
    assert!(d.contains("ENV FLASK_APP=\"flaskr:create_app()\""), "{d}");
}

/// Heroku's release phase (`release:` in the Procfile) and Fly's
/// `release_command` are the repository's own migration step; a Sinatra app on sinatra-activerecord migrates with
/// its rake task.
#[test]
fn a_release_phase_or_an_activerecord_rake_task_migrates_before_the_start() {
    let analysis = reads_a_postgres_url(app(
        "ruby",
        "sinatra",
        Some(4567),
        Some("bundle exec puma -p 4567"),
    ));
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let command = |files: &[(&str, &str)]| app_command(&analysis, &choice, files);
    let gemfile = (
        "Gemfile",
        "source 'https://rubygems.org'\ngem 'sinatra'\ngem 'puma'\ngem 'pg'\n",
    );
    let app_rb = ("config.ru", "require './app'\nrun App\n");
    assert_eq!(
        command(&[
            gemfile,
            app_rb,
            (
                "Procfile",
                "web: bundle exec puma -p $PORT\nrelease: bin/rake db:migrate\n"
            ),
        ])
        .unwrap()[2],
        "bin/rake db:migrate && exec \"$$@\""
    );
    assert_eq!(
        command(&[
            ("Gemfile", "source 'https://rubygems.org'\ngem 'sinatra'\ngem 'sinatra-activerecord'\ngem 'pg'\n"),
            app_rb,
            ("Rakefile", "require 'sinatra/activerecord/rake'\n"),
            ("db/migrate/001_create_users.rb", "class CreateUsers < ActiveRecord::Migration[7.0]\nend\n"),
        ])
        .unwrap()[2],
        "bundle exec rake db:migrate && exec \"$$@\""
    );
    // A release phase that does not migrate is not taken for one.
    assert_eq!(
        command(&[
            gemfile,
            app_rb,
            ("Procfile", "release: ./bin/notify-slack\n")
        ]),
        None
    );
    // Fly's release command (a Phoenix release's `bin/migrate`).
    assert_eq!(
        command(&[
            gemfile,
            app_rb,
            (
                "fly.toml",
                "app = \"shop\"\n\n[deploy]\n  release_command = \"/app/bin/migrate\"\n"
            ),
        ])
        .unwrap()[2],
        "/app/bin/migrate && exec \"$$@\""
    );
}

#[test]
fn an_app_that_migrates_itself_at_start_gets_nothing_run_before_it() {
    let spring = reads_a_postgres_url(app(
        "java",
        "spring-boot",
        Some(8080),
        Some("java -jar app.jar"),
    ));
    let pom = |tool: &str| {
        format!(
            "<project><dependencies>\
             <dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId></dependency>\
             <dependency><groupId>org.example</groupId><artifactId>{tool}</artifactId></dependency>\
             </dependencies></project>"
        )
    };
    let plan = |analysis: &Analysis, files: Vec<(&str, String)>| {
        let repo = Snapshot::from_texts(files.iter().map(|(p, t)| (*p, t.as_str())));
        let choice = on(Target::DockerHost, analysis, &Requirements::default());
        let bundle = build_bundle(analysis, &repo, &choice).unwrap();
        let command = yaml(&bundle.files["compose.yaml"])["services"]["app"]
            .get("command")
            .map(strings);
        let notes: Vec<String> = notes(&bundle).map(str::to_owned).collect();
        (command, notes)
    };
    for (artifact, tool) in [("flyway-core", "Flyway"), ("liquibase-core", "Liquibase")] {
        let (command, notes) = plan(&spring, vec![("pom.xml", pom(artifact))]);
        assert_eq!(command, None, "{artifact}");
        let said = format!("runs its {tool} migrations itself as it starts");
        assert!(notes.iter().any(|n| n.contains(&said)), "{notes:?}");
    }
    // Without a migration tool nothing is said.
    let (_, notes) = plan(&spring, vec![("pom.xml", pom("jackson-databind"))]);
    assert!(!notes.iter().any(|n| n.contains("migrations")), "{notes:?}");

    // Quarkus migrates at start only when its configuration says so.
    let quarkus = with(spring.clone(), |a| a.framework = Some("quarkus".into()));
    let properties = |value: &str| {
        (
            "src/main/resources/application.properties",
            format!("quarkus.flyway.migrate-at-start={value}\n"),
        )
    };
    let (_, notes) = plan(
        &quarkus,
        vec![("pom.xml", pom("quarkus-flyway")), properties("true")],
    );
    assert!(
        notes.iter().any(|n| n.contains("Flyway migrations itself")),
        "{notes:?}"
    );
    let (_, notes) = plan(
        &quarkus,
        vec![("pom.xml", pom("quarkus-flyway")), properties("false")],
    );
    assert!(
        !notes.iter().any(|n| n.contains("Flyway migrations itself")),
        "{notes:?}"
    );
}

#[test]
fn a_django_app_gets_postgres_and_redis_beside_it_wired_and_migrated() {
    let analysis = with(django(), |a| {
        a.env.push(var("REDIS_TLS", false, false, Some("true")));
    });
    let repo = Snapshot::from_texts(DJANGO_FILES.iter().copied());
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let kinds: Vec<StoreKind> = choice.services.provisioned.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [StoreKind::Postgres, StoreKind::Redis]);
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    check_common("django", &analysis, &bundle);
    let compose = &bundle.files["compose.yaml"];
    let doc = yaml(compose);
    let app = &doc["services"]["app"];
    assert_eq!(
        app["environment"]["DATABASE_URL"].as_str().unwrap(),
        "postgresql://app:${DEPLOYFLOW_POSTGRES_PASSWORD:?DEPLOYFLOW_POSTGRES_PASSWORD is generated into .env by make up}@postgres:5432/app"
    );
    assert_eq!(app["environment"]["REDIS_HOST"].as_str(), Some("redis"));
    assert_eq!(app["environment"]["REDIS_PORT"].as_str(), Some("6379"));
    // The cache beside the app speaks plain TCP, whatever the app's default.
    assert_eq!(app["environment"]["REDIS_TLS"].as_str(), Some("false"));
    assert_eq!(
        app["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert_eq!(
        app["depends_on"]["redis"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert_eq!(
        strings(&app["command"])[..3],
        [
            "sh",
            "-c",
            "python manage.py migrate --noinput && exec \"$$@\""
        ]
    );
    assert!(strings(&app["command"]).contains(&"gunicorn".to_owned()));
    let postgres = &doc["services"]["postgres"];
    assert_eq!(
        postgres["image"].as_str(),
        Some(infra::bundle::images::POSTGRES)
    );
    assert_eq!(
        strings(&postgres["volumes"]),
        ["postgres-data:/var/lib/postgresql/data"]
    );
    assert!(doc["volumes"]["postgres-data"].is_mapping());
    assert!(doc["volumes"]["redis-data"].is_mapping());
    // Nothing is asked of the user: the stores' passwords and Django's
    // SECRET_KEY, a key the app signs with, are generated into .env by
    // `make up`, and no value is written anywhere.
    assert!(
        bundle.required_variables.is_empty(),
        "{:?}",
        bundle.required_variables
    );
    assert_eq!(
        bundle.generated_secrets,
        [
            "DEPLOYFLOW_POSTGRES_PASSWORD",
            "DEPLOYFLOW_REDIS_PASSWORD",
            "SECRET_KEY"
        ]
    );
    assert_eq!(
        app["environment"]["SECRET_KEY"].as_str(),
        Some("${SECRET_KEY:?SECRET_KEY is required}")
    );
    let makefile = &bundle.files["Makefile"];
    for name in &bundle.generated_secrets {
        assert!(
            makefile.contains(&format!(
                "grep -qs '^{name}=' .env || {{ [ -z \"$$(tail -c 1 .env 2>/dev/null)\" ] || echo >> .env; echo \"{name}=$$(od -An -N24 -tx1 /dev/urandom"
            )),
            "{makefile}"
        );
    }
    assert!(
        bundle
            .adjustments
            .iter()
            .any(|a| a.reason.contains("PostgreSQL runs beside the app"))
    );
}

/// On the VM with managed stores, compose runs neither store: the app's
/// store variables pass through from what the boot script reads, nothing
/// is asked of the user, and the migration still runs before the app.
#[test]
fn a_vm_with_managed_stores_passes_their_variables_through_and_still_migrates() {
    let analysis = django();
    let repo = Snapshot::from_texts(DJANGO_FILES.iter().copied());
    let mut choice = on(Target::Vm, &analysis, &Requirements::default());
    choice.services.managed_on_vm = true;
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    check_common("django", &analysis, &bundle);
    let doc = yaml(&bundle.files["compose.yaml"]);
    let services: Vec<&str> = doc["services"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(services, ["app"]);
    assert!(
        doc.get("volumes")
            .is_none_or(|v| v.get("postgres-data").is_none())
    );
    let app = &doc["services"]["app"];
    assert_eq!(
        app["environment"]["DATABASE_URL"].as_str(),
        Some("${DATABASE_URL:?DATABASE_URL is set by the VM's boot script}")
    );
    assert_eq!(
        app["environment"]["REDIS_HOST"].as_str(),
        Some("${REDIS_HOST:?REDIS_HOST is set by the VM's boot script}")
    );
    assert!(app.get("depends_on").is_none());
    assert_eq!(
        strings(&app["command"])[..3],
        [
            "sh",
            "-c",
            "python manage.py migrate --noinput && exec \"$$@\""
        ]
    );
    assert!(
        bundle.required_variables.is_empty(),
        "{:?}",
        bundle.required_variables
    );
    assert_eq!(bundle.generated_secrets, ["SECRET_KEY"]);
    assert!(
        bundle
            .adjustments
            .iter()
            .any(|a| a.reason.contains("reaches the managed PostgreSQL")),
        "{:#?}",
        bundle.adjustments
    );
    // Off the VM (preflight), a second file runs the stores beside it.
    let local = bundle.local_stores.as_ref().unwrap();
    assert_eq!(local.compose_file, "compose.local-stores.yaml");
    assert_eq!(
        local.generated_secrets,
        ["DEPLOYFLOW_POSTGRES_PASSWORD", "DEPLOYFLOW_REDIS_PASSWORD"]
    );
    let beside = yaml(&bundle.files["compose.local-stores.yaml"]);
    assert!(beside["services"]["postgres"].is_mapping());
    assert!(beside["services"]["redis"].is_mapping());
    assert!(
        beside["services"]["app"]["environment"]["DATABASE_URL"]
            .as_str()
            .unwrap()
            .ends_with("@postgres:5432/app")
    );
    assert_eq!(
        beside["services"]["app"]["command"],
        doc["services"]["app"]["command"]
    );
}

/// An ASP.NET Core app reads its database as a .NET connection string.
#[test]
fn an_asp_net_app_gets_a_connection_string_to_the_database_beside_it() {
    let analysis = with(
        app("csharp", "aspnet-core", Some(8080), Some("dotnet Shop.dll")),
        |a| {
            a.env
                .push(var("ConnectionStrings__PostgreSQL", true, true, None));
            a.required_env = vec!["ConnectionStrings__PostgreSQL".into()];
            a.datastores = vec!["postgres".into()];
        },
    );
    let repo = Snapshot::from_texts([
        ("Shop.csproj", "<Project Sdk=\"Microsoft.NET.Sdk.Web\" />\n"),
        ("Program.cs", ""),
    ]);
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    assert_eq!(
        doc["services"]["app"]["environment"]["ConnectionStrings__PostgreSQL"].as_str(),
        Some(
            "Host=postgres;Port=5432;Database=app;Username=app;Password=${DEPLOYFLOW_POSTGRES_PASSWORD:?DEPLOYFLOW_POSTGRES_PASSWORD is generated into .env by make up}"
        )
    );
    assert!(
        bundle.required_variables.is_empty(),
        "{:?}",
        bundle.required_variables
    );
}

/// pgAdmin beside the database, published with the password the
/// repository shows: bound to the server's loopback only.
#[test]
fn a_database_admin_ui_is_published_on_loopback_only() {
    let compose = "services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n    ports: ['8000:8000']\n  db:\n    image: postgres:15-alpine\n    environment:\n      POSTGRES_USER: shop\n      POSTGRES_PASSWORD: shop\n      POSTGRES_DB: shop\n  pgadmin:\n    image: dpage/pgadmin4:8\n    environment:\n      PGADMIN_DEFAULT_PASSWORD: supersecret\n    ports: ['5050:80', {target: 443, published: 5443}, '8081', 9000]\n";
    let bundle = django_with_compose(compose);
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let ports = &doc["services"]["pgadmin"]["ports"];
    assert_eq!(ports[0].as_str(), Some("127.0.0.1:5050:80"), "{ports:?}");
    assert_eq!(ports[1]["host_ip"].as_str(), Some("127.0.0.1"), "{ports:?}");
    // A lone container port keeps its random host port, on loopback.
    assert_eq!(ports[2].as_str(), Some("127.0.0.1::8081"), "{ports:?}");
    assert_eq!(ports[3].as_str(), Some("127.0.0.1::9000"), "{ports:?}");
}

/// A queue dashboard without a login (rq-dashboard) and a fixed container
/// name: only the app faces the network, and a second deployment on the
/// host does not collide with the first.
#[test]
fn only_the_app_faces_the_network_and_no_container_name_is_fixed() {
    let compose = "services:\n  web:\n    build: .\n    container_name: shop-web\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n    ports: ['8000:8000']\n  db:\n    image: postgres:15-alpine\n    container_name: shop-db\n    environment:\n      POSTGRES_USER: shop\n      POSTGRES_PASSWORD: shop\n      POSTGRES_DB: shop\n  dashboard:\n    image: eoranged/rq-dashboard\n    ports: ['9181:9181', '127.0.0.1:9182:9182']\n";
    let bundle = django_with_compose(compose);
    let text = &bundle.files["docker-compose.yml"];
    let doc = yaml(text);
    assert_eq!(
        strings(&doc["services"]["dashboard"]["ports"]),
        ["127.0.0.1:9181:9181", "127.0.0.1:9182:9182"]
    );
    assert!(!text.contains("container_name"), "{text}");
    assert_eq!(
        strings(&doc["services"]["db"]["networks"]["default"]["aliases"]),
        ["shop-db"]
    );
    assert!(
        bundle
            .adjustments
            .iter()
            .any(|a| a.reason.contains("fixed container name `shop-web`")),
        "{:?}",
        bundle.adjustments
    );
}

/// A Celery worker built as the app is, from a development setup: it
/// builds what the app builds, without the sources mounted over it, with
/// the app's variables, reaching the same database and cache.
#[test]
fn a_worker_of_the_app_in_a_kept_file_gets_what_the_app_gets() {
    let compose = "services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n    ports: ['8000:8000']\n  worker:\n    build: .\n    command: celery -A site worker\n    volumes: ['.:/app']\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n  db:\n    image: postgres:15-alpine\n    environment:\n      POSTGRES_USER: shop\n      POSTGRES_PASSWORD: shop\n      POSTGRES_DB: shop\n";
    let bundle = django_with_compose(compose);
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let web = &doc["services"]["web"];
    let worker = &doc["services"]["worker"];
    for name in ["DATABASE_URL", "REDIS_HOST", "SECRET_KEY"] {
        assert_eq!(
            worker["environment"][name], web["environment"][name],
            "{name}: {worker:?}"
        );
    }
    assert_eq!(
        worker["environment"]["DATABASE_URL"].as_str(),
        Some("${DATABASE_URL:-postgresql://shop:shop@db:5432/shop}")
    );
    assert_eq!(
        worker["depends_on"]["db"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert_eq!(
        worker["depends_on"]["redis"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert!(
        worker.get("volumes").is_none_or(|v| strings(v).is_empty()),
        "{worker:?}"
    );
    assert_eq!(worker["command"].as_str(), Some("celery -A site worker"));
}

/// The repository's compose file runs its own PostgreSQL (nestjs-prisma's,
/// bakerydemo's) and the app reads `DATABASE_URL` from a `.env` the
/// repository does not hold: the variable reaches that database with the
/// credentials it starts with, the app waits for it and is migrated first.
/// A cache the file does not run stays the user's to give.
#[test]
fn a_repository_compose_running_its_own_database_is_wired_to_it() {
    let compose = "services:\n  web:\n    build: .\n    env_file: .env\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n    ports: ['8000:8000']\n  db:\n    image: postgres:15-alpine\n    ports: ['5432:5432']\n    environment:\n      POSTGRES_USER: shop\n      POSTGRES_PASSWORD: ${DB_PASSWORD:-shop}\n      POSTGRES_DB: shop\n";
    let bundle = django_with_compose(compose);
    assert_eq!(bundle.compose_file, "docker-compose.yml");
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let web = &doc["services"]["web"];
    assert_eq!(
        web["environment"]["DATABASE_URL"].as_str(),
        Some("postgresql://shop:${DB_PASSWORD:-shop}@db:5432/shop"),
        "{web:?}"
    );
    // The app waits until the database takes connections: started is not
    // ready, and a migration that connects first exits.
    assert_eq!(
        web["depends_on"]["db"]["condition"].as_str(),
        Some("service_healthy"),
        "{web:?}"
    );
    assert_eq!(
        strings(&doc["services"]["db"]["healthcheck"]["test"]),
        ["CMD-SHELL", "pg_isready -h 127.0.0.1 -p 5432"]
    );
    assert!(
        doc["services"]["db"].get("ports").is_none(),
        "the database is not published on the host"
    );
    let command = strings(&web["command"]);
    assert_eq!(command[..2], ["sh", "-c"]);
    assert!(
        command[2].starts_with("python manage.py migrate --noinput && exec"),
        "{command:?}"
    );
    assert!(
        !bundle
            .required_variables
            .contains(&"DATABASE_URL".to_owned())
    );
    // No second database; the cache the file lacks is deployflow's own,
    // added to the file, which the app waits for.
    assert!(doc["services"].get("postgres").is_none());
    assert!(
        !bundle.required_variables.contains(&"REDIS_HOST".to_owned()),
        "{:?}",
        bundle.required_variables
    );
    assert_eq!(web["environment"]["REDIS_HOST"].as_str(), Some("redis"));
    assert_eq!(
        web["depends_on"]["redis"]["condition"].as_str(),
        Some("service_healthy")
    );
    let redis = &doc["services"]["redis"];
    assert!(
        redis["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("redis:")),
        "{redis:?}"
    );
    assert!(doc["volumes"].get("redis-data").is_some(), "{doc:?}");
    assert!(
        bundle
            .generated_secrets
            .contains(&"DEPLOYFLOW_REDIS_PASSWORD".to_owned()),
        "{:?}",
        bundle.generated_secrets
    );
    assert!(
        bundle.adjustments.iter().any(|a| a
            .reason
            .contains("deployflow's own `redis` service was added")),
        "{:?}",
        bundle.adjustments
    );
    assert!(
        bundle
            .adjustments
            .iter()
            .any(|a| a.reason.contains("the file's own PostgreSQL service `db`"))
    );

    // A value the file gives the variable itself is the file's.
    let literal = compose.replace("${DATABASE_URL}", "postgres://shop:shop@db/shop");
    let bundle = django_with_compose(&literal);
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    assert_eq!(
        doc["services"]["web"]["environment"]["DATABASE_URL"].as_str(),
        Some("postgres://shop:shop@db/shop")
    );
    // The app waits for the store the file wired it to, as for one wired here.
    assert_eq!(
        doc["services"]["web"]["depends_on"]["db"]["condition"].as_str(),
        Some("service_healthy"),
        "{doc:?}"
    );
    assert!(
        !bundle
            .required_variables
            .contains(&"DATABASE_URL".to_owned())
    );
}

/// `MYSQL_ROOT_PASSWORD: ${DATABASE_PASSWORD}` with nothing setting it: the
/// image would refuse to start, so `make up` generates the password, and
/// the database's name gets a default both the store and the app read.
#[test]
fn a_repository_database_started_with_unset_credentials_gets_them() {
    let compose = "services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n  db:\n    image: postgres:15-alpine\n    environment:\n      POSTGRES_USER: ${DB_USER}\n      POSTGRES_PASSWORD: ${DB_PASSWORD}\n      POSTGRES_DB: ${DB_NAME}\n";
    let bundle = django_with_compose(compose);
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let db = &doc["services"]["db"]["environment"];
    assert_eq!(db["POSTGRES_PASSWORD"].as_str(), Some("${DB_PASSWORD}"));
    assert_eq!(db["POSTGRES_DB"].as_str(), Some("${DB_NAME:-app}"));
    assert_eq!(db["POSTGRES_USER"].as_str(), Some("${DB_USER:-postgres}"));
    assert_eq!(
        doc["services"]["web"]["environment"]["DATABASE_URL"].as_str(),
        Some("postgresql://${DB_USER:-postgres}:${DB_PASSWORD}@db:5432/${DB_NAME:-app}")
    );
    assert!(
        bundle.generated_secrets.contains(&"DB_PASSWORD".to_owned()),
        "{:?}",
        bundle.generated_secrets
    );
    assert!(
        !bundle
            .required_variables
            .contains(&"DB_PASSWORD".to_owned())
    );
    let makefile = bundle
        .files
        .iter()
        .find(|(path, _)| path.ends_with("akefile"))
        .map(|(_, text)| text.as_str())
        .unwrap_or_default();
    assert!(
        makefile.contains("grep -qs '^DB_PASSWORD=' .env"),
        "{makefile}"
    );

    // A `.env` beside the file sets them: nothing is generated.
    let given = django_with_compose_and(
        compose,
        &[(".env", "DB_USER=shop\nDB_PASSWORD=shop\nDB_NAME=shop\n")],
    );
    assert!(!given.generated_secrets.contains(&"DB_PASSWORD".to_owned()));
    let doc = yaml(&given.files["docker-compose.yml"]);
    assert_eq!(
        doc["services"]["db"]["environment"]["POSTGRES_DB"].as_str(),
        Some("${DB_NAME}")
    );
}

/// nestjs-prisma-starter's PostgreSQL takes its whole set-up from
/// `env_file: .env`, which the repository does not hold: without a
/// password its image refuses to start. It gets `POSTGRES_PASSWORD` from
/// `.env`, which `make up` generates, and the app's URL carries it.
#[test]
fn a_repository_database_set_up_by_a_missing_env_file_gets_a_password() {
    for env_file in [".env", ".env/database", "./config/db.env"] {
        let compose = format!(
            "services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: ${{DATABASE_URL}}\n  postgres:\n    image: postgres:15\n    env_file:\n      - {env_file}\n"
        );
        a_missing_env_file_gives_its_database_a_password(&compose);
    }
}

/// A database given no password at all (its set-up lived in an override
/// file, or nowhere) refuses to start too; one told to trust its clients
/// starts as it is.
#[test]
fn a_repository_database_with_no_password_set_gets_one() {
    a_missing_env_file_gives_its_database_a_password(
        "services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n  postgres:\n    image: postgres:alpine\n",
    );
    let trusting = "services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n  postgres:\n    image: postgres:16\n    environment:\n      - POSTGRES_HOST_AUTH_METHOD=trust\n";
    let bundle = django_with_compose(trusting);
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    assert_eq!(
        doc["services"]["postgres"]["environment"],
        yaml("POSTGRES_HOST_AUTH_METHOD: trust\n"),
        "{doc:?}"
    );
    assert!(
        !bundle
            .generated_secrets
            .contains(&"POSTGRES_PASSWORD".to_owned()),
        "{:?}",
        bundle.generated_secrets
    );
}

fn a_missing_env_file_gives_its_database_a_password(compose: &str) {
    let bundle = django_with_compose(compose);
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let db = &doc["services"]["postgres"]["environment"];
    assert_eq!(
        db["POSTGRES_PASSWORD"].as_str(),
        Some("${POSTGRES_PASSWORD}"),
        "{doc:?}"
    );
    assert!(
        bundle
            .generated_secrets
            .contains(&"POSTGRES_PASSWORD".to_owned()),
        "{:?}",
        bundle.generated_secrets
    );
    let url = doc["services"]["web"]["environment"]["DATABASE_URL"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(url.contains("${POSTGRES_PASSWORD}@postgres:5432"), "{url}");
}

/// healthchecks' compose file writes the database's set-up as a list of
/// `KEY=$VARIABLE` (`POSTGRES_PASSWORD=$DB_PASSWORD`) with no `.env`: the
/// password is generated as for `${DB_PASSWORD}`, and what reaches the app
/// is that variable, not a default naming itself.
#[test]
fn a_database_set_up_as_a_list_of_bare_variables_gets_its_password() {
    let compose = "services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n    ports: ['8000:8000']\n  db:\n    image: postgres:16\n    environment:\n      - POSTGRES_DB=$DB_NAME\n      - POSTGRES_PASSWORD=$DB_PASSWORD\n";
    let bundle = django_with_compose(compose);
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let db = &doc["services"]["db"]["environment"];
    assert_eq!(
        db["POSTGRES_PASSWORD"].as_str(),
        Some("$DB_PASSWORD"),
        "{doc:?}"
    );
    assert!(
        bundle.generated_secrets.contains(&"DB_PASSWORD".to_owned()),
        "{:?}",
        bundle.generated_secrets
    );
    let url = doc["services"]["web"]["environment"]["DATABASE_URL"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        url.contains("postgres:$DB_PASSWORD@db:5432"),
        "no default that names itself: {url}"
    );
    // The database's name: one default, read by the store and the app.
    assert!(url.ends_with("/${DB_NAME:-app}"), "{url}");
    assert_eq!(
        db["POSTGRES_DB"].as_str(),
        Some("${DB_NAME:-app}"),
        "{doc:?}"
    );
}

/// fastapi-realworld's app reaches its database as
/// `postgresql://postgres:postgres@db/postgres`, and the database takes its
/// set-up from a missing `.env`: it is set up with the URL's credentials,
/// not a generated password the app does not know.
#[test]
fn a_repository_database_the_apps_url_names_credentials_for_is_set_up_with_them() {
    let compose = "services:
  web:
    build: .
    environment:
      DATABASE_URL: \"postgresql://shop:s3cret@db/shopdb\"
  db:
    image: postgres:15
    env_file:
      - .env
";
    let bundle = django_with_compose(compose);
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let db = &doc["services"]["db"]["environment"];
    assert_eq!(db["POSTGRES_PASSWORD"].as_str(), Some("s3cret"), "{doc:?}");
    assert_eq!(db["POSTGRES_USER"].as_str(), Some("shop"));
    assert_eq!(db["POSTGRES_DB"].as_str(), Some("shopdb"));
    assert!(
        !bundle
            .generated_secrets
            .contains(&"POSTGRES_PASSWORD".to_owned()),
        "{:?}",
        bundle.generated_secrets
    );
}

/// An image whose ENTRYPOINT script ends with `exec "$@"` (Rails'
/// `bin/docker-entrypoint`) runs the command it is given after its own
/// set-up: the migration goes before that command. One that does not pass
/// it on keeps its own, and the plan says to migrate by hand.
#[test]
fn a_migration_runs_through_an_entrypoint_that_passes_the_command_on() {
    let bundle_with = |script: &'static str| {
        let mut files: Vec<(&str, &str)> = DJANGO_FILES.to_vec();
        files.push(("docker-entrypoint.sh", script));
        files.push(("Dockerfile", "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nENTRYPOINT [\"/app/docker-entrypoint.sh\"]\nCMD [\"gunicorn\", \"site.wsgi\", \"-b\", \"0.0.0.0:8000\"]\n"));
        let analysis = with(django(), |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into()];
        });
        let repo = Snapshot::from_texts(files.iter().copied());
        let choice = on(Target::DockerHost, &analysis, &Requirements::default());
        build_bundle(&analysis, &repo, &choice).unwrap()
    };
    let passing = bundle_with("#!/bin/sh\nset -e\nrm -f tmp/pids/server.pid\n\nexec \"${@}\"\n");
    let doc = yaml(&passing.files[&passing.compose_file]);
    let command = strings(&doc["services"]["app"]["command"]);
    assert!(
        command
            .get(2)
            .is_some_and(|c| c.starts_with("python manage.py migrate --noinput && exec")),
        "{command:?}"
    );
    let keeping = bundle_with("#!/bin/sh\nexec gunicorn site.wsgi\n");
    assert!(
        notes(&keeping).any(|n| n.contains("has its own ENTRYPOINT")),
        "{:?}",
        keeping.adjustments
    );
}

#[test]
fn a_store_the_description_asks_for_is_wired_through_the_conventional_variable() {
    let analysis = app("python", "flask", Some(5000), Some("gunicorn app:app"));
    let repo = Snapshot::from_texts([("app.py", FLASK_APP), ("requirements.txt", "flask\n")]);
    let requirements = analysis::parse_requirements("a small api with postgres");
    let choice = on(Target::Vm, &analysis, &requirements);
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    assert!(
        doc["services"]["app"]["environment"]["DATABASE_URL"]
            .as_str()
            .unwrap()
            .contains("@postgres:5432/app")
    );
    assert!(
        doc["services"]["app"].get("command").is_none(),
        "no migration is known for this app"
    );
}

#[test]
fn stores_that_are_not_provisioned_stay_required_and_are_explained() {
    let analysis = django();
    let repo = Snapshot::from_texts(DJANGO_FILES.iter().copied());
    let choice = on(Target::Serverless, &analysis, &Requirements::default());
    assert!(choice.services.provisioned.is_empty());
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    assert!(doc["services"].get("postgres").is_none());
    assert!(
        bundle
            .required_variables
            .contains(&"DATABASE_URL".to_owned())
    );
    assert_eq!(
        bundle.generated_secrets,
        ["SECRET_KEY"],
        "no store's password, only the app's key"
    );
    assert!(bundle.adjustments.iter().any(|a| {
        a.reason
            .contains("PostgreSQL is not provisioned on the serverless target")
    }));

    let mongo = with(
        app("javascript", "express", Some(3000), Some("node server.js")),
        |a| {
            a.env.push(var("MONGO_URL", true, true, None));
            a.required_env = vec!["MONGO_URL".into()];
        },
    );
    let repo = Snapshot::from_texts([
        ("server.js", "require('express')\n"),
        ("package.json", "{}"),
    ]);
    let requirements = analysis::parse_requirements("an api with mongodb");
    let choice = on(Target::DockerHost, &mongo, &requirements);
    let bundle = build_bundle(&mongo, &repo, &choice).unwrap();
    assert_eq!(bundle.required_variables, ["MONGO_URL"]);
    assert!(bundle.adjustments.iter().any(|a| {
        a.reason
            .contains("mongodb is not provisioned by deployflow")
            && a.reason.contains("give MONGO_URL")
    }));
}

/// An app on SQLAlchemy with only PyMySQL installed: a plain `mysql://`
/// would load mysqlclient and crash at import, so the wired URL names
/// PyMySQL.
#[test]
fn a_sqlalchemy_app_with_pymysql_is_handed_a_url_for_pymysql() {
    let repo = Snapshot::from_texts([
        (
            "requirements.txt",
            "fastapi==0.110.0\nuvicorn==0.29.0\nSQLAlchemy==2.0.29\nPyMySQL==1.1.0\n",
        ),
        (
            "main.py",
            "import os\nfrom fastapi import FastAPI\nfrom sqlalchemy import create_engine, text\nengine = create_engine(os.environ[\"SQLALCHEMY_URL\"])\napp = FastAPI()\n",
        ),
    ]);
    let requirements = analysis::parse_requirements("a small API with mysql");
    let analysis = analysis::analyse(&repo, &requirements);
    let choice = on(Target::DockerHost, &analysis, &requirements);
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files[&bundle.compose_file]);
    let url = doc["services"]["app"]["environment"]["SQLALCHEMY_URL"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(url.starts_with("mysql+pymysql://app:"), "{doc:?}");
}

/// Go's lib/pq insists on TLS unless the URL says `sslmode=disable`, and
/// the database beside the app offers none: its URL says so. A managed
/// database takes TLS, and keeps the URL that asks for it.
#[test]
fn a_go_app_on_lib_pq_is_handed_a_url_without_tls_beside_it() {
    let repo = Snapshot::from_texts([
        (
            "go.mod",
            "module example.com/shop\n\ngo 1.21\n\nrequire github.com/lib/pq v1.10.9\n",
        ),
        (
            "main.go",
            "package main\n\nimport (\n\t\"database/sql\"\n\t\"log\"\n\t\"net/http\"\n\t\"os\"\n\n\t_ \"github.com/lib/pq\"\n)\n\nfunc main() {\n\tdb, _ := sql.Open(\"postgres\", os.Getenv(\"DATABASE_URL\"))\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) {\n\t\tif err := db.Ping(); err != nil {\n\t\t\thttp.Error(w, err.Error(), 500)\n\t\t\treturn\n\t\t}\n\t\tw.Write([]byte(\"ok\"))\n\t})\n\tlog.Fatal(http.ListenAndServe(\":8080\", nil))\n}\n",
        ),
    ]);
    let requirements = analysis::parse_requirements("a small API with postgres");
    let analysis = analysis::analyse(&repo, &requirements);
    assert!(analysis.postgres_tls_by_default, "{:?}", analysis.evidence);
    for target in [Target::DockerHost, Target::Vm] {
        let choice = on(target, &analysis, &requirements);
        let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
        let doc = yaml(&bundle.files[&bundle.compose_file]);
        let url = doc["services"]["app"]["environment"]["DATABASE_URL"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(url.starts_with("postgresql://app:"), "{doc:?}");
        assert!(url.ends_with("@postgres:5432/app?sslmode=disable"), "{url}");
    }
    let managed = on(Target::ContainerService, &analysis, &requirements);
    assert!(
        managed
            .services
            .provisioned
            .iter()
            .all(|s| s.url_query.is_empty()),
        "{:?}",
        managed.services
    );
}

/// Analysed from their files, planned for every target: the stores run
/// beside the app where compose runs it, and are asked for elsewhere.
#[test]
fn apps_analysed_from_their_files_get_their_stores_planned_for_every_target() {
    let express = Snapshot::from_texts([
        (
            "package.json",
            r#"{"name": "shop", "scripts": {"start": "node server.js"}, "dependencies": {"express": "^4.19.2", "pg": "^8.12.0"}}"#,
        ),
        (
            "server.js",
            "const express = require('express');\nconst { Pool } = require('pg');\nconst pool = new Pool({ connectionString: process.env.DATABASE_URL });\nconst app = express();\napp.get('/', async (req, res) => res.json((await pool.query('select 1')).rows));\napp.listen(process.env.PORT || 3000);\n",
        ),
    ]);
    let laravel = Snapshot::from_texts([
        (
            "composer.json",
            r#"{"require": {"php": "^8.2", "laravel/framework": "^11.0"}}"#,
        ),
        ("artisan", "#!/usr/bin/env php\n<?php\n"),
        ("public/index.php", "<?php\n"),
        (
            ".env.example",
            "APP_KEY=\nDB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_PORT=3306\nDB_DATABASE=laravel\nDB_USERNAME=root\nDB_PASSWORD=\n",
        ),
    ]);
    let requirements = Requirements::default();
    for (name, repo, kind, wired) in [
        (
            "express",
            &express,
            StoreKind::Postgres,
            vec!["DATABASE_URL"],
        ),
        (
            "laravel",
            &laravel,
            StoreKind::Mysql,
            vec!["DB_HOST", "DB_USERNAME", "DB_PASSWORD", "DB_DATABASE"],
        ),
    ] {
        let analysis = analysis::analyse(repo, &requirements);
        for target in Target::ALL.into_iter().chain([Target::DockerHost]) {
            let choice = on(target, &analysis, &requirements);
            let bundle = build_bundle(&analysis, repo, &choice)
                .unwrap_or_else(|e| panic!("{name} on {target}: {e}"));
            check_common(name, &analysis, &bundle);
            let doc = yaml(&bundle.files[&bundle.compose_file]);
            let env = &doc["services"][bundle.app_service.as_str()]["environment"];
            // The compose file of the container service and Kubernetes runs
            // the stores for local runs and preflight; in the cloud, RDS and
            // ElastiCache do.
            if target != Target::Serverless {
                assert!(
                    doc["services"].get(kind.as_str()).is_some(),
                    "{name} on {target}: {:#?}\n{analysis:#?}",
                    choice.services
                );
                for variable in &wired {
                    assert!(
                        !bundle.required_variables.contains(&variable.to_string()),
                        "{name} on {target}: {variable} is wired"
                    );
                    let value = env[*variable].as_str().unwrap_or_default();
                    assert!(
                        !value.starts_with(&format!("${{{variable}")),
                        "{name} on {target}: {variable} = {value}"
                    );
                }
            } else {
                assert!(doc["services"].get(kind.as_str()).is_none());
                assert!(
                    choice
                        .services
                        .not_provisioned
                        .iter()
                        .any(|n| n.kind == kind.as_str()),
                    "{name} on {target}: {:#?}",
                    choice.services
                );
            }
        }
    }
}

/// Django's default settings keep the data in a SQLite file of the app's
/// own: its tables are made as the container starts, with a note that the
/// file goes with the container.
#[test]
fn a_django_app_on_its_own_sqlite_file_is_migrated_as_it_starts() {
    let analysis = app("python", "django", Some(8000), Some("gunicorn site.wsgi"));
    let mut files = DJANGO_FILES.to_vec();
    files.push((
        "site/settings.py",
        "DATABASES = {\n    'default': {\n        'ENGINE': 'django.db.backends.sqlite3',\n        'NAME': BASE_DIR / 'db.sqlite3',\n    }\n}\n",
    ));
    let repo = Snapshot::from_texts(files.iter().copied());
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    assert!(choice.services.provisioned.is_empty());
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    assert_eq!(
        strings(&doc["services"]["app"]["command"])[..3],
        [
            "sh",
            "-c",
            "python manage.py migrate --noinput && exec \"$$@\""
        ]
    );
    assert!(has(&bundle, AdjustmentKind::Note, "its own SQLite file"));

    // Without the SQLite settings nothing is run before the app.
    let repo = Snapshot::from_texts(DJANGO_FILES.iter().copied());
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    assert!(doc["services"]["app"]["command"].is_null());
}

/// Split settings whose `wsgi.py` defaults to the development module: the
/// deployment runs the production one, which reads what it wires, and
/// collects the static files with it.
#[test]
fn a_django_project_with_split_settings_runs_its_production_settings() {
    let analysis = with(
        app("python", "django", Some(8000), Some("gunicorn config.wsgi")),
        |a| {
            a.env.push(var("SECRET_KEY", true, true, None));
            a.required_env = vec!["SECRET_KEY".into()];
        },
    );
    let files = |wsgi: &'static str| {
        Snapshot::from_texts([
            (
                "manage.py",
                "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.development')\n",
            ),
            ("requirements.txt", "django\ngunicorn\n"),
            ("config/wsgi.py", wsgi),
            (
                "config/settings/base.py",
                "STATIC_ROOT = BASE_DIR / 'staticfiles'\n",
            ),
            (
                "config/settings/development.py",
                "from .base import *\nDEBUG = True\nALLOWED_HOSTS = []\n",
            ),
            (
                "config/settings/production.py",
                "from .base import *\nimport os\nSECRET_KEY = os.environ['SECRET_KEY']\n",
            ),
        ])
    };
    let repo = files(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.development')\napplication = None\n",
    );
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let d = dockerfile(&bundle);
    assert!(
        d.contains("ENV DJANGO_SETTINGS_MODULE=\"config.settings.production\""),
        "{d}"
    );
    assert!(
        d.contains("RUN DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY="),
        "{d}"
    );
    // The shared module the others import is no production setting either.
    let repo = files(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.base')\napplication = None\n",
    );
    let repo_with_base_default = without_manage_py(&repo);
    let bundle = build_bundle(&analysis, &repo_with_base_default, &choice).unwrap();
    assert!(
        dockerfile(&bundle).contains("ENV DJANGO_SETTINGS_MODULE=\"config.settings.production\"")
    );
    // A project that defaults to its production settings is left alone.
    let repo = files(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.production')\napplication = None\n",
    );
    let repo_without_dev_default = without_manage_py(&repo);
    let bundle = build_bundle(&analysis, &repo_without_dev_default, &choice).unwrap();
    assert!(!dockerfile(&bundle).contains("DJANGO_SETTINGS_MODULE"));
}

/// The repository without its `manage.py`, so `wsgi.py` names the default.
fn without_manage_py(repo: &Snapshot) -> Snapshot {
    Snapshot::from_texts(
        repo.files
            .iter()
            .filter(|f| f.path != "manage.py")
            .map(|f| (f.path.as_str(), f.content.as_deref().unwrap_or_default())),
    )
}

/// `rails new`'s SQLite settings: `bin/rails db:prepare` makes the file's
/// tables before the server starts; an app that also names a server
/// adapter is left to the database deployflow runs.
#[test]
fn a_rails_app_on_its_own_sqlite_file_is_prepared_as_it_starts() {
    let analysis = app("ruby", "rails", Some(3000), Some("bin/rails server"));
    let sqlite = "default: &default\n  adapter: sqlite3\n  pool: 5\n\nproduction:\n  <<: *default\n  database: storage/production.sqlite3\n";
    let files = |database: &'static str| {
        Snapshot::from_texts([
            ("Gemfile", "gem \"rails\"\ngem \"sqlite3\"\n"),
            ("bin/rails", "#!/usr/bin/env ruby\n"),
            ("config.ru", ""),
            ("config/database.yml", database),
        ])
    };
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let bundle = build_bundle(&analysis, &files(sqlite), &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    let command = strings(&doc["services"]["app"]["command"]);
    assert!(
        command[2].starts_with("bin/rails db:prepare && "),
        "{command:?}"
    );
    assert!(has(&bundle, AdjustmentKind::Note, "its own SQLite file"));

    let mixed = "development:\n  adapter: sqlite3\nproduction:\n  adapter: postgresql\n";
    let bundle = build_bundle(&analysis, &files(mixed), &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    assert!(doc["services"]["app"]["command"].is_null());
}

/// A Rails 5 app: no `db:prepare` (Rails 6.0) and no
/// `SECRET_KEY_BASE_DUMMY` (Rails 7.1), and its uglifier needs Node.js to
/// precompile assets.
#[test]
fn an_older_rails_app_is_migrated_and_precompiled_the_way_its_rails_can() {
    let analysis = app("ruby", "rails", Some(3000), Some("bin/rails server"));
    let sqlite = "production:\n  adapter: sqlite3\n  database: db/production.sqlite3\n";
    let files = |lock: &'static str| {
        Snapshot::from_texts([
            (
                "Gemfile",
                "gem \"rails\"\ngem \"sqlite3\"\ngem \"uglifier\"\n",
            ),
            ("Gemfile.lock", lock),
            ("bin/rails", "#!/usr/bin/env ruby\n"),
            ("config.ru", ""),
            ("config/database.yml", sqlite),
            ("app/assets/javascripts/application.js", ""),
        ])
    };
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let rails_5 = "GEM\n  specs:\n    execjs (2.7.0)\n    rails (5.1.2)\n      actionpack (= 5.1.2)\n    uglifier (3.2.0)\n      execjs (>= 0.3.0, < 3)\n";
    let bundle = build_bundle(&analysis, &files(rails_5), &choice).unwrap();
    let command = strings(&yaml(&bundle.files["compose.yaml"])["services"]["app"]["command"]);
    assert!(
        command[2].starts_with("bin/rails db:migrate && "),
        "{command:?}"
    );
    let d = dockerfile(&bundle);
    assert!(d.contains("libyaml-dev nodejs"), "{d}");
    assert!(
        d.contains("RUN SECRET_KEY_BASE=assets-precompile-only RAILS_ENV=production bundle exec rails assets:precompile"),
        "{d}"
    );

    let rails_7 = "GEM\n  specs:\n    rails (7.1.3)\n";
    let bundle = build_bundle(&analysis, &files(rails_7), &choice).unwrap();
    let command = strings(&yaml(&bundle.files["compose.yaml"])["services"]["app"]["command"]);
    assert!(
        command[2].starts_with("bin/rails db:prepare && "),
        "{command:?}"
    );
    let d = dockerfile(&bundle);
    assert!(d.contains("RUN SECRET_KEY_BASE_DUMMY=1 "), "{d}");
    assert!(!d.contains("nodejs"), "{d}");
}

/// Laravel 11's skeleton keeps its data, sessions and cache in SQLite:
/// `migrate --force` makes the file and its tables before the server starts.
#[test]
fn a_laravel_app_on_its_own_sqlite_file_is_migrated_as_it_starts() {
    let analysis = with(
        app("php", "laravel", Some(8000), Some("php artisan serve")),
        |a| {
            a.env
                .push(var("DB_CONNECTION", false, false, Some("sqlite")));
            a.env
                .push(var("SESSION_DRIVER", false, false, Some("database")));
        },
    );
    let files = [
        (
            "composer.json",
            r#"{"require": {"laravel/framework": "^11.0"}}"#,
        ),
        ("artisan", "#!/usr/bin/env php\n"),
        ("routes/web.php", "<?php\n"),
    ];
    let repo = Snapshot::from_texts(files.iter().copied());
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    assert!(choice.services.provisioned.is_empty());
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    let command = strings(&doc["services"]["app"]["command"]);
    assert!(
        command[2].starts_with("php artisan migrate --force && "),
        "{command:?}"
    );
    assert!(has(&bundle, AdjustmentKind::Note, "its own SQLite file"));

    // On MySQL, its old default, nothing is run without a database.
    let mysql = with(analysis.clone(), |a| {
        a.env.retain(|v| v.name != "DB_CONNECTION");
        a.env
            .push(var("DB_CONNECTION", false, false, Some("mysql")));
    });
    let choice = on(Target::DockerHost, &mysql, &Requirements::default());
    assert!(choice.services.provisioned.is_empty());
    let bundle = build_bundle(&mysql, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    assert!(doc["services"]["app"]["command"].is_null());
}

/// MongoDB is not provisioned, but the repository's compose file runs its
/// own: the app's URL reaches it, and nothing is asked of the user.
#[test]
fn a_mongo_url_reaches_the_mongo_the_repository_compose_file_runs() {
    let analysis = with(
        app("node", "express", Some(5000), Some("node server.js")),
        |a| {
            a.env.push(var("MONGO_URI", true, true, None));
            a.required_env = vec!["MONGO_URI".into()];
            a.datastores = vec!["mongodb".into()];
            a.dockerized = true;
            a.docker_files = vec!["docker-compose.yml".into()];
        },
    );
    let compose = "services:\n  api:\n    build: .\n    ports: ['5000:5000']\n    depends_on: [mongo]\n  mongo:\n    image: mongo:7\n    ports: ['27017:27017']\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        ("server.js", ""),
        (
            "package.json",
            r#"{"dependencies":{"express":"^4","mongoose":"^8"}}"#,
        ),
    ]);
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    assert_eq!(choice.services.not_provisioned[0].kind, "mongodb");
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    assert_eq!(
        doc["services"]["api"]["environment"]["MONGO_URI"].as_str(),
        Some("${MONGO_URI:-mongodb://mongo:27017/app}")
    );
    assert!(
        bundle.required_variables.is_empty(),
        "{:?}",
        bundle.required_variables
    );
    assert!(
        !notes(&bundle).any(|n| n.contains("give MONGO_URI")),
        "{:?}",
        notes(&bundle).collect::<Vec<_>>()
    );
    assert!(doc["services"]["mongo"].get("ports").is_none());
}

/// The database of the repository's compose file takes its credentials
/// from an `env_file`: the app's URL carries them.
#[test]
fn a_database_url_carries_the_credentials_of_the_stores_env_file() {
    let analysis = with(app("go", "echo", Some(8080), Some("/app/server")), |a| {
        a.env.push(var("DATABASE_URL", true, true, None));
        a.env.push(var("PEPPER", true, false, None));
        a.required_env = vec!["DATABASE_URL".into(), "PEPPER".into()];
        a.datastores = vec!["postgres".into()];
        a.dockerized = true;
        a.docker_files = vec!["docker-compose.yml".into()];
    });
    let compose = "services:\n  api:\n    build: .\n    command: [\"go\", \"run\", \"cmd/main.go\"]\n    env_file: [database.env]\n    ports: ['8080:8080']\n  database:\n    image: postgres:16\n    env_file: [database.env]\n    environment:\n      POSTGRES_DB: shop\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        (
            "database.env",
            "# the database\nPOSTGRES_USER=john\nPOSTGRES_PASSWORD=s3cret\nPOSTGRES_DB=ignored\nPEPPER=\"satanclaws\"\n",
        ),
        ("go.mod", "module shop\n"),
        ("main.go", "package main\n"),
    ]);
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let url = doc["services"]["api"]["environment"]["DATABASE_URL"]
        .as_str()
        .unwrap_or_default();
    assert!(url.contains("john:s3cret@database:5432/shop"), "{doc:?}");
    // The app's own env_file sets PEPPER: nothing asks for it again.
    let app = &doc["services"]["api"];
    assert!(app["environment"].get("PEPPER").is_none(), "{doc:?}");
    assert!(
        !bundle.required_variables.contains(&"PEPPER".to_owned()),
        "{:?}",
        bundle.required_variables
    );
    // `go run` needs the toolchain, which the built image does not hold.
    assert!(app.get("command").is_none(), "{doc:?}");
}

/// A search engine and a broker deployflow does not provision, which the
/// repository's compose file runs: the required variable and the optional
/// one with a localhost default reach them, and neither is said missing.
#[test]
fn search_and_broker_variables_reach_the_services_the_repository_compose_file_runs() {
    let analysis = with(
        app("python", "flask", Some(5000), Some("gunicorn app:app")),
        |a| {
            a.env.push(var("ELASTICSEARCH_URL", true, false, None));
            a.env.push(var(
                "RABBITMQ_URL",
                false,
                false,
                Some("amqp://guest:guest@localhost:5672/"),
            ));
            a.required_env = vec!["ELASTICSEARCH_URL".into()];
            a.datastores = vec!["elasticsearch".into(), "rabbitmq".into()];
            a.dockerized = true;
            a.docker_files = vec!["docker-compose.yml".into()];
        },
    );
    let compose = "services:\n  web:\n    build: .\n    ports: ['5000:5000']\n  search:\n    image: opensearchproject/opensearch:2.13.0\n    environment:\n      - DISABLE_SECURITY_PLUGIN=true\n  broker:\n    image: rabbitmq:3-management\n    environment:\n      RABBITMQ_DEFAULT_USER: app\n      RABBITMQ_DEFAULT_PASS: app\n";
    let repo = Snapshot::from_texts([
        ("docker-compose.yml", compose),
        ("app.py", ""),
        ("requirements.txt", "flask\ngunicorn\nopensearch-py\npika\n"),
    ]);
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let kinds: Vec<&str> = choice
        .services
        .not_provisioned
        .iter()
        .map(|n| n.kind.as_str())
        .collect();
    assert!(
        kinds.contains(&"elasticsearch") && kinds.contains(&"rabbitmq"),
        "{kinds:?}"
    );
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    let env = &doc["services"]["web"]["environment"];
    assert_eq!(
        env["ELASTICSEARCH_URL"].as_str(),
        Some("${ELASTICSEARCH_URL:-http://search:9200}"),
        "{doc:?}"
    );
    assert_eq!(
        env["RABBITMQ_URL"].as_str(),
        Some("${RABBITMQ_URL:-amqp://app:app@broker:5672/}")
    );
    assert!(
        bundle.required_variables.is_empty(),
        "{:?}",
        bundle.required_variables
    );
    assert!(
        !notes(&bundle).any(|n| n.contains("not provisioned")),
        "{:?}",
        notes(&bundle).collect::<Vec<_>>()
    );
}

/// Prisma and Drizzle keep their command-line tools in devDependencies as
/// often as not: the migration runs, and the image keeps what it needs.
#[test]
fn node_orm_migrations_run_with_their_tools_kept_in_the_image() {
    let analysis = reads_a_postgres_url(app(
        "typescript",
        "express",
        Some(3000),
        Some("node dist/index.js"),
    ));
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let prisma_package = r#"{"scripts": {"build": "tsc"}, "dependencies": {"@prisma/client": "6.1.0", "express": "4"}, "devDependencies": {"prisma": "6.1.0", "typescript": "5"}}"#;
    let schema = "datasource db {\n  provider = \"postgresql\"\n  url      = env(\"DATABASE_URL\")\n}\nmodel User {\n  id Int @id\n}\n";
    let bundle = |files: &[(&str, &str)]| {
        let repo = Snapshot::from_texts(files.iter().copied());
        build_bundle(&analysis, &repo, &choice).unwrap()
    };
    let command = |bundle: &Bundle| {
        yaml(&bundle.files["compose.yaml"])["services"]["app"]
            .get("command")
            .map(strings)
            .map(|c| c[2].clone())
    };
    let with_migrations = bundle(&[
        ("package.json", prisma_package),
        ("prisma/schema.prisma", schema),
        (
            "prisma/migrations/20240101000000_init/migration.sql",
            "CREATE TABLE t ();\n",
        ),
        ("src/index.ts", "import express from 'express';\n"),
    ]);
    assert_eq!(
        command(&with_migrations).as_deref(),
        Some("npx prisma migrate deploy && exec \"$$@\"")
    );
    // The CLI is a dev dependency: the build does not prune it away.
    let dockerfile = &with_migrations.files["Dockerfile"];
    assert!(!dockerfile.contains("npm prune"), "{dockerfile}");
    assert!(
        notes(&with_migrations).any(|n| n.contains("`prisma`") && n.contains("devDependencies")),
        "{:#?}",
        notes(&with_migrations).collect::<Vec<_>>()
    );
    // No migrations folder: the schema is pushed as it is.
    let without = bundle(&[
        ("package.json", prisma_package),
        ("prisma/schema.prisma", schema),
        ("src/index.ts", "import express from 'express';\n"),
    ]);
    assert_eq!(
        command(&without).as_deref(),
        Some("npx prisma db push && exec \"$$@\"")
    );
    // A schema of no model (a template never filled in) has nothing to push.
    let unused = bundle(&[
        ("package.json", prisma_package),
        (
            "prisma/schema.prisma",
            schema.split("model").next().unwrap_or_default(),
        ),
        ("src/index.ts", "import express from 'express';\n"),
    ]);
    assert_eq!(command(&unused), None);
    // Drizzle's migrations, in the folder its config names.
    let drizzle_package = r#"{"scripts": {"build": "tsc"}, "dependencies": {"drizzle-orm": "0.36.0", "pg": "8", "express": "4"}, "devDependencies": {"drizzle-kit": "0.28.0", "typescript": "5"}}"#;
    let config = "import { defineConfig } from 'drizzle-kit';\nexport default defineConfig({\n  schema: './src/schema.ts',\n  out: './migrations',\n  dialect: 'postgresql',\n});\n";
    let drizzle = |journal: &'static str| {
        bundle(&[
            ("package.json", drizzle_package),
            ("drizzle.config.ts", config),
            (journal, "{\"entries\": []}\n"),
            ("src/index.ts", "import express from 'express';\n"),
        ])
    };
    let migrated = drizzle("migrations/meta/_journal.json");
    assert_eq!(
        command(&migrated).as_deref(),
        Some("npx drizzle-kit migrate && exec \"$$@\"")
    );
    assert!(!migrated.files["Dockerfile"].contains("npm prune"));
    // A journal outside the config's folder is not this app's migrations.
    assert_eq!(command(&drizzle("drizzle/meta/_journal.json")), None);
}

/// Spring reads its datasource as a JDBC URL: the one beside the app is
/// handed over in that form, with the user and password Spring binds.
#[test]
fn a_spring_app_gets_its_datasource_as_a_jdbc_url() {
    let analysis = with(
        app("java", "spring-boot", Some(8080), Some("java -jar app.jar")),
        |a| {
            for name in [
                "SPRING_DATASOURCE_URL",
                "SPRING_DATASOURCE_USERNAME",
                "SPRING_DATASOURCE_PASSWORD",
            ] {
                a.env
                    .push(var(name, true, name.ends_with("PASSWORD"), None));
                a.required_env.push(name.into());
            }
            a.datastores = vec!["postgres".into()];
        },
    );
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let repo = Snapshot::from_texts([(
        "pom.xml",
        "<project><dependencies><dependency><artifactId>spring-boot-starter-data-jpa</artifactId></dependency></dependencies></project>",
    )]);
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let compose = yaml(&bundle.files["compose.yaml"]);
    let env = &compose["services"]["app"]["environment"];
    let url = env["SPRING_DATASOURCE_URL"].as_str().unwrap();
    assert!(
        url.starts_with("jdbc:postgresql://postgres:5432/app?user=app&password=${"),
        "{url}"
    );
    assert_eq!(env["SPRING_DATASOURCE_USERNAME"].as_str(), Some("app"));
    assert!(
        env["SPRING_DATASOURCE_PASSWORD"]
            .as_str()
            .is_some_and(|p| p.starts_with("${")),
        "{env:?}"
    );
}

/// spring-petclinic runs on H2 unless a profile says otherwise and reads no
/// datasource variable: asked for PostgreSQL, whose driver it has, it gets
/// `SPRING_DATASOURCE_URL`, which Spring Boot binds over its configuration
/// files, not a `DATABASE_URL` nothing reads.
#[test]
fn a_spring_app_reading_no_datasource_variable_gets_springs_own() {
    let analysis = with(
        app("java", "spring-boot", Some(8080), Some("java -jar app.jar")),
        |a| a.datastores = vec!["postgres".into(), "mysql".into()],
    );
    let requirements = Requirements {
        database: Some("postgres".into()),
        ..Requirements::default()
    };
    let plan = infra::choose::services(&analysis, &requirements, Target::ContainerService);
    let wired: Vec<(&str, &infra::choose::Part)> = plan
        .provisioned
        .iter()
        .flat_map(|s| s.wiring.iter().map(|w| (w.name.as_str(), &w.part)))
        .collect();
    assert_eq!(
        wired,
        [("SPRING_DATASOURCE_URL", &infra::choose::Part::JdbcUrl)],
        "{plan:?}"
    );
    assert!(
        plan.not_provisioned.is_empty(),
        "MySQL's driver is an alternative profile's: {:?}",
        plan.not_provisioned
    );
}

/// An app without migrations that ships its schema as a SQL file gets it
/// loaded into the database compose runs beside it, on its first start.
#[test]
fn the_schema_file_of_an_app_without_migrations_is_loaded_into_its_database() {
    let express = reads_a_postgres_url(app(
        "javascript",
        "express",
        Some(3000),
        Some("node index.js"),
    ));
    let choice = on(Target::DockerHost, &express, &Requirements::default());
    let files = [
        (
            "package.json",
            r#"{"dependencies":{"express":"^4","pg":"^8"}}"#,
        ),
        ("index.js", "require('express')().listen(3000);\n"),
        (
            "db/db.sql",
            "CREATE TABLE users (id integer PRIMARY KEY, name text);\n",
        ),
    ];
    let bundle = build_bundle(&express, &Snapshot::from_texts(files), &choice).unwrap();
    let compose = yaml(&bundle.files["compose.yaml"]);
    let volumes = strings(&compose["services"]["postgres"]["volumes"]);
    assert!(
        volumes.contains(&"./db/db.sql:/docker-entrypoint-initdb.d/10-app.sql:ro".to_owned()),
        "{volumes:?}"
    );
    assert!(
        notes(&bundle).any(|n| n.contains("db/db.sql makes its tables")),
        "{:?}",
        notes(&bundle).collect::<Vec<_>>()
    );

    // An app whose framework migrates makes its own tables.
    let django = django();
    let choice = on(Target::DockerHost, &django, &Requirements::default());
    let mut files: Vec<(&str, &str)> = DJANGO_FILES.to_vec();
    files.push(("schema.sql", "CREATE TABLE users (id integer);\n"));
    let bundle = build_bundle(&django, &Snapshot::from_texts(files), &choice).unwrap();
    let compose = yaml(&bundle.files["compose.yaml"]);
    assert_eq!(
        strings(&compose["services"]["postgres"]["volumes"]).len(),
        1,
        "{compose:?}"
    );
}

/// A file of version 3 cannot make a service wait for another's health:
/// its `version` goes, and Compose reads it as the Compose Specification.
#[test]
fn a_version_3_file_whose_app_waits_for_its_database_loses_its_version() {
    let compose = "version: '3.8'\nservices:\n  web:\n    build: .\n    depends_on: [db]\n    ports: ['8000:8000']\n  db:\n    image: postgres:15-alpine\n    environment:\n      POSTGRES_USER: shop\n      POSTGRES_PASSWORD: shop\n      POSTGRES_DB: shop\n    healthcheck:\n      test: ['CMD', 'pg_isready', '-U', 'shop']\n";
    let bundle = django_with_compose(compose);
    let doc = yaml(&bundle.files["docker-compose.yml"]);
    assert!(doc.get("version").is_none(), "{doc:?}");
    let db = &doc["services"]["db"];
    assert_eq!(
        strings(&db["healthcheck"]["test"]),
        ["CMD", "pg_isready", "-U", "shop"],
        "the file's own health check is kept"
    );
    assert_eq!(
        doc["services"]["web"]["depends_on"]["db"]["condition"].as_str(),
        Some("service_healthy")
    );
}

/// The bundle of the Django app with its own Dockerfile and `compose`, on
/// the docker host.
fn django_with_compose(compose: &str) -> Bundle {
    django_with_compose_and(compose, &[])
}

/// [`django_with_compose`], with `extra` files in the repository.
fn django_with_compose_and(compose: &str, extra: &[(&str, &str)]) -> Bundle {
    let mut files: Vec<(&str, &str)> = DJANGO_FILES.to_vec();
    files.push(("docker-compose.yml", compose));
    files.extend_from_slice(extra);
    files.push(("Dockerfile", "FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"gunicorn\", \"site.wsgi\", \"-b\", \"0.0.0.0:8000\"]\n"));
    let analysis = with(django(), |a| {
        a.dockerized = true;
        a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
    });
    let repo = Snapshot::from_texts(files.iter().copied());
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    build_bundle(&analysis, &repo, &choice).unwrap()
}

/// A Django app on its own SQLite file, with the repository's compose file:
/// its tables are made before it starts, as in a generated bundle, unless
/// the file gives the app a command of its own, which the plan then says.
#[test]
fn a_kept_compose_file_runs_the_migration_of_an_app_on_sqlite() {
    let bundle = |compose: &str| {
        let files = [
            ("manage.py", "import django\n"),
            ("requirements.txt", "django\ngunicorn\n"),
            ("site/wsgi.py", "application = None\n"),
            (
                "site/settings.py",
                "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'db.sqlite3'}}\n",
            ),
            ("docker-compose.yml", compose),
            (
                "Dockerfile",
                "FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"gunicorn\", \"site.wsgi\", \"-b\", \"0.0.0.0:8000\"]\n",
            ),
        ];
        let analysis = with(
            app("python", "django", Some(8000), Some("gunicorn site.wsgi")),
            |a| {
                a.dockerized = true;
                a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
            },
        );
        let repo = Snapshot::from_texts(files);
        let choice = on(Target::DockerHost, &analysis, &Requirements::default());
        build_bundle(&analysis, &repo, &choice).unwrap()
    };
    let kept = bundle("services:\n  web:\n    build: .\n    ports: ['8000:8000']\n");
    let doc = yaml(&kept.files["docker-compose.yml"]);
    let command = strings(&doc["services"]["web"]["command"]).join(" ");
    assert!(command.contains("manage.py migrate"), "{command}");

    let own_command = bundle(
        "services:\n  web:\n    build: .\n    command: gunicorn site.wsgi -b 0.0.0.0:8000 --workers 3\n    ports: ['8000:8000']\n",
    );
    assert!(
        own_command
            .adjustments
            .iter()
            .any(|a| a.reason.contains("has its own command")),
        "{:#?}",
        own_command.adjustments
    );
}

/// A MongoDB driver and no variable for its address: the code names one,
/// which the plan says nothing in the deployment answers, unless the
/// repository's compose file runs a MongoDB the code can name.
#[test]
fn a_store_whose_address_is_in_the_code_is_said_unless_the_compose_file_runs_it() {
    let analysis = with(
        app("node", "express", Some(5000), Some("node server.js")),
        |a| a.datastores = vec!["mongodb".into()],
    );
    let files = [
        ("server.js", ""),
        (
            "package.json",
            r#"{"dependencies":{"express":"^4","mongodb":"^6"}}"#,
        ),
    ];
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let bundle = build_bundle(&analysis, &Snapshot::from_texts(files), &choice).unwrap();
    assert!(
        has(
            &bundle,
            AdjustmentKind::Note,
            "reads no variable for its address"
        ),
        "{:#?}",
        bundle.adjustments
    );

    let dockerized = with(analysis, |a| {
        a.dockerized = true;
        a.docker_files = vec!["docker-compose.yml".into()];
    });
    let compose =
        "services:\n  api:\n    build: .\n    ports: ['5000:5000']\n  mongo:\n    image: mongo:7\n";
    let repo = Snapshot::from_texts(files.into_iter().chain([("docker-compose.yml", compose)]));
    let choice = on(Target::DockerHost, &dockerized, &Requirements::default());
    let bundle = build_bundle(&dockerized, &repo, &choice).unwrap();
    assert!(
        !has(
            &bundle,
            AdjustmentKind::Note,
            "reads no variable for its address"
        ),
        "{:#?}",
        bundle.adjustments
    );
}

/// A kept Dockerfile's command continued over two lines is read whole: one
/// that migrates itself gets nothing run before it, another starts after
/// the migration as written.
#[test]
fn a_command_continued_over_lines_is_read_whole() {
    let analysis = with(
        reads_a_postgres_url(app(
            "python",
            "fastapi",
            Some(8000),
            Some("poetry run uvicorn --host=0.0.0.0 app.main:app"),
        )),
        |a| {
            a.dockerized = true;
            a.docker_files = vec!["Dockerfile".into()];
        },
    );
    let plan = |cmd: &str| {
        let dockerfile = format!(
            "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install poetry && poetry install\n{cmd}\n"
        );
        let repo = Snapshot::from_texts([
            ("Dockerfile", dockerfile.as_str()),
            ("alembic.ini", "[alembic]\n"),
            (
                "app/main.py",
                "from fastapi import FastAPI\napp = FastAPI()\n",
            ),
            ("pyproject.toml", "[tool.poetry]\nname = \"x\"\n"),
        ]);
        let choice = on(Target::DockerHost, &analysis, &Requirements::default());
        let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
        let command = yaml(&bundle.files["compose.yaml"])["services"]["app"]
            .get("command")
            .map(strings);
        let notes: Vec<String> = notes(&bundle).map(str::to_owned).collect();
        (command, notes)
    };
    let (command, notes) = plan(
        "CMD poetry run alembic upgrade head && \\\n    poetry run uvicorn --host=0.0.0.0 app.main:app",
    );
    assert_eq!(command, None);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("runs `alembic upgrade head` itself")),
        "{notes:?}"
    );
    let (command, _) = plan("CMD poetry run uvicorn \\\n    --host=0.0.0.0 app.main:app");
    let command = command.expect("the migration runs first");
    assert_eq!(
        command[4..],
        [
            "/bin/sh",
            "-c",
            "poetry run uvicorn  --host=0.0.0.0 app.main:app"
        ]
    );
}

/// The image starts through a script of the repository that migrates
/// first (`CMD ["sh", "/app/entrypoint.sh"]`, `ENTRYPOINT ["./boot.sh"]`):
/// nothing is run before it, and no note asks for it by hand.
#[test]
fn a_start_script_that_migrates_is_not_migrated_before() {
    let plan = |start: &str, script: (&str, &str)| {
        // The analysis reads the start command from the Dockerfile.
        let command = if start.contains("boot.sh") {
            "./boot.sh"
        } else {
            "sh /app/entrypoint.sh"
        };
        let analysis = with(
            reads_a_postgres_url(app("python", "fastapi", Some(8000), Some(command))),
            |a| {
                a.dockerized = true;
                a.docker_files = vec!["Dockerfile".into()];
            },
        );
        let dockerfile = format!(
            "FROM python:3.12\nWORKDIR /app\nCOPY . .\nCOPY docker/entrypoint.sh /app/entrypoint.sh\nRUN pip install -r requirements.txt\n{start}\n"
        );
        let repo = Snapshot::from_texts([
            ("Dockerfile", dockerfile.as_str()),
            ("alembic.ini", "[alembic]\n"),
            ("requirements.txt", "fastapi\nalembic\n"),
            ("main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
            script,
        ]);
        let choice = on(Target::DockerHost, &analysis, &Requirements::default());
        let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
        let command = yaml(&bundle.files["compose.yaml"])["services"]["app"]
            .get("command")
            .map(strings);
        let notes: Vec<String> = notes(&bundle).map(str::to_owned).collect();
        (command, notes)
    };
    let migrating =
        "cd /app\nalembic upgrade head\nexec gunicorn main:app -k uvicorn.workers.UvicornWorker\n";
    let (command, notes) = plan(
        "CMD [\"sh\", \"/app/entrypoint.sh\"]",
        ("docker/entrypoint.sh", migrating),
    );
    assert_eq!(command, None, "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("itself")), "{notes:?}");
    let (command, notes) = plan("ENTRYPOINT [\"./boot.sh\"]", ("boot.sh", migrating));
    assert_eq!(command, None, "{notes:?}");
    assert!(
        !notes.iter().any(|n| n.contains("docker compose exec")),
        "{notes:?}"
    );
    // A script that only starts the server gets the migration first.
    let (command, _) = plan(
        "CMD [\"sh\", \"/app/entrypoint.sh\"]",
        (
            "docker/entrypoint.sh",
            "exec uvicorn main:app --host 0.0.0.0\n",
        ),
    );
    assert!(command.is_some_and(|c| c[2].starts_with("alembic upgrade head")));
}

/// A committed `.env` beside the compose file sets the app's database URL
/// to the developer's published port on localhost: compose reads it before
/// the wiring's default, so the URL is pointed at the database service,
/// with the credentials the same file sets the database up with.
#[test]
fn a_committed_env_files_local_database_address_names_the_database_service() {
    let compose = "services:\n  web:\n    build: .\n    env_file: .env\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n    ports: ['8000:8000']\n  db:\n    image: postgres:16\n    env_file: .env\n    ports: ['6500:5432']\n";
    let env = "POSTGRES_USER=admin\nPOSTGRES_PASSWORD=password123\nPOSTGRES_DB=shop\nDATABASE_URL=postgresql://admin:password123@localhost:6500/shop\n";
    let bundle = django_with_compose_and(compose, &[(".env", env)]);
    let written = &bundle.files[".env"];
    assert!(
        written.contains("DATABASE_URL=postgresql://admin:password123@db:5432/shop\n"),
        "{written}"
    );
    assert!(written.contains("POSTGRES_USER=admin\n"), "{written}");
}

/// A Procfile's worker (Celery) runs beside the app from its image, with
/// the app's environment, after the stores and the app's migration.
#[test]
fn a_procfile_worker_runs_beside_the_app_with_its_environment() {
    let analysis = with(django(), |a| {
        a.workers = vec![infra_worker("worker", "celery -A site worker -l info")];
    });
    let repo = Snapshot::from_texts(DJANGO_FILES.iter().copied());
    let choice = on(Target::DockerHost, &analysis, &Requirements::default());
    let bundle = build_bundle(&analysis, &repo, &choice).unwrap();
    let doc = yaml(&bundle.files["compose.yaml"]);
    let app = &doc["services"]["app"];
    let worker = &doc["services"]["worker"];
    assert_eq!(worker["build"], app["build"], "{doc:?}");
    assert_eq!(worker["environment"], app["environment"]);
    assert_eq!(
        strings(&worker["command"]),
        ["sh", "-c", "celery -A site worker -l info"]
    );
    assert!(worker.get("ports").is_none(), "{worker:?}");
    assert_eq!(
        worker["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert_eq!(
        worker["depends_on"]["app"]["condition"].as_str(),
        Some("service_started"),
        "the app's container migrates first"
    );
    assert!(has(
        &bundle,
        AdjustmentKind::Added,
        "The Procfile's `worker` process"
    ));
}

fn infra_worker(name: &str, command: &str) -> analysis::Worker {
    analysis::Worker {
        name: name.to_owned(),
        command: command.to_owned(),
    }
}
