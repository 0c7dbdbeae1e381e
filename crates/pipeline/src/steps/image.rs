//! The app image of the targets that run one from ECR: log in to the registry
//! (`aws ecr get-login-password`, the password only ever on a pipe), build the
//! bundle archive as the Docker build context, push `<repository>:<tag>`.

use std::path::Path;

use engine::{StepContext, StepError};

use super::terraform_session::command_error;
use crate::build_network;
use crate::docker::DockerConfig;
use crate::failures;
use crate::terraform::TerraformConfig;
use crate::terraform::runner::{ChildLine, Program, run_program};

/// What to build and where to push it.
pub(super) struct Push<'a> {
    pub dir: &'a Path,
    /// A tar.gz build context with the Dockerfile at its root.
    pub bundle: &'a Path,
    /// `<registry>/<repository>:<tag>`.
    pub image: &'a str,
    pub region: &'a str,
    /// Build arguments and their values: the names go on the command line,
    /// the values only into `docker`'s environment.
    pub build_values: &'a [(String, String)],
    /// The Dockerfile's text, checked for what the engine would fetch.
    pub dockerfile: &'a str,
    /// The engine's settings: whether builds are isolated, and how.
    pub docker: &'a DockerConfig,
}

/// Builds the image from the bundle and pushes it; returns its digest when the
/// registry said it.
pub(super) async fn build_and_push(
    tf: &TerraformConfig,
    ctx: &StepContext,
    push: Push<'_>,
) -> Result<Option<String>, StepError> {
    let Push {
        dir,
        bundle,
        image,
        region,
        build_values,
        dockerfile,
        docker: engine,
    } = push;
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
    // Tags are fresh per plan and the repository's are immutable: when the
    // tag is already there, an attempt that was stopped between its push
    // and recording it pushed this very image, and a second push would fail.
    if let Some((repository, tag)) = repository_and_tag(image) {
        let lookup = args(&[
            "ecr",
            "describe-images",
            "--repository-name",
            repository,
            "--image-ids",
            &format!("imageTag={tag}"),
            "--region",
            region,
        ]);
        let found = run_program(
            &tf.child(),
            aws,
            dir,
            &lookup,
            &[],
            None,
            &ctx.cancellation,
            |_| {},
        )
        .await;
        if let Ok(answer) = found
            && answer.stdout.contains("imageDetails")
        {
            ctx.info(format!(
                "{image} is already in the registry: an interrupted attempt pushed it"
            ));
            return Ok(described_digest(&answer.stdout));
        }
    }
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
    let context = std::fs::read(bundle).map_err(|e| {
        StepError::retryable(format!("reading the bundle archive: {e}"))
            .with_code(failures::WORKER_IO)
    })?;
    ctx.info(format!("building the app image {image}"));
    let mut build = args(&["build", "--platform", "linux/amd64", "--tag", image]);
    let mut build_env: Vec<(&str, &str)> = Vec::new();
    let prepared = build_network::prepare(engine, ctx, |isolation| {
        build_network::check_engine_fetches(isolation, "the Dockerfile", dockerfile)
    })
    .await?;
    if let Some((isolation, ())) = prepared {
        build.extend(build_network::build_arguments(isolation));
        build_env.extend(build_network::CLASSIC_BUILDER);
    }
    for (name, _) in build_values {
        build.extend(["--build-arg".to_owned(), name.clone()]);
    }
    build.push("-".to_owned());
    build_env.extend(
        build_values
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    run_program(
        &tf.child(),
        docker,
        dir,
        &build,
        &build_env,
        Some(context),
        &ctx.cancellation,
        log,
    )
    .await
    .map_err(|e| command_error(ctx, e))?;
    let pushed = run_program(
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
    let digest = pushed_digest(&pushed.stdout);
    ctx.info(format!(
        "pushed {image}{}",
        digest
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default()
    ));
    Ok(digest)
}

/// The digest `docker push` prints last: `<tag>: digest: sha256:… size: N`.
fn pushed_digest(printed: &str) -> Option<String> {
    printed.lines().rev().find_map(|line| {
        let (_, rest) = line.split_once("digest: ")?;
        let digest = rest.split_whitespace().next()?;
        digest.starts_with("sha256:").then(|| digest.to_owned())
    })
}

/// The digest in `aws ecr describe-images` JSON.
fn described_digest(printed: &str) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_str(printed.trim()).ok()?;
    answer["imageDetails"][0]["imageDigest"]
        .as_str()
        .map(str::to_owned)
}

/// `<registry>/<repository>:<tag>` → (repository, tag).
fn repository_and_tag(image: &str) -> Option<(&str, &str)> {
    let (name, tag) = image.rsplit_once(':')?;
    let repository = name.split_once('/').map_or(name, |(_, path)| path);
    (!repository.is_empty() && !tag.is_empty() && !tag.contains('/')).then_some((repository, tag))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_repository_and_tag_are_read_from_the_image_name() {
        assert_eq!(
            super::repository_and_tag(
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/apps/shop:abc123-x9"
            ),
            Some(("apps/shop", "abc123-x9"))
        );
        assert_eq!(super::repository_and_tag("registry:5000/shop"), None);
    }

    #[test]
    fn the_digest_is_read_from_the_push_and_from_the_registry() {
        let sha = format!("sha256:{}", "a1".repeat(32));
        let printed = format!(
            "The push refers to repository [r/shop]\n5f70bf18a086: Pushed\nabc-1: digest: {sha} size: 528\n"
        );
        assert_eq!(super::pushed_digest(&printed), Some(sha.clone()));
        assert_eq!(super::pushed_digest("5f70bf18a086: Pushed\n"), None);
        let described =
            format!(r#"{{"imageDetails":[{{"imageTags":["abc-1"],"imageDigest":"{sha}"}}]}}"#);
        assert_eq!(super::described_digest(&described), Some(sha));
        assert_eq!(super::described_digest("{}"), None);
    }
}
