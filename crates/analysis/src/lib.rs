//! Pure repository analysis: a [`Snapshot`] of a repository's files in,
//! [`Analysis`] facts out, each fact with the file and line that shows it.
//! No network, no database, no clock: the same snapshot always gives the same
//! answer.

/// A regex compiled once, on first use, and shared for the process's life.
///
/// `\b` is made ASCII-only: code words are ASCII, and a Unicode word
/// boundary forces the regex engine off its fast DFA on any non-ASCII text
/// (a single `é` in a comment made whole-repository scans ten times slower).
macro_rules! re {
    ($pattern:expr) => {{
        static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(&$pattern.replace(r"\b", r"(?-u:\b)")).expect("valid regex")
        });
        &*RE
    }};
}

mod detect;
mod error;
mod facts;
mod regions;
mod requirements;
mod snapshot;

pub use detect::{
    declares_prisma_models, ends_by_running_its_arguments, is_development_dockerfile,
    is_dockerfile, is_secret, variable_kind,
};
pub use error::AnalysisError;
pub use facts::{
    Analysis, AppCandidate, BindAddress, DockerFileFacts, EnvVar, Evidence, VariableKind, Worker,
};
pub use requirements::Requirements;
pub use snapshot::{FileEntry, Snapshot, SnapshotLimits};

/// Analyses a repository snapshot. `requirements` may name the app to pick in
/// a monorepo (`app_hint`).
pub fn analyse(snapshot: &Snapshot, requirements: &Requirements) -> Analysis {
    detect::analyse(snapshot, requirements)
}

/// Reads the user's one-sentence description into structured requirements.
pub fn parse_requirements(description: &str) -> Requirements {
    requirements::parse(description)
}
