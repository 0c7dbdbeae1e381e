//! A job's Terraform working directory, rebuilt from the database on any worker:
//! the generated `*.tf` (after the policy gate), deployflow's own backend block,
//! and for a VM the bundle archive the instance downloads.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use uuid::Uuid;

use super::StateBackend;
use crate::error::PipelineError;

/// The backend block deployflow adds; its settings come on the command line.
pub const BACKEND_FILE: &str = "deployflow_backend.tf";
/// The archive `var.bundle_path` names.
pub const BUNDLE_ARCHIVE: &str = "bundle.tar.gz";
/// The saved plan inside the working directory.
pub const PLAN_FILE: &str = "deployflow.tfplan";

/// The Terraform backend type of `state`, as the policy gate and the backend block
/// name it.
pub fn backend_type(state: &StateBackend) -> &'static str {
    match state {
        StateBackend::Postgres { .. } => "pg",
        StateBackend::Local { .. } => "local",
    }
}

/// `terraform init` flags and the workspace for job `deployment` (the job whose
/// infrastructure it is: a destroy job passes the deployment's id).
pub fn init_args(state: &StateBackend, deployment: Uuid) -> (Vec<String>, Option<String>) {
    let mut args = vec![
        "init".to_owned(),
        "-input=false".to_owned(),
        "-no-color".to_owned(),
    ];
    match state {
        StateBackend::Postgres { schema, .. } => {
            args.push(format!("-backend-config=schema_name={schema}"));
            (args, Some(format!("job-{deployment}")))
        }
        StateBackend::Local { dir } => {
            args.push(format!(
                "-backend-config=path={}",
                local_state_path(dir, deployment).display()
            ));
            (args, None)
        }
    }
}

pub fn local_state_path(dir: &Path, deployment: Uuid) -> PathBuf {
    dir.join(format!("{deployment}.tfstate"))
}

/// Writes the working directory `root/<job>` afresh: `files` are the job's
/// `terraform/<name>` artifacts.
pub fn prepare(
    root: &Path,
    job: Uuid,
    files: &[(String, Vec<u8>)],
    state: &StateBackend,
) -> Result<PathBuf, PipelineError> {
    let dir = root.join(job.to_string());
    let io = |what: &str| {
        let what = what.to_owned();
        move |e| PipelineError::io(what, e)
    };
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io("clearing the Terraform working directory"))?;
    }
    std::fs::create_dir_all(&dir).map_err(io("creating the Terraform working directory"))?;
    if let StateBackend::Local { dir: state_dir } = state {
        std::fs::create_dir_all(state_dir).map_err(io("creating the Terraform state directory"))?;
    }
    for (path, content) in files {
        let name = path.strip_prefix("terraform/").unwrap_or(path);
        if name.contains('/') || name.starts_with('.') || !name.ends_with(".tf") {
            continue;
        }
        std::fs::write(dir.join(name), content).map_err(io("writing a Terraform file"))?;
    }
    let backend = format!(
        "# Added by deployflow: state lives where every worker finds it.\nterraform {{\n  backend \"{}\" {{}}\n}}\n",
        backend_type(state)
    );
    std::fs::write(dir.join(BACKEND_FILE), backend).map_err(io("writing the backend block"))?;
    Ok(dir)
}

/// The `*.tf` files of `dir` by name, for the policy gate.
pub fn read_tf_files(
    dir: &Path,
) -> Result<std::collections::BTreeMap<String, String>, PipelineError> {
    let mut files = std::collections::BTreeMap::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| PipelineError::io("reading the Terraform working directory", e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tf") {
            let text = std::fs::read_to_string(entry.path())
                .map_err(|e| PipelineError::io(format!("reading {name}"), e))?;
            files.insert(name, text);
        }
    }
    Ok(files)
}

/// The bundle archive: the repository at the job's commit with the generated
/// `bundle/` files on top, byte-for-byte the same on every worker (sorted,
/// zero timestamps and owners), so a saved plan's hash of it stays true.
pub fn write_bundle(
    dir: &Path,
    checkout: Option<&Path>,
    bundle_files: &[(String, Vec<u8>)],
) -> Result<PathBuf, PipelineError> {
    let mut entries: std::collections::BTreeMap<String, (Vec<u8>, u32)> = Default::default();
    if let Some(checkout) = checkout {
        collect(checkout, checkout, &mut entries)?;
    }
    for (path, content) in bundle_files {
        let name = path.strip_prefix("bundle/").unwrap_or(path);
        let mode = if name.ends_with(".sh") { 0o755 } else { 0o644 };
        entries.insert(name.to_owned(), (content.clone(), mode));
    }
    let path = dir.join(BUNDLE_ARCHIVE);
    let file = std::fs::File::create(&path)
        .map_err(|e| PipelineError::io("creating the bundle archive", e))?;
    let mut archive = tar::Builder::new(GzEncoder::new(file, Compression::default()));
    archive.mode(tar::HeaderMode::Deterministic);
    for (name, (content, mode)) in &entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        archive
            .append_data(&mut header, name, content.as_slice())
            .map_err(|e| PipelineError::io(format!("adding {name} to the bundle"), e))?;
    }
    archive
        .into_inner()
        .and_then(|gz| gz.finish())
        .and_then(|mut file| file.flush())
        .map_err(|e| PipelineError::io("writing the bundle archive", e))?;
    Ok(path)
}

/// The bundle archive unpacked into `dest`: the tree `make up` runs in.
pub fn unpack(archive: &Path, dest: &Path) -> Result<(), PipelineError> {
    let file = std::fs::File::open(archive)
        .map_err(|e| PipelineError::io("opening the bundle archive", e))?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(dest)
        .map_err(|e| PipelineError::io(format!("unpacking the bundle into {}", dest.display()), e))
}

/// Regular files under `dir` (no `.git`, no symlinks: the checkout has none that
/// point out, and the archive needs none).
fn collect(
    root: &Path,
    dir: &Path,
    entries: &mut std::collections::BTreeMap<String, (Vec<u8>, u32)>,
) -> Result<(), PipelineError> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| PipelineError::io(format!("reading {}", dir.display()), e))?;
    for entry in read.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if entry.file_name() == ".git" || kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            collect(root, &path, entries)?;
        } else if kind.is_file() {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let content = std::fs::read(&path)
                .map_err(|e| PipelineError::io(format!("reading {name}"), e))?;
            let executable = {
                use std::os::unix::fs::PermissionsExt;
                entry
                    .metadata()
                    .map(|m| m.permissions().mode() & 0o111 != 0)
                    .unwrap_or(false)
            };
            entries.insert(name, (content, if executable { 0o755 } else { 0o644 }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_archive_is_the_same_bytes_every_time() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::write(repo.path().join("app.py"), "print('hi')\n").unwrap();
        std::fs::create_dir(repo.path().join(".git")).unwrap();
        std::fs::write(repo.path().join(".git/config"), "secret").unwrap();
        let bundle = vec![("bundle/Makefile".to_owned(), b"up:\n".to_vec())];
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let first =
            std::fs::read(write_bundle(a.path(), Some(repo.path()), &bundle).unwrap()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second =
            std::fs::read(write_bundle(b.path(), Some(repo.path()), &bundle).unwrap()).unwrap();
        assert_eq!(first, second);
        let mut names: Vec<String> =
            tar::Archive::new(flate2::read::GzDecoder::new(first.as_slice()))
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().display().to_string())
                .collect();
        names.sort();
        assert_eq!(names, ["Makefile", "app.py"]);
    }
}
