//! Makes a start command listen on all interfaces. An app bound to
//! 127.0.0.1 inside a container cannot be reached through a published port,
//! the most common reason a deployment is unreachable.

/// A start command after the fix, and what was changed, one sentence each.
pub(super) struct FixedCommand {
    pub command: String,
    pub bind_fixes: Vec<String>,
    pub port_fixes: Vec<String>,
}

const LOOPBACK: &[&str] = &["127.0.0.1", "localhost", "[::1]", "::1"];
/// Flags whose value is an address to listen on, across common servers.
const HOST_FLAGS: &[&str] = &[
    "--host",
    "-H",
    "-h",
    "--bind",
    "-b",
    "--binding",
    "--hostname",
    "--server.address",
    "-o",
    "--address",
    "--listen",
    "-a",
    "--urls",
];

/// Fixes the server command in `command` (the last of `&&`/`;`-joined parts):
/// loopback addresses become `0.0.0.0`, and servers that default to loopback
/// get an explicit host and port.
pub(super) fn fix_command(command: &str, port: u16) -> FixedCommand {
    let (head, last) = split_last_part(command);
    let mut tokens: Vec<String> = last.split_whitespace().map(str::to_owned).collect();
    let mut fixed = FixedCommand {
        command: String::new(),
        bind_fixes: Vec::new(),
        port_fixes: Vec::new(),
    };
    replace_loopback(&mut tokens, &mut fixed.bind_fixes);
    if let Some((at, tool)) = find_tool(&tokens) {
        ensure_listening(&mut tokens, at, &tool, port, &mut fixed);
    }
    let last = tokens.join(" ");
    fixed.command = if head.is_empty() {
        last
    } else {
        format!("{head} {last}")
    };
    fixed
}

/// Splits `a && b; c` into (`a && b;`, `c`).
fn split_last_part(command: &str) -> (&str, &str) {
    let cut = ["&&", ";"]
        .iter()
        .filter_map(|sep| command.rfind(sep).map(|i| i + sep.len()))
        .max();
    match cut {
        Some(i) => (command[..i].trim(), command[i..].trim()),
        None => ("", command.trim()),
    }
}

fn is_loopback_host(value: &str) -> bool {
    LOOPBACK.contains(&value)
}

/// Rewrites `--host 127.0.0.1`, `--host=localhost`, `127.0.0.1:8000`,
/// `http://localhost:5000` and the like to `0.0.0.0`.
fn replace_loopback(tokens: &mut [String], fixes: &mut Vec<String>) {
    for i in 0..tokens.len() {
        let after_host_flag = i > 0 && HOST_FLAGS.contains(&tokens[i - 1].as_str());
        let token = tokens[i].clone();
        let replaced = if after_host_flag && is_loopback_host(&token) {
            Some("0.0.0.0".to_owned())
        } else {
            replace_in_token(&token)
        };
        if let Some(new) = replaced.filter(|new| *new != token) {
            fixes.push(format!(
                "`{token}` made the app listen on loopback only, unreachable from outside its container: it is now `{new}`."
            ));
            tokens[i] = new;
        }
    }
}

fn replace_in_token(token: &str) -> Option<String> {
    if let Some((flag, value)) = token.split_once('=')
        && HOST_FLAGS.contains(&flag)
    {
        return replace_address(value).map(|v| format!("{flag}={v}"));
    }
    replace_address(token)
}

/// `127.0.0.1:8000` → `0.0.0.0:8000`; `http://localhost:5000` → `http://0.0.0.0:5000`.
fn replace_address(value: &str) -> Option<String> {
    if is_loopback_host(value) {
        return Some("0.0.0.0".to_owned());
    }
    let (scheme, rest) = match value.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), value),
    };
    LOOPBACK.iter().find_map(|host| {
        let port = rest.strip_prefix(host)?.strip_prefix(':')?;
        let digits = port.trim_end_matches('/');
        (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
            .then(|| format!("{scheme}0.0.0.0:{port}"))
    })
}

