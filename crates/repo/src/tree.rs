//! The file tree recorded in the clone checkpoint: enough for a person (and the LLM) to
//! see the repository's shape without the noise of dependencies and build output.

use std::collections::BTreeMap;

use analysis::Snapshot;
use serde::{Deserialize, Serialize};

/// Directories that are dependencies, build output or tool state, never the app itself.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "vendor",
    "bower_components",
    "target",
    "dist",
    "build",
    "out",
    ".next",
    ".nuxt",
    ".output",
    ".svelte-kit",
    ".gradle",
    ".terraform",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "coverage",
];

/// One file or directory of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    /// `/`-separated, relative to the repository root.
    pub path: String,
    /// A file's size, or the total size of the files under a directory (deeper ones too).
    pub size: u64,
    pub is_dir: bool,
}

/// The entries of `snapshot` at most `depth` path components deep, sorted by path.
/// Directories deeper than `depth` are not listed but count towards their ancestors'
/// sizes.
pub fn file_tree(snapshot: &Snapshot, depth: usize) -> Vec<TreeEntry> {
    let mut entries: BTreeMap<String, TreeEntry> = BTreeMap::new();
    for file in &snapshot.files {
        let parts: Vec<&str> = file.path.split('/').collect();
        if parts.iter().any(|part| SKIPPED_DIRS.contains(part)) {
            continue;
        }
        for dir_len in 1..parts.len().min(depth + 1) {
            let path = parts[..dir_len].join("/");
            entries
                .entry(path.clone())
                .or_insert(TreeEntry {
                    path,
                    size: 0,
                    is_dir: true,
                })
                .size += file.size;
        }
        if parts.len() <= depth {
            entries.insert(
                file.path.clone(),
                TreeEntry {
                    path: file.path.clone(),
                    size: file.size,
                    is_dir: false,
                },
            );
        }
    }
    entries.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::FileEntry;

    fn snapshot(files: &[(&str, u64)]) -> Snapshot {
        Snapshot::new(
            files
                .iter()
                .map(|(path, size)| FileEntry {
                    path: (*path).to_owned(),
                    size: *size,
                    content: None,
                    encoding: None,
                })
                .collect(),
        )
    }

    fn listing(tree: &[TreeEntry]) -> Vec<(&str, u64, bool)> {
        tree.iter()
            .map(|e| (e.path.as_str(), e.size, e.is_dir))
            .collect()
    }

    #[test]
    fn lists_to_depth_with_directory_sizes_from_all_descendants() {
        let tree = file_tree(
            &snapshot(&[
                ("README.md", 10),
                ("src/main.py", 20),
                ("src/app/views/admin/deep.py", 5),
            ]),
            3,
        );
        assert_eq!(
            listing(&tree),
            [
                ("README.md", 10, false),
                ("src", 25, true),
                ("src/app", 5, true),
                ("src/app/views", 5, true),
                ("src/main.py", 20, false),
            ]
        );
    }

    #[test]
    fn skips_dependencies_build_output_and_git() {
        let tree = file_tree(
            &snapshot(&[
                ("app.js", 1),
                ("node_modules/x/index.js", 100),
                ("web/node_modules/y.js", 100),
                ("vendor/lib.go", 100),
                ("target/debug/app", 100),
                ("dist/bundle.js", 100),
                (".git/config", 100),
            ]),
            4,
        );
        assert_eq!(listing(&tree), [("app.js", 1, false)]);
    }
}
