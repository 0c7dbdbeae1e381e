//! The pipeline's one error type, and how each kind reaches the engine: a property of
//! the repository or the request is permanent, an unreachable service retryable.

use engine::StepError;
use infra::InfraError;
use llm::LlmError;
use repo::RepoError;

use crate::failures as code;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Repo(#[from] repo::RepoError),

    #[error("the model call failed: {0}")]
    Llm(#[from] llm::LlmError),

    #[error(transparent)]
    Infra(#[from] infra::InfraError),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// A source given to the local commands is neither a directory nor an allowed URL.
    #[error("{0}")]
    Source(String),
}

impl PipelineError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Repo(error) => error.is_retryable(),
            Self::Llm(error) => error.is_retryable(),
            Self::Io { .. } => true,
            Self::Infra(_) | Self::Source(_) => false,
        }
    }

    /// The failure code this error carries as a step's failure ([`crate::failures`]).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Repo(error) => match error {
                RepoError::InvalidUrl(_) => code::CLONE_INVALID_URL,
                RepoError::NotFound { .. } => code::CLONE_NOT_FOUND,
                RepoError::AuthRequired { .. } | RepoError::AuthRefused { .. } => code::CLONE_AUTH,
                RepoError::InvalidRef { .. }
                | RepoError::RefNotFound { .. }
                | RepoError::CommitGone { .. } => code::CLONE_REF_NOT_FOUND,
                RepoError::TooLarge { .. } => code::CLONE_TOO_LARGE,
                RepoError::UnsafeTree { .. } => code::CLONE_UNSAFE_TREE,
                RepoError::NotARepository { .. } => code::CLONE_NOT_A_REPOSITORY,
                RepoError::Timeout { .. } | RepoError::Network { .. } => code::CLONE_NETWORK,
                RepoError::Git { .. } | RepoError::Io { .. } | RepoError::Snapshot(_) => {
                    code::CLONE_GIT
                }
            },
            Self::Llm(error) => match error {
                LlmError::Auth { .. } => code::MODEL_AUTH,
                LlmError::Rejected { .. } | LlmError::Config(_) | LlmError::BadSchema { .. } => {
                    code::MODEL_REJECTED
                }
                LlmError::Unavailable { .. } => code::MODEL_UNAVAILABLE,
                LlmError::InvalidOutput { .. } => code::MODEL_INVALID_ANSWER,
            },
            Self::Infra(error) => match error {
                InfraError::Bundle(_) => code::GENERATE_UNSUPPORTED,
                InfraError::Author(_) => code::GENERATE_AUTHOR,
                InfraError::TerraformParse { .. }
                | InfraError::Compose(_)
                | InfraError::Template(_)
                | InfraError::TerraformInput(_) => code::GENERATE_INVALID,
            },
            Self::Io { .. } => code::WORKER_IO,
            Self::Source(_) => code::REQUEST_INVALID_SOURCE,
        }
    }
}

impl From<PipelineError> for StepError {
    fn from(error: PipelineError) -> Self {
        let step_error = if error.is_retryable() {
            StepError::retryable(error.to_string())
        } else {
            StepError::permanent(error.to_string())
        };
        step_error.with_code(error.code())
    }
}
