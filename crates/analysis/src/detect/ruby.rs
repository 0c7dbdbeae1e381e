//! Ruby: Rails, Sinatra and other Rack apps; Jekyll sites; bots, CLIs and
//! gems otherwise.

use super::detection::{Confidence, Detection, Kind};
use super::scan::{Found, Spot, line_at};
use super::value::resolve;
use super::view::AppView;

const RB: &[&str] = &[".rb", ".ru"];

struct Gemfile<'s> {
    path: String,
    text: &'s str,
}

impl Gemfile<'_> {
    /// Where `gem "name"` is declared.
    fn gem(&self, name: &str) -> Option<Spot> {
        let re = re!(r#"(?m)^\s*gem\s+["']([\w-]+)["']"#);
        re.captures_iter(self.text).find_map(|c| {
            let m = c.get(1)?;
            (m.as_str() == name).then(|| {
                Spot::at(
                    &self.path,
                    line_at(self.text, m.start()),
                    format!("gem \"{name}\""),
                )
            })
        })
    }
}

pub(crate) fn detect(view: &AppView<'_>) -> Option<Detection> {
    let gemfile = view.file("Gemfile").map(|f| Gemfile {
        path: f.path.clone(),
        text: f.content.as_deref().unwrap_or_default(),
    });
    if gemfile.is_none() && !view.has_sources(&[".rb"]) {
        return None;
    }
    let language_at = gemfile.as_ref().map_or_else(
        || {
            Spot::file(
                view.sources(RB).next().map_or("", |f| f.path.as_str()),
                "Ruby source",
            )
        },
        |g| Spot::file(&g.path, "Gemfile"),
    );
    let gem = |name: &str| gemfile.as_ref().and_then(|g| g.gem(name));
    let new = |kind, confidence| Detection::new("ruby", kind, confidence, language_at.clone());

    let rails_app = view.text("config/application.rb").and_then(|t| {
        t.find("Rails::Application").map(|at| {
            Spot::at(
                &view.path("config/application.rb"),
                line_at(t, at),
                "Rails application",
            )
        })
    });
    if let Some(at) = rails_app.or_else(|| gem("rails")) {
        let mut d = new(Kind::Server, Confidence::Code).framework("rails", at);
        rails(view, &mut d);
        return Some(d);
    }
    let classic = view.find(RB, re!(r#"(?m)^\s*require\s+["']sinatra["']"#));
    let modular = view.find(RB, re!(r"<\s*(?:::)?Sinatra::(?:Base|Application)\b"));
    if let Some(hit) = classic.as_ref().or(modular.as_ref()) {
        let mut d = new(Kind::Server, Confidence::Code).framework("sinatra", hit.spot());
        sinatra(
            view,
            &mut d,
            classic.as_ref().map(|h| h.file),
            &rack_start(&gem),
        );
        return Some(d);
    }
    if let Some(config_ru) = view.file("config.ru") {
        let mut d = new(Kind::Server, Confidence::Code)
            .framework("rack", Spot::file(&config_ru.path, "config.ru Rack app"));
        d.default_port = Some(9292);
        d.start_derived = Some(rack_start(&gem));
        return Some(d);
    }
    Some(not_a_server(view, &gem, &new, &language_at))
}

/// A Jekyll site, a bot, a gem or a CLI: whatever the Ruby code is when it
/// serves nothing.
fn not_a_server(
    view: &AppView<'_>,
    gem: &dyn Fn(&str) -> Option<Spot>,
    new: &dyn Fn(Kind, Confidence) -> Detection,
    language_at: &Spot,
) -> Detection {
    if let Some(at) = gem("jekyll") {
        let mut d = new(Kind::Static, Confidence::Manifest).framework("static", at);
        d.default_port = Some(80);
        d.build = Some("bundle exec jekyll build".to_owned());
        d.notes.push(
            "Jekyll site: the build writes `_site/`, served by a web server on port 80".to_owned(),
        );
        return d;
    }
    let bots = [
        ("discordrb", "discordrb bot client"),
        ("telegram-bot-ruby", "Telegram bot polling for updates"),
    ];
    if let Some(at) = bots
        .iter()
        .find_map(|(name, what)| Some(gem(name)?.with_detail(*what)))
    {
        return new(Kind::Bot, Confidence::Manifest).framework_less(at);
    }
    if let Some(gemspec) = view.files.iter().find(|f| f.path.ends_with(".gemspec")) {
        let executables = gemspec
            .content
            .as_deref()
            .is_some_and(|t| t.contains("executables"));
        let (kind, what) = if executables {
            (Kind::Cli, "a gem with command-line executables")
        } else {
            (Kind::Library, "a gem (library)")
        };
        return new(kind, Confidence::Manifest).framework_less(Spot::file(&gemspec.path, what));
    }
    if let Some(hit) = view.find(RB, re!(r"\bOptionParser\.new\b|<\s*Thor\b")) {
        let at = hit.spot().with_detail("command-line option parser");
        return new(Kind::Cli, Confidence::Code).framework_less(at);
    }
    let at = language_at.with_detail("no Rails, Sinatra or Rack app");
    new(Kind::Unknown, Confidence::Files).framework_less(at)
}

fn rails(view: &AppView<'_>, d: &mut Detection) {
    d.default_port = Some(3000);
    puma_config_port(view, d);
    let rails = if view.has("bin/rails") {
        "bin/rails"
    } else {
        "bundle exec rails"
    };
    let forces_https = view
        .text("config/environments/production.rb")
        .is_some_and(|t| {
            t.lines()
                .any(|l| l.trim().starts_with("config.force_ssl = true"))
        });
    if forces_https {
        d.notes.push("config/environments/production.rb sets `config.force_ssl = true`: every plain-HTTP request is redirected to HTTPS, so the app answers only behind TLS (a load balancer with a certificate, or a proxy); on plain HTTP set it to false.".to_owned());
    }
    d.start_derived = Some(format!("{rails} server -b 0.0.0.0 -p {{port}}"));
    d.bind_fix = Some("start with `-b 0.0.0.0` (or run with RAILS_ENV=production)".to_owned());
}

/// The `port` of `config/puma.rb` (`port ENV.fetch("PORT") { 3000 }`,
/// `port ENV.fetch "RACK_PORT", 4567`).
fn puma_config_port(view: &AppView<'_>, d: &mut Detection) {
    if let Some(puma) = view.file("config/puma.rb")
        && let Some(text) = puma.content.as_deref()
        && let Some(caps) = re!(r"(?m)^\s*port\s+(.+)$").captures(text)
        && let Some(expr) = caps.get(1)
    {
        let at = Spot::at(
            &puma.path,
            line_at(text, expr.start()),
            format!("port {}", expr.as_str().trim()),
        );
        // `ENV.fetch "X", 4567` without parentheses reads as the call with them.
        let expr = expr.as_str().trim();
        let expr = match re!(r#"^ENV\.fetch\s+(["'][^"']+["'])\s*,\s*(.+)$"#).captures(expr) {
            Some(c) => format!("ENV.fetch({}, {})", &c[1], &c[2]),
            None => expr.to_owned(),
        };
        d.set_port(&resolve(text, &expr), at);
    }
}

/// How a `config.ru` is served: by Puma when the Gemfile has it, since Rack 3
/// moved `rackup` into a gem of its own that apps serving with Puma seldom
/// list (`bundle exec rackup` is then "command not found"); by `rackup`
/// otherwise.
fn rack_start(gem: &dyn Fn(&str) -> Option<Spot>) -> String {
    if gem("puma").is_some() && gem("rackup").is_none() {
        "bundle exec puma -b tcp://0.0.0.0:{port} config.ru".to_owned()
    } else {
        "bundle exec rackup -o 0.0.0.0 -p {port}".to_owned()
    }
}

fn sinatra(view: &AppView<'_>, d: &mut Detection, classic_file: Option<&str>, rack_start: &str) {
    d.default_port = Some(4567);
    let set = |re: &'static regex::Regex| view.find(RB, re);
    if let Some(hit) = set(re!(r"(?m)\bset\s+:port\s*,\s*(.+)$")) {
        let expr = hit.group(1).unwrap_or_default();
        d.set_port(&resolve(hit.text, expr), hit.spot());
    } else if view
        .text("Procfile")
        .is_some_and(|p| p.contains("puma") && p.contains("config/puma.rb"))
    {
        // `web: puma --config ./config/puma.rb`: Puma listens where its
        // configuration says.
        puma_config_port(view, d);
    }
    if let Some(hit) = set(re!(r"(?m)\bset\s+:bind\s*,\s*(.+)$")) {
        let expr = hit.group(1).unwrap_or_default();
        d.set_host(&resolve(hit.text, expr), hit.spot());
    }
    d.bind_fix = Some("start with `-o 0.0.0.0` (or set APP_ENV=production)".to_owned());
    match classic_file {
        Some(file) if !view.has("config.ru") => {
            let file = view.rel(file).to_owned();
            let bundler = if view.has("Gemfile") {
                "bundle exec "
            } else {
                ""
            };
            let at = Spot::file(
                &view.path(&file),
                format!("{file} runs the classic Sinatra app"),
            );
            d.start = Some(Found::new(format!("{bundler}ruby {file}"), at.clone()));
            if d.host.is_none() {
                d.loopback_default = Some(at.with_detail(
                    "Sinatra listens on localhost in its default development environment",
                ));
            }
        }
        _ => {
            // A config.ru is served on Rack's default port.
            d.default_port = Some(9292);
            d.start_derived = Some(rack_start.to_owned());
        }
    }
}
