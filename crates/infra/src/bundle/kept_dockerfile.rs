//! Whether the repository's own Dockerfile can build the app from the
//! repository as it is: one that copies a build output the repository does
//! not hold (`COPY build/libs/*.jar`, made by a build run outside Docker),
//! or copies and starts nothing (a tools image), cannot, and one is
//! generated.

use super::app_files::{AppFiles, join};
use analysis::Snapshot;

/// Why the Dockerfile at `path`, built in `context`, cannot build the app;
/// `None` when it can, as far as its files tell.
pub(super) fn unusable(path: &str, text: &str, context: &str, repo: &Snapshot) -> Option<String> {
    let copies = context_copies(text);
    // Copying nothing and starting nothing, it is a tools image (a Gitpod
    // workspace, a dev container); one with a command may get the code
    // through a compose file's mount.
    if copies.is_empty() && !has_command(text) {
        return Some(format!(
            "{path} copies nothing from the repository and starts nothing (it holds tools, not the app)"
        ));
    }
    if serves_fastcgi(text) {
        return Some(format!(
            "{path} runs php-fpm, which speaks FastCGI to a web server in front of it, not HTTP"
        ));
    }
    if let Some(watcher) = live_reloader(text) {
        return Some(format!(
            "{path} is a development image: it starts {watcher}, which rebuilds the app from its sources whenever they change (and installs itself with `go get`, which no longer installs programs)"
        ));
    }
    missing_source(path, text, context, repo)
        .or_else(|| gopath_build(path, text, context, repo))
        .or_else(|| ruby_unlike_gemfile(path, text, context, repo))
}

/// The Dockerfile with apt pointed at archive.debian.org after each `FROM`
/// of a Debian release past its end of life (`python:3.11-slim-buster`),
/// whose mirrors no longer carry it, when it installs packages with apt;
/// with the first such image. `None` when no stage needs it.
pub(super) fn on_archived_debian(text: &str) -> Option<(String, String)> {
    let uses_apt = text.contains("apt-get") || text.contains("apt ");
    let mut first = None;
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
            continue;
        }
        let Some(image) = words.find(|w| !w.starts_with("--")) else {
            continue;
        };
        let tag = image.rsplit_once(':').map_or("", |(_, tag)| tag);
        if ["jessie", "stretch", "buster"]
            .iter()
            .any(|r| tag.contains(r))
        {
            first.get_or_insert_with(|| image.to_owned());
            out.push_str(&format!(
                "RUN {}true\n",
                crate::bundle::images::ARCHIVED_DEBIAN
            ));
        }
    }
    let image = first.filter(|_| uses_apt)?;
    if !text.ends_with('\n') {
        out.pop();
    }
    Some((out, image))
}

/// The live reloader a Go development image starts (CompileDaemon, air,
/// reflex) instead of the built server.
fn live_reloader(text: &str) -> Option<&'static str> {
    let (_, args) = instructions(text)
        .filter(|(keyword, _)| keyword == "CMD" || keyword == "ENTRYPOINT")
        .last()?;
    let program = args.first()?.rsplit('/').next()?.to_owned();
    ["CompileDaemon", "air", "reflex"]
        .into_iter()
        .find(|watcher| program == *watcher)
}

