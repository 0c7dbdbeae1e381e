//! Every language template and framework, dockerized or not, for every target.

use super::*;

struct Case {
    name: &'static str,
    analysis: Analysis,
    files: Vec<(&'static str, &'static str)>,
    check: fn(&Bundle),
}

/// One repository per template, with what its bundle must say beyond
/// [`check_common`].
fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "flask with pip, `flask run` binds loopback by default",
            analysis: with_secrets(app("python", "flask", Some(5000), Some("flask run"))),
            files: vec![
                ("app.py", FLASK_APP),
                ("requirements.txt", "flask==3.0.3\n"),
                (".env", "STRIPE_API_KEY=sk_live_do_not_leak_42\n"),
            ],
            check: |b| {
                assert_eq!(
                    cmd(b),
                    ["flask", "run", "--host", "0.0.0.0", "--port", "5000"]
                );
                assert!(dockerfile(b).contains("pip install -r requirements.txt"));
                // Older packages import pkg_resources, which Python 3.12's
                // virtualenvs no longer have.
                assert!(
                    dockerfile(b).contains("import pkg_resources\" 2>/dev/null || /opt/venv/bin/pip install \"setuptools<81\""),
                    "{}",
                    dockerfile(b)
                );
                assert!(has(b, AdjustmentKind::BindFix, "--host 0.0.0.0"));
                assert_eq!(
                    env_of(b, "STRIPE_API_KEY").unwrap(),
                    "${STRIPE_API_KEY:?STRIPE_API_KEY is required}"
                );
                // Optional: passed when set, never as an empty value.
                assert!(is_passed_through(
                    &compose_service(b)["environment"],
                    "SENTRY_DSN"
                ));
                assert_eq!(env_of(b, "LOG_LEVEL").unwrap(), "${LOG_LEVEL:-info}");
                assert_eq!(b.required_variables, ["STRIPE_API_KEY"]);
                assert!(b.files["Makefile"].contains("STRIPE_API_KEY"));
                assert!(has(b, AdjustmentKind::EnvVar, "STRIPE_API_KEY is a secret"));
            },
        },
        Case {
            name: "fastapi with poetry, started on 127.0.0.1",
            analysis: with(
                app(
                    "python",
                    "fastapi",
                    Some(8000),
                    Some("poetry run uvicorn main:app --host 127.0.0.1 --port 8000"),
                ),
                |a| {
                    a.bind = BindAddress {
                        host: Some("127.0.0.1".into()),
                        loopback_only: true,
                        fix: None,
                    };
                },
            ),
            files: vec![
                ("main.py", "app = FastAPI()\n"),
                ("pyproject.toml", "[tool.poetry]\nname = \"x\"\n"),
                ("poetry.lock", ""),
            ],
            check: |b| {
                assert_eq!(
                    cmd(b),
                    ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]
                );
                assert!(dockerfile(b).contains("poetry install --only main --no-root"));
                assert!(has(b, AdjustmentKind::BindFix, "`127.0.0.1`"));
                assert!(
                    b.files.keys().all(|p| p != "main.py"),
                    "a command fix needs no source patch"
                );
            },
        },
        Case {
            name: "django with uv and no start command",
            analysis: app("python", "django", Some(8000), None),
            files: vec![
                ("manage.py", ""),
                ("pyproject.toml", "[project]\nname = \"x\"\n"),
                ("uv.lock", ""),
            ],
            check: |b| {
                assert_eq!(
                    cmd(b),
                    [
                        "python",
                        "manage.py",
                        "runserver",
                        "--noreload",
                        "0.0.0.0:8000"
                    ]
                );
                assert!(dockerfile(b).contains("uv sync --frozen --no-dev"));
                assert!(
                    dockerfile(b).contains("UV_PYTHON=python UV_PYTHON_DOWNLOADS=never"),
                    "the venv uses the image's Python, never a downloaded one"
                );
            },
        },
        Case {
            name: "uv project whose requires-python the default Python does not meet",
            analysis: app(
                "python",
                "fastapi",
                Some(8000),
                Some("uvicorn main:app --host 0.0.0.0 --port 8000"),
            ),
            files: vec![
                ("main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
                (
                    "pyproject.toml",
                    "[project]\nname = \"x\"\nrequires-python = \">=3.10,<3.12\"\ndependencies = [\"fastapi\", \"uvicorn\"]\n",
                ),
                ("uv.lock", "version = 1\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert_eq!(
                    d.matches("FROM python:3.11.11-slim-bookworm").count(),
                    2,
                    "{d}"
                );
                assert!(notes(b).any(|n| n.contains("Python 3.11") && n.contains(">=3.10,<3.12")));
            },
        },
        Case {
            name: "uv project that asks for the newest Python",
            analysis: app(
                "python",
                "fastapi",
                Some(8000),
                Some("fastapi run app/main.py --port 8000"),
            ),
            files: vec![
                (
                    "app/main.py",
                    "from fastapi import FastAPI\napp = FastAPI()\n",
                ),
                (
                    "pyproject.toml",
                    "[project]\nname = \"x\"\nrequires-python = \">=3.14,<4.0\"\ndependencies = [\"fastapi[standard]\"]\n",
                ),
                ("uv.lock", "version = 1\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert_eq!(
                    d.matches("FROM python:3.14.0-slim-bookworm").count(),
                    2,
                    "{d}"
                );
            },
        },
        Case {
            name: "poetry lock of native packages without wheels for newer Pythons",
            analysis: app(
                "python",
                "fastapi",
                Some(8000),
                Some("uvicorn main:app --host 0.0.0.0 --port 8000"),
            ),
            files: vec![
                ("main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
                (
                    "pyproject.toml",
                    "[tool.poetry]\nname = \"x\"\n\n[tool.poetry.dependencies]\npython = \"^3.9\"\nfastapi = \"^0.75\"\nuvicorn = {extras = [\"standard\"], version = \"^0.17\"}\n",
                ),
                (
                    "poetry.lock",
                    "[[package]]\nname = \"greenlet\"\nversion = \"1.1.2\"\n\n[[package]]\nname = \"uvloop\"\nversion = \"0.16.0\"\n\n[[package]]\nname = \"PyYAML\"\nversion = \"6.0\"\n\n[[package]]\nname = \"fastapi\"\nversion = \"0.75.0\"\n",
                ),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert_eq!(
                    d.matches("FROM python:3.10.16-slim-bookworm").count(),
                    2,
                    "{d}"
                );
                assert!(notes(b).any(|n| n.contains("Python 3.10") && n.contains("no wheels")));
            },
        },
        Case {
            name: "flask pinned to Python 3.10 by .python-version",
            analysis: app(
                "python",
                "flask",
                Some(5000),
                Some("gunicorn -b 0.0.0.0:5000 app:app"),
            ),
            files: vec![
                ("app.py", FLASK_APP),
                ("requirements.txt", "flask==3.0.3\ngunicorn==22.0.0\n"),
                (".python-version", "3.10.14\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert_eq!(
                    d.matches("FROM python:3.10.16-slim-bookworm").count(),
                    2,
                    "{d}"
                );
                assert!(notes(b).any(|n| n.contains(".python-version")));
            },
        },
        Case {
            name: "fastapi with packages compiled from source: a compiler in the build stage, their libraries at run time",
            analysis: app(
                "python",
                "fastapi",
                Some(8000),
                Some("uvicorn main:app --host 0.0.0.0 --port 8000"),
            ),
            files: vec![
                ("main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
                (
                    "requirements.txt",
                    "fastapi==0.112.2\nuvicorn==0.30.6\nuvloop==0.20.0\npsycopg2==2.9.9\n",
                ),
            ],
            check: |b| {
                let d = dockerfile(b);
                let (build, runtime) = d.rsplit_once("\nFROM ").expect("two stages");
                assert!(build.contains("gcc libc6-dev python3-dev libpq-dev"), "{d}");
                assert!(
                    build.find("gcc") < build.find("pip install -r"),
                    "the compiler comes before the install: {d}"
                );
                assert!(
                    runtime.contains("install -y --no-install-recommends libpq5"),
                    "{d}"
                );
                assert!(!runtime.contains("gcc"), "{d}");
                assert!(has(
                    b,
                    AdjustmentKind::Note,
                    "`psycopg2` is compiled from source"
                ));
            },
        },
        Case {
            name: "a binary wheel needs no compiler",
            analysis: app(
                "python",
                "flask",
                Some(5000),
                Some("gunicorn -b 0.0.0.0:5000 app:app"),
            ),
            files: vec![
                ("app.py", FLASK_APP),
                (
                    "requirements.txt",
                    "flask==3.0.3\ngunicorn==22.0.0\npsycopg2-binary==2.9.9\n",
                ),
            ],
            check: |b| assert!(!dockerfile(b).contains("gcc"), "{}", dockerfile(b)),
        },
        Case {
            name: "streamlit with pipenv",
            analysis: app(
                "python",
                "streamlit",
                Some(8501),
                Some("streamlit run app.py"),
            ),
            files: vec![
                ("app.py", "import streamlit\n"),
                ("Pipfile", "[packages]\nstreamlit = '*'\n"),
            ],
            check: |b| {
                assert_eq!(
                    cmd(b),
                    [
                        "streamlit",
                        "run",
                        "app.py",
                        "--server.address",
                        "0.0.0.0",
                        "--server.port",
                        "8501"
                    ]
                );
                assert!(dockerfile(b).contains("pipenv requirements"));
            },
        },
        Case {
            name: "gradio is told its host through the environment",
            analysis: app("python", "gradio", Some(7860), Some("python app.py")),
            files: vec![
                ("app.py", "import gradio\n"),
                ("requirements.txt", "gradio\n"),
            ],
            check: |b| {
                assert_eq!(env_of(b, "GRADIO_SERVER_NAME").as_deref(), Some("0.0.0.0"));
                assert!(dockerfile(b).contains("ENV GRADIO_SERVER_NAME=\"0.0.0.0\""));
                assert_eq!(b.runtime_env["GRADIO_SERVER_PORT"], "7860");
            },
        },
        Case {
            name: "express with npm, port from PORT, secrets",
            analysis: with_secrets(with(
                app("node", "express", Some(3000), Some("npm start")),
                |a| {
                    a.port_env = Some("PORT".into());
                    a.env.push(var("PORT", false, false, Some("3000")));
                    a.health_path = Some("/healthz".into());
                },
            )),
            files: vec![
                ("server.js", "app.listen(process.env.PORT || 3000)\n"),
                (
                    "package.json",
                    r#"{"scripts": {"start": "node server.js"}}"#,
                ),
                ("package-lock.json", "{}"),
                (".env.example", "STRIPE_API_KEY=\n"),
            ],
            check: |b| {
                assert_eq!(
                    cmd(b),
                    ["node", "server.js"],
                    "npm start resolves to its script"
                );
                assert!(dockerfile(b).contains("RUN npm ci --omit=dev"));
                assert_eq!(env_of(b, "PORT").as_deref(), Some("3000"));
                let test = strings(&compose_service(b)["healthcheck"]["test"]);
                assert_eq!(test[..2], ["CMD", "node"]);
                assert!(test[3].contains("http://127.0.0.1:3000/healthz"));
            },
        },
        Case {
            name: "nestjs with pnpm and a build step",
            analysis: app(
                "typescript",
                "nestjs",
                Some(3000),
                Some("npm run start:prod"),
            ),
            files: vec![
                (
                    "package.json",
                    r#"{"scripts": {"build": "nest build", "start": "nest start", "start:prod": "node dist/main"}}"#,
                ),
                ("pnpm-lock.yaml", ""),
                ("src/main.ts", ""),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(d.contains("pnpm install --frozen-lockfile\n"), "{d}");
                assert!(
                    d.contains("RUN pnpm run build\nRUN pnpm prune --prod\n"),
                    "{d}"
                );
                assert!(d.contains(" AS build\n"), "multi-stage");
                assert_eq!(cmd(b), ["node", "dist/main"]);
            },
        },
        Case {
            name: "next.js with yarn",
            analysis: app("node", "nextjs", Some(3000), Some("yarn start")),
            files: vec![
                (
                    "package.json",
                    r#"{"scripts": {"build": "next build", "start": "next start"}}"#,
                ),
                ("yarn.lock", ""),
            ],
            check: |b| {
                assert!(dockerfile(b).contains("yarn install --frozen-lockfile\n"));
                assert!(dockerfile(b).contains("RUN yarn run build"));
                assert_eq!(cmd(b), ["next", "start"]);
                assert_eq!(b.runtime_env["HOSTNAME"], "0.0.0.0");
            },
        },
        Case {
            name: "yarn 4 with plug'n'play, installed from the registry",
            analysis: app("node", "express", Some(3000), Some("node server.js")),
            files: vec![
                (
                    "package.json",
                    r#"{"packageManager": "yarn@4.5.3+sha224.abc", "dependencies": {"ms": "2.1.3"}}"#,
                ),
                ("yarn.lock", ""),
                (".yarnrc.yml", "enableTelemetry: false\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(
                    // Yarn 2+ reads only its own proxy variables.
                    d.contains("RUN npm install -g --force @yarnpkg/cli-dist@4.5.3\nRUN env ${HTTP_PROXY:+YARN_HTTP_PROXY=$HTTP_PROXY} ${HTTPS_PROXY:+YARN_HTTPS_PROXY=$HTTPS_PROXY} YARN_ENABLE_GLOBAL_CACHE=false yarn install --immutable\n"),
                    "{d}"
                );
                assert!(
                    d.contains("ENV NODE_OPTIONS=\"--require /app/.pnp.cjs\""),
                    "{d}"
                );
                assert!(!d.contains("corepack"), "{d}");
                assert!(
                    notes(b).any(|n| n
                        .contains("Yarn 4.5.3 (Plug'n'Play) installs exactly what yarn.lock pins")),
                    "{:?}",
                    b.adjustments
                );
            },
        },
        Case {
            name: "yarn 4 with node_modules and npm without a lock file",
            analysis: app("node", "express", Some(3000), Some("node server.js")),
            files: vec![
                ("package.json", r#"{"dependencies": {"ms": "2.1.3"}}"#),
                (".yarnrc.yml", "nodeLinker: 'node-modules'\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(
                    d.contains("@yarnpkg/cli-dist@4.5.3\nRUN env ${HTTP_PROXY:+YARN_HTTP_PROXY=$HTTP_PROXY} ${HTTPS_PROXY:+YARN_HTTPS_PROXY=$HTTPS_PROXY} yarn install\n"),
                    "{d}"
                );
                assert!(!d.contains("NODE_OPTIONS"), "{d}");
                assert!(
                    notes(b).any(|n| n.contains("no lock file")),
                    "{:?}",
                    b.adjustments
                );
            },
        },
        Case {
            // go-sqlite3 panics at start when built without cgo.
            name: "go with a cgo driver is built with cgo and runs on debian",
            analysis: app("go", "gin", Some(8080), None),
            files: vec![
                (
                    "go.mod",
                    "module x\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.10.0\n\tgithub.com/mattn/go-sqlite3 v1.14.22\n)\n",
                ),
                ("main.go", "package main\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(d.contains("RUN CGO_ENABLED=1 go build"), "{d}");
                assert!(
                    d.contains(&format!("FROM {}", infra::bundle::images::DEBIAN_SLIM)),
                    "{d}"
                );
                assert!(!d.contains("FROM alpine"), "{d}");
            },
        },
        Case {
            name: "go with gin in cmd/server and templates",
            analysis: app("go", "gin", Some(8080), Some("go run ./cmd/server")),
            files: vec![
                ("go.mod", "module x\n"),
                ("go.sum", ""),
                ("cmd/server/main.go", "package main\n"),
                ("templates/index.html", ""),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(d.contains("-o /out/app ./cmd/server\n"), "{d}");
                assert!(
                    d.contains("COPY --from=build /src/templates ./templates"),
                    "{d}"
                );
                assert_eq!(cmd(b), ["app"]);
            },
        },
        Case {
            name: "go with its main package in cmd/ in a file not named main.go",
            analysis: app("go", "echo", Some(8080), None),
            files: vec![
                ("go.mod", "module x\n"),
                (
                    "cmd/go-echo/server.go",
                    "package main\n\nfunc main() {\n}\n",
                ),
                ("internal/users/users.go", "package users\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(d.contains("-o /out/app ./cmd/go-echo\n"), "{d}");
            },
        },
        Case {
            name: "go command-line app that serves through a subcommand",
            analysis: app("go", "gin", Some(8080), None),
            files: vec![
                (
                    "go.mod",
                    "module x\n\nrequire github.com/urfave/cli/v2 v2.2.0\n",
                ),
                ("go.sum", ""),
                (
                    "cmd/main.go",
                    "package main\n\nimport \"github.com/urfave/cli/v2\"\n\nfunc main() {\n\tapp := &cli.App{Commands: []*cli.Command{Server()}}\n\tapp.Flags = []cli.Flag{\n\t\t&cli.StringFlag{\n\t\t\tName: \"http\",\n\t\t},\n\t}\n}\n",
                ),
                (
                    "cmd/server.go",
                    "package main\n\nimport \"github.com/urfave/cli/v2\"\n\nfunc Server() *cli.Command {\n\treturn &cli.Command{\n\t\tName:  \"server\",\n\t\tUsage: \"Start the service\",\n\t}\n}\n",
                ),
            ],
            check: |b| {
                assert_eq!(cmd(b), ["app", "server"]);
            },
        },
        Case {
            name: "go cobra app whose root command needs its runserver subcommand",
            analysis: app("go", "gin", Some(8080), None),
            files: vec![
                (
                    "go.mod",
                    "module x\n\nrequire github.com/spf13/cobra v1.8.0\n",
                ),
                ("go.sum", ""),
                (
                    "main.go",
                    "package main\n\nfunc main() {\n\tcmd.Execute()\n}\n",
                ),
                (
                    "cmd/cmd.go",
                    "package cmd\n\nimport \"github.com/spf13/cobra\"\n\nvar rootCmd = &cobra.Command{\n\tUse: \"shop\",\n}\n",
                ),
                (
                    "cmd/runserver/server.go",
                    "package runserver\n\nimport \"github.com/spf13/cobra\"\n\nvar StartCmd = &cobra.Command{\n\tUse: \"runserver\",\n\tRun: func(cmd *cobra.Command, args []string) {},\n}\n",
                ),
            ],
            check: |b| {
                assert_eq!(cmd(b), ["app", "runserver"]);
            },
        },
        Case {
            name: "rust with axum",
            analysis: app("rust", "axum", Some(3000), Some("cargo run --release")),
            files: vec![
                (
                    "Cargo.toml",
                    "[package]\nname = \"shop-api\"\nversion = \"0.1.0\"\n",
                ),
                ("Cargo.lock", ""),
                ("src/main.rs", ""),
            ],
            check: |b| {
                assert!(
                    dockerfile(b)
                        .contains("cargo build --release --locked -p shop-api --bin shop-api")
                );
                assert_eq!(cmd(b), ["shop-api"]);
            },
        },
        Case {
            name: "spring boot with the maven wrapper",
            analysis: app(
                "java",
                "spring-boot",
                Some(8080),
                Some("./mvnw spring-boot:run"),
            ),
            files: vec![
                ("pom.xml", "<project/>"),
                ("mvnw", ""),
                (
                    ".mvn/wrapper/maven-wrapper.properties",
                    "distributionUrl=https://repo.maven.apache.org/maven2/org/apache/maven/apache-maven/3.9.9/apache-maven-3.9.9-bin.zip\n",
                ),
            ],
            check: |b| {
                assert!(dockerfile(b).contains("./mvnw -B -q -DskipTests package"));
                assert_eq!(cmd(b), ["java", "-jar", "app.jar"]);
                assert_eq!(b.runtime_env["SERVER_PORT"], "8080");
            },
        },
        Case {
            // The script without `.mvn/wrapper/` cannot find Maven: the
            // image's own Maven builds instead.
            name: "spring boot with a maven wrapper script but no wrapper folder",
            analysis: app("java", "spring-boot", Some(8080), None),
            files: vec![("pom.xml", "<project/>"), ("mvnw", "")],
            check: |b| {
                let d = dockerfile(b);
                assert!(d.contains("RUN mvn -B -q -DskipTests package"), "{d}");
                assert!(!d.contains("mvnw"), "{d}");
            },
        },
        Case {
            // Gradle 7.4 runs on Java 17 at the newest.
            name: "spring boot 2 with a gradle 7 wrapper builds and runs on java 17",
            analysis: app("java", "spring-boot", Some(8080), None),
            files: vec![
                (
                    "build.gradle",
                    "plugins {\n  id 'org.springframework.boot' version '2.6.3'\n}\n",
                ),
                ("gradlew", ""),
                ("gradle/wrapper/gradle-wrapper.jar", ""),
                (
                    "gradle/wrapper/gradle-wrapper.properties",
                    "distributionUrl=https\\://services.gradle.org/distributions/gradle-7.4-bin.zip\n",
                ),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(d.contains("FROM gradle:8.11.1-jdk17 AS build"), "{d}");
                assert!(
                    d.contains("FROM eclipse-temurin:17.0.13_11-jre-alpine"),
                    "{d}"
                );
                assert!(d.contains("./gradlew bootJar"), "{d}");
                assert!(
                    notes(b).any(|n| n.starts_with("Java 17: the Gradle wrapper is Gradle 7.4")),
                    "{:?}",
                    notes(b).collect::<Vec<_>>()
                );
            },
        },
        Case {
            // The build asks for Java 11; nothing says 21 would not do, but
            // the toolchain must be the one installed.
            name: "a maven build for java 11 runs on java 11",
            analysis: app("java", "spring-boot", Some(8080), None),
            files: vec![(
                "pom.xml",
                "<project><parent><artifactId>spring-boot-starter-parent</artifactId><version>3.2.0</version></parent><properties><java.version>11</java.version></properties></project>",
            )],
            check: |b| {
                let d = dockerfile(b);
                assert!(
                    d.contains("FROM maven:3.9.9-eclipse-temurin-11 AS build"),
                    "{d}"
                );
                assert!(
                    d.contains("FROM eclipse-temurin:11.0.25_9-jre-alpine"),
                    "{d}"
                );
            },
        },
        Case {
            name: "spring boot 3 stays on java 21",
            analysis: app("java", "spring-boot", Some(8080), None),
            files: vec![(
                "pom.xml",
                "<project><parent><artifactId>spring-boot-starter-parent</artifactId><version>3.2.0</version></parent></project>",
            )],
            check: |b| {
                let d = dockerfile(b);
                assert!(
                    d.contains("FROM maven:3.9.9-eclipse-temurin-21 AS build"),
                    "{d}"
                );
            },
        },
        Case {
            name: "ktor with gradle kotlin script",
            analysis: app("kotlin", "ktor", Some(8080), None),
            files: vec![("build.gradle.kts", "plugins { id(\"io.ktor.plugin\") }\n")],
            check: |b| assert!(dockerfile(b).contains("gradle buildFatJar --no-daemon -x test")),
        },
        Case {
            name: "quarkus runs its fast-jar directory",
            analysis: app("java", "quarkus", Some(8080), None),
            files: vec![("pom.xml", "<project/>")],
            check: |b| {
                assert!(dockerfile(b).contains("quarkus-app/. /out/"));
                assert_eq!(cmd(b), ["java", "-jar", "quarkus-run.jar"]);
            },
        },
        Case {
            name: "rails with assets",
            analysis: app("ruby", "rails", Some(3000), Some("bin/rails server")),
            files: vec![
                ("Gemfile", ""),
                ("Gemfile.lock", ""),
                ("config.ru", ""),
                ("app/assets/config/manifest.js", ""),
            ],
            check: |b| {
                assert_eq!(
                    cmd(b),
                    ["bin/rails", "server", "-b", "0.0.0.0", "-p", "3000"]
                );
                assert!(dockerfile(b).contains("assets:precompile"));
                assert!(dockerfile(b).contains("BUNDLE_DEPLOYMENT=1"));
            },
        },
        Case {
            name: "rails on the ruby its gemfile asks for",
            analysis: app("ruby", "rails", Some(3000), Some("bin/rails server")),
            files: vec![
                (
                    "Gemfile",
                    "source \"https://rubygems.org\"\nruby file: \".ruby-version\"\ngem \"rails\"\n",
                ),
                (
                    "Gemfile.lock",
                    "GEM\n  specs:\n\nRUBY VERSION\n   ruby 4.0.0p0\n\nBUNDLED WITH\n   4.0.3\n",
                ),
                (".ruby-version", "4.0.0\n"),
                ("config.ru", ""),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(d.contains("FROM ruby:4.0.0-slim AS build\n"), "{d}");
                assert_eq!(d.matches("FROM ruby:4.0.0-slim").count(), 2, "{d}");
                assert!(!d.contains("archive.debian.org"), "{d}");
                assert!(
                    notes(b).any(|n| n.starts_with("Ruby 4.0.0: Gemfile.lock's RUBY VERSION")),
                    "{:?}",
                    notes(b).collect::<Vec<_>>()
                );
            },
        },
        Case {
            name: "an old pinned ruby reads its debian packages from the archive",
            analysis: app("ruby", "sinatra", Some(4567), Some("ruby app.rb")),
            files: vec![
                (
                    "Gemfile",
                    "source 'https://rubygems.org'\nruby '2.3.1'\ngem 'sinatra'\ngem 'pg'\n",
                ),
                ("app.rb", "require 'sinatra'\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(d.contains("FROM ruby:2.3.1-slim AS build\n"), "{d}");
                // Both stages install packages, each through the archive
                // when the image's release is past its end of life.
                assert_eq!(
                    d.matches("RUN if grep -qsE 'jessie|stretch|buster' /etc/os-release; then sed -i -e 's|//deb.debian.org|//archive.debian.org|").count(),
                    2,
                    "{d}"
                );
                assert!(d.contains("Acquire::Check-Valid-Until \"false\";"), "{d}");
            },
        },
        Case {
            name: "a gem built against sqlite gets its headers and its library, and puma its folders",
            analysis: app("ruby", "sinatra", Some(9292), Some("bundle exec puma")),
            files: vec![
                (
                    "Gemfile",
                    "source 'https://rubygems.org'\ngem 'sinatra'\ngem 'sqlite3'\ngem 'puma'\n",
                ),
                (
                    "Gemfile.lock",
                    "GEM\n  specs:\n    puma (6.4.2)\n    sinatra (4.0.0)\n    sqlite3 (1.3.13)\n",
                ),
                ("app.rb", "require 'sinatra'\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                let (build, run) = d.rsplit_once("\nFROM ").unwrap();
                assert!(build.contains(" libsqlite3-dev"), "{d}");
                assert!(run.contains(" libsqlite3-0"), "{d}");
                assert!(!run.contains("libsqlite3-dev"), "{d}");
                assert!(
                    run.contains("RUN mkdir -p tmp/pids tmp/cache tmp/sockets log"),
                    "{d}"
                );
            },
        },
        Case {
            name: "sinatra listens everywhere in production",
            analysis: app("ruby", "sinatra", Some(4567), Some("ruby app.rb")),
            files: vec![("Gemfile", ""), ("app.rb", "require 'sinatra'\n")],
            check: |b| assert_eq!(b.runtime_env["APP_ENV"], "production"),
        },
        Case {
            name: "laravel with composer",
            analysis: app("php", "laravel", Some(8000), Some("php artisan serve")),
            files: vec![
                ("composer.json", "{}"),
                ("composer.lock", "{}"),
                ("artisan", ""),
                ("public/index.php", ""),
            ],
            check: |b| {
                assert_eq!(
                    cmd(b),
                    ["php", "artisan", "serve", "--host=0.0.0.0", "--port=8000"]
                );
                assert!(dockerfile(b).contains("AS vendor"));
                assert!(!dockerfile(b).contains("AS assets"));
                assert!(dockerfile(b).contains("RUN docker-php-ext-install pdo_mysql\n"));
            },
        },
        Case {
            name: "laravel on postgresql gets its driver",
            analysis: with(
                app("php", "laravel", Some(8000), Some("php artisan serve")),
                |a| a.datastores = vec!["postgres".into()],
            ),
            files: vec![
                ("composer.json", "{}"),
                ("artisan", ""),
                ("public/index.php", ""),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(
                    d.contains("apt-get install -y --no-install-recommends libpq-dev && docker-php-ext-install pdo_mysql pdo_pgsql &&"),
                    "{d}"
                );
            },
        },
        Case {
            name: "django with requirements split into a folder",
            analysis: app("python", "django", Some(8000), Some("gunicorn site.wsgi")),
            files: vec![
                ("manage.py", ""),
                ("requirements.txt", "-r requirements/production.txt\n"),
                (
                    "requirements/production.txt",
                    "-r base.txt\ngunicorn==23.0.0\n",
                ),
                ("requirements/base.txt", "django==5.1.4\n"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(
                    d.contains("COPY requirements*.txt ./\nCOPY requirements/base.txt requirements/base.txt\nCOPY requirements/production.txt requirements/production.txt\nRUN /opt/venv/bin/pip install -r requirements.txt\n"),
                    "{d}"
                );
            },
        },
        Case {
            // Laravel 5.5 asks for PHP 7: it runs on 7.4, not on 8.3.
            name: "laravel of php 7 runs on php 7.4",
            analysis: app("php", "laravel", Some(8000), Some("php artisan serve")),
            files: vec![
                (
                    "composer.json",
                    r#"{"require": {"php": ">=7.0.0 <8.0", "laravel/framework": "5.5.*"}}"#,
                ),
                ("artisan", ""),
                ("public/index.php", ""),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(d.contains("FROM php:7.4.33-cli-bullseye\n"), "{d}");
                assert!(
                    notes(b)
                        .any(|n| n.starts_with("PHP 7.4: composer.json requires php >=7.0.0 <8.0")),
                    "{:?}",
                    notes(b).collect::<Vec<_>>()
                );
            },
        },
        Case {
            // A starter kit's pages load Vite's build through @vite.
            name: "laravel with vite assets",
            analysis: app("php", "laravel", Some(8000), Some("php artisan serve")),
            files: vec![
                ("composer.json", "{}"),
                ("artisan", ""),
                ("public/index.php", ""),
                (
                    "package.json",
                    r#"{"scripts": {"build": "vite build"}, "devDependencies": {"vite": "5", "laravel-vite-plugin": "1"}}"#,
                ),
                ("package-lock.json", "{}"),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(
                    d.contains("AS assets\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n"),
                    "{d}"
                );
                assert!(
                    d.contains(
                        "COPY --from=assets --chown=app:app /app/public/build ./public/build"
                    ),
                    "{d}"
                );
            },
        },
        Case {
            // Laravel 8's skeleton: mix() reads public/mix-manifest.json.
            name: "laravel with laravel mix 5",
            analysis: app("php", "laravel", Some(8000), Some("php artisan serve")),
            files: vec![
                ("composer.json", "{}"),
                ("artisan", ""),
                ("public/index.php", ""),
                (
                    "webpack.mix.js",
                    "mix.js('resources/js/app.js', 'public/js');\n",
                ),
                (
                    "package.json",
                    r#"{"scripts": {"production": "mix --production"}, "devDependencies": {"laravel-mix": "^5.0.1"}}"#,
                ),
            ],
            check: |b| {
                let d = dockerfile(b);
                assert!(
                    d.contains("AS assets\nWORKDIR /app\nCOPY . .\nENV NODE_OPTIONS=--openssl-legacy-provider\nRUN npm install && npm run production\n"),
                    "{d}"
                );
                assert!(
                    d.contains("COPY --from=assets --chown=app:app /app/public ./public"),
                    "{d}"
                );
            },
        },
        Case {
            name: "plain php",
            analysis: app("php", "php", Some(8000), None),
            files: vec![("index.php", "<?php echo 'hi';")],
            check: |b| assert_eq!(cmd(b), ["php", "-S", "0.0.0.0:8000", "-t", "."]),
        },
        Case {
            name: "asp.net core",
            analysis: app("csharp", "aspnet-core", Some(8080), Some("dotnet run")),
            files: vec![
                (
                    "src/Api/Api.csproj",
                    "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>",
                ),
                (
                    "tests/Api.Tests/Api.Tests.csproj",
                    "<Project Sdk=\"Microsoft.NET.Sdk\"/>",
                ),
            ],
            check: |b| {
                assert!(dockerfile(b).contains("dotnet publish \"src/Api/Api.csproj\""));
                assert_eq!(cmd(b), ["dotnet", "Api.dll"]);
                assert_eq!(b.runtime_env["ASPNETCORE_URLS"], "http://0.0.0.0:8080");
            },
        },
        Case {
            // The framework, the assembly name and the package versions come
            // from MSBuild files at the root, above the app's folder.
            name: "asp.net core with Directory.Build.props above the project",
            analysis: with(
                app("csharp", "aspnet-core", Some(8080), Some("dotnet run")),
                |a| a.subdir = "src".into(),
            ),
            files: vec![
                (
                    "Directory.Build.props",
                    "<Project><PropertyGroup><TargetFramework>net10.0</TargetFramework><AssemblyName>Shop.$(MSBuildProjectName)</AssemblyName></PropertyGroup></Project>",
                ),
                (
                    "Directory.Packages.props",
                    "<Project><ItemGroup><PackageVersion Include=\"Serilog\" Version=\"4.0.0\" /></ItemGroup></Project>",
                ),
                (
                    "src/Api/Api.csproj",
                    "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><ItemGroup><PackageReference Include=\"Serilog\" /></ItemGroup></Project>",
                ),
            ],
            check: |b| {
                assert_eq!(b.build_context, "", "the root holds the MSBuild files");
                let d = dockerfile(b);
                assert!(
                    d.contains("FROM mcr.microsoft.com/dotnet/sdk:10.0.100 AS build"),
                    "{d}"
                );
                assert!(d.contains("dotnet publish \"src/Api/Api.csproj\""), "{d}");
                assert_eq!(cmd(b), ["dotnet", "Shop.Api.dll"]);
            },
        },
        Case {
            name: "asp.net core project referencing its solution's other projects",
            analysis: with(
                app("csharp", "aspnet-core", Some(8080), Some("dotnet run")),
                |a| a.subdir = "Shop.API".into(),
            ),
            files: vec![
                (
                    "Shop.API/Shop.API.csproj",
                    "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup><ItemGroup><ProjectReference Include=\"..\\Shop.Core\\Shop.Core.csproj\" /></ItemGroup></Project>",
                ),
                (
                    "Shop.Core/Shop.Core.csproj",
                    "<Project Sdk=\"Microsoft.NET.Sdk\"/>",
                ),
                ("Shop.sln", ""),
            ],
            check: |b| {
                assert_eq!(b.build_context, "", "the solution root holds both projects");
                assert!(
                    dockerfile(b).contains("dotnet publish \"Shop.API/Shop.API.csproj\""),
                    "{}",
                    dockerfile(b)
                );
                assert_eq!(cmd(b), ["dotnet", "Shop.API.dll"]);
            },
        },
        Case {
            name: "plain static site",
            analysis: app("static", "static", None, None),
            files: vec![("index.html", "<h1>hi</h1>")],
            check: |b| {
                assert_eq!(b.container_port, 8080);
                assert!(dockerfile(b).contains("nginx-unprivileged"));
                assert!(b.files["deployflow-nginx.conf"].contains("listen 8080;"));
            },
        },
        Case {
            name: "vite app built and served by nginx",
            analysis: app("typescript", "vite", Some(5173), Some("npm run dev")),
            files: vec![
                (
                    "package.json",
                    r#"{"scripts": {"dev": "vite", "build": "vite build"}}"#,
                ),
                ("vite.config.ts", "export default {}"),
                ("package-lock.json", "{}"),
            ],
            check: |b| {
                assert_eq!(b.container_port, 8080);
                assert!(
                    dockerfile(b).contains("COPY --from=build /app/dist/ /usr/share/nginx/html/")
                );
                assert!(has(b, AdjustmentKind::PortMapping, "port 5173"));
            },
        },
        Case {
            name: "deno",
            analysis: app(
                "deno",
                "deno",
                Some(8000),
                Some("deno run --allow-net main.ts"),
            ),
            files: vec![
                ("main.ts", "Deno.serve(() => new Response('hi'))"),
                ("deno.json", "{}"),
            ],
            check: |b| {
                assert!(dockerfile(b).contains("RUN deno install"));
                assert_eq!(cmd(b), ["deno", "run", "--allow-net", "main.ts"]);
            },
        },
        Case {
            name: "bun",
            analysis: app("bun", "bun", Some(3000), Some("bun run index.ts")),
            files: vec![
                ("index.ts", "Bun.serve({})"),
                ("package.json", "{}"),
                ("bun.lockb", ""),
            ],
            check: |b| {
                assert!(dockerfile(b).contains("bun install --frozen-lockfile --production"))
            },
        },
        Case {
            name: "dockerized python keeps its Dockerfile",
            analysis: with(
                app(
                    "python",
                    "fastapi",
                    Some(8000),
                    Some("uvicorn main:app --host 0.0.0.0"),
                ),
                |a| {
                    a.dockerized = true;
                    a.docker_files = vec!["Dockerfile".into()];
                    a.health_path = Some("/health".into());
                },
            ),
            files: vec![
                (
                    "Dockerfile",
                    "FROM python:3.12-slim\nCMD uvicorn main:app --host 0.0.0.0\n",
                ),
                ("main.py", ""),
            ],
            check: |b| {
                assert!(!b.files.contains_key("Dockerfile"));
                // The repository's Dockerfile copies everything: the .env
                // that make up fills with secrets is kept out.
                let ignore = &b.files[".dockerignore"];
                assert!(ignore.lines().any(|l| l == ".env"), "{ignore}");
                assert!(!ignore.lines().any(|l| l == ".git"), "{ignore}");
                assert_eq!(compose_service(b)["build"].as_str(), Some("."));
                assert!(
                    compose_service(b)["command"].is_null(),
                    "no bind fix needed, no command override"
                );
                assert_eq!(
                    strings(&compose_service(b)["healthcheck"]["test"])[1],
                    "python"
                );
            },
        },
        Case {
            name: "existing compose with a database service",
            analysis: with_secrets(with(
                app(
                    "python",
                    "flask",
                    Some(5000),
                    Some("gunicorn -b 0.0.0.0:5000 app:app"),
                ),
                |a| {
                    a.dockerized = true;
                    a.docker_files = vec!["Dockerfile".into(), "docker-compose.yml".into()];
                },
            )),
            files: vec![
                (
                    "Dockerfile",
                    "FROM python:3.12-slim\nCOPY . /app\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:5000\", \"app:app\"]\n",
                ),
                ("docker-compose.yml", EXISTING_WITH_DB),
            ],
            check: |b| {
                assert_eq!(b.compose_file, "docker-compose.yml");
                assert_eq!(b.app_service, "web");
                let doc = yaml(&b.files["docker-compose.yml"]);
                let original = yaml(EXISTING_WITH_DB);
                assert_eq!(
                    doc["services"]["db"], original["services"]["db"],
                    "other services are kept"
                );
                assert_eq!(doc["volumes"], original["volumes"]);
                let web = &doc["services"]["web"];
                assert_eq!(
                    web["environment"]["DATABASE_URL"],
                    original["services"]["web"]["environment"]["DATABASE_URL"]
                );
                assert_eq!(
                    web["environment"]["STRIPE_API_KEY"].as_str(),
                    Some("${STRIPE_API_KEY:?STRIPE_API_KEY is required}")
                );
                assert_eq!(web["depends_on"], original["services"]["web"]["depends_on"]);
                // A missing env_file would stop compose (and version 1
                // cannot mark it optional): it is dropped.
                assert!(web.get("env_file").is_none(), "{web:?}");
                assert!(has(
                    b,
                    AdjustmentKind::PortMapping,
                    "it published 5000:5000"
                ));
                assert_eq!(
                    web["restart"].as_str(),
                    Some("unless-stopped"),
                    "`restart: no` is replaced"
                );
                assert!(
                    b.adjustments
                        .iter()
                        .any(|a| a.kind == AdjustmentKind::Rewritten
                            && a.path == "docker-compose.yml")
                );
            },
        },
        Case {
            name: "monorepo: the api service of a root compose file",
            analysis: with(
                app(
                    "python",
                    "fastapi",
                    Some(8000),
                    Some("uvicorn main:app --host 0.0.0.0 --port 8000"),
                ),
                |a| {
                    a.subdir = "api".into();
                    a.docker_files = vec!["docker-compose.yml".into()];
                },
            ),
            files: vec![
                ("docker-compose.yml", MONOREPO_COMPOSE),
                ("api/main.py", ""),
                ("api/requirements.txt", "fastapi\n"),
                ("web/Dockerfile", "FROM nginx:1.27\n"),
            ],
            check: |b| {
                assert_eq!(
                    (
                        b.app_service.as_str(),
                        b.dockerfile.as_str(),
                        b.build_context.as_str()
                    ),
                    ("api", "api/Dockerfile", "api")
                );
                assert!(b.files.contains_key("api/.dockerignore"));
                let doc = yaml(&b.files["docker-compose.yml"]);
                assert_eq!(doc["services"]["api"]["build"].as_str(), Some("./api"));
                assert_eq!(
                    strings(&doc["services"]["web"]["ports"]),
                    ["127.0.0.1:8081:80"],
                    "web moved off host port 8080 to the next free one, on loopback: only the app faces the network"
                );
                assert!(
                    doc["services"]["api"]["environment"].is_null(),
                    "no empty environment is added"
                );
                assert!(has(
                    b,
                    AdjustmentKind::PortMapping,
                    "publishes host port 8081 instead of 8080"
                ));
                assert_eq!(doc["services"]["web"]["build"].as_str(), Some("./web"));
            },
        },
    ]
}

const EXISTING_WITH_DB: &str = r#"
services:
  web:
    build: .
    ports:
      - "5000:5000"
    env_file: .env
    environment:
      DATABASE_URL: postgres://shop:example@db:5432/shop
    depends_on:
      - db
    restart: "no"
  db:
    image: postgres:16.4
    environment:
      POSTGRES_PASSWORD: example
      POSTGRES_USER: shop
    volumes:
      - pgdata:/var/lib/postgresql/data
volumes:
  pgdata: {}
"#;

const MONOREPO_COMPOSE: &str = r#"
x-common: &common
  restart: always
services:
  api:
    <<: *common
    build: ./api
    ports: ["8000:8000"]
  web:
    <<: *common
    build: ./web
    ports: ["8080:80"]
  cache:
    image: redis:7.4
"#;

#[test]
fn every_case_produces_a_valid_bundle() {
    for case in cases() {
        let repo = Snapshot::from_texts(case.files.iter().copied());
        let bundle = build_bundle(&case.analysis, &repo, &vm_choice(&case.analysis))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        check_common(case.name, &case.analysis, &bundle);
        (case.check)(&bundle);
    }
}

#[test]
fn every_language_gets_a_dockerfile_for_every_target() {
    for case in cases().into_iter().filter(|c| !c.analysis.dockerized) {
        let repo = Snapshot::from_texts(case.files.iter().copied());
        for target in Target::ALL {
            let mut choice = vm_choice(&case.analysis);
            choice.target = target;
            let bundle = build_bundle(&case.analysis, &repo, &choice).unwrap();
            check_common(case.name, &case.analysis, &bundle);
            let has_adapter = dockerfile(&bundle).contains("/opt/extensions/lambda-adapter");
            assert_eq!(
                has_adapter,
                target == Target::Serverless,
                "{}: {target}",
                case.name
            );
        }
    }
}

#[test]
fn a_port_variable_that_holds_an_address_gets_the_whole_address() {
    let repo = Snapshot::from_texts([
        ("go.mod", "module example.com/api\n\ngo 1.22\n"),
        ("main.go", "package main\n"),
    ]);
    let bundle_with = |name: &str, default: Option<&str>| {
        let analysis = with(app("go", "gin", Some(8080), None), |a| {
            a.port_env = Some(name.to_owned());
            a.env.push(var(name, false, false, default));
        });
        build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap()
    };
    let listen = bundle_with("LISTEN", None);
    assert_eq!(env_of(&listen, "LISTEN").as_deref(), Some("0.0.0.0:8080"));
    let addr = bundle_with("HTTP_ADDR", Some(":9000"));
    assert_eq!(env_of(&addr, "HTTP_ADDR").as_deref(), Some("0.0.0.0:8080"));
    let port = bundle_with("APP_PORT", Some("9000"));
    assert_eq!(env_of(&port, "APP_PORT").as_deref(), Some("8080"));
}

#[test]
fn development_settings_and_the_hosts_process_variables_are_not_passed() {
    let analysis = with(
        app(
            "python",
            "fastapi",
            Some(8000),
            Some("uvicorn app.main:app"),
        ),
        |a| {
            a.env.push(var("DEBUG", false, false, Some("True")));
            // `bool(os.environ.get("FLASK_DEBUG", 0))`: the text "0" is true.
            a.env.push(var("FLASK_DEBUG", false, false, Some("0")));
            a.env.push(var("APP_ENV", false, false, Some("local")));
            a.env
                .push(var("NODE_ENV", false, false, Some("production")));
            a.env.push(var("LOG_LEVEL", false, false, Some("debug")));
        },
    );
    let repo = Snapshot::from_texts([
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "app/main.py",
            "from fastapi import FastAPI\napp = FastAPI()\n",
        ),
    ]);
    let bundle = build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap();
    let environment = &compose_service(&bundle)["environment"];
    assert!(is_passed_through(environment, "DEBUG"), "{environment:?}");
    assert!(
        is_passed_through(environment, "FLASK_DEBUG"),
        "{environment:?}"
    );
    assert!(is_passed_through(environment, "APP_ENV"), "{environment:?}");
    assert_eq!(
        environment["NODE_ENV"].as_str(),
        Some("${NODE_ENV:-production}")
    );
    assert_eq!(
        environment["LOG_LEVEL"].as_str(),
        Some("${LOG_LEVEL:-debug}")
    );
}

#[test]
fn a_bun_app_importing_a_dev_dependency_installs_it() {
    let analysis = app("bun", "hono", Some(3000), Some("bun run src/index.ts"));
    let bundle_of = |index: &'static str| {
        let repo = Snapshot::from_texts([
            ("src/index.ts", index),
            (
                "package.json",
                r#"{"dependencies":{"zod":"^3"},"devDependencies":{"hono":"^4","@types/bun":"^1"}}"#,
            ),
            ("bun.lock", "{}"),
        ]);
        build_bundle(&analysis, &repo, &vm_choice(&analysis)).unwrap()
    };
    let bundle = bundle_of("import { Hono } from 'hono';\nexport default new Hono();\n");
    assert!(
        dockerfile(&bundle).contains("RUN bun install --frozen-lockfile\n"),
        "{}",
        dockerfile(&bundle)
    );
    assert!(notes(&bundle).any(|n| n.contains("imports `hono`")));
    let bundle = bundle_of(
        "import { z } from 'zod';\nBun.serve({ fetch: () => new Response(z.string().parse('ok')) });\n",
    );
    assert!(dockerfile(&bundle).contains("RUN bun install --frozen-lockfile --production\n"));
}
