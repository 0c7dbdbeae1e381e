//! Go and Rust: the binary is built in a toolchain image and copied, with
//! any run-time asset directories, into a small final image.

use super::{Image, Inputs, Text, asset_dirs, exec_form, sqlx_build};
use crate::InfraError;
use crate::bundle::app_files::{AppFiles, parent};
use crate::bundle::health::Probe;
use crate::bundle::images::{ALPINE, DEBIAN_SLIM, GO_BUILD, RUST_1_79_BUILD, RUST_BUILD};

/// Go modules that only work through cgo (a C library linked in).
const CGO_MODULES: &[&str] = &[
    "github.com/mattn/go-sqlite3",
    "github.com/confluentinc/confluent-kafka-go",
    "gopkg.in/confluentinc/confluent-kafka-go",
];

/// The first cgo-only module `go.mod` requires.
fn cgo_package(files: &AppFiles) -> Option<&'static str> {
    let go_mod = files.text("go.mod")?;
    CGO_MODULES
        .iter()
        .copied()
        .find(|module| go_mod.contains(module))
}

/// The Go of [`GO_BUILD`].
const GO_IMAGE_VERSION: (u32, u32) = (1, 23);

/// The Go version go.mod's `go` or `toolchain` line asks for, when it is
/// newer than the image's.
fn newer_go(go_mod: &str) -> Option<String> {
    go_mod
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            line.strip_prefix("go ")
                .or_else(|| line.strip_prefix("toolchain go"))
                .map(str::trim)
        })
        .filter(|version| {
            let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
            matches!((parts.next(), parts.next()), (Some(Some(major)), Some(Some(minor)))
                if (major, minor) > GO_IMAGE_VERSION)
        })
        .map(str::to_owned)
        .next()
}

pub(super) fn go(inputs: &Inputs) -> Image {
    let files = inputs.files;
    let (package, args) = go_package(
        inputs.command,
        inputs.analysis.build_command.as_deref(),
        files,
        inputs.analysis.http,
    );
    let mut text = Text::new(inputs, &format!("{} app (Go)", or_http(inputs.framework())));
    text.line(format!("FROM {GO_BUILD} AS build"))
        .line("WORKDIR /src");
    let mut notes = Vec::new();
    if let Some(wanted) = newer_go(files.text("go.mod").unwrap_or_default()) {
        // The image sets GOTOOLCHAIN=local, and stops at a go.mod asking
        // for a newer Go; `auto` fetches that toolchain as a module.
        text.line("ENV GOTOOLCHAIN=auto");
        notes.push(format!(
            "go.mod asks for Go {wanted}, newer than the image's {}.{}: the build fetches that toolchain (GOTOOLCHAIN=auto), as `go` does on a developer's machine.",
            GO_IMAGE_VERSION.0, GO_IMAGE_VERSION.1
        ));
    }
    if files.exists("go.mod") {
        text.line("COPY go.mod go.sum* ./")
            .line("RUN go mod download");
    }
    let cgo = cgo_package(files);
    text.line("COPY . .");
    if !files.exists("go.mod") {
        // Go has built only modules since 1.16; a GOPATH-era app gets one.
        text.line("RUN go mod init app && go mod tidy");
        notes.push(
            "The app has no go.mod (a GOPATH-era layout): the build makes one with `go mod init app && go mod tidy`.".to_owned(),
        );
    }
    text.line(format!(
        "RUN CGO_ENABLED={} go build -trimpath -ldflags=\"-s -w\" -o /out/app {package}",
        u8::from(cgo.is_some())
    ));
    text.blank();
    let probe = match cgo {
        // The binary links the build image's glibc: the final image is the
        // same Debian, not Alpine's musl.
        Some(module) => {
            notes.push(format!(
                "`{module}` is a cgo package (it does not work with CGO_ENABLED=0): the binary is built with cgo and runs on Debian."
            ));
            text.line(format!("FROM {DEBIAN_SLIM}"))
                .line("RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* && useradd --no-create-home --uid 10001 app");
            Probe::Curl
        }
        None => {
            text.line(format!("FROM {ALPINE}"))
                .line("RUN adduser -D -H -u 10001 app");
            Probe::Wget
        }
    };
    text.app_dir("app")
        .line("COPY --from=build /out/app /usr/local/bin/app");
    for dir in asset_dirs(files) {
        text.line(format!("COPY --from=build /src/{dir} ./{dir}"));
    }
    if loads_a_dotenv_file(files) {
        // godotenv fails without the file (and apps stop on that error);
        // it sets only what the environment does not, so an empty one
        // changes nothing else.
        text.line("RUN touch .env");
        notes.push(
            "The app loads `.env` with godotenv, which fails when the file is missing: the image has an empty one, and the app's variables come from the environment (godotenv does not override them)."
                .to_owned(),
        );
    }
    for (path, committed) in viper_config_files(files) {
        if committed {
            text.line(format!("COPY --from=build /src/{path} ./{path}"));
            notes.push(format!(
                "The app reads its configuration file `{path}` with viper, which fails without it: the image has the repository's (the environment overrides its values)."
            ));
        } else {
            text.line(format!(
                "RUN mkdir -p \"$(dirname '{path}')\" && touch '{path}'"
            ));
            notes.push(format!(
                "The app reads its configuration file `{path}` with viper, which the repository does not hold: the image has an empty one, and the values come from the environment."
            ));
        }
    }
    let mut cmd = vec!["app".to_owned()];
    cmd.extend(args);
    Image {
        dockerfile: text.finish(inputs, "app", &exec_form(&cmd.join(" "))),
        probe,
        ignore: &["bin", "vendor/**/testdata"],
        extra_files: Vec::new(),
        context: None,
        notes,
    }
}

