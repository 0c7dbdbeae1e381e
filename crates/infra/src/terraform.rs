//! The Terraform for a chosen target: vetted templates rendered from the
//! [`Choice`](crate::choose::Choice) and the app's facts ([`render`]), and the
//! LLM path that may write its own ([`generate`]), which is only accepted
//! when it passes the policy gate ([`crate::policy::check`]).
//!
//! What the rendered files expect when they are applied:
//! - AWS credentials in the environment of `terraform` (never in the files);
//! - `vm`: `-var bundle_path=<bundle .tar.gz>` (Makefile at the archive root);
//! - `container-service`, `serverless`, `kubernetes`: the app image pushed to
//!   the `ecr_repository_url` output, tagged `image_tag` (the Lambda function
//!   cannot be created before the image exists: apply
//!   `-target=aws_ecr_repository.app` first);
//! - optionally `TF_VAR_app_env`, a map of the app's environment values.
//!
//! Every target has an `app_url` output.

mod generate;
mod inputs;
mod render;
mod stores;

pub use generate::{
    AttemptOutcome, AttemptReport, AuthorRequest, Generated, Source, TerraformAuthor, generate,
};
pub use inputs::{HOST_PORT, TerraformInputs, resource_name};
pub use render::render;

/// The variable holding the local path of the bundle archive (`vm` only).
pub const BUNDLE_PATH_VARIABLE: &str = "bundle_path";

/// The variable the image targets' apply passes the image's tag in
/// (`-var=image_tag=…`).
pub const IMAGE_TAG_VARIABLE: &str = "image_tag";
/// The sensitive map of the app's environment values, by name.
pub const APP_ENV_VARIABLE: &str = "app_env";
