//! ASP.NET Core: `dotnet publish` in the SDK image, the published app run by
//! the ASP.NET runtime image as its built-in non-root `app` user.

use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::health::Probe;
use crate::bundle::images::{DOTNET_8_ASPNET, DOTNET_8_SDK, DOTNET_9_ASPNET, DOTNET_9_SDK};

pub(super) fn image(inputs: &Inputs) -> Result<Image, InfraError> {
    let files = inputs.files;
    let projects = files.with_suffix(".csproj");
    // A web project says so in its SDK; prefer it over test and library projects.
    let project = projects
        .iter()
        .find(|p| {
            files
                .text(p)
                .is_some_and(|t| t.contains("Microsoft.NET.Sdk.Web"))
        })
        .or(projects.first())
        .copied()
        .ok_or_else(|| {
            InfraError::Bundle(
                "the .NET app has no .csproj file; add a Dockerfile to the repository".to_owned(),
            )
        })?;
    let manifest = files.text(project).unwrap_or_default();
    let assembly = tag(manifest, "AssemblyName").unwrap_or_else(|| {
        let file = project.rsplit('/').next().unwrap_or(project);
        file.trim_end_matches(".csproj").to_owned()
    });
    let (sdk, runtime) = match tag(manifest, "TargetFramework").as_deref() {
        Some(tf) if tf.starts_with("net9") => (DOTNET_9_SDK, DOTNET_9_ASPNET),
        _ => (DOTNET_8_SDK, DOTNET_8_ASPNET),
    };
    let mut text = Text::new(inputs, "ASP.NET Core app (C#)");
    text.line(format!("FROM {sdk} AS build"))
        .line("WORKDIR /src")
        // The whole tree, not just the project file: project references
        // must be there for the restore.
        .line("COPY . .")
        .line(format!(
            "RUN dotnet publish \"{project}\" -c Release -o /out /p:UseAppHost=false"
        ))
        .blank()
        .line(format!("FROM {runtime}"))
        .app_dir("app")
        .line("COPY --from=build /out .");
    Ok(Image {
        dockerfile: text.finish(inputs, "app", &exec_form(&format!("dotnet {assembly}.dll"))),
        probe: Probe::Wget,
        ignore: &["bin", "obj", "*.user", ".vs"],
        extra_files: Vec::new(),
        context: None,
        notes: Vec::new(),
    })
}

/// The text of the first `<name>…</name>` element in an MSBuild file.
fn tag(manifest: &str, name: &str) -> Option<String> {
    let start = manifest.find(&format!("<{name}>"))? + name.len() + 2;
    let end = manifest[start..].find(&format!("</{name}>"))? + start;
    let value = manifest[start..end].trim();
    (!value.is_empty()).then(|| value.to_owned())
}
