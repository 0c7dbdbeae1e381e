//! Watches a clone directory while gix writes into it and interrupts the clone once it
//! grows past the byte limit. gix has no bound on the size of a received pack, so
//! without this a hostile server could fill the disk before any check after the fact.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Often enough that a fast local transfer overshoots by little, rarely enough that the
/// walk costs nothing next to the transfer itself.
const POLL: Duration = Duration::from_millis(50);

pub(crate) struct DiskGuard {
    stop: Arc<AtomicBool>,
    exceeded: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl DiskGuard {
    /// Starts watching `dir`; sets `interrupt` when it holds more than `max_bytes`.
    pub(crate) fn watch(dir: PathBuf, max_bytes: u64, interrupt: Arc<AtomicBool>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let exceeded = Arc::new(AtomicU64::new(0));
        let thread = std::thread::Builder::new()
            .name("clone-disk-guard".into())
            .spawn({
                let stop = stop.clone();
                let exceeded = exceeded.clone();
                move || {
                    while !stop.load(Ordering::Relaxed) {
                        let size = dir_size(&dir);
                        if size > max_bytes {
                            exceeded.store(size, Ordering::Relaxed);
                            interrupt.store(true, Ordering::Relaxed);
                            return;
                        }
                        std::thread::park_timeout(POLL);
                    }
                }
            })
            .ok();
        Self {
            stop,
            exceeded,
            thread,
        }
    }

    /// The size seen when the limit was crossed, if it was.
    pub(crate) fn exceeded(&self) -> Option<u64> {
        match self.exceeded.load(Ordering::Relaxed) {
            0 => None,
            size => Some(size),
        }
    }
}

impl Drop for DiskGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// Bytes of the regular files under `dir`, without following symlinks. Entries that
/// vanish mid-walk (gix renames temporary files) are skipped.
pub(crate) fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_size(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn interrupts_once_the_directory_outgrows_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let interrupt = Arc::new(AtomicBool::new(false));
        let guard = DiskGuard::watch(dir.path().join(".git"), 1_000, interrupt.clone());
        std::fs::create_dir_all(dir.path().join(".git/objects/pack")).unwrap();
        std::fs::write(dir.path().join(".git/objects/pack/tmp_pack"), [0u8; 600]).unwrap();
        std::thread::sleep(POLL * 4);
        assert!(
            !interrupt.load(Ordering::Relaxed),
            "600 bytes are within 1000"
        );

        std::fs::write(dir.path().join(".git/objects/pack/tmp_idx"), [0u8; 600]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !interrupt.load(Ordering::Relaxed) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        assert!(
            interrupt.load(Ordering::Relaxed),
            "the clone was not interrupted"
        );
        assert_eq!(guard.exceeded(), Some(1_200));
    }
}
