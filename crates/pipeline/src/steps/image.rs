//! The app image of the targets that run one from ECR: log in to the registry
//! (`aws ecr get-login-password`, the password only ever on a pipe), build the
//! bundle archive as the Docker build context, push `<repository>:<tag>`.

use std::path::Path;

use engine::{StepContext, StepError};

use super::apply::command_error;
use crate::terraform::TerraformConfig;
use crate::terraform::runner::{ChildLine, Program, run_program};

/// Builds the image from `bundle` (a tar.gz context with the Dockerfile at its
/// root) and pushes it as `image` (`<registry>/<repository>:<tag>`).
pub(super) async fn build_and_push(
    tf: &TerraformConfig,
    ctx: &StepContext,
    dir: &Path,
    bundle: &Path,
    image: &str,
    region: &str,
) -> Result<(), StepError> {
    let registry = image.split('/').next().unwrap_or(image);
    let log = |line: ChildLine| {
        if line.warn {
            ctx.warn(line.message);
        } else {
            ctx.info(line.message);
        }
    };
    let aws = Program {
        bin: &tf.aws_bin,
        json_lines: false,
        secret_stdout: true,
    };
    let docker = Program {
        bin: &tf.docker_bin,
        json_lines: false,
        secret_stdout: false,
    };
    let args = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let password = run_program(
        &tf.child(),
        aws,
        dir,
        &args(&["ecr", "get-login-password", "--region", region]),
        &[],
        None,
        &ctx.cancellation,
        log,
    )
    .await
    .map_err(|e| command_error(ctx, e))?
    .stdout;
    run_program(
        &tf.child(),
        docker,
        dir,
        &args(&["login", "--username", "AWS", "--password-stdin", registry]),
        &[],
        Some(password.trim().as_bytes().to_vec()),
        &ctx.cancellation,
        log,
    )
    .await
    .map_err(|e| command_error(ctx, e))?;
    let context = std::fs::read(bundle)
        .map_err(|e| StepError::retryable(format!("reading the bundle archive: {e}")))?;
    ctx.info(format!("building the app image {image}"));
    run_program(
        &tf.child(),
        docker,
        dir,
        &args(&["build", "--platform", "linux/amd64", "--tag", image, "-"]),
        &[],
        Some(context),
        &ctx.cancellation,
        log,
    )
    .await
    .map_err(|e| command_error(ctx, e))?;
    run_program(
        &tf.child(),
        docker,
        dir,
        &args(&["push", image]),
        &[],
        None,
        &ctx.cancellation,
        log,
    )
    .await
    .map_err(|e| command_error(ctx, e))?;
    ctx.info(format!("pushed {image}"));
    Ok(())
}
