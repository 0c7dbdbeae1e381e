//! Git repositories built by tests with the real `git` CLI, isolated from the machine's
//! configuration (no global or system config, fixed identity and dates).

use std::path::{Path, PathBuf};
use std::process::Command;

/// One entry of a commit.
#[derive(Debug, Clone)]
pub enum FixtureFile {
    File {
        path: String,
        content: Vec<u8>,
    },
    /// A symbolic link at `path` whose target text is `target` (may point anywhere).
    Symlink {
        path: String,
        target: String,
    },
}

impl FixtureFile {
    pub fn file(path: &str, content: impl AsRef<[u8]>) -> Self {
        Self::File {
            path: path.to_owned(),
            content: content.as_ref().to_vec(),
        }
    }

    pub fn symlink(path: &str, target: &str) -> Self {
        Self::Symlink {
            path: path.to_owned(),
            target: target.to_owned(),
        }
    }

    /// Every regular file under `dir`, by path relative to it: a fixture
    /// app kept as files (lock files are too long to write inline).
    pub fn tree(dir: &Path) -> Vec<Self> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<FixtureFile>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
                .map(|entry| entry.expect("directory entry").path())
                .collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let rel = path.strip_prefix(root).expect("under the root");
                    let content = std::fs::read(&path)
                        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                    out.push(FixtureFile::file(&rel.to_string_lossy(), content));
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out
    }
}

/// A non-bare repository with branch `main`, in a temporary directory removed on drop
/// (or inside a caller's directory, see [`GitFixture::create_in`]).
pub struct GitFixture {
    path: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl GitFixture {
    /// A repository in a fresh temporary directory, with one commit of `files`.
    pub fn create(files: &[FixtureFile]) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("repo");
        let mut fixture = Self::init(path);
        fixture._dir = Some(dir);
        fixture.commit(files, "initial commit");
        fixture
    }

    /// A repository at `parent/name` (e.g. under a [`crate::git_server::GitHttpServer`]
    /// root), with one commit of `files`.
    pub fn create_in(parent: &Path, name: &str, files: &[FixtureFile]) -> Self {
        let mut fixture = Self::init(parent.join(name));
        fixture.commit(files, "initial commit");
        fixture
    }

    /// Shorthand for text files only.
    pub fn with_texts(texts: &[(&str, &str)]) -> Self {
        let files: Vec<FixtureFile> = texts
            .iter()
            .map(|(path, content)| FixtureFile::file(path, content))
            .collect();
        Self::create(&files)
    }

    fn init(path: PathBuf) -> Self {
        std::fs::create_dir_all(&path).expect("create repository directory");
        let fixture = Self { path, _dir: None };
        fixture.git(&["init", "--quiet", "--initial-branch=main"]);
        fixture
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `file:///…` for this repository.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// Writes `files` (replacing same-named ones) and commits them; returns the new
    /// commit's id.
    pub fn commit(&mut self, files: &[FixtureFile], message: &str) -> String {
        for file in files {
            self.write(file);
        }
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", message]);
        self.head()
    }

    /// The current commit id of HEAD.
    pub fn head(&self) -> String {
        self.rev_parse("HEAD")
    }

    pub fn rev_parse(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", &format!("{rev}^{{commit}}")])
            .trim()
            .to_owned()
    }

    /// Runs `git args` in the repository with the isolated environment; panics on
    /// failure and returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.path, args)
    }

    fn write(&self, file: &FixtureFile) {
        let (rel, dest) = match file {
            FixtureFile::File { path, .. } | FixtureFile::Symlink { path, .. } => {
                (path, self.path.join(path))
            }
        };
        assert!(
            !rel.split('/').any(|p| p == ".." || p == ".git"),
            "fixture path {rel:?} escapes the repository"
        );
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        if std::fs::symlink_metadata(&dest).is_ok() {
            std::fs::remove_file(&dest).expect("replace fixture file");
        }
        match file {
            FixtureFile::File { content, .. } => {
                std::fs::write(&dest, content).expect("write fixture file")
            }
            FixtureFile::Symlink { target, .. } => {
                std::os::unix::fs::symlink(target, &dest).expect("create fixture symlink")
            }
        }
    }
}

/// Runs `git` in `dir` with no global or system configuration and a fixed identity.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let output = git_command(dir)
        .args(args)
        .output()
        .expect("run git (is it installed?)");
    assert!(
        output.status.success(),
        "git {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("git output is UTF-8")
}

/// A `git` command in `dir` that ignores the machine's configuration.
pub fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .args([
            "-c",
            "user.name=deployflow tests",
            "-c",
            "user.email=tests@deployflow.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.symlinks=true",
        ]);
    command
}
