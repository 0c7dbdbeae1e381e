//! ASP.NET Core: `dotnet publish` in the SDK image, the published app run by
//! the ASP.NET runtime image as its built-in non-root `app` user.

use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::app_files::{AppFiles, join, parent};
use crate::bundle::health::Probe;
use crate::bundle::images::{
    DOTNET_8_ASPNET, DOTNET_8_SDK, DOTNET_9_ASPNET, DOTNET_9_SDK, DOTNET_10_ASPNET, DOTNET_10_SDK,
};

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
    let project_name = project
        .rsplit('/')
        .next()
        .unwrap_or(project)
        .trim_end_matches(".csproj");
    // MSBuild imports the nearest Directory.Build.props above the project
    // (shared properties) and Directory.Packages.props (central package
    // versions): the build needs them, and they may set what the project
    // does not.
    let project_path = join(files.subdir(), project);
    let build_props = nearest_above(files, &project_path, "Directory.Build.props");
    let package_props = nearest_above(files, &project_path, "Directory.Packages.props");
    let global_json = nearest_above(files, &project_path, "global.json");
    let property = |name: &str| {
        tag(manifest, name).or_else(|| build_props.as_ref().and_then(|(_, text)| tag(text, name)))
    };
    let assembly = property("AssemblyName")
        .map(|name| name.replace("$(MSBuildProjectName)", project_name))
        .filter(|name| !name.contains("$("))
        .unwrap_or_else(|| project_name.to_owned());
    let framework = property("TargetFramework")
        .or_else(|| property("TargetFrameworks"))
        .unwrap_or_default();
    let (sdk, runtime) = if framework.starts_with("net10") {
        (DOTNET_10_SDK, DOTNET_10_ASPNET)
    } else if framework.starts_with("net9") {
        (DOTNET_9_SDK, DOTNET_9_ASPNET)
    } else {
        (DOTNET_8_SDK, DOTNET_8_ASPNET)
    };
    let shared_dirs: Vec<String> = [&build_props, &package_props, &global_json]
        .into_iter()
        .flatten()
        .map(|(dir, _)| dir.clone())
        .collect();
    let (context, publish) = build_root(files, project, manifest, &shared_dirs);
    let mut notes = Vec::new();
    if let Some(root) = &context {
        notes.push(format!(
            "{project} references projects or MSBuild files (Directory.Build.props, Directory.Packages.props, global.json) outside the app's folder: the image is built from {}, which holds them all.",
            if root.is_empty() { "the repository root" } else { root }
        ));
    }
    let mut text = Text::new(inputs, "ASP.NET Core app (C#)");
    text.line(format!("FROM {sdk} AS build"))
        .line("WORKDIR /src")
        // The whole tree, not just the project file: project references
        // must be there for the restore.
        .line("COPY . .")
        .line(format!(
            "RUN dotnet publish \"{publish}\" -c Release -o /out /p:UseAppHost=false"
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
        context,
        notes,
    })
}

/// Where the image is built from, and the project's path there: the app's
/// folder, unless its `<ProjectReference>`s reach sibling folders
/// (`..\Core\Core.csproj`, a solution's other projects), whose nearest
/// common folder then holds them all.
fn build_root(
    files: &AppFiles,
    project: &str,
    manifest: &str,
    shared_dirs: &[String],
) -> (Option<String>, String) {
    let subdir = files.subdir();
    let project_dir = join(subdir, parent(project));
    let mut root: Vec<String> = subdir
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let mut rest = manifest;
    while let Some(at) = rest.find("<ProjectReference") {
        rest = &rest[at..];
        let include = rest
            .find("Include=\"")
            .map(|i| &rest[i + 9..])
            .and_then(|r| r.find('"').map(|end| r[..end].replace('\\', "/")));
        rest = &rest[1..];
        let Some(include) = include else { continue };
        let referenced = join(&project_dir, parent(&include));
        let common = root
            .iter()
            .zip(referenced.split('/'))
            .take_while(|(a, b)| a.as_str() == *b)
            .count();
        root.truncate(common);
    }
    for dir in shared_dirs {
        let common = root
            .iter()
            .zip(dir.split('/').filter(|p| !p.is_empty()))
            .take_while(|(a, b)| a.as_str() == *b)
            .count();
        root.truncate(common);
    }
    let root = root.join("/");
    if root == subdir {
        return (None, project.to_owned());
    }
    (
        Some(root.clone()),
        relative_path(&root, &join(subdir, project)),
    )
}

/// The folder and text of the nearest file called `name` in the folder of
/// `path` (repository-relative) or any above it.
fn nearest_above(files: &AppFiles, path: &str, name: &str) -> Option<(String, String)> {
    let mut dir = parent(path).to_owned();
    loop {
        if let Some(text) = files.repo().text(&join(&dir, name)) {
            return Some((dir, text.to_owned()));
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent(&dir).to_owned();
    }
}

/// `path` from `root`, both repository-relative.
fn relative_path(root: &str, path: &str) -> String {
    if root.is_empty() {
        path.to_owned()
    } else {
        path.strip_prefix(&format!("{root}/"))
            .unwrap_or(path)
            .to_owned()
    }
}

/// The text of the first `<name>…</name>` element in an MSBuild file.
fn tag(manifest: &str, name: &str) -> Option<String> {
    let start = manifest.find(&format!("<{name}>"))? + name.len() + 2;
    let end = manifest[start..].find(&format!("</{name}>"))? + start;
    let value = manifest[start..end].trim();
    (!value.is_empty()).then(|| value.to_owned())
}