/// A `FROM ruby` (or `ruby:3.2`) whose Ruby is not the one the Gemfile
/// declares (`ruby "3.1.2"`): Bundler refuses to install for any other.
fn ruby_unlike_gemfile(path: &str, text: &str, context: &str, repo: &Snapshot) -> Option<String> {
    let gemfile = repo.text(&join(context, "Gemfile"))?;
    let declared =
        regex::Regex::new(r#"(?m)^\s*ruby\s+["'](\d+\.\d+\.\d+)["']\s*$"#).expect("valid pattern");
    let version = declared.captures(gemfile)?.get(1)?.as_str().to_owned();
    instructions(text)
        .filter(|(keyword, _)| keyword == "FROM")
        .filter_map(|(_, args)| args.into_iter().find(|a| !a.starts_with("--")))
        .find_map(|image| {
            let (name, tag) = image.split_once(':').unwrap_or((&image, "latest"));
            let ruby = matches!(name, "ruby" | "docker.io/library/ruby" | "library/ruby");
            let matches = tag == version || tag.starts_with(&format!("{version}-"));
            (ruby && !matches && !tag.contains('$')).then(|| {
                format!("{path} builds on {image}, and the Gemfile declares ruby \"{version}\", which Bundler requires exactly")
            })
        })
}

/// Whether the image's command is PHP-FPM: its last `CMD`/`ENTRYPOINT`
/// runs `php-fpm`, or it sets none on a `php:*-fpm` base, whose own
/// command that is.
fn serves_fastcgi(text: &str) -> bool {
    let last_command = instructions(text)
        .filter(|(keyword, _)| keyword == "CMD" || keyword == "ENTRYPOINT")
        .last();
    match last_command {
        Some((_, args)) => args
            .first()
            .map(|first| first.trim_matches(['[', '"', ',', ']']))
            .is_some_and(|program| program.starts_with("php-fpm")),
        None => final_base(text).is_some_and(|(name, tag)| name == "php" && tag.contains("fpm")),
    }
}

/// The image the final stage builds on, followed through the stages it
/// builds on, as its repository's last name and its tag.
fn final_base(text: &str) -> Option<(String, String)> {
    let instructions: Vec<(String, Vec<String>)> = instructions(text).collect();
    // `FROM image [AS name]`, each stage's base by its name.
    let stages: Vec<(String, Option<String>)> = instructions
        .iter()
        .filter(|(keyword, _)| keyword == "FROM")
        .filter_map(|(_, args)| {
            let args: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
            let image = args.first()?.to_ascii_lowercase();
            let name = match args.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
                _ => None,
            };
            Some((image, name))
        })
        .collect();
    let (mut base, _) = stages.last().cloned()?;
    for _ in 0..stages.len() {
        match stages
            .iter()
            .find(|(_, name)| name.as_deref() == Some(base.as_str()))
        {
            Some((earlier, _)) => base = earlier.clone(),
            None => break,
        }
    }
    let (repository, tag) = base.split_once(':').unwrap_or((base.as_str(), ""));
    let name = repository.rsplit('/').next().unwrap_or(repository);
    Some((name.to_owned(), tag.to_owned()))
}

/// Images whose own command starts no app: a language's runtime (its
/// prompt) or a plain system. A Dockerfile on one of them with no `CMD`
/// or `ENTRYPOINT` leaves its command to whoever runs it (a compose
/// file's `command:`, often in an override file).
const BARE_IMAGES: &[&str] = &[
    "node",
    "python",
    "ruby",
    "golang",
    "openjdk",
    "eclipse-temurin",
    "amazoncorretto",
    "bun",
    "alpine",
    "debian",
    "ubuntu",
    "busybox",
];

/// Whether the Dockerfile's image starts nothing of the app: no `CMD` in
/// any stage and no `ENTRYPOINT` but a script that ends by running its
/// arguments (`exec "$@"`: it migrates, then runs what it is given, and
/// given nothing exits), and its final stage is (through the stages it
/// builds on) a language or system image, or PHP's command-line image.
pub(super) fn starts_nothing(text: &str, files: &AppFiles) -> bool {
    let mut commands =
        instructions(text).filter(|(keyword, _)| keyword == "CMD" || keyword == "ENTRYPOINT");
    let runs_given = |(keyword, args): (String, Vec<String>)| {
        keyword == "ENTRYPOINT"
            && super::migrate::passes_command_on(&format!("ENTRYPOINT {}", args.join(" ")), files)
    };
    if !commands.all(runs_given) {
        return false;
    }
    let Some((name, tag)) = final_base(text) else {
        return false;
    };
    BARE_IMAGES.contains(&name.as_str())
        || (name == "php" && !tag.contains("apache") && !tag.contains("fpm"))
}