/// Whether the app loads a `.env` from its working directory with godotenv
/// (`godotenv.Load()`, `godotenv.Load(".env")`).
fn loads_a_dotenv_file(files: &AppFiles) -> bool {
    let load = regex::Regex::new(r#"\bgodotenv\.(?:Load|Overload)\(\s*(?:"(?:\./)?\.env"\s*)?\)"#)
        .expect("valid pattern");
    files
        .with_suffix(".go")
        .into_iter()
        .filter_map(|path| files.text(path))
        .any(|text| load.is_match(text))
}

/// The configuration files the app reads with viper from its working
/// directory, and whether the repository holds each: `SetConfigFile("app.env")`,
/// or `SetConfigName("app")` with `SetConfigType("env")` and an
/// `AddConfigPath` (`.` when none is literal).
fn viper_config_files(files: &AppFiles) -> Vec<(String, bool)> {
    let literal = |text: &str, call: &str| -> Vec<String> {
        regex::Regex::new(&format!(r#"\bviper\.{call}\(\s*"([^"$]+)"\s*\)"#))
            .expect("valid pattern")
            .captures_iter(text)
            .filter_map(|c| c.get(1))
            .map(|m| m.as_str().trim_start_matches("./").to_owned())
            .collect()
    };
    let safe = |path: &str| {
        !path.is_empty()
            && !path.starts_with('/')
            && !path.contains("..")
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
    };
    let mut found = Vec::new();
    for text in files
        .with_suffix(".go")
        .into_iter()
        .filter(|path| !path.ends_with("_test.go"))
        .filter_map(|path| files.text(path))
    {
        found.extend(literal(text, "SetConfigFile"));
        let (Some(name), Some(kind)) = (
            literal(text, "SetConfigName").into_iter().next(),
            literal(text, "SetConfigType").into_iter().next(),
        ) else {
            continue;
        };
        let dirs = literal(text, "AddConfigPath");
        let dir = dirs
            .iter()
            .find(|dir| files.exists(&format!("{}/{name}.{kind}", dir.trim_end_matches('/'))))
            .or(dirs.first())
            .map_or(".", String::as_str);
        found.push(match dir.trim_end_matches('/') {
            "" | "." => format!("{name}.{kind}"),
            dir => format!("{dir}/{name}.{kind}"),
        });
    }
    found.sort();
    found.dedup();
    found
        .into_iter()
        .filter(|path| safe(path))
        .map(|path| {
            let committed = files.exists(&path);
            (path, committed)
        })
        .collect()
}

fn or_http(framework: &str) -> &str {
    if framework.is_empty() {
        "an HTTP"
    } else {
        framework
    }
}

/// The package to build and the arguments to pass, from `go run <pkg> <args>`,
/// else the package of the analysis's `go build … <pkg>`, else `.` when the
/// app directory holds `main.go`, else the first `cmd/*`, else the
/// shallowest folder with a `main.go` (or another file of `package main`
/// with its `func main`); a server's serving subcommand when it has one.
fn go_package(
    command: Option<&str>,
    build: Option<&str>,
    files: &AppFiles,
    serves: bool,
) -> (String, Vec<String>) {
    // A server run as a command-line app serves through its subcommand; a
    // tool is run as it is.
    let subcommand = || {
        serves
            .then(|| serving_subcommand(files))
            .flatten()
            .into_iter()
            .collect()
    };
    let tokens: Vec<&str> = command.unwrap_or_default().split_whitespace().collect();
    if let ["go", "run", rest @ ..] = tokens.as_slice() {
        let flags = rest.iter().take_while(|t| t.starts_with('-')).count();
        if let Some((package, args)) = rest[flags..].split_first() {
            return (
                package.to_string(),
                args.iter().map(|a| a.to_string()).collect(),
            );
        }
    }
    if let Some(package) = build.and_then(built_package) {
        return (package, subcommand());
    }
    if files.exists("main.go") {
        return (".".to_owned(), subcommand());
    }
    let mut mains = files.with_suffix("/main.go");
    if mains.is_empty() {
        // `cmd/api/server.go` holding `package main` and `func main()`.
        mains = files
            .with_suffix(".go")
            .into_iter()
            .filter(|path| !path.ends_with("_test.go"))
            .filter(|path| {
                files.text(path).is_some_and(|text| {
                    text.lines().any(|l| l.trim() == "package main") && text.contains("func main()")
                })
            })
            .collect();
    }
    let main = mains
        .iter()
        .find(|p| p.starts_with("cmd/"))
        .or_else(|| mains.iter().min_by_key(|p| p.matches('/').count()));
    let package = match main {
        Some(path) => format!("./{}", parent(path)),
        None => ".".to_owned(),
    };
    (package, subcommand())
}

/// The package `go build [flags] <pkg>` builds: `./cmd/api` of
/// `go build -o app ./cmd/api`; `None` for the current directory's.
fn built_package(build: &str) -> Option<String> {
    let tokens: Vec<&str> = build.split_whitespace().collect();
    let at = tokens.windows(2).position(|w| w == ["go", "build"])?;
    let mut rest = tokens[at + 2..].iter();
    let mut package = None;
    while let Some(token) = rest.next() {
        if matches!(*token, "&&" | ";" | "||") {
            break;
        }
        if token.starts_with('-') {
            // Flags that take a value as the next word.
            if matches!(*token, "-o" | "-ldflags" | "-tags" | "-gcflags" | "-mod") {
                rest.next();
            }
            continue;
        }
        package = Some(token.to_string());
    }
    package.filter(|p| p.starts_with("./") && p != "./" && !p.ends_with(".go"))
}

/// The subcommand that serves, when the binary is a command-line app
/// (urfave/cli's `Name: "server"`, cobra's `Use: "serve"`): run bare, it
/// prints its help and exits.
fn serving_subcommand(files: &AppFiles) -> Option<String> {
    const SERVING: &[&str] = &[
        "server",
        "serve",
        "web",
        "http",
        "api",
        "start",
        "run",
        "runserver",
        "run-server",
        "webserver",
        "apiserver",
        "httpserver",
    ];
    let go_files: Vec<&str> = files
        .with_suffix(".go")
        .into_iter()
        .filter(|path| !path.ends_with("_test.go"))
        .filter_map(|path| files.text(path))
        .collect();
    let cli = go_files.iter().any(|text| {
        text.contains("\"github.com/urfave/cli") || text.contains("\"github.com/spf13/cobra\"")
    });
    if !cli {
        return None;
    }
    // A command's name opens its literal (`&cli.Command{` then `Name:`); a
    // flag's `Name: "http"` is no command.
    let opens = regex::Regex::new(r"\b(?:cli|cobra)\.Command\s*\{\s*$").expect("valid pattern");
    let named = regex::Regex::new(r#"^\s*(?:Name|Use):\s*"(\w+)"#).expect("valid pattern");
    go_files.iter().find_map(|text| {
        let lines: Vec<&str> = text.lines().collect();
        lines.iter().enumerate().find_map(|(at, line)| {
            let name = named.captures(line)?.get(1)?.as_str();
            let in_command = lines[at.saturating_sub(3)..at]
                .iter()
                .any(|before| opens.is_match(before));
            (in_command && SERVING.contains(&name)).then(|| name.to_owned())
        })
    })
}

pub(super) fn rust(inputs: &Inputs) -> Result<Image, InfraError> {
    let files = inputs.files;
    let target = rust_target(inputs)?;
    let openssl = ["Cargo.lock", "Cargo.toml"]
        .iter()
        .any(|f| files.text(f).is_some_and(|t| t.contains("openssl")));
    let subdir = files.subdir();
    let root_workspace = !subdir.is_empty()
        && files
            .repo()
            .text("Cargo.toml")
            .is_some_and(|t| t.contains("[workspace]"));
    let (context, src) = if root_workspace {
        (Some(String::new()), format!("/src/{subdir}"))
    } else {
        (None, "/src".to_owned())
    };
    let locked = if files.exists("Cargo.lock") || root_workspace {
        " --locked"
    } else {
        ""
    };
    let mut text = Text::new(
        inputs,
        &format!("{} app (Rust)", or_http(inputs.framework())),
    );
    let lock = files
        .text("Cargo.lock")
        .or_else(|| files.repo().text("Cargo.lock"))
        .unwrap_or_default();
    let mut notes = Vec::new();
    let builder = match time_before_rust_1_80(lock) {
        Some(version) => {
            notes.push(format!(
                "Cargo.lock holds time {version}, which Rust 1.80 and later no longer compile (type inference changed): the build uses Rust 1.79."
            ));
            RUST_1_79_BUILD
        }
        None => RUST_BUILD,
    };
    text.line(format!("FROM {builder} AS build"));
    if openssl {
        text.line("RUN apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev && rm -rf /var/lib/apt/lists/*");
    }
    let build = format!(
        "cargo build --release{locked} {} && cp target/release/{} /out-app",
        target.cargo_args, target.binary
    );
    let sources = if root_workspace { subdir } else { "" };
    let build = match sqlx_build::plan(files, sources) {
        Some(database) => {
            text.line(&database.install);
            notes.push(database.note.clone());
            database.around(&build)
        }
        None => build,
    };
    text.line("WORKDIR /src")
        .line("COPY . .")
        .line(format!("RUN {build}"))
        .blank()
        .line(format!("FROM {DEBIAN_SLIM}"))
        .line(format!(
            "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl{} && rm -rf /var/lib/apt/lists/* && useradd --no-create-home --uid 10001 app",
            if openssl { " libssl3" } else { "" }
        ))
        .app_dir("app")
        .line(format!("COPY --from=build /out-app /usr/local/bin/{}", target.binary));
    for dir in asset_dirs(files) {
        text.line(format!("COPY --from=build {src}/{dir} ./{dir}"));
    }
    Ok(Image {
        dockerfile: text.finish(inputs, "app", &exec_form(&target.binary)),
        probe: Probe::Curl,
        ignore: &["target"],
        extra_files: Vec::new(),
        context,
        notes,
    })
}

/// The `time` version of a lock that Rust 1.80 and later fail to infer
/// types in (E0282): 0.3.18 (which brought the code) to 0.3.34 (0.3.35
/// fixed it). 0.3.17 and older compile on a current Rust.
fn time_before_rust_1_80(lock: &str) -> Option<String> {
    let version = re_time_package().captures(lock)?.get(1)?.as_str();
    let patch: u32 = version.strip_prefix("0.3.")?.parse().ok()?;
    (18..35).contains(&patch).then(|| version.to_owned())
}

fn re_time_package() -> &'static regex::Regex {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?m)^name = "time"\r?\nversion = "([0-9.]+)""#).expect("valid pattern")
    });
    &RE
}

struct RustTarget {
    binary: String,
    cargo_args: String,
}

/// Which binary to build: `--bin`/`-p` from `cargo run …`, else the app's
/// `[[bin]]` or `[package]` name.
fn rust_target(inputs: &Inputs) -> Result<RustTarget, InfraError> {
    let tokens: Vec<&str> = inputs
        .command
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let flag = |names: &[&str]| {
        tokens
            .windows(2)
            .find(|w| names.contains(&w[0]))
            .map(|w| w[1].to_owned())
    };
    let manifest: Option<toml::Table> = inputs
        .files
        .text("Cargo.toml")
        .and_then(|t| toml::from_str(t).ok());
    let bin_name = manifest.as_ref().and_then(|m| {
        m.get("bin")?
            .as_array()?
            .first()?
            .get("name")?
            .as_str()
            .map(str::to_owned)
    });
    let package = flag(&["-p", "--package"]).or_else(|| {
        manifest
            .as_ref()
            .and_then(|m| m.get("package")?.get("name")?.as_str().map(str::to_owned))
    });
    let binary = flag(&["--bin"]).or(bin_name).or_else(|| package.clone()).ok_or_else(|| {
        InfraError::Bundle(
            "the Rust app's binary name is unknown (no [package] or [[bin]] in Cargo.toml); add a Dockerfile to the repository".to_owned(),
        )
    })?;
    let cargo_args = match &package {
        Some(package) => format!("-p {package} --bin {binary}"),
        None => format!("--bin {binary}"),
    };
    Ok(RustTarget { binary, cargo_args })
}

#[cfg(test)]
mod tests {
    use super::{
        AppFiles, built_package, loads_a_dotenv_file, newer_go, time_before_rust_1_80,
        viper_config_files,
    };
    use analysis::Snapshot;

    #[test]
    fn a_lock_with_a_time_older_than_rust_1_80_allows() {
        let lock = |version: &str| {
            format!(
                "[[package]]\nname = \"time\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"time-core\"\nversion = \"0.1.0\"\n"
            )
        };
        assert_eq!(
            time_before_rust_1_80(&lock("0.3.20")).as_deref(),
            Some("0.3.20")
        );
        assert_eq!(time_before_rust_1_80(&lock("0.3.36")), None);
        assert_eq!(time_before_rust_1_80(&lock("0.2.27")), None);
        // Before the code that fails (built with rustc 1.95: 0.3.17 builds,
        // 0.3.18 fails with E0282).
        assert_eq!(time_before_rust_1_80(&lock("0.3.17")), None);
        assert_eq!(time_before_rust_1_80(&lock("0.3.7")), None);
        assert_eq!(
            time_before_rust_1_80(&lock("0.3.18")).as_deref(),
            Some("0.3.18")
        );
        assert_eq!(time_before_rust_1_80(""), None);
    }

    #[test]
    fn the_package_a_go_build_command_builds() {
        let cases = [
            ("go build -o app ./cmd/go-echo", Some("./cmd/go-echo")),
            (
                "go build -ldflags \"-s\" -o bin/api ./cmd/api && echo",
                Some("./cmd/api"),
            ),
            ("go build -o app .", None),
            ("go build", None),
            ("go build main.go", None),
        ];
        for (command, package) in cases {
            assert_eq!(built_package(command).as_deref(), package, "{command}");
        }
    }

    #[test]
    fn a_viper_configuration_file_is_copied_or_made_empty() {
        let main = "package main\n\nimport \"github.com/spf13/viper\"\n\nfunc load() {\n\tviper.AddConfigPath(\".\")\n\tviper.SetConfigName(\"app\")\n\tviper.SetConfigType(\"env\")\n\tviper.AutomaticEnv()\n}\n";
        let repo = Snapshot::from_texts([("main.go", main), ("app.env", "PORT=8080\n")]);
        assert_eq!(
            viper_config_files(&AppFiles::new(&repo, "")),
            [("app.env".to_owned(), true)]
        );
        let file =
            "package config\n\nfunc Load() { viper.SetConfigFile(\"./config/settings.yaml\") }\n";
        let repo = Snapshot::from_texts([("config/load.go", file)]);
        assert_eq!(
            viper_config_files(&AppFiles::new(&repo, "")),
            [("config/settings.yaml".to_owned(), false)]
        );
        let unsafe_path =
            "package config\n\nfunc Load() { viper.SetConfigFile(\"/etc/app.yaml\") }\n";
        let repo = Snapshot::from_texts([("load.go", unsafe_path)]);
        assert!(viper_config_files(&AppFiles::new(&repo, "")).is_empty());
    }

    #[test]
    fn an_app_loading_its_dotenv_file_gets_an_empty_one() {
        let loads = |main: &str| {
            let repo = analysis::Snapshot::from_texts([
                ("go.mod", "module x\n\ngo 1.22\n"),
                ("main.go", main),
            ]);
            loads_a_dotenv_file(&AppFiles::new(&repo, ""))
        };
        assert!(loads(
            "if err := godotenv.Load(); err != nil {\n\tlog.Fatal(err)\n}\n"
        ));
        assert!(loads("err := godotenv.Load(\".env\")\n"));
        assert!(loads("godotenv.Load(\"./.env\")\n"));
        assert!(!loads("godotenv.Load(\"config/app.env\")\n"));
        assert!(!loads("package main\n"));
    }

    #[test]
    fn only_a_go_newer_than_the_images_is_fetched() {
        assert_eq!(
            newer_go("module x\n\ngo 1.26.1\n").as_deref(),
            Some("1.26.1")
        );
        assert_eq!(
            newer_go("module x\n\ngo 1.22\n\ntoolchain go1.24.2\n").as_deref(),
            Some("1.24.2")
        );
        assert_eq!(newer_go("module x\n\ngo 1.23.4\n"), None);
        assert_eq!(newer_go("module x\n\ngo 1.21\n"), None);
        assert_eq!(newer_go(""), None);
    }
}