/// The server program in the command and its position, looking through
/// wrappers such as `python -m`, `bundle exec`, `poetry run`, `npx`.
fn find_tool(tokens: &[String]) -> Option<(usize, String)> {
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_str();
        let name = token.rsplit('/').next().unwrap_or(token);
        match name {
            _ if is_env_assignment(token) => i += 1,
            "exec" | "npx" | "bunx" | "env" => i += 1,
            "bundle" | "poetry" | "uv" | "pipenv" | "pnpm" | "yarn" | "pdm" | "hatch"
                if matches!(
                    tokens.get(i + 1).map(String::as_str),
                    Some("exec" | "run" | "dlx")
                ) =>
            {
                i += 2
            }
            "python" | "python3" if tokens.get(i + 1).map(String::as_str) == Some("-m") => i += 2,
            "python" | "python3" | "php"
                if tokens.get(i + 1).is_some_and(|t| !t.starts_with('-')) =>
            {
                let script = tokens[i + 1]
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                return Some((i + 1, script));
            }
            _ => return Some((i, name.to_owned())),
        }
    }
    None
}

fn is_env_assignment(token: &str) -> bool {
    token.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

/// How one server is told its host and port.
struct Flags {
    host: &'static [&'static str],
    port: &'static [&'static str],
    /// The flags to add when missing; `{port}` is replaced.
    add_host: &'static str,
    add_port: &'static str,
}

fn ensure_listening(
    tokens: &mut Vec<String>,
    at: usize,
    tool: &str,
    port: u16,
    fixed: &mut FixedCommand,
) {
    let sub = tokens.get(at + 1).map(String::as_str).unwrap_or("");
    if tool == "fastapi" && sub == "dev" {
        tokens[at + 1] = "run".to_owned();
        fixed.bind_fixes.push(
            "`fastapi dev` is a development server listening on 127.0.0.1: it is now `fastapi run`, which listens on 0.0.0.0.".to_owned(),
        );
        return ensure_listening(tokens, at, tool, port, fixed);
    }
    if tool == "manage.py" && sub == "runserver" {
        return ensure_runserver_address(tokens, at + 2, port, fixed);
    }
    let Some(flags) = server_flags(tool, sub) else {
        return;
    };
    let rest = &tokens[at + 1..];
    let has_host = has_flag(rest, flags.host);
    let has_port = has_flag(rest, flags.port) || flags.add_port.is_empty();
    if !has_host {
        let add = flags.add_host.replace("{port}", &port.to_string());
        fixed.bind_fixes.push(format!(
            "`{tool}` listens on 127.0.0.1 unless told otherwise, unreachable from outside its container: added `{add}`."
        ));
        tokens.extend(add.split(' ').map(str::to_owned));
    }
    if !has_port {
        let add = flags.add_port.replace("{port}", &port.to_string());
        fixed.port_fixes.push(format!(
            "Added `{add}` so `{tool}` listens on port {port}, the port the compose file publishes."
        ));
        tokens.extend(add.split(' ').map(str::to_owned));
    }
}

fn server_flags(tool: &str, sub: &str) -> Option<Flags> {
    let flags = |host, port, add_host, add_port| Flags {
        host,
        port,
        add_host,
        add_port,
    };
    Some(match (tool, sub) {
        ("flask", "run") => flags(
            &["--host", "-h"],
            &["--port", "-p"],
            "--host 0.0.0.0",
            "--port {port}",
        ),
        ("uvicorn", _) | ("fastapi", "run") => flags(
            &["--host", "--uds", "--fd"],
            &["--port", "--uds", "--fd"],
            "--host 0.0.0.0",
            "--port {port}",
        ),
        ("gunicorn" | "hypercorn", _) => flags(&["--bind", "-b"], &[], "--bind 0.0.0.0:{port}", ""),
        ("daphne", _) => flags(
            &["--bind", "-b", "-u", "--fd"],
            &["--port", "-p", "-u", "--fd"],
            "--bind 0.0.0.0",
            "--port {port}",
        ),
        ("streamlit", "run") => flags(
            &["--server.address"],
            &["--server.port"],
            "--server.address 0.0.0.0",
            "--server.port {port}",
        ),
        ("rails", "server" | "s") => flags(
            &["--binding", "-b"],
            &["--port", "-p"],
            "-b 0.0.0.0",
            "-p {port}",
        ),
        ("rackup", _) => flags(
            &["--host", "-o"],
            &["--port", "-p"],
            "-o 0.0.0.0",
            "-p {port}",
        ),
        ("artisan", "serve") => flags(&["--host"], &["--port"], "--host=0.0.0.0", "--port={port}"),
        ("vite", "" | "dev" | "preview" | "serve") => {
            flags(&["--host"], &["--port"], "--host 0.0.0.0", "--port {port}")
        }
        ("ng", "serve") => flags(&["--host"], &["--port"], "--host 0.0.0.0", "--port {port}"),
        _ => return None,
    })
}

