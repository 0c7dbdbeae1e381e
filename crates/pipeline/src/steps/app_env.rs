//! The values of the app's variables the job was submitted with: sealed
//! with the job, read by the steps that start the app.

use std::collections::BTreeMap;

use engine::{StepContext, StepError};
use serde_json::Value;
use uuid::Uuid;

use crate::failures;
use crate::intake::APP_ENV_SECRET;

/// The job's variable values, by name (empty when none were given).
pub(super) async fn given(ctx: &StepContext) -> Result<BTreeMap<String, String>, StepError> {
    given_to(ctx, ctx.job_id).await
}

/// The variable values job `job_id` was submitted with.
pub(super) async fn given_to(
    ctx: &StepContext,
    job_id: Uuid,
) -> Result<BTreeMap<String, String>, StepError> {
    let Some(json) = ctx.secret_of(job_id, APP_ENV_SECRET).await? else {
        return Ok(BTreeMap::new());
    };
    serde_json::from_str(&json).map_err(|e| {
        StepError::permanent(format!("the job's variable values are unreadable: {e}"))
            .with_code(failures::REQUEST_VALUES_UNREADABLE)
    })
}

/// The required variables `values` has no value for.
pub(super) fn missing<'a>(
    required: &'a [String],
    values: &BTreeMap<String, String>,
) -> Vec<&'a str> {
    required
        .iter()
        .filter(|name| !values.contains_key(name.as_str()))
        .map(String::as_str)
        .collect()
}

/// Values generated for `names` (the stores' passwords, the app's own
/// keys nobody gave): made on the first apply and kept sealed in the
/// artifact `path`, written before anything starts, so every later attempt
/// (resumed, or retried from apply) opens the stores' volumes with the
/// password they were created with, and the app keeps the key its sessions
/// and tokens are signed with.
pub(super) async fn generated(
    ctx: &StepContext,
    path: &str,
    names: &[String],
) -> Result<Vec<(String, String)>, StepError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let files = ctx.artifacts_under(ctx.job_id, path).await?;
    let mut kept: serde_json::Map<String, Value> = match files.first() {
        Some((_, bytes)) => serde_json::from_slice(bytes).map_err(|e| {
            StepError::permanent(format!("unreadable {path}: {e}"))
                .with_code(failures::WORKER_RECORD_UNREADABLE)
        })?,
        None => serde_json::Map::new(),
    };
    let mut values = Vec::new();
    let mut made = false;
    for name in names {
        let value = match kept.get(name) {
            Some(sealed) => ctx.open(name, sealed)?,
            None => {
                let value = crate::secrets::fresh(name);
                kept.insert(name.clone(), ctx.seal(name, &value)?);
                made = true;
                value
            }
        };
        values.push((name.clone(), value));
    }
    if made {
        let record = serde_json::to_vec_pretty(&kept).expect("serialises");
        ctx.put_artifact(path, &record).await?;
    }
    Ok(values)
}

/// The values job `job_id` generated and kept sealed in its artifact `path`
/// (see [`generated`]); none when it kept none.
pub(super) async fn kept_by(
    ctx: &StepContext,
    job_id: Uuid,
    path: &str,
) -> Result<Vec<(String, String)>, StepError> {
    let files = ctx.artifacts_under(job_id, path).await?;
    let Some((_, bytes)) = files.into_iter().find(|(found, _)| found == path) else {
        return Ok(Vec::new());
    };
    let kept: serde_json::Map<String, Value> = serde_json::from_slice(&bytes).map_err(|e| {
        StepError::permanent(format!("unreadable {path} of job {job_id}: {e}"))
            .with_code(failures::WORKER_RECORD_UNREADABLE)
    })?;
    kept.iter()
        .map(|(name, sealed)| Ok((name.clone(), ctx.open_of(job_id, name, sealed)?)))
        .collect()
}

/// How a user gives values, for error messages.
pub(super) const HOW_TO_GIVE: &str = "give them with the deployment: `env` in POST /request, or `deployflow deploy --env NAME=VALUE` / `--env-file FILE`";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_names_the_required_variables_without_a_value() {
        let required = vec!["DATABASE_URL".to_owned(), "SECRET_KEY".to_owned()];
        let values = BTreeMap::from([("SECRET_KEY".to_owned(), "s".to_owned())]);
        assert_eq!(missing(&required, &values), ["DATABASE_URL"]);
        assert!(missing(&required[1..], &values).is_empty());
    }
}
