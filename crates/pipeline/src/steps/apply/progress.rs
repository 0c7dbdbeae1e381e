//! How far apply got, as one record in the step's memo store: each phase
//! holds what the later ones need, and every write is fenced by the attempt's
//! lease, so a worker that lost its job cannot move it on.
//!
//! Planned → Approved → ImagePushed (image targets) → Applying → Applied

use engine::{StepContext, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::failures;
use crate::terraform::plan::PlanSummary;

const PROGRESS_MEMO: &str = "progress";

/// A saved plan: what it changes and the image tag it was made with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct SavedPlan {
    pub summary: PlanSummary,
    /// Fresh for every new plan, so a push never meets a tag of an earlier
    /// plan (the repositories' tags are immutable).
    pub image_tag: String,
}

/// The app image in the registry, as the deployment runs it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PushedImage {
    /// `<registry>/<repository>:<tag>`.
    pub image: String,
    /// `sha256:…`, when the registry said.
    pub digest: Option<String>,
}

/// One phase of apply and what it carries forward.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub(super) enum Progress {
    /// The plan is saved in the job's artifacts.
    Planned { plan: SavedPlan },
    /// An approver agreed, or no approval was needed.
    Approved { plan: SavedPlan },
    /// The image the plan names is in the registry.
    ImagePushed { plan: SavedPlan, image: PushedImage },
    /// `terraform apply` of the saved plan started in `attempt`: a later
    /// attempt finding this knows the plan may be stale.
    Applying {
        plan: SavedPlan,
        image: Option<PushedImage>,
        attempt: u32,
    },
    /// The changes are made; only the outputs are left to read.
    Applied {
        plan: SavedPlan,
        image: Option<PushedImage>,
        replanned: bool,
    },
}

impl Progress {
    pub fn plan(&self) -> &SavedPlan {
        match self {
            Self::Planned { plan }
            | Self::Approved { plan }
            | Self::ImagePushed { plan, .. }
            | Self::Applying { plan, .. }
            | Self::Applied { plan, .. } => plan,
        }
    }

    pub fn phase(&self) -> &'static str {
        match self {
            Self::Planned { .. } => "planned",
            Self::Approved { .. } => "approved",
            Self::ImagePushed { .. } => "image_pushed",
            Self::Applying { .. } => "applying",
            Self::Applied { .. } => "applied",
        }
    }

    /// What an earlier attempt of this job recorded, if anything.
    pub async fn load(ctx: &StepContext) -> Result<Option<Self>, StepError> {
        match ctx.memo_get(PROGRESS_MEMO).await? {
            Some(record) => serde_json::from_value(record).map(Some).map_err(unreadable),
            None => from_separate_memos(ctx).await,
        }
    }

    /// Records this phase, refused once the attempt has lost its lease.
    pub async fn save(&self, ctx: &StepContext) -> Result<(), StepError> {
        let record = serde_json::to_value(self).expect("progress serialises");
        ctx.memo_put(PROGRESS_MEMO, &record).await
    }
}

fn unreadable(error: serde_json::Error) -> StepError {
    StepError::permanent(format!("unreadable apply progress record: {error}"))
        .with_code(failures::WORKER_RECORD_UNREADABLE)
}

/// Jobs whose apply began before the one record existed kept three memos
/// (`plan`, `image_pushed`, `applying`); a job parked for approval across an
/// upgrade must still apply the plan its approver saw.
async fn from_separate_memos(ctx: &StepContext) -> Result<Option<Progress>, StepError> {
    let Some(plan) = ctx.memo_get("plan").await? else {
        return Ok(None);
    };
    let plan = legacy_plan(plan).map_err(unreadable)?;
    let image = ctx
        .memo_get("image_pushed")
        .await?
        .and_then(|memo| memo.get("image").and_then(Value::as_str).map(str::to_owned))
        .map(|image| PushedImage {
            image,
            digest: None,
        });
    let applying = ctx.memo_get("applying").await?;
    Ok(Some(match (image, applying) {
        (image, Some(memo)) => Progress::Applying {
            plan,
            image,
            attempt: memo.get("attempt").and_then(Value::as_u64).unwrap_or(0) as u32,
        },
        (Some(image), None) => Progress::ImagePushed { plan, image },
        (None, None) => Progress::Planned { plan },
    }))
}

fn legacy_plan(memo: Value) -> Result<SavedPlan, serde_json::Error> {
    #[derive(Deserialize)]
    struct Legacy {
        summary: PlanSummary,
        #[serde(default)]
        image_tag: String,
    }
    let Legacy { summary, image_tag } = serde_json::from_value(memo)?;
    Ok(SavedPlan { summary, image_tag })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_phase_round_trips_through_its_record() {
        let plan = SavedPlan {
            summary: PlanSummary::default(),
            image_tag: "abc-1".into(),
        };
        let image = PushedImage {
            image: "r/app:abc-1".into(),
            digest: Some("sha256:00".into()),
        };
        for progress in [
            Progress::Planned { plan: plan.clone() },
            Progress::Approved { plan: plan.clone() },
            Progress::ImagePushed {
                plan: plan.clone(),
                image: image.clone(),
            },
            Progress::Applying {
                plan: plan.clone(),
                image: Some(image.clone()),
                attempt: 2,
            },
            Progress::Applied {
                plan: plan.clone(),
                image: None,
                replanned: true,
            },
        ] {
            let record = serde_json::to_value(&progress).unwrap();
            assert_eq!(record["phase"], progress.phase());
            let back: Progress = serde_json::from_value(record).unwrap();
            assert_eq!(back, progress);
        }
    }

    #[test]
    fn a_plan_memo_of_the_separate_memos_is_read_as_the_saved_plan() {
        let summary = serde_json::to_value(PlanSummary::default()).unwrap();
        let plan = legacy_plan(json!({"summary": summary, "image_tag": "t-1"})).unwrap();
        assert_eq!(plan.image_tag, "t-1");
        let untagged = legacy_plan(json!({ "summary": summary })).unwrap();
        assert_eq!(untagged.image_tag, "");
    }
}
