//! What an expression in source code evaluates to, as far as a reader can
//! tell without running it: a literal, an environment variable with its
//! default, or a variable whose assignment says one of those.

use super::scan::{in_comment, line_at, literal};

/// The value of an expression: the env var it reads (if any) and the
/// literal it falls back to or is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Value {
    pub env: Option<String>,
    pub literal: Option<String>,
    /// Line of the assignment the value was resolved through, if any.
    pub line: Option<u32>,
}

impl Value {
    pub fn is_empty(&self) -> bool {
        self.env.is_none() && self.literal.is_none()
    }

    /// The literal read as a port: `8080`, `":8080"`, `"0.0.0.0:8080"`,
    /// `"http://+:5000"`.
    pub fn port(&self) -> Option<u16> {
        self.literal.as_deref().and_then(port_in)
    }

    /// The literal read as a host: `"127.0.0.1"`, or the host part of
    /// `"localhost:8080"`.
    pub fn host(&self) -> Option<String> {
        self.literal.as_deref().and_then(host_in)
    }
}

/// Reads of an environment variable, in every language the detectors know.
/// Group 1..n: the first non-empty group is the name.
fn env_read(expr: &str) -> Option<(String, usize)> {
    let re = re!(r#"(?x)
        (?:os\.environ\.get|os\.getenv|environ\.get|getenv|Getenv|LookupEnv|GetEnvironmentVariable
          |System\.getenv|Deno\.env\.get|env::var|env::var_os|env|ENV\.fetch|config|\w*[eE]nv\w*)
          \s*[(\[]\s*["'](\w+)["']
        | (?:process\.env|Bun\.env|import\.meta\.env|ENV|os\.environ|\$_ENV|\$_SERVER)\s*\[\s*["'](\w+)["']\s*\]
        | (?:process\.env|Bun\.env|import\.meta\.env)\.(\w+)
        | \$\{(\w+)(?:[:?\-=]|\})
        | \$([A-Z_][A-Z0-9_]*)
        | \benv\.([A-Z][A-Z0-9_]*)\b
        "#);
    let caps = re.captures(expr)?;
    // The last form is a validated env object's field (`env.API_PORT` of
    // envalid, zod or t3-env).
    let (group, name) = (1..=6).find_map(|i| caps.get(i).map(|m| (i, m)))?;
    // `${X}` and `$X` are env reads in shell and config files, but
    // variables in JavaScript template strings.
    if (4..=5).contains(&group) && expr.contains('`') {
        return None;
    }
    Some((name.as_str().to_owned(), caps.get(0).map_or(0, |m| m.end())))
}

/// Resolves `expr` as seen in `text`, following plain variable names to
/// their assignment up to a few times.
pub(crate) fn resolve(text: &str, expr: &str) -> Value {
    resolve_depth(text, expr, 3)
}

fn resolve_depth(text: &str, expr: &str, depth: u8) -> Value {
    let expr = expr.trim().trim_end_matches([';', ',']);
    if let Some((env, after)) = env_read(expr) {
        return Value {
            env: Some(env),
            literal: first_literal(&expr[after..]),
            line: None,
        };
    }
    if let Some(lit) = literal(expr) {
        return Value {
            literal: Some(lit.to_owned()),
            ..Value::default()
        };
    }
    let Some(name) = identifier(expr) else {
        return composite(text, expr, depth);
    };
    if depth == 0 {
        return Value::default();
    }
    if let Some(value) = destructured_env(text, name) {
        return value;
    }
    let Some((rhs, line)) = assignment(text, name) else {
        return Value::default();
    };
    let mut value = resolve_depth(text, rhs, depth - 1);
    if value.literal.is_none() && value.env.is_some() {
        value.literal = fallback_assignment(text, name);
    }
    value.line.get_or_insert(line);
    value
}

/// Parts like `":" + port`, `f"0.0.0.0:{port}"`, `fmt.Sprintf(":%s", port)`:
/// the literal text gives the host, the variable gives the port.
fn composite(text: &str, expr: &str, depth: u8) -> Value {
    if depth == 0 {
        return Value::default();
    }
    let names = re!(r#"\{(\w+)\}|\$\{(\w+)\}|\b([a-zA-Z_]\w*)\b"#);
    let skip = [
        "f",
        "fmt",
        "Sprintf",
        "format",
        "str",
        "int",
        "String",
        "Number",
        "parseInt",
        "to_string",
        "http",
        "https",
        "localhost",
        "s",
        "d",
        "as",
        "u16",
        "parse",
        "unwrap",
        "env",
        "into",
    ];
    let mut value = Value::default();
    for caps in names.captures_iter(expr) {
        let Some(name) = (1..=3).find_map(|i| caps.get(i)).map(|m| m.as_str()) else {
            continue;
        };
        if skip.contains(&name) {
            continue;
        }
        let inner = resolve_depth(text, name, depth - 1);
        if !inner.is_empty() {
            value = inner;
            break;
        }
    }
    let quoted = re!(r#"["'`]([^"'`]*)["'`]"#);
    let host = quoted
        .captures_iter(expr)
        .filter_map(|c| c.get(1))
        .find_map(|m| host_in(m.as_str()));
    if let Some(host) = host
        && value.literal.as_deref().and_then(host_in).is_none()
    {
        let port = value.literal.as_deref().and_then(port_in);
        value.literal = Some(match port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        });
    }
    value
}

fn identifier(expr: &str) -> Option<&str> {
    let expr = expr.strip_prefix("self.").unwrap_or(expr);
    let expr = expr.strip_prefix("&").unwrap_or(expr);
    let ok = !expr.is_empty()
        && expr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !expr.starts_with(|c: char| c.is_ascii_digit());
    (ok && !matches!(
        expr,
        "None" | "nil" | "null" | "undefined" | "true" | "false"
    ))
    .then_some(expr)
}

/// `name = rhs` (with `let`/`const`/`var`/`val`/`:=` and type annotations),
/// first one in the file that is not commented out.
fn assignment<'t>(text: &'t str, name: &str) -> Option<(&'t str, u32)> {
    let re = re!(
        r#"(?m)^[ \t]*(?:(?:export|pub|private|public|static|final|const|let|var|val|mut|int|String|string|u16|readonly)\s+)*([A-Za-z_]\w*)\s*(?::\s*[\w<>\[\]|&' ]+?)?\s*(?::=|=)\s*([^=\n].*)$"#
    );
    re.captures_iter(text).find_map(|caps| {
        let whole = caps.get(0)?;
        if caps.get(1)?.as_str() != name || in_comment(text, whole.start()) {
            return None;
        }
        let rhs = caps.get(2)?.as_str().trim();
        Some((rhs, line_at(text, whole.start())))
    })
}

/// Go's `if port == "" { port = "8080" }` after `port := os.Getenv("PORT")`.
fn fallback_assignment(text: &str, name: &str) -> Option<String> {
    let needle = format!("{name} == \"\"");
    let at = text.find(&needle)?;
    let window: String = text[at..].chars().take(200).collect();
    let re = re!(r#"\b(\w+)\s*=\s*"([^"]+)""#);
    re.captures_iter(&window)
        .find(|c| c.get(1).is_some_and(|m| m.as_str() == name))
        .and_then(|c| c.get(2))
        .map(|m| m.as_str().to_owned())
}

/// `const { PORT = 3000 } = process.env`.
fn destructured_env(text: &str, name: &str) -> Option<Value> {
    let re = re!(r#"\{([^}]*)\}\s*=\s*(?:process|Bun)\.env"#);
    re.captures_iter(text).find_map(|caps| {
        let fields = caps.get(1)?.as_str();
        fields.split(',').find_map(|field| {
            let (key, default) = field.split_once('=').unwrap_or((field, ""));
            (key.trim() == name).then(|| Value {
                env: Some(name.to_owned()),
                literal: literal(default).map(str::to_owned),
                line: caps.get(0).map(|m| line_at(text, m.start())),
            })
        })
    })
}

/// The first string or number literal in `rest`: the default after an env
/// read (`os.getenv("PORT", "8080")`, `process.env.PORT || 3000`).
fn first_literal(rest: &str) -> Option<String> {
    let re = re!(r#"["'`]([^"'`]*)["'`]|\b(\d{2,5})\b"#);
    re.captures_iter(rest).find_map(|caps| {
        if let Some(quoted) = caps.get(1) {
            return (!quoted.as_str().is_empty()).then(|| quoted.as_str().to_owned());
        }
        let number = caps.get(2)?;
        // `parseInt(process.env.PORT, 10)`: a radix, not a default.
        let radix = rest[..number.start()].trim_end().ends_with(',')
            && number.as_str().parse::<u32>().is_ok_and(|n| n <= 36);
        (!radix).then(|| number.as_str().to_owned())
    })
}

/// The port in `8080`, `:8080`, `0.0.0.0:8080`, `http://+:5000`, `[::]:80`.
pub(crate) fn port_in(text: &str) -> Option<u16> {
    let text = text.trim().trim_end_matches('/');
    let tail = text.rsplit(':').next()?;
    let digits = tail.trim_end_matches(|c: char| !c.is_ascii_digit());
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    port_number(digits)
}

/// A TCP port a server can listen on: 0 means "any free port", which no
/// deployment can publish, so it is no port at all.
pub(crate) fn port_number(text: &str) -> Option<u16> {
    text.trim().parse::<u16>().ok().filter(|p| *p > 0)
}

/// The host in `127.0.0.1`, `localhost:8080`, `http://0.0.0.0:80`, `[::1]:80`.
pub(crate) fn host_in(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text.split_once("://").map_or(text, |(_, rest)| rest);
    let host = if let Some(rest) = text.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else if text.matches(':').count() > 1 {
        text
    } else {
        text.split(':').next().unwrap_or_default()
    };
    let host = host.trim_end_matches('/');
    let known = matches!(host, "localhost" | "::" | "::1" | "*" | "+")
        || (!host.is_empty()
            && host.chars().all(|c| c.is_ascii_digit() || c == '.')
            && host.contains('.'));
    known.then(|| host.to_owned())
}

/// True for addresses only reachable from the same machine.
pub(crate) fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "::1" | "ip6-localhost") || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_reads_with_defaults_in_many_languages() {
        let cases = [
            (r#"int(os.environ.get("PORT", 5000))"#, "PORT", Some("5000")),
            (r#"os.getenv('APP_PORT', '8080')"#, "APP_PORT", Some("8080")),
            ("process.env.PORT || 3000", "PORT", Some("3000")),
            ("Number(process.env.PORT ?? '4000')", "PORT", Some("4000")),
            (r#"Deno.env.get("PORT") ?? "8000""#, "PORT", Some("8000")),
            (
                r#"env::var("PORT").unwrap_or_else(|_| "3000".into())"#,
                "PORT",
                Some("3000"),
            ),
            (r#"ENV.fetch("PORT") { 3000 }"#, "PORT", Some("3000")),
            ("${PORT:8080}", "PORT", Some("8080")),
            ("$PORT", "PORT", None),
            (r#"System.getenv("SERVER_PORT")"#, "SERVER_PORT", None),
            ("env.API_PORT", "API_PORT", None),
        ];
        for (expr, env, default) in cases {
            let value = resolve("", expr);
            assert_eq!(value.env.as_deref(), Some(env), "{expr}");
            assert_eq!(value.literal.as_deref(), default, "{expr}");
        }
    }

    #[test]
    fn variables_resolve_through_their_assignment() {
        let text = "const PORT = process.env.PORT || 4000;\napp.listen(PORT);\n";
        let value = resolve(text, "PORT");
        assert_eq!(value.env.as_deref(), Some("PORT"));
        assert_eq!(value.port(), Some(4000));
        assert_eq!(value.line, Some(1));
    }

    #[test]
    fn go_fallback_after_empty_check() {
        let text = "port := os.Getenv(\"PORT\")\nif port == \"\" {\n\tport = \"8080\"\n}\nhttp.ListenAndServe(\":\"+port, nil)\n";
        let value = resolve(text, r#"":"+port"#);
        assert_eq!(value.env.as_deref(), Some("PORT"));
        assert_eq!(value.port(), Some(8080));
    }

    #[test]
    fn ports_and_hosts_from_addresses() {
        assert_eq!(port_in(":8080"), Some(8080));
        assert_eq!(port_in("http://+:5000"), Some(5000));
        assert_eq!(port_in("localhost"), None);
        assert_eq!(host_in("127.0.0.1:3000").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_in(":3000"), None);
        assert_eq!(
            host_in("http://localhost:5000").as_deref(),
            Some("localhost")
        );
        assert!(is_loopback("127.0.0.1"));
        assert!(!is_loopback("0.0.0.0"));
    }

    #[test]
    fn composite_addresses_keep_host_and_port() {
        let text = "let port = 3000;\n";
        let value = resolve(text, r#"format!("127.0.0.1:{}", port)"#);
        assert_eq!(value.host().as_deref(), Some("127.0.0.1"));
        assert_eq!(value.port(), Some(3000));
    }
}
