//! The repository snapshot seen from the app's directory.

use analysis::Snapshot;

pub(crate) struct AppFiles<'a> {
    repo: &'a Snapshot,
    /// The app directory relative to the repository root, `""` for the root.
    subdir: String,
}

impl<'a> AppFiles<'a> {
    pub fn new(repo: &'a Snapshot, subdir: &str) -> Self {
        Self {
            repo,
            subdir: normalise_dir(subdir),
        }
    }

    pub fn repo(&self) -> &'a Snapshot {
        self.repo
    }

    /// The app directory relative to the repository root, `""` for the root.
    pub fn subdir(&self) -> &str {
        &self.subdir
    }

    /// `rel` (relative to the app directory) as a repository path.
    pub fn repo_path(&self, rel: &str) -> String {
        join(&self.subdir, rel)
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.repo.get(&self.repo_path(rel)).is_some()
    }

    pub fn text(&self, rel: &str) -> Option<&'a str> {
        self.repo.text(&self.repo_path(rel))
    }

    /// True when some file lies under `rel_dir` in the app directory.
    pub fn dir_exists(&self, rel_dir: &str) -> bool {
        let prefix = format!("{}/", self.repo_path(rel_dir));
        self.repo.files.iter().any(|f| f.path.starts_with(&prefix))
    }

    /// The first of `names` that exists in the app directory.
    pub fn first_of<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        names.iter().copied().find(|n| self.exists(n))
    }

    /// App-relative paths of files under the app directory, shallowest first,
    /// whose name ends with `suffix`.
    pub fn with_suffix(&self, suffix: &str) -> Vec<&'a str> {
        let prefix = if self.subdir.is_empty() {
            String::new()
        } else {
            format!("{}/", self.subdir)
        };
        let mut found: Vec<&str> = self
            .repo
            .files
            .iter()
            .filter_map(|f| f.path.strip_prefix(prefix.as_str()))
            .filter(|p| p.ends_with(suffix))
            .collect();
        found.sort_by_key(|p| (p.matches('/').count(), *p));
        found
    }

    /// `package.json` of the app, parsed, when it has one.
    pub fn package_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.text("package.json")?).ok()
    }

    /// `package.json` lists `name` among its dependencies or
    /// devDependencies.
    pub fn depends_on(&self, name: &str) -> bool {
        self.package_json().is_some_and(|package| {
            ["dependencies", "devDependencies"]
                .iter()
                .any(|field| package.get(*field).and_then(|d| d.get(name)).is_some())
        })
    }

    /// The major and minor version Gemfile.lock resolves gem `name` to
    /// (`    rails (5.1.2)` → `(5, 1)`).
    pub fn locked_gem(&self, name: &str) -> Option<(u32, u32)> {
        let lock = self.text("Gemfile.lock")?;
        let spec = format!("    {name} (");
        let line = lock.lines().find(|l| l.starts_with(&spec))?;
        let mut numbers = line[spec.len()..].split(['.', ')', '-']);
        Some((numbers.next()?.parse().ok()?, numbers.next()?.parse().ok()?))
    }

    /// The text of the npm script `name` in `package.json`.
    pub fn npm_script(&self, name: &str) -> Option<String> {
        self.package_json()?
            .get("scripts")?
            .get(name)?
            .as_str()
            .map(str::to_owned)
    }
}

/// `a/b/` and `./a/b` become `a/b`; `.` and `` become ``.
pub(crate) fn normalise_dir(dir: &str) -> String {
    let parts: Vec<&str> = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    parts.join("/")
}

/// Joins repository-relative paths, resolving `.` and `..` segments. A path
/// that climbs out of the repository keeps its `..` (it then matches nothing).
pub(crate) fn join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The directory of a repository path, `""` at the root.
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// How a repository-relative directory is written in a compose file next to
/// `from_dir`: `.`, `./api`, `../web`.
pub(crate) fn relative(from_dir: &str, to_dir: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|p| !p.is_empty()).collect();
    let to: Vec<&str> = to_dir.split('/').filter(|p| !p.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    if parts.is_empty() {
        ".".to_owned()
    } else if parts[0] == ".." {
        parts.join("/")
    } else {
        format!("./{}", parts.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_and_relate() {
        assert_eq!(normalise_dir("./api/"), "api");
        assert_eq!(normalise_dir("."), "");
        assert_eq!(join("", "./api"), "api");
        assert_eq!(join("deploy", "../api"), "api");
        assert_eq!(join("api", "."), "api");
        assert_eq!(parent("api/Dockerfile"), "api");
        assert_eq!(parent("Dockerfile"), "");
        assert_eq!(relative("", "api"), "./api");
        assert_eq!(relative("", ""), ".");
        assert_eq!(relative("deploy", "api"), "../api");
        assert_eq!(relative("api", "api"), ".");
    }
}
