//! Go: net/http (named by its router: chi, gorilla/mux, httprouter), Gin,
//! Echo, Fiber; CLIs, libraries, desktop apps and bots otherwise.

use super::detection::{Confidence, Detection, Kind};
use super::scan::{Hit, Spot, find_line, first_hit, split_args};
use super::value::resolve;
use super::view::{AppView, parent};

const GO: &[&str] = &[".go"];

/// (module path fragment, framework, the call that starts its server)
fn frameworks() -> [(&'static str, &'static str, &'static regex::Regex); 3] {
    [
        ("github.com/gin-gonic/gin", "gin", re!(r"\.Run\s*\(")),
        ("github.com/labstack/echo", "echo", re!(r"\.Start\s*\(")),
        ("github.com/gofiber/fiber", "fiber", re!(r"\.Listen\s*\(")),
    ]
}

pub(crate) fn detect(view: &AppView<'_>) -> Option<Detection> {
    let go_mod = view.file("go.mod");
    if go_mod.is_none() && !view.has_sources(GO) {
        return None;
    }
    let language_at = go_mod.map_or_else(
        || {
            Spot::file(
                view.sources(GO).next().map_or("", |f| f.path.as_str()),
                "Go source",
            )
        },
        |f| Spot::file(&f.path, "go.mod"),
    );
    let main = view.find(GO, re!(r"(?m)^package\s+main\b"));
    // Without a main package nothing can be run: a module that calls
    // `http.ListenAndServe` or imports gin there is a library (gin itself).
    if main.is_none() {
        return Some(not_a_server(
            view,
            go_mod.and_then(|f| f.content.as_deref()),
            None,
            language_at,
        ));
    }
    for (module, name, start) in frameworks() {
        let import = view.find(GO, import_re(module));
        let Some(import) = import else { continue };
        // The server is started in a file importing the framework, or in
        // the main package on an engine another package made
        // (`engine, _ := cmd.InitApp()`, then `engine.Run(addr)`).
        let call = first_call_in(view, start, |text| text.contains(module)).or_else(|| {
            first_call_in(view, start, |text| {
                re!(r"(?m)^package\s+main\b").is_match(text)
            })
        });
        let mut d = Detection::new("go", Kind::Server, Confidence::Code, language_at.clone())
            .framework(name, import.spot().with_detail(format!("imports {module}")));
        d.default_port = Some(if name == "gin" { 8080 } else { 3000 });
        if name == "echo" {
            d.default_port = Some(1323);
        }
        if let Some(call) = call {
            address(&mut d, &call, split_args(call.call_args()).first().copied());
        } else if let Some(listen) = net_http_listen(view) {
            // The router served by net/http's own server.
            listen_address(view, &mut d, &listen);
        }
        finish(view, &mut d, main.as_ref().map(|m| m.file));
        return Some(d);
    }
    if let Some(listen) = net_http_listen(view) {
        // A router on net/http names the app's framework; net/http serves it.
        let (framework, at) = routers()
            .into_iter()
            .find_map(|(name, import)| {
                let hit = view.find(GO, import)?;
                Some((
                    name,
                    hit.spot().with_detail(format!("imports the {name} router")),
                ))
            })
            .unwrap_or(("net-http", listen.spot()));
        let mut d = Detection::new("go", Kind::Server, Confidence::Code, language_at)
            .framework(framework, at);
        d.default_port = Some(8080);
        listen_address(view, &mut d, &listen);
        finish(view, &mut d, main.as_ref().map(|m| m.file));
        return Some(d);
    }
    Some(not_a_server(
        view,
        go_mod.and_then(|f| f.content.as_deref()),
        main.as_ref(),
        language_at,
    ))
}

/// Routers that run on net/http: (framework, their import).
fn routers() -> [(&'static str, &'static regex::Regex); 3] {
    [
        ("chi", re!(r#""github\.com/go-chi/chi(?:/v\d+)?""#)),
        ("gorilla-mux", re!(r#""github\.com/gorilla/mux""#)),
        (
            "httprouter",
            re!(r#""github\.com/julienschmidt/httprouter""#),
        ),
    ]
}

fn import_re(module: &str) -> &'static regex::Regex {
    match module {
        "github.com/gin-gonic/gin" => re!(r#""github\.com/gin-gonic/gin""#),
        "github.com/labstack/echo" => re!(r#""github\.com/labstack/echo(?:/v\d+)?""#),
        _ => re!(r#""github\.com/gofiber/fiber(?:/v\d+)?""#),
    }
}

/// The first match of `start` in the Go files whose text `holds`.
fn first_call_in<'v>(
    view: &AppView<'v>,
    start: &'static regex::Regex,
    holds: impl Fn(&str) -> bool,
) -> Option<Hit<'v>> {
    first_hit(
        view.sources(GO)
            .filter(|file| file.content.as_deref().is_some_and(&holds)),
        start,
    )
}

/// Reads a listen address expression: `":8080"`, `"localhost:8080"`,
/// `":"+port`, `addr` assigned from `os.Getenv`.
fn address(d: &mut Detection, call: &Hit<'_>, expr: Option<&str>) {
    let Some(expr) = expr.filter(|e| !e.trim().is_empty()) else {
        return;
    };
    let value = resolve(call.text, expr);
    d.set_port(&value, call.spot());
    d.set_host(&value, call.spot());
}

/// net/http's own listen call or server.
fn net_http_listen<'v>(view: &AppView<'v>) -> Option<Hit<'v>> {
    view.find(GO, re!(r"\bhttp\.ListenAndServe(?:TLS)?\s*\("))
        .or_else(|| view.find(GO, re!(r"\bhttp\.Server\s*\{")))
        .or_else(|| view.find(GO, re!(r#"\bnet\.Listen\s*\(\s*"tcp""#)))
}

/// The port and address of net/http's listen call or `http.Server` literal.
fn listen_address(view: &AppView<'_>, d: &mut Detection, listen: &Hit<'_>) {
    let addr = if listen.quote().contains("http.Server") {
        // The field's whole expression: `fmt.Sprintf(":%d", port)` has
        // commas of its own.
        split_args(listen.call_args())
            .into_iter()
            .find_map(|field| re!(r"^Addr\s*:\s*").find(field).map(|m| &field[m.end()..]))
    } else {
        let args = split_args(listen.call_args());
        let index = usize::from(listen.quote().contains("net.Listen"));
        args.get(index).copied()
    };
    address(d, listen, addr);
    if d.port.is_none() && d.port_env.is_none() {
        config_field(view, d, listen.text, addr);
    }
}

/// A listen address built from a config struct's field (`fmt.Sprintf(":%d",
/// env.AppPort)`, directly or through a variable), whose value the struct's
/// literal gives in another file (`AppPort: getEnvInt("APP_PORT", 8500),`).
fn config_field(view: &AppView<'_>, d: &mut Detection, text: &str, expr: Option<&str>) {
    let Some(expr) = expr.map(str::trim) else {
        return;
    };
    let mut exprs = vec![expr.to_owned()];
    if re!(r"^[A-Za-z_]\w*$").is_match(expr)
        && let Ok(assigned) =
            regex::Regex::new(&format!(r"(?m)^\s*{}\s*:?=\s*(.+)$", regex::escape(expr)))
    {
        exprs.extend(
            assigned
                .captures_iter(text)
                .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned())),
        );
    }
    let fields: Vec<String> = exprs
        .iter()
        .flat_map(|e| {
            re!(r"\b[A-Za-z_]\w*\.([A-Z]\w*)\b")
                .captures_iter(e)
                .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    for field in fields {
        let Ok(literal) = regex::Regex::new(&format!(
            r"(?m)^\s*{}\s*:\s*(.+?),?\s*(?://.*)?$",
            regex::escape(&field)
        )) else {
            continue;
        };
        for file in view.sources(GO) {
            let Some(content) = file.content.as_deref() else {
                continue;
            };
            let Some(found) = literal.captures(content) else {
                continue;
            };
            let (Some(whole), Some(rhs)) = (found.get(0), found.get(1)) else {
                continue;
            };
            let value = resolve(content, rhs.as_str());
            if value.port().is_some() || value.env.is_some() {
                let line = super::scan::line_at(content, whole.start());
                d.set_port(
                    &value,
                    Spot::at(&file.path, line, whole.as_str().trim().to_owned()),
                );
                return;
            }
        }
    }
}

/// The port from a command-line flag's default when the listen call did
/// not show one, and the build of the main package.
fn finish(view: &AppView<'_>, d: &mut Detection, main_file: Option<&str>) {
    if d.port.is_none() && d.port_env.is_none() {
        flag_default(view, d);
    }
    build(view, d, main_file);
}

/// `flag.IntVar(&cfg.port, "port", 4000, "...")`, `flag.String("addr", ":8080", "...")`.
fn flag_default(view: &AppView<'_>, d: &mut Detection) {
    let re = re!(
        r#"\bflag\.(?:Int|Uint|String)(?:Var)?\(\s*(?:&[\w.]+\s*,\s*)?"(?:port|addr|address|listen|http|http-addr|http-port|listen-addr)"\s*,\s*"?([^",)]*)"?"#
    );
    if let Some(hit) = view.find(GO, re) {
        let value = resolve(
            hit.text,
            &format!("\"{}\"", hit.group(1).unwrap_or_default()),
        );
        d.set_port(&value, hit.spot());
        d.set_host(&value, hit.spot());
    }
}

/// `go build` of the main package, run as `./app`.
fn build(view: &AppView<'_>, d: &mut Detection, main_file: Option<&str>) {
    let package = main_file.map(|f| parent(view.rel(f))).unwrap_or_default();
    let package = if package.is_empty() {
        ".".to_owned()
    } else {
        format!("./{package}")
    };
    d.build = Some(format!("go build -o app {package}"));
    d.start_derived = Some("./app".to_owned());
}

fn not_a_server(
    view: &AppView<'_>,
    go_mod: Option<&str>,
    main: Option<&Hit<'_>>,
    language_at: Spot,
) -> Detection {
    let requires = |module: &str| go_mod.is_some_and(|text| text.contains(module));
    let new = |kind, at: Spot| {
        Detection::new("go", kind, Confidence::Code, language_at.clone()).framework_less(at)
    };
    let go_mod_spot = |module: &str, what: &str| {
        let path = view.path("go.mod");
        match go_mod.and_then(|t| find_line(t, module)) {
            Some(line) => Spot::at(&path, line, what.to_owned()),
            None => Spot::file(&path, what.to_owned()),
        }
    };
    for (module, what) in [
        ("fyne.io/fyne", "Fyne desktop GUI"),
        ("github.com/wailsapp/wails", "Wails desktop app"),
    ] {
        if requires(module) {
            return new(Kind::Desktop, go_mod_spot(module, what));
        }
    }
    for (module, what) in [
        ("github.com/bwmarrin/discordgo", "discordgo bot client"),
        (
            "github.com/go-telegram-bot-api",
            "Telegram bot polling for updates",
        ),
        ("gopkg.in/telebot", "Telegram bot polling for updates"),
    ] {
        if requires(module) {
            return new(Kind::Bot, go_mod_spot(module, what));
        }
    }
    let cli = view
        .find(GO, re!(r"&cobra\.Command\s*\{"))
        .map(|h| h.spot().with_detail("cobra command"))
        .or_else(|| {
            view.find(GO, re!(r"&cli\.(?:App|Command)\s*\{"))
                .map(|h| h.spot().with_detail("urfave/cli app"))
        })
        .or_else(|| {
            view.find(GO, re!(r"\bflag\.Parse\s*\("))
                .map(|h| h.spot().with_detail("flag-parsing main"))
        });
    match (cli, main) {
        (Some(cli), _) => new(Kind::Cli, cli),
        (None, Some(main)) => new(
            Kind::Unknown,
            main.spot()
                .with_detail("a main package with no HTTP listener"),
        ),
        (None, None) => new(
            Kind::Library,
            language_at.with_detail("a Go module with no main package"),
        ),
    }
}