/// `manage.py runserver` takes its address as a positional `[addr:]port`.
fn ensure_runserver_address(
    tokens: &mut Vec<String>,
    from: usize,
    port: u16,
    fixed: &mut FixedCommand,
) {
    let positional = (from..tokens.len()).find(|&i| !tokens[i].starts_with('-'));
    match positional {
        Some(i) if tokens[i].chars().all(|c| c.is_ascii_digit()) => {
            let new = format!("0.0.0.0:{}", tokens[i]);
            fixed.bind_fixes.push(format!(
                "`runserver {}` listens on 127.0.0.1: it is now `runserver {new}`.",
                tokens[i]
            ));
            tokens[i] = new;
        }
        Some(_) => {}
        None => {
            let new = format!("0.0.0.0:{port}");
            fixed.bind_fixes.push(format!(
                "`runserver` listens on 127.0.0.1:8000 by default: added `{new}`."
            ));
            tokens.push(new);
        }
    }
}

/// True when one of `flags` appears as `--flag`, `--flag=value` or `-p8000`.
fn has_flag(tokens: &[String], flags: &[&str]) -> bool {
    tokens.iter().any(|t| {
        flags.iter().any(|f| {
            t == f
                || t.strip_prefix(f).is_some_and(|rest| {
                    rest.starts_with('=') || (!f.starts_with("--") && !rest.is_empty())
                })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(command: &str) -> String {
        fix_command(command, 8000).command
    }

    #[test]
    fn servers_that_default_to_loopback_get_a_host() {
        assert_eq!(fix("flask run"), "flask run --host 0.0.0.0 --port 8000");
        assert_eq!(
            fix("uvicorn main:app"),
            "uvicorn main:app --host 0.0.0.0 --port 8000"
        );
        assert_eq!(
            fix("gunicorn app:app"),
            "gunicorn app:app --bind 0.0.0.0:8000"
        );
        assert_eq!(
            fix("python manage.py runserver"),
            "python manage.py runserver 0.0.0.0:8000"
        );
        assert_eq!(
            fix("python manage.py runserver 9000"),
            "python manage.py runserver 0.0.0.0:9000"
        );
        assert_eq!(
            fix("bundle exec rails server"),
            "bundle exec rails server -b 0.0.0.0 -p 8000"
        );
        assert_eq!(
            fix("php artisan serve"),
            "php artisan serve --host=0.0.0.0 --port=8000"
        );
        assert_eq!(
            fix("poetry run uvicorn app.main:app --port 8000"),
            "poetry run uvicorn app.main:app --port 8000 --host 0.0.0.0"
        );
        assert_eq!(
            fix("fastapi dev main.py"),
            "fastapi run main.py --host 0.0.0.0 --port 8000"
        );
    }

    #[test]
    fn loopback_addresses_become_all_interfaces() {
        assert_eq!(
            fix("uvicorn main:app --host 127.0.0.1 --port 8000"),
            "uvicorn main:app --host 0.0.0.0 --port 8000"
        );
        assert_eq!(
            fix("gunicorn -b 127.0.0.1:8000 app:app"),
            "gunicorn -b 0.0.0.0:8000 app:app"
        );
        assert_eq!(
            fix("php -S localhost:8000 -t public"),
            "php -S 0.0.0.0:8000 -t public"
        );
        assert_eq!(
            fix("flask run --host=localhost"),
            "flask run --host=0.0.0.0 --port 8000"
        );
        assert_eq!(
            fix("dotnet run --urls http://localhost:5000"),
            "dotnet run --urls http://0.0.0.0:5000"
        );
        assert_eq!(
            fix("python manage.py migrate && python manage.py runserver 127.0.0.1:8000"),
            "python manage.py migrate && python manage.py runserver 0.0.0.0:8000"
        );
    }

    #[test]
    fn commands_already_listening_everywhere_are_left_alone() {
        for command in [
            "uvicorn main:app --host 0.0.0.0 --port 8000",
            "node server.js",
            "gunicorn --bind=0.0.0.0:8000 app:app",
            "python app.py",
        ] {
            let fixed = fix_command(command, 8000);
            assert_eq!(fixed.command, command);
            assert!(fixed.bind_fixes.is_empty() && fixed.port_fixes.is_empty());
        }
    }
}
