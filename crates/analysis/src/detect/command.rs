//! Reading start commands (Dockerfile CMD, Procfile, package.json scripts):
//! which server program they run, and the port and address they give it.

use super::value::{Value, host_in, port_in, resolve};

/// A program that serves the app itself, with its own defaults. When the
/// start command runs one of these, the app's own `run()` call is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Runner {
    pub name: &'static str,
    pub default_port: Option<u16>,
    /// Listens on 127.0.0.1/localhost unless given an address.
    pub loopback_by_default: bool,
    /// How to make it listen on all interfaces; `{port}` is filled in.
    pub fix: &'static str,
    /// The variable it reads its port from, when it is not the app's own
    /// (a proxy in front of the app server listens on its own port).
    pub port_env: Option<&'static str>,
}

const fn runner(name: &'static str, port: u16, loopback: bool, fix: &'static str) -> Runner {
    Runner {
        name,
        default_port: if port == 0 { None } else { Some(port) },
        loopback_by_default: loopback,
        fix,
        port_env: None,
    }
}

fn runners() -> [(&'static regex::Regex, Runner); 25] {
    [
        // Rails 8's generated Dockerfile runs `./bin/thrust ./bin/rails
        // server`: Thruster listens on HTTP_PORT (80) and proxies to Puma,
        // so the container's port is Thruster's, not Puma's PORT.
        (
            re!(r"(?:^|[\s/])thrust\s"),
            Runner {
                port_env: Some("HTTP_PORT"),
                ..runner("thruster", 80, false, "")
            },
        ),
        (
            re!(r"\bfastapi\s+run\b"),
            runner("fastapi run", 8000, false, ""),
        ),
        (
            re!(r"\bfastapi\s+dev\b"),
            runner(
                "fastapi dev",
                8000,
                true,
                "add `--host 0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"\buvicorn\b"),
            runner(
                "uvicorn",
                8000,
                true,
                "add `--host 0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"\bgunicorn\b"),
            runner(
                "gunicorn",
                8000,
                true,
                "add `--bind 0.0.0.0:{port}` to the start command",
            ),
        ),
        (
            re!(r"\bhypercorn\b"),
            runner(
                "hypercorn",
                8000,
                true,
                "add `--bind 0.0.0.0:{port}` to the start command",
            ),
        ),
        (
            re!(r"\bdaphne\b"),
            runner(
                "daphne",
                8000,
                true,
                "add `-b 0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"\bwaitress-serve\b"),
            runner("waitress", 8080, false, ""),
        ),
        (
            re!(r"\bflask\b.*\brun\b"),
            runner(
                "flask run",
                5000,
                true,
                "add `--host 0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"manage\.py\s+runserver"),
            runner(
                "django runserver",
                8000,
                true,
                "run `python manage.py runserver 0.0.0.0:{port}`",
            ),
        ),
        (
            re!(r"\bstreamlit\s+run\b"),
            runner("streamlit", 8501, false, "add `--server.address 0.0.0.0`"),
        ),
        (
            re!(r"\brails\s+(?:s|server)\b"),
            runner(
                "rails server",
                3000,
                true,
                "add `-b 0.0.0.0` to the start command",
            ),
        ),
        (re!(r"\bpuma\b"), runner("puma", 9292, false, "")),
        (
            re!(r"\brackup\b"),
            runner(
                "rackup",
                9292,
                true,
                "add `-o 0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"\bartisan\s+serve\b"),
            runner(
                "artisan serve",
                8000,
                true,
                "add `--host=0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"\bphp\s+-S\b"),
            runner("php built-in server", 0, false, "serve on `0.0.0.0:{port}`"),
        ),
        (
            re!(r"\bnext\s+(?:start|dev)\b"),
            runner("next", 3000, false, ""),
        ),
        (
            re!(r"\bnuxt\s+(?:start|preview)\b|\.output/server/index\.mjs"),
            runner("nuxt", 3000, false, ""),
        ),
        (
            re!(r"\bnuxt\s+dev\b"),
            runner(
                "nuxt dev",
                3000,
                true,
                "add `--host 0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"\bvite\s+preview\b"),
            runner(
                "vite preview",
                4173,
                true,
                "add `--host 0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"\bvite\b"),
            runner(
                "vite",
                5173,
                true,
                "add `--host 0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"\bng\s+serve\b"),
            runner(
                "ng serve",
                4200,
                true,
                "add `--host 0.0.0.0` to the start command",
            ),
        ),
        (
            re!(r"\breact-scripts\s+start\b"),
            runner("react-scripts", 3000, false, ""),
        ),
        (
            re!(r"\bhttp\.server\b|\bhttp-server\b|\bserve\s+-s\b"),
            runner("static file server", 0, false, ""),
        ),
        (re!(r"\bnginx\b"), runner("nginx", 80, false, "")),
    ]
}

/// What a start command says about serving.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CommandFacts {
    pub runner: Option<Runner>,
    /// A port flag's value: a literal or `$PORT`-style env read.
    pub port: Option<Value>,
    /// The address given by flag.
    pub host: Option<String>,
    /// `VAR=value` assignments in front of the command.
    pub env: Vec<(String, String)>,
}

/// Applies an address from a server program's config file (gunicorn's
/// `bind = "0.0.0.0:8000"`) where the command gives none.
pub(crate) fn apply_config_address(facts: &mut CommandFacts, address: &str) {
    let (host, port) = split_address(address);
    if facts.host.is_none() {
        facts.host = host;
    }
    if facts.port.is_none() {
        facts.port = port;
    }
}

pub(crate) fn read_command(command: &str) -> CommandFacts {
    let mut facts = CommandFacts {
        runner: runners()
            .into_iter()
            .find(|(re, _)| re.is_match(command))
            .map(|(_, r)| r),
        ..CommandFacts::default()
    };
    let assignment =
        re!(r#"(?:^|&&\s*|;\s*|\bexport\s+|\benv\s+)([A-Z_][A-Z0-9_]*)=("[^"]*"|'[^']*'|\S+)"#);
    for caps in assignment.captures_iter(command) {
        if let (Some(name), Some(value)) = (caps.get(1), caps.get(2)) {
            facts
                .env
                .push((name.as_str().to_owned(), unquote(value.as_str()).to_owned()));
        }
    }
    let flag = |re: &regex::Regex| {
        re.captures(command)
            .and_then(|c| c.get(1))
            .map(|m| unquote(m.as_str()))
    };
    let address = flag(re!(
        r#"(?:--bind|-b|--listen|--urls|(?:php\s+)-S|runserver)(?:\s+|=)(\S+)"#
    ))
    .or_else(|| flag(re!(r#"-Dserver\.address=(\S+)"#)));
    if let Some(address) = address {
        let (host, port) = split_address(address);
        facts.host = host;
        facts.port = port;
    }
    let port = flag(re!(
        r#"(?:--port|-p|-P|--server\.port|--http-port|-Dserver\.port|-Dquarkus\.http\.port|-l)(?:\s+|=)(\S+)"#
    ));
    if let Some(port) = port {
        let value = resolve("", port);
        if !value.is_empty() {
            facts.port = Some(value);
        }
    }
    let host = flag(re!(
        r#"(?:--host|-H|--hostname|-o|--server\.address|--address)(?:\s+|=)(\S+)"#
    ));
    if let Some(host) = host.and_then(host_in) {
        facts.host = Some(host);
    }
    facts
}

/// `0.0.0.0:8000`, `:8000`, `$HOST:$PORT`, `0.0.0.0:${PORT:-8000}`, `http://+:5000`.
fn split_address(address: &str) -> (Option<String>, Option<Value>) {
    // `0.0.0.0:${PORT:-8000}`: the host is what comes before the variable.
    let host_part = address
        .find("${")
        .map_or(address, |i| address[..i].trim_end_matches(':'));
    // `:8000` names no host: every interface, as gunicorn and the Go
    // servers read it.
    let host = if host_part.starts_with(':') && !host_part.starts_with("::") {
        Some("0.0.0.0".to_owned())
    } else {
        host_in(host_part)
    };
    let port_part = address.rsplit_once(':').map_or(address, |(_, p)| p);
    let port_part = if address.contains("${") {
        // `${PORT:-8000}` itself contains a colon; take from the `${`.
        &address[address.find("${").unwrap_or(0)..]
    } else {
        port_part
    };
    let value = if let Some(port) = port_in(port_part) {
        Some(Value {
            literal: Some(port.to_string()),
            ..Value::default()
        })
    } else {
        Some(resolve("", port_part)).filter(|v| !v.is_empty())
    };
    (host, value)
}

fn unquote(s: &str) -> &str {
    s.trim_matches(['"', '\'', ',', ']', '['])
}

/// The JSON array form of CMD/ENTRYPOINT as a shell line.
pub(crate) fn join_exec_form(array: &str) -> Option<String> {
    let items: Vec<String> = serde_json::from_str(array.trim()).ok()?;
    let items: Vec<String> = items
        .into_iter()
        .map(|item| {
            if item.contains(' ') && !item.contains('"') {
                format!("\"{item}\"")
            } else {
                item
            }
        })
        .collect();
    Some(items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvicorn_flags() {
        let facts = read_command("uvicorn app.main:app --host 0.0.0.0 --port 8000");
        assert_eq!(facts.runner.map(|r| r.name), Some("uvicorn"));
        assert_eq!(facts.host.as_deref(), Some("0.0.0.0"));
        assert_eq!(facts.port.and_then(|p| p.port()), Some(8000));
    }

    #[test]
    fn gunicorn_bind_with_env_port() {
        let facts = read_command("gunicorn --bind :8000 app:app");
        assert_eq!(
            facts.host.as_deref(),
            Some("0.0.0.0"),
            "no host is every interface"
        );
        let facts = read_command("gunicorn --bind 0.0.0.0:$PORT app:app");
        assert_eq!(facts.host.as_deref(), Some("0.0.0.0"));
        assert_eq!(facts.port.and_then(|p| p.env).as_deref(), Some("PORT"));
        let facts = read_command("gunicorn -b 0.0.0.0:${PORT:-8000} app:app");
        let port = facts.port.unwrap();
        assert_eq!(
            (port.env.as_deref(), port.port()),
            (Some("PORT"), Some(8000))
        );
    }

    #[test]
    fn leading_env_assignments_and_next_port() {
        let facts = read_command("PORT=4000 next start -p 4001");
        assert_eq!(facts.env, [("PORT".to_owned(), "4000".to_owned())]);
        assert_eq!(facts.port.and_then(|p| p.port()), Some(4001));
        assert_eq!(facts.runner.map(|r| r.name), Some("next"));
    }

    #[test]
    fn django_runserver_address() {
        let facts = read_command("python manage.py runserver 0.0.0.0:8001");
        assert_eq!(facts.host.as_deref(), Some("0.0.0.0"));
        assert_eq!(facts.port.and_then(|p| p.port()), Some(8001));
        assert!(
            read_command("python manage.py runserver")
                .runner
                .unwrap()
                .loopback_by_default
        );
    }

    #[test]
    fn thruster_fronts_rails_server() {
        let facts = read_command("./bin/thrust ./bin/rails server");
        let runner = facts.runner.unwrap();
        assert_eq!(
            (runner.name, runner.default_port, runner.port_env),
            ("thruster", Some(80), Some("HTTP_PORT"))
        );
        assert_eq!(
            read_command("bin/rails server").runner.unwrap().name,
            "rails server"
        );
    }

    #[test]
    fn exec_form_is_joined() {
        assert_eq!(
            join_exec_form(r#"["uvicorn", "main:app", "--port", "80"]"#).as_deref(),
            Some("uvicorn main:app --port 80")
        );
        assert_eq!(join_exec_form("npm start"), None);
    }
}