/// Whether a stage of the Dockerfile sets a `CMD` or an `ENTRYPOINT`.
pub(super) fn has_command(text: &str) -> bool {
    instructions(text).any(|(keyword, _)| matches!(keyword.as_str(), "CMD" | "ENTRYPOINT"))
}

/// Why a Dockerfile that builds Go in GOPATH mode (`go install` with no
/// go.mod in the context) cannot build: Go has built only modules since
/// 1.16, so `go install` stops with "go.mod file not found".
fn gopath_build(path: &str, text: &str, context: &str, repo: &Snapshot) -> Option<String> {
    let in_context =
        |f: &&analysis::FileEntry| context.is_empty() || f.path.starts_with(&format!("{context}/"));
    let context_files: Vec<&analysis::FileEntry> = repo.files.iter().filter(in_context).collect();
    let has_go = context_files.iter().any(|f| f.path.ends_with(".go"));
    let has_go_mod = context_files
        .iter()
        .any(|f| f.path == "go.mod" || f.path.ends_with("/go.mod"));
    if !has_go || has_go_mod {
        return None;
    }
    let runs: Vec<String> = instructions(text)
        .filter(|(keyword, _)| keyword == "RUN" || keyword == "ENV")
        .map(|(_, args)| args.join(" "))
        .collect();
    let builds = runs.iter().any(|run| {
        run.contains("go install") || run.contains("go build") || run.contains("go get")
    });
    let gopath_mode = runs
        .iter()
        .any(|run| run.contains("GO111MODULE=off") || run.contains("go mod init"));
    (builds && !gopath_mode).then(|| {
        format!(
            "{path} builds Go without a go.mod (GOPATH mode, which Go no longer supports by default: the build stops with \"go.mod file not found\")"
        )
    })
}

/// The first source a `COPY`/`ADD` of the Dockerfile at `path` takes from
/// `context` that the repository does not hold, said as a reason.
pub(super) fn missing_source(
    path: &str,
    text: &str,
    context: &str,
    repo: &Snapshot,
) -> Option<String> {
    let defaults = arg_defaults(text);
    for args in context_copies(text) {
        let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
        let Some((_, sources)) = paths.split_last() else {
            continue;
        };
        for source in sources {
            // `ARG JAR_FILE=target/*.jar` then `COPY ${JAR_FILE} app.jar`
            // (Spring's guide): the build copies the default.
            let source = with_defaults(source, &defaults);
            if source.contains('$') || source.contains("://") {
                continue;
            }
            // `/public` is the context's `public` too.
            let source = source
                .trim_start_matches("./")
                .trim_start_matches('/')
                .trim_end_matches('/');
            // The first component: a folder the repository does not have
            // at all is a build's output (`build/`, `target/`, `dist/`).
            let first = source.split('/').next().unwrap_or_default();
            if first.is_empty() || first == "." || first.contains(['*', '?', '[']) {
                continue;
            }
            let at = join(context, first);
            let exists = repo.get(&at).is_some()
                || repo
                    .files
                    .iter()
                    .any(|f| f.path.starts_with(&format!("{at}/")));
            if !exists {
                return Some(format!(
                    "{path} copies {source}, which the repository does not hold (the output of a build run outside Docker)"
                ));
            }
        }
    }
    None
}

/// The defaults of the Dockerfile's `ARG NAME=value` lines.
fn arg_defaults(text: &str) -> Vec<(String, String)> {
    instructions(text)
        .filter(|(keyword, _)| keyword == "ARG")
        .flat_map(|(_, args)| args)
        .filter_map(|arg| {
            let (name, value) = arg.split_once('=')?;
            Some((name.to_owned(), value.trim_matches('"').to_owned()))
        })
        .collect()
}

