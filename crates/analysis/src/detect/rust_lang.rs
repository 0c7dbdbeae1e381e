//! Rust: axum, actix-web, Rocket (and warp, poem, salvo, tide); CLIs,
//! libraries, desktop apps and bots otherwise.

use super::detection::{Confidence, Detection, Kind};
use super::scan::{Found, Spot, find_line, hits, split_args};
use super::value::{Value, resolve};
use super::view::AppView;

const RS: &[&str] = &[".rs"];

const SERVER_CRATES: &[&str] = &[
    "axum",
    "actix-web",
    "rocket",
    "warp",
    "poem",
    "salvo",
    "tide",
    "loco-rs",
];

struct Cargo {
    path: String,
    text: String,
    name: Option<String>,
    deps: Vec<String>,
    bins: Vec<String>,
    has_package: bool,
}

impl Cargo {
    fn read(view: &AppView<'_>) -> Option<Self> {
        let file = view.file("Cargo.toml")?;
        let text = file.content.clone()?;
        let toml: toml::Table = toml::from_str(&text).ok()?;
        let package = toml.get("package").and_then(|p| p.as_table());
        // Dev- and build-dependencies do not run in the app: a library
        // testing itself against axum is not an axum server.
        let targets = toml.get("target").and_then(|t| t.as_table());
        let target_deps = targets
            .into_iter()
            .flat_map(|t| t.values())
            .filter_map(|t| t.get("dependencies")?.as_table());
        let mut deps: Vec<String> = toml
            .get("dependencies")
            .and_then(|d| d.as_table())
            .into_iter()
            .chain(target_deps)
            .flat_map(|t| t.keys().cloned())
            .collect();
        deps.sort();
        let bins = toml
            .get("bin")
            .and_then(|b| b.as_array())
            .map(|bins| {
                bins.iter()
                    .filter_map(|b| b.get("name")?.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            path: file.path.clone(),
            name: package.and_then(|p| p.get("name")?.as_str().map(str::to_owned)),
            has_package: package.is_some(),
            deps,
            bins,
            text,
        })
    }

    fn has(&self, dep: &str) -> bool {
        self.deps.iter().any(|d| d == dep)
    }

    fn spot(&self, needle: &str, detail: impl Into<String>) -> Spot {
        let line = self
            .text
            .lines()
            .position(|l| l.trim_start().starts_with(needle))
            .map(|i| i as u32 + 1);
        match line.or_else(|| find_line(&self.text, needle)) {
            Some(line) => Spot::at(&self.path, line, detail),
            None => Spot::file(&self.path, detail),
        }
    }
}

pub(crate) fn detect(view: &AppView<'_>) -> Option<Detection> {
    let cargo = Cargo::read(view)?;
    if !cargo.has_package {
        // A workspace root: its members are apps of their own.
        return None;
    }
    let language_at = Spot::file(&cargo.path, "Cargo.toml");
    let main_rs = view
        .file("src/main.rs")
        .or_else(|| view.named("main.rs").next());
    let Some(krate) = SERVER_CRATES.iter().copied().find(|c| cargo.has(c)) else {
        if let Some(at) = hand_written_http(view) {
            // No framework: the standard library's listener, answering
            // with status lines it writes itself.
            let mut d = Detection::new("rust", Kind::Server, Confidence::Code, language_at)
                .framework_less(at);
            bind(view, &mut d);
            return Some(release_binary(&cargo, d));
        }
        return Some(not_a_server(view, &cargo, main_rs.is_some(), language_at));
    };
    let at = cargo.spot(krate, format!("{krate} is a dependency"));
    let mut d = Detection::new("rust", Kind::Server, Confidence::Manifest, language_at)
        .framework(krate, at);
    if view.find(RS, re!(r"(?m)^\s*(?:async\s+)?fn\s+main\s*\(|#\[launch\]|#\[(?:tokio|actix_web|rocket)::main\]")).is_some() {
        d.confidence = Confidence::Code;
    }
    d.default_port = Some(match krate {
        "rocket" => 8000,
        "axum" | "poem" => 3000,
        "warp" => 3030,
        _ => 8080,
    });
    if krate == "rocket" {
        rocket(view, &mut d);
    } else {
        bind(view, &mut d);
    }
    Some(release_binary(&cargo, d))
}

/// The app is the crate's release binary.
fn release_binary(cargo: &Cargo, mut d: Detection) -> Detection {
    let bin = cargo
        .bins
        .first()
        .cloned()
        .or(cargo.name.clone())
        .unwrap_or_else(|| "app".to_owned());
    d.build = Some("cargo build --release".to_owned());
    d.start_derived = Some(format!("./target/release/{bin}"));
    d
}

/// `std::net::TcpListener::bind(…)` in a crate that writes HTTP status
/// lines (`"HTTP/1.1 200 OK\r\n…"`): an HTTP server written by hand.
fn hand_written_http(view: &AppView<'_>) -> Option<Spot> {
    let listener = view.find(RS, re!(r"\bTcpListener::bind\s*\("))?;
    view.find(RS, re!(r#""HTTP/1\.[01] [1-5]\d\d"#))?;
    Some(
        listener
            .spot()
            .with_detail("a TcpListener answering with HTTP status lines it writes"),
    )
}

/// `TcpListener::bind("0.0.0.0:3000")`, `.bind(("127.0.0.1", 8080))`,
/// `SocketAddr::from(([0, 0, 0, 0], 3000))`, `.run(([127, 0, 0, 1], 3030))`.
///
/// Binds before runs, and the first call whose argument reads as an
/// address: `sqlx::migrate!().run(&pool)` and a query's `.bind(id)` are
/// calls of the same names.
fn bind(view: &AppView<'_>, d: &mut Detection) {
    let calls = [
        re!(r"(?:\bTcpListener::bind|\.bind|\.bind_auto_h2c|\bServer::bind)\s*\("),
        re!(r"(?:\.run|\.listen)\s*\("),
    ];
    for call in calls
        .into_iter()
        .flat_map(|re| view.sources(RS).flat_map(move |file| hits(file, re)))
    {
        if call.call_args().trim().is_empty() {
            continue;
        }
        let value = rust_address(call.text, call.call_args(), 3);
        if !is_address(&value) {
            continue;
        }
        d.set_port(&value, call.spot());
        d.set_host(&value, call.spot());
        return;
    }
}

/// A literal port or host, or a variable named for one (`PORT`,
/// `BIND_ADDR`, `SERVER_HOST`), not a database's URL.
fn is_address(value: &Value) -> bool {
    value.port().is_some()
        || value.host().is_some()
        || value.env.as_deref().is_some_and(|name| {
            let name = name.to_ascii_uppercase();
            ["PORT", "HOST", "ADDR", "BIND", "LISTEN"]
                .iter()
                .any(|word| name.contains(word))
                && !["DATABASE", "DB_", "REDIS", "POSTGRES", "MYSQL"]
                    .iter()
                    .any(|word| name.contains(word))
        })
}

fn rust_address(text: &str, expr: &str, depth: u8) -> Value {
    let expr = expr.trim().trim_start_matches('&').trim();
    // `"0.0.0.0:8000".parse().unwrap()`, `addr.parse::<SocketAddr>()?`.
    let expr = re!(r#"^(.+?)\.parse(?:::<[\w:]+>)?\(\)(?:\.unwrap\(\)|\.expect\(.*\)|\?)?$"#)
        .captures(expr)
        .and_then(|c| c.get(1))
        .map_or(expr, |m| m.as_str().trim());
    // A tuple `("127.0.0.1", 8080)` or `([0, 0, 0, 0], 3000)`.
    let inner = expr
        .strip_prefix('(')
        .and_then(|e| e.strip_suffix(')'))
        .unwrap_or(expr);
    let parts = split_args(inner);
    if parts.len() == 2 {
        let host = ipv4_array(parts[0]).or_else(|| resolve(text, parts[0]).host());
        let port = resolve(text, parts[1]);
        return Value {
            literal: Some(match (host, port.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h,
                (None, Some(p)) => p.to_string(),
                (None, None) => String::new(),
            })
            .filter(|l| !l.is_empty()),
            env: port.env,
            line: None,
        };
    }
    if let Some(rest) = expr.strip_prefix("SocketAddr::from(") {
        return rust_address(text, rest.strip_suffix(')').unwrap_or(rest), depth);
    }
    let value = resolve(text, expr);
    if value.is_empty()
        && depth > 0
        && let Some(rhs) = assigned(text, expr)
    {
        return rust_address(text, rhs, depth - 1);
    }
    value
}

/// The right-hand side of `let name = ...;`.
fn assigned<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let re = re!(r"(?m)^\s*let\s+(?:mut\s+)?(\w+)\s*(?::\s*[\w:<>]+\s*)?=\s*(.+?);?\s*$");
    re.captures_iter(text)
        .find(|c| c.get(1).is_some_and(|m| m.as_str() == name))
        .and_then(|c| c.get(2))
        .map(|m| m.as_str())
}

/// `[127, 0, 0, 1]` → `127.0.0.1`.
fn ipv4_array(expr: &str) -> Option<String> {
    let inner = expr.trim().strip_prefix('[')?.strip_suffix(']')?;
    let octets: Vec<&str> = inner.split(',').map(str::trim).collect();
    (octets.len() == 4 && octets.iter().all(|o| o.parse::<u8>().is_ok())).then(|| octets.join("."))
}

/// Rocket listens on 127.0.0.1:8000 unless Rocket.toml or ROCKET_* env
/// vars say otherwise.
fn rocket(view: &AppView<'_>, d: &mut Detection) {
    d.bind_fix = Some("set ROCKET_ADDRESS=0.0.0.0".to_owned());
    let config = view.file("Rocket.toml");
    let text = config
        .and_then(|f| f.content.as_deref())
        .unwrap_or_default();
    let path = config.map_or(String::new(), |f| f.path.clone());
    let key = |re: &regex::Regex| {
        let m = re.captures(text)?.get(1)?;
        Some((m.as_str().to_owned(), super::scan::line_at(text, m.start())))
    };
    if let Some((port, line)) = key(re!(r#"(?m)^\s*port\s*=\s*"?(\d+)"?"#))
        && let Ok(port) = port.parse()
    {
        d.port = Some(Found::new(port, Spot::at(&path, line, "Rocket.toml port")));
    }
    match key(re!(r#"(?m)^\s*address\s*=\s*"([^"]+)""#)) {
        Some((address, line)) => {
            d.host = Some(Found::new(
                address,
                Spot::at(&path, line, "Rocket.toml address"),
            ))
        }
        None => {
            d.loopback_default = Some(
                d.kind_at
                    .with_detail("Rocket listens on 127.0.0.1 unless ROCKET_ADDRESS is set"),
            )
        }
    }
}

fn not_a_server(view: &AppView<'_>, cargo: &Cargo, has_main: bool, language_at: Spot) -> Detection {
    let new = |kind, at: Spot| {
        Detection::new("rust", kind, Confidence::Manifest, language_at.clone()).framework_less(at)
    };
    let groups: [(Kind, &[&str], &str); 3] = [
        (
            Kind::Desktop,
            &[
                "tauri", "eframe", "egui", "iced", "gtk", "gtk4", "slint", "druid", "bevy",
            ],
            "desktop GUI",
        ),
        (
            Kind::Bot,
            &["serenity", "poise", "teloxide", "twilight-gateway"],
            "chat bot client",
        ),
        (
            Kind::Cli,
            &["clap", "structopt", "argh", "pico-args", "lexopt", "bpaf"],
            "command-line parser",
        ),
    ];
    for (kind, crates, what) in groups {
        if let Some(krate) = crates.iter().find(|c| cargo.has(c)) {
            if kind == Kind::Cli && !has_main && cargo.bins.is_empty() {
                continue;
            }
            return new(kind, cargo.spot(krate, format!("{krate} {what}")));
        }
    }
    if !has_main && cargo.bins.is_empty() {
        let lib = view.file("src/lib.rs").map_or_else(
            || cargo.spot("[lib]", "a library crate"),
            |f| Spot::file(&f.path, "a library crate (src/lib.rs, no binary)"),
        );
        return new(Kind::Library, lib);
    }
    new(
        Kind::Unknown,
        language_at.with_detail("a binary with no web framework"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parsed_address_string() {
        for (text, expr) in [
            ("", r#"&"0.0.0.0:8000".parse().unwrap()"#),
            ("", r#""0.0.0.0:8000".parse::<SocketAddr>()?"#),
            (
                "let addr = \"0.0.0.0:8000\";\n",
                r#"&addr.parse().expect("a valid address")"#,
            ),
        ] {
            let value = rust_address(text, expr, 3);
            assert_eq!(value.port(), Some(8000), "{expr}");
            assert_eq!(value.host().as_deref(), Some("0.0.0.0"), "{expr}");
        }
    }

    #[test]
    fn tuples_arrays_and_strings() {
        let v = rust_address("", r#"("127.0.0.1", 8080)"#, 1);
        assert_eq!(
            (v.host().as_deref(), v.port()),
            (Some("127.0.0.1"), Some(8080))
        );
        let text = "let addr = SocketAddr::from(([0, 0, 0, 0], 3000));\n";
        let v = rust_address(text, "&addr", 2);
        assert_eq!(
            (v.host().as_deref(), v.port()),
            (Some("0.0.0.0"), Some(3000))
        );
        let v = rust_address("", r#""0.0.0.0:3000""#, 1);
        assert_eq!(v.port(), Some(3000));
    }

    #[test]
    fn env_port_with_fallback() {
        let text = "let port = std::env::var(\"PORT\").unwrap_or_else(|_| \"8080\".into());\n";
        let v = rust_address(text, r#"format!("0.0.0.0:{port}")"#, 2);
        assert_eq!(v.env.as_deref(), Some("PORT"));
        assert_eq!(v.port(), Some(8080));
    }
}
