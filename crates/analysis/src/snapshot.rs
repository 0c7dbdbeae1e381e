use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::AnalysisError;

/// One file of a repository. `content` is present for text files the loader
/// chose to read (small enough, valid UTF-8); large or binary files carry
/// only their path and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the repository root, `/`-separated, never `..`.
    pub path: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The file's encoding on disk when its text was decoded from one other
    /// than UTF-8 (`utf-16le`, `utf-16be`: a byte-order mark said so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

/// Everything the analysis may look at: the files of one commit, sorted by
/// path. Built by the `repo` crate from a checkout, or in memory by tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub files: Vec<FileEntry>,
}

impl Snapshot {
    pub fn new(mut files: Vec<FileEntry>) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Self { files }
    }

    /// Builds a snapshot from `(path, content)` pairs; handy in tests.
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::new(
            texts
                .into_iter()
                .map(|(path, content)| FileEntry {
                    path: path.to_owned(),
                    size: content.len() as u64,
                    content: Some(content.to_owned()),
                    encoding: None,
                })
                .collect(),
        )
    }

    pub fn get(&self, path: &str) -> Option<&FileEntry> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }

    /// The text of `path`, if the loader read it.
    pub fn text(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(|f| f.content.as_deref())
    }
}

/// Bounds on what [`Snapshot::from_dir`] walks and reads: repository content
/// is untrusted, so a hostile repository must not exhaust memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotLimits {
    /// Most files and directories walked (skipped directories not counted).
    pub max_files: usize,
    /// Files larger than this are listed with their size but not read.
    pub max_file_bytes_read: u64,
    /// Most bytes all walked files may add up to.
    pub max_total_bytes: u64,
}

impl Default for SnapshotLimits {
    fn default() -> Self {
        Self {
            max_files: 20_000,
            // Source files and manifests are far smaller; lock files and
            // bundles above this are not needed to understand an app.
            max_file_bytes_read: 256 * 1024,
            max_total_bytes: 512 * 1024 * 1024,
        }
    }
}

/// Directories that hold dependencies, build output or tool caches: never an
/// app's own source, and often huge.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "vendor",
    "target",
    "dist",
    "build",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".gradle",
    ".next",
    ".nuxt",
    ".output",
    ".svelte-kit",
    ".terraform",
    "bower_components",
];

impl Snapshot {
    /// Walks `root` and reads its text files under `limits`.
    ///
    /// Symbolic links are never followed: each becomes an entry with no
    /// content, so nothing outside `root` is ever read through one. Special
    /// files (sockets, FIFOs, devices) are skipped without being opened.
    pub fn from_dir(root: &Path, limits: &SnapshotLimits) -> Result<Snapshot, AnalysisError> {
        let meta = fs::symlink_metadata(root).map_err(|source| io_error(root, source))?;
        if !meta.is_dir() {
            return Err(AnalysisError::NotADirectory {
                path: root.to_path_buf(),
            });
        }
        let mut walk = Walk {
            limits,
            files: Vec::new(),
            entries: 0,
            total_bytes: 0,
        };
        walk.dir(root, "")?;
        Ok(Snapshot::new(walk.files))
    }
}

struct Walk<'l> {
    limits: &'l SnapshotLimits,
    files: Vec<FileEntry>,
    entries: usize,
    total_bytes: u64,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path, prefix: &str) -> Result<(), AnalysisError> {
        let mut children: Vec<(String, PathBuf)> = fs::read_dir(dir)
            .map_err(|source| io_error(dir, source))?
            .map(|entry| {
                let entry = entry.map_err(|source| io_error(dir, source))?;
                Ok((
                    entry.file_name().to_string_lossy().into_owned(),
                    entry.path(),
                ))
            })
            .collect::<Result<_, AnalysisError>>()?;
        children.sort();
        for (name, path) in children {
            let meta = fs::symlink_metadata(&path).map_err(|source| io_error(&path, source))?;
            let kind = meta.file_type();
            if kind.is_dir() && SKIPPED_DIRS.contains(&name.as_str()) {
                continue;
            }
            self.count_entry()?;
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if kind.is_symlink() {
                self.files.push(FileEntry {
                    path: rel,
                    size: 0,
                    content: None,
                    encoding: None,
                });
            } else if kind.is_dir() {
                self.dir(&path, &rel)?;
            } else if kind.is_file() {
                self.file(&path, rel, meta.len())?;
            }
        }
        Ok(())
    }

    fn count_entry(&mut self) -> Result<(), AnalysisError> {
        self.entries += 1;
        if self.entries > self.limits.max_files {
            return Err(AnalysisError::TooManyFiles {
                limit: self.limits.max_files,
            });
        }
        Ok(())
    }

    fn file(&mut self, path: &Path, rel: String, size: u64) -> Result<(), AnalysisError> {
        self.total_bytes = self.total_bytes.saturating_add(size);
        if self.total_bytes > self.limits.max_total_bytes {
            return Err(AnalysisError::TooLarge {
                limit: self.limits.max_total_bytes,
            });
        }
        let cap = if is_version_lock(&rel) {
            self.limits.max_file_bytes_read.max(LOCK_BYTES_READ)
        } else {
            self.limits.max_file_bytes_read
        };
        let (content, encoding) = if size <= cap {
            read_text(path, cap)?
        } else {
            (None, None)
        };
        self.files.push(FileEntry {
            path: rel,
            size,
            content,
            encoding,
        });
        Ok(())
    }
}

/// Lock files whose pins decide the image (composer.lock's PHP floor,
/// Gemfile.lock's Rails and Ruby, poetry's and uv's Python): a Laravel
/// app's composer.lock is 300 KB and more, past what other files are read
/// to, so these are read up to this.
const LOCK_BYTES_READ: u64 = 4 * 1024 * 1024;

fn is_version_lock(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    matches!(
        name,
        "composer.lock" | "Gemfile.lock" | "poetry.lock" | "uv.lock" | "Pipfile.lock"
    )
}

/// Reads at most `cap` bytes; a file that grew past the cap since it was
/// listed, or that is neither UTF-8 nor UTF-16 with a byte-order mark, has
/// no text. The encoding is returned when it is not UTF-8.
fn read_text(path: &Path, cap: u64) -> Result<(Option<String>, Option<String>), AnalysisError> {
    let file = fs::File::open(path).map_err(|source| io_error(path, source))?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| io_error(path, source))?;
    if bytes.len() as u64 > cap {
        return Ok((None, None));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => (Some(text), None),
        Err(error) => match decode_utf16(error.as_bytes()) {
            Some((text, encoding)) => (Some(text), Some(encoding.to_owned())),
            None => (None, None),
        },
    })
}

/// UTF-16 text that starts with its byte-order mark (Windows editors save
/// `requirements.txt` so), without the mark.
fn decode_utf16(bytes: &[u8]) -> Option<(String, &'static str)> {
    let (rest, little, name) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (rest, true, "utf-16le"),
        [0xFE, 0xFF, rest @ ..] => (rest, false, "utf-16be"),
        _ => return None,
    };
    if rest.len() % 2 != 0 {
        return None;
    }
    let units = rest.chunks_exact(2).map(|pair| {
        if little {
            u16::from_le_bytes([pair[0], pair[1]])
        } else {
            u16::from_be_bytes([pair[0], pair[1]])
        }
    });
    let text: String = char::decode_utf16(units).collect::<Result<_, _>>().ok()?;
    (!text.contains('\0')).then_some((text, name))
}

fn io_error(path: &Path, source: std::io::Error) -> AnalysisError {
    AnalysisError::Io {
        path: path.to_path_buf(),
        source,
    }
}
