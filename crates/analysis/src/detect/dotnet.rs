//! .NET: ASP.NET Core web projects; desktop, mobile, worker and console
//! projects otherwise.

use super::detection::{Confidence, Detection, Kind};
use super::scan::{Found, Spot, find_line};
use super::value::{Value, host_in, port_in};
use super::view::{AppView, file_name};

const CS: &[&str] = &[".cs"];

pub(crate) fn detect(view: &AppView<'_>) -> Option<Detection> {
    let project = view
        .files
        .iter()
        .filter(|f| f.path.ends_with(".csproj"))
        .min_by_key(|f| f.path.matches('/').count())?;
    let text = project.content.as_deref().unwrap_or_default();
    let language_at = Spot::file(&project.path, "C# project");
    let spot = |needle: &str, what: &str| match find_line(text, needle) {
        Some(line) => Spot::at(&project.path, line, what.to_owned()),
        None => Spot::file(&project.path, what.to_owned()),
    };
    let new = |kind| Detection::new("csharp", kind, Confidence::Manifest, language_at.clone());
    if text.contains("<UseMaui>true") {
        return Some(new(Kind::Mobile).framework_less(spot("UseMaui", ".NET MAUI app")));
    }
    if text.contains("<UseWPF>true")
        || text.contains("<UseWindowsForms>true")
        || text.contains("Sdk.WindowsDesktop")
    {
        return Some(new(Kind::Desktop).framework_less(spot("<Use", "Windows desktop app")));
    }
    if !text.contains("Microsoft.NET.Sdk.Web") {
        if text.contains("Microsoft.NET.Sdk.Worker") {
            return Some(
                new(Kind::Batch).framework_less(spot("Sdk.Worker", "background worker service")),
            );
        }
        if text.contains("<OutputType>Exe</OutputType>") {
            return Some(
                new(Kind::Cli).framework_less(spot("<OutputType>", "console application")),
            );
        }
        return Some(new(Kind::Library).framework_less(spot("<Project", "class library")));
    }
    let mut d = new(Kind::Server).framework(
        "aspnet-core",
        spot("Microsoft.NET.Sdk.Web", "ASP.NET Core web project"),
    );
    if view.has_sources(CS) {
        d.confidence = Confidence::Code;
    }
    // Kestrel's own default; an official image's (see `image_port`) is
    // read with the repository's Dockerfile.
    d.default_port = Some(KESTREL_PORT);
    urls(view, &mut d);
    let assembly = re!(r"<AssemblyName>([^<]+)</AssemblyName>")
        .captures(text)
        .and_then(|c| c.get(1))
        .map_or_else(
            || {
                file_name(&project.path)
                    .trim_end_matches(".csproj")
                    .to_owned()
            },
            |m| m.as_str().to_owned(),
        );
    d.build = Some("dotnet publish -c Release -o out".to_owned());
    d.start_derived = Some(format!("dotnet out/{assembly}.dll"));
    Some(d)
}

/// Where Kestrel listens when nothing configures it.
const KESTREL_PORT: u16 = 5000;

/// The port an official .NET image (`mcr.microsoft.com/dotnet/aspnet:8.0`)
/// tells Kestrel to listen on: 8080 from .NET 8 (`ASPNETCORE_HTTP_PORTS`),
/// 80 before (`ASPNETCORE_URLS`). `None` for any other image.
pub(crate) fn image_port(image: &str) -> Option<u16> {
    let caps = re!(
        r"^(?:mcr\.microsoft\.com/)?dotnet/(?:core/)?(?:aspnet|runtime|runtime-deps|sdk):(\d+)"
    )
    .captures(image)?;
    let major: u32 = caps.get(1)?.as_str().parse().ok()?;
    Some(if major >= 8 { 8080 } else { 80 })
}

/// Addresses set in code (`app.Run(url)`, `UseUrls`, `ListenAnyIP`) or in
/// appsettings.json (`Urls`, Kestrel endpoints). launchSettings.json only
/// drives local development and is ignored.
fn urls(view: &AppView<'_>, d: &mut Detection) {
    if let Some(hit) = view.find(CS, re!(r#"(?:\.Run|UseUrls|\.Urls\.Add)\s*\(\s*"([^"]+)""#)) {
        let url = hit
            .group(1)
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default();
        set_url(d, url, hit.spot());
        return;
    }
    if let Some(hit) = view.find(CS, re!(r"\b(ListenAnyIP|ListenLocalhost)\s*\(\s*(\d+)")) {
        if let Some(port) = hit.group(2).and_then(|p| p.parse().ok()) {
            d.port = Some(Found::new(port, hit.spot()));
        }
        let host = if hit.group(1) == Some("ListenLocalhost") {
            "localhost"
        } else {
            "0.0.0.0"
        };
        d.host = Some(Found::new(host.to_owned(), hit.spot()));
        return;
    }
    let settings = view
        .file("appsettings.json")
        .and_then(|f| Some((f, f.content.as_deref()?)));
    if let Some((file, text)) = settings
        && let Some(caps) = re!(r#""(?:Urls|Url)"\s*:\s*"([^"]+)""#).captures(text)
        && let Some(url) = caps.get(1)
    {
        let at = Spot::at(
            &file.path,
            super::scan::line_at(text, url.start()),
            format!("Urls: {}", url.as_str()),
        );
        set_url(d, url.as_str().split(';').next().unwrap_or_default(), at);
    }
}

fn set_url(d: &mut Detection, url: &str, at: Spot) {
    let value = Value {
        literal: Some(url.to_owned()),
        ..Value::default()
    };
    if port_in(url).is_some() {
        d.set_port(&value, at.clone());
    }
    if host_in(url).is_some() {
        d.set_host(&value, at);
    }
}
