/// Everything that can go wrong in the infra crate.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    #[error("invalid terraform in {file}: {message}")]
    TerraformParse { file: String, message: String },
    #[error("invalid compose file: {0}")]
    Compose(String),
    /// The analysis lacks a fact the Docker bundle needs (a port, a start
    /// command, a supported language), said as a sentence with a suggestion.
    #[error("cannot build the Docker bundle: {0}")]
    Bundle(String),
    #[error("{0}")]
    Template(String),
    /// A fact the Terraform templates need is missing or unsafe to render
    /// (a job id, region or object key outside its allowed characters).
    #[error("cannot render the Terraform: {0}")]
    TerraformInput(String),
    /// A [`crate::terraform::TerraformAuthor`] could not write Terraform (the
    /// LLM was unreachable or answered with something unusable).
    #[error("the Terraform author failed: {0}")]
    Author(String),
}
