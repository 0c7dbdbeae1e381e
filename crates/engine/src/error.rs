//! The engine's one error type.
//!
//! Policy: callers branch on the variant, never on the message. `Database` is the only
//! variant that means "try again later"; `LeaseLost` means another worker owns the job
//! now and this one must stop writing; the rest describe a request the engine refused
//! and carry a message a person can act on. Database details are never shown to end
//! users: the API layer logs them and answers 500 with an error id.

use uuid::Uuid;

use crate::definition::DefinitionError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("invalid workflow definition: {0}")]
    Definition(#[from] DefinitionError),

    #[error("the lease on job {job_id} was lost: another worker owns it now")]
    LeaseLost { job_id: Uuid },

    #[error("job {0} not found")]
    JobNotFound(Uuid),

    #[error("unknown workflow {0:?}")]
    UnknownWorkflow(String),

    /// The job exists but is not in a state that allows the operation.
    #[error("{0}")]
    Conflict(String),

    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error("invalid database url: {0}")]
    InvalidDatabaseUrl(String),

    #[error("job {job_id} has no artifact {path:?}")]
    ArtifactNotFound { job_id: Uuid, path: String },

    /// A job came with secrets but this process has no key to seal them with.
    #[error("this server cannot store secrets: no secrets key is configured (SECRETS_KEY)")]
    SecretsUnavailable,

    /// Configuration the engine was given is unusable (e.g. a malformed secrets key).
    #[error("{0}")]
    Config(String),
}

impl EngineError {
    /// Whether retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, EngineError::Database(_))
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
