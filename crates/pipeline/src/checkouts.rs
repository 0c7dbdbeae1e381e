//! The checkout cache (one directory per commit) kept from growing forever: a clone
//! prunes checkouts nobody has used for a while. Every use marks a checkout fresh,
//! so only checkouts idle for longer than any step runs are removed.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Marks a checkout as just used.
pub(crate) fn touch(checkout: &Path) {
    let marked = std::fs::File::open(checkout).and_then(|dir| dir.set_modified(SystemTime::now()));
    if let Err(error) = marked {
        tracing::debug!(%error, path = %checkout.display(), "cannot mark the checkout as used");
    }
}

/// Removes the checkouts in `dir` unused for longer than `max_idle`; returns how many.
pub(crate) fn prune(dir: &Path, max_idle: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let idle = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok());
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && idle.is_some_and(|idle| idle > max_idle) {
            match std::fs::remove_dir_all(&path) {
                Ok(()) => removed += 1,
                Err(error) => {
                    tracing::warn!(%error, path = %path.display(), "cannot remove an idle checkout")
                }
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_idle_checkouts_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let idle = dir.path().join("aaaa");
        let used = dir.path().join("bbbb");
        std::fs::create_dir_all(idle.join("src")).unwrap();
        std::fs::create_dir_all(&used).unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(3 * 24 * 3600);
        std::fs::File::open(&idle)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        std::fs::File::open(&used)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        touch(&used);
        assert_eq!(prune(dir.path(), Duration::from_secs(24 * 3600)), 1);
        assert!(!idle.exists());
        assert!(used.exists());
        assert_eq!(prune(&dir.path().join("missing"), Duration::ZERO), 0);
    }
}
