use std::time::Duration;

/// Bounds on one clone: repository content is untrusted, so a hostile or merely huge
/// repository must not fill the disk or hold a worker forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloneLimits {
    /// Most bytes, checked twice: while the pack arrives (the size of `.git`) and before
    /// checkout (the sum of the files the commit would write).
    pub max_bytes: u64,
    /// Most files the checked-out commit may have.
    pub max_files: usize,
    /// Wall-clock bound on the whole clone, network and checkout included.
    pub timeout: Duration,
}

impl Default for CloneLimits {
    fn default() -> Self {
        Self {
            max_bytes: 512 * 1024 * 1024,
            max_files: 100_000,
            timeout: Duration::from_secs(300),
        }
    }
}
