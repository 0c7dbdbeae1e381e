//! The image phase of the targets that run an image from ECR: the repository
//! is created first (a targeted plan, held within the approved one), then the
//! app image is built and pushed under the plan's tag.

use std::collections::BTreeMap;
use std::path::Path;

use engine::StepError;
use serde_json::Value;

use super::Attempt;
use super::progress::{PushedImage, SavedPlan};
use crate::failures;
use crate::steps::terraform_session::command_error;

/// Created (and pushed to) before the rest of a container target's plan.
const ECR_REPOSITORY: &str = "aws_ecr_repository.app";
const REPOSITORY_PLAN_FILE: &str = "deployflow-ecr.tfplan";

pub(super) async fn push_image(
    attempt: &Attempt<'_>,
    plan: &SavedPlan,
) -> Result<PushedImage, StepError> {
    let Attempt {
        shared,
        ctx,
        choice,
        session,
        ..
    } = attempt;
    let first = session
        .plan(REPOSITORY_PLAN_FILE, Some(ECR_REPOSITORY))
        .await?;
    first.within(&plan.summary).map_err(|why| {
        StepError::permanent(format!(
            "the image repository plan left the approved one: {why}"
        ))
        .with_code(failures::APPLY_PLAN_STALE)
    })?;
    session
        .apply(REPOSITORY_PLAN_FILE)
        .await
        .map_err(|e| command_error(ctx, e))?;
    let (outputs, _) = session.outputs().await?;
    let repository = outputs
        .get("ecr_repository_url")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            StepError::permanent("terraform printed no ecr_repository_url output to push to")
                .with_code(failures::APPLY_NO_OUTPUT)
        })?;
    let image = format!("{repository}:{}", plan.image_tag);
    let dockerfile = app_dockerfile(&attempt.bundle_files, &attempt.code);
    let (build_values, withheld) = build_values(&dockerfile, &attempt.values);
    for name in withheld {
        ctx.info(format!(
            "{name} is a secret the Dockerfile declares with ARG: not passed to the build, since a build argument's value stays in the image's history for whoever can pull it"
        ));
    }
    let digest = crate::steps::image::build_and_push(
        &shared.config.terraform,
        ctx,
        crate::steps::image::Push {
            dir: &attempt.dir,
            bundle: &attempt.bundle,
            image: &image,
            region: &choice.region,
            build_values: &build_values,
            dockerfile: &dockerfile,
            docker: &shared.config.docker,
        },
    )
    .await?;
    Ok(PushedImage { image, digest })
}

/// The Dockerfile the app image is built from: the bundle's, else the
/// repository's own.
fn app_dockerfile(bundle_files: &[(String, Vec<u8>)], checkout: &Path) -> String {
    bundle_files
        .iter()
        .find(|(path, _)| path == "bundle/Dockerfile")
        .map(|(_, content)| String::from_utf8_lossy(content).into_owned())
        .or_else(|| std::fs::read_to_string(checkout.join("Dockerfile")).ok())
        .unwrap_or_default()
}

/// The job's values of the variables the image's Dockerfile declares with
/// `ARG` (build-time variables: Next.js public ones, a repository's own):
/// they reach `docker build` as build arguments. Secrets are withheld (the
/// second list): a build argument's value stays in the image's history.
fn build_values(
    dockerfile: &str,
    values: &BTreeMap<String, String>,
) -> (Vec<(String, String)>, Vec<String>) {
    let mut passed = Vec::new();
    let mut withheld = Vec::new();
    for name in infra::bundle::declared_args(dockerfile) {
        let Some(value) = values.get(&name) else {
            continue;
        };
        if analysis::is_secret(&name) {
            withheld.push(name);
        } else {
            passed.push((name, value.clone()));
        }
    }
    (passed, withheld)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_a_dockerfile_declares_are_not_build_arguments() {
        let dockerfile = "FROM node:22\nARG NEXT_PUBLIC_API_URL\nARG STRIPE_SECRET_KEY\nARG UNSET\nRUN npm run build\n";
        let values = BTreeMap::from([
            (
                "NEXT_PUBLIC_API_URL".to_owned(),
                "https://api.example".to_owned(),
            ),
            ("STRIPE_SECRET_KEY".to_owned(), "sk_live_x".to_owned()),
        ]);
        let (passed, withheld) = build_values(dockerfile, &values);
        assert_eq!(
            passed,
            [(
                "NEXT_PUBLIC_API_URL".to_owned(),
                "https://api.example".to_owned()
            )]
        );
        assert_eq!(withheld, ["STRIPE_SECRET_KEY"]);
    }
}
