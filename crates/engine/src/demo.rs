//! The demo workflow's step handler (`workflows/demo.toml`): every step sleeps
//! `sleep_ms`, and the step named `fail_step` fails retryably on its first `fail_times`
//! attempts. For trying the engine out, and for tests: with an effects file, each step
//! appends a `start` and a `done` line there, outside the engine, so tests can count
//! how often a step really ran.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::codes::FailureCode;
use crate::step::{Registry, StepContext, StepError, typed};

/// The demo's one failure, asked for by its input.
pub const REQUESTED_FAILURE: &str = "demo.requested_failure";

/// The demo workflow's failure codes.
pub const FAILURES: &[FailureCode] = &[FailureCode {
    code: REQUESTED_FAILURE,
    meaning: "The job's input asked this step to fail (fail_step, fail_times).",
    suggestion: "Submit the job without fail_step, or with fewer fail_times than the step's attempts.",
}];

pub const HANDLER: &str = "demo.step";
pub const WORKFLOW: &str = "demo";

/// Longest sleep a demo step accepts (one hour).
const MAX_SLEEP_MS: u64 = 3_600_000;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DemoInput {
    #[serde(default)]
    pub sleep_ms: u64,
    #[serde(default)]
    pub fail_step: Option<String>,
    #[serde(default)]
    pub fail_times: u32,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DemoOutput {
    pub step: String,
    pub attempt: u32,
    pub slept_ms: u64,
}

/// Registers the demo handler and its input check; `effects` is the optional file of
/// side effects.
pub fn register(registry: &mut Registry, effects: Option<PathBuf>) {
    registry.register(
        HANDLER,
        typed(move |ctx: StepContext, input: DemoInput| {
            let effects = effects.clone();
            async move { run(ctx, input, effects).await }
        }),
    );
    registry.validate_input::<DemoInput>(WORKFLOW, |input| {
        if input.sleep_ms > MAX_SLEEP_MS {
            return Err(format!("sleep_ms must be at most {MAX_SLEEP_MS}"));
        }
        Ok(())
    });
}

async fn run(
    ctx: StepContext,
    input: DemoInput,
    effects: Option<PathBuf>,
) -> Result<DemoOutput, StepError> {
    record(&effects, &ctx, "start");
    ctx.info(format!(
        "step {} attempt {} sleeping {} ms",
        ctx.step, ctx.attempt, input.sleep_ms
    ));
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(input.sleep_ms)) => {}
        _ = ctx.cancellation.cancelled() => {
            return Err(StepError::retryable("stopped before finishing"));
        }
    }
    if input.fail_step.as_deref() == Some(ctx.step.as_str()) && ctx.failures < input.fail_times {
        ctx.warn(format!(
            "failing on purpose ({} of {})",
            ctx.failures + 1,
            input.fail_times
        ));
        return Err(StepError::retryable(format!(
            "demo failure {} of {} requested by the input",
            ctx.failures + 1,
            input.fail_times
        ))
        .with_code(REQUESTED_FAILURE));
    }
    record(&effects, &ctx, "done");
    Ok(DemoOutput {
        step: ctx.step.clone(),
        attempt: ctx.attempt,
        slept_ms: input.sleep_ms,
    })
}

fn record(effects: &Option<PathBuf>, ctx: &StepContext, phase: &str) {
    let Some(path) = effects else { return };
    let line = format!(
        "{} {} {} {} {} {}\n",
        ctx.job_id,
        ctx.step,
        ctx.attempt,
        ctx.worker_id,
        phase,
        chrono::Utc::now().timestamp_millis()
    );
    // One write() of a short line with O_APPEND: lines from concurrent processes do not interleave.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "could not record a demo side effect");
    }
}
