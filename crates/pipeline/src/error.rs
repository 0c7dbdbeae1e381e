//! The pipeline's one error type, and how each kind reaches the engine: a property of
//! the repository or the request is permanent, an unreachable service retryable.

use engine::StepError;

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
}

impl From<PipelineError> for StepError {
    fn from(error: PipelineError) -> Self {
        if error.is_retryable() {
            StepError::retryable(error.to_string())
        } else {
            StepError::permanent(error.to_string())
        }
    }
}