/// `source` with each `${NAME}` or `$NAME` of `defaults` replaced.
fn with_defaults(source: &str, defaults: &[(String, String)]) -> String {
    let mut text = source.to_owned();
    for (name, value) in defaults {
        text = text
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    text
}

/// The arguments of each `COPY`/`ADD` that takes from the build context
/// (not from another stage).
fn context_copies(text: &str) -> Vec<Vec<String>> {
    instructions(text)
        .filter(|(keyword, args)| {
            matches!(keyword.as_str(), "COPY" | "ADD")
                && !args
                    .iter()
                    .any(|a| a.to_ascii_lowercase().starts_with("--from"))
        })
        .map(|(_, args)| args)
        .collect()
}

/// Each instruction of a Dockerfile as one line: continuation lines
/// (ending in `\\`) joined, comments left out.
pub(super) fn logical_lines(text: &str) -> Vec<String> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        // A comment, alone or between continued lines, is not part of it.
        if trimmed.starts_with('#') {
            continue;
        }
        if let Some(rest) = trimmed.strip_suffix('\\') {
            current.push_str(rest);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        joined.push(std::mem::take(&mut current));
    }
    joined.push(current);
    joined.retain(|line| !line.trim().is_empty());
    joined
}

/// `(KEYWORD, arguments)` of each instruction, continuation lines joined;
/// the JSON form's arguments unquoted.
fn instructions(text: &str) -> impl Iterator<Item = (String, Vec<String>)> + '_ {
    logical_lines(text).into_iter().filter_map(|line| {
        let (keyword, rest) = line.trim().split_once(char::is_whitespace)?;
        let rest = rest.trim();
        let args = match serde_json::from_str::<Vec<String>>(rest) {
            Ok(args) if rest.starts_with('[') => args,
            _ => rest.split_whitespace().map(str::to_owned).collect(),
        };
        Some((keyword.to_ascii_uppercase(), args))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_on_a_bare_runtime_without_a_command_starts_nothing() {
        let scripts = Snapshot::from_texts([
            (
                "entrypoint.sh",
                "#!/bin/sh\npython manage.py migrate --noinput\nexec \"$@\"\n",
            ),
            ("serve.sh", "#!/bin/sh\nexec gunicorn site.wsgi\n"),
        ]);
        let files = AppFiles::new(&scripts, "");
        let starts_nothing = |text: &str| starts_nothing(text, &files);
        assert!(starts_nothing(
            "FROM node:alpine\nWORKDIR /app\nCOPY . .\nRUN yarn install\nEXPOSE 3000\n"
        ));
        assert!(starts_nothing(
            "FROM python:3.12 AS base\nRUN pip install x\nFROM base AS final\nCOPY . .\n"
        ));
        assert!(!starts_nothing(
            "FROM node:22\nCOPY . .\nCMD node server.js\n"
        ));
        assert!(!starts_nothing(
            "FROM node:22\nCOPY . .\nENTRYPOINT [\"node\"]\n"
        ));
        // Their own command serves the app.
        assert!(!starts_nothing(
            "FROM php:8.2-apache\nCOPY . /var/www/html\n"
        ));
        assert!(!starts_nothing(
            "FROM tiangolo/uvicorn-gunicorn-fastapi:python3.11\nCOPY ./app /app\n"
        ));
        assert!(!starts_nothing(
            "FROM nginx:alpine\nCOPY dist /usr/share/nginx/html\n"
        ));
        // A set-up script that runs what it is given, and is given nothing.
        assert!(starts_nothing(
            "FROM python:3.11-slim\nWORKDIR /usr/src/app\nCOPY . .\nENTRYPOINT [\"/usr/src/app/entrypoint.sh\"]\n"
        ));
        assert!(!starts_nothing(
            "FROM python:3.11-slim\nCOPY . .\nENTRYPOINT [\"/usr/src/app/entrypoint.sh\"]\nCMD [\"gunicorn\", \"site.wsgi\"]\n"
        ));
        assert!(!starts_nothing(
            "FROM python:3.11-slim\nCOPY . .\nENTRYPOINT [\"./serve.sh\"]\n"
        ));
    }

    fn repo() -> Snapshot {
        Snapshot::from_texts([
            ("api/src/main.py", ""),
            ("api/requirements.txt", ""),
            ("api/Dockerfile", ""),
        ])
    }

    #[test]
    fn a_build_output_the_repository_lacks_or_no_copy_at_all_is_unusable() {
        let jar = "FROM eclipse-temurin:21\nCOPY build/libs/*.jar app.jar\nENTRYPOINT [\"java\", \"-jar\", \"app.jar\"]\n";
        let why = unusable("api/Dockerfile", jar, "api", &repo()).unwrap();
        assert!(why.contains("build/libs/*.jar"), "{why}");
        // Spring's guide names the jar in a build argument's default.
        let guide = "FROM eclipse-temurin:17-jre\nVOLUME /tmp\nARG JAR_FILE=target/*.jar\nCOPY ${JAR_FILE} app.jar\nENTRYPOINT [\"java\",\"-jar\",\"/app.jar\"]\n";
        let why = unusable("api/Dockerfile", guide, "api", &repo()).unwrap();
        assert!(why.contains("copies target/*.jar"), "{why}");
        let given =
            "FROM eclipse-temurin:17-jre\nARG JAR_FILE\nCOPY ${JAR_FILE} app.jar\nCMD [\"java\"]\n";
        assert!(missing_source("api/Dockerfile", given, "api", &repo()).is_none());
        let tools = "FROM gitpod/workspace-full\nRUN pip install black\n";
        assert!(unusable("api/Dockerfile", tools, "api", &repo()).is_some());
    }

    #[test]
    fn an_image_on_an_archived_debian_reads_its_packages_from_the_archive() {
        let text = "FROM python:3.11-slim-buster AS build\nRUN apt update && apt install -y libmagic1\nFROM build\nCMD [\"python\"]";
        let (rewritten, image) = on_archived_debian(text).unwrap();
        assert_eq!(image, "python:3.11-slim-buster");
        let lines: Vec<&str> = rewritten.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(
            lines[1].starts_with(
                "RUN if grep -qsE 'jessie|stretch|buster' /etc/os-release; then sed -i"
            )
        );
        assert!(lines[1].ends_with("fi && true"));
        assert_eq!(lines[2], "RUN apt update && apt install -y libmagic1");
        assert!(!rewritten.ends_with('\n'));
        // A supported release, or no apt at all, is left alone.
        assert!(
            on_archived_debian("FROM python:3.11-slim-bookworm\nRUN apt-get update\n").is_none()
        );
        assert!(on_archived_debian("FROM node:14-buster\nRUN npm ci\n").is_none());
    }

    #[test]
    fn a_go_image_that_starts_a_live_reloader_is_unusable() {
        let dev = "FROM golang:latest\nWORKDIR /app\nCOPY . .\nRUN go get github.com/githubnemo/CompileDaemon\nENTRYPOINT CompileDaemon --build=\"go build cmd/main.go\" --command=./main\n";
        let why = unusable("Dockerfile", dev, "", &repo()).unwrap();
        assert!(why.contains("CompileDaemon"), "{why}");
        let air = "FROM golang:1.22\nCOPY . .\nRUN go install github.com/air-verse/air@latest\nCMD [\"air\", \"-c\", \".air.toml\"]\n";
        assert!(unusable("Dockerfile", air, "", &repo()).is_some());
        let built =
            "FROM golang:1.22\nCOPY . .\nRUN go build -o /server ./cmd\nCMD [\"/server\"]\n";
        assert!(live_reloader(built).is_none());
    }

    #[test]
    fn a_php_fpm_image_serves_no_http() {
        let fpm = |rest: &str| {
            format!(
                "FROM php:8.2-fpm AS base\nWORKDIR /var/www\nFROM base\nCOPY . /var/www\nEXPOSE 9000\n{rest}"
            )
        };
        for dockerfile in [fpm(""), fpm("CMD [\"php-fpm\"]\n"), fpm("CMD php-fpm -F\n")] {
            let why = unusable("api/Dockerfile", &dockerfile, "api", &repo()).expect(&dockerfile);
            assert!(why.contains("FastCGI"), "{why}");
        }
        // One that starts a web server of its own serves HTTP.
        for rest in [
            "CMD [\"php\", \"artisan\", \"serve\", \"--host=0.0.0.0\"]\n",
            "CMD [\"/usr/bin/supervisord\", \"-c\", \"/etc/supervisord.conf\"]\n",
        ] {
            assert_eq!(unusable("api/Dockerfile", &fpm(rest), "api", &repo()), None);
        }
        let apache = "FROM php:8.2-apache\nCOPY . /var/www/html\n";
        assert_eq!(unusable("api/Dockerfile", apache, "api", &repo()), None);
    }

    #[test]
    fn a_gopath_era_go_build_is_unusable_unless_it_says_so() {
        let repo = Snapshot::from_texts([
            ("samples/go/app/main.go", "package main"),
            ("samples/go/Dockerfile", ""),
        ]);
        let gopath = "FROM golang:latest\nCOPY ./app /go/src/app\nWORKDIR /go/src/app\nRUN go install\nCMD [\"app\"]\n";
        let why = unusable("samples/go/Dockerfile", gopath, "samples/go", &repo).unwrap();
        assert!(why.contains("go.mod"), "{why}");
        let off = gopath.replace("RUN go install", "ENV GO111MODULE=off\nRUN go install");
        assert_eq!(
            unusable("samples/go/Dockerfile", &off, "samples/go", &repo),
            None
        );
        let with_mod = Snapshot::from_texts([
            ("samples/go/app/main.go", "package main"),
            ("samples/go/app/go.mod", "module app"),
        ]);
        assert_eq!(
            unusable("samples/go/Dockerfile", gopath, "samples/go", &with_mod),
            None
        );
    }

    #[test]
    fn a_ruby_image_other_than_the_gemfiles_ruby_is_unusable() {
        let repo = Snapshot::from_texts([
            (
                "Gemfile",
                "source \"https://rubygems.org\"\nruby \"3.1.2\"\ngem \"rails\"\n",
            ),
            ("config.ru", ""),
        ]);
        let unusable =
            |dockerfile: &str| super::unusable("Dockerfile", dockerfile, "", &repo).is_some();
        assert!(unusable(
            "FROM ruby\nCOPY . .\nRUN bundle install\nCMD [\"rails\", \"s\"]\n"
        ));
        assert!(unusable(
            "FROM ruby:3.2-slim\nCOPY . .\nCMD [\"rails\", \"s\"]\n"
        ));
        assert!(!unusable(
            "FROM ruby:3.1.2-slim\nCOPY . .\nCMD [\"rails\", \"s\"]\n"
        ));
        assert!(!unusable(
            "FROM ruby:3.1.2\nCOPY . .\nCMD [\"rails\", \"s\"]\n"
        ));
    }

    #[test]
    fn sources_the_repository_holds_stages_and_arguments_are_fine() {
        let app = "FROM python:3.12 AS build\nCOPY requirements.txt ./\nCOPY --chown=app:app [\"src/\", \"/app/src/\"]\nFROM python:3.12\nCOPY --from=build /app /app\nCOPY ${APP_DIR}/x /x\nCOPY . .\n";
        assert_eq!(unusable("api/Dockerfile", app, "api", &repo()), None);
    }
}
