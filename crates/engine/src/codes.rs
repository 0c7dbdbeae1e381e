//! Failure codes: a stable name for each kind of failure, kept with the attempt and
//! the job beside the message ([`crate::StepError::with_code`]). The engine names its
//! own failures here; a workflow's handlers name theirs in a catalogue of their own,
//! in the same shape, so that a client shows what each means and what to do.

/// One failure code and what a person reading it should know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FailureCode {
    /// `area.what`, lower case: stable across releases, safe to match on.
    pub code: &'static str,
    /// What happened, in a sentence.
    pub meaning: &'static str,
    /// What to do about it.
    pub suggestion: &'static str,
}

pub const NO_STEP_LEFT: &str = "engine.no_step_left";
pub const UNKNOWN_WORKFLOW: &str = "engine.unknown_workflow";
pub const WORKFLOW_CHANGED: &str = "engine.workflow_changed";
pub const WORKERS_DIED: &str = "engine.workers_died";
pub const NO_HANDLER: &str = "engine.no_handler";
pub const PANICKED: &str = "engine.panicked";
pub const TIMED_OUT: &str = "engine.timed_out";

/// The engine's own failures.
pub const CATALOGUE: &[FailureCode] = &[
    FailureCode {
        code: NO_STEP_LEFT,
        meaning: "The job was resumed past its last step.",
        suggestion: "Retry it with from_step naming the step to run again.",
    },
    FailureCode {
        code: UNKNOWN_WORKFLOW,
        meaning: "The worker that took the job does not define its workflow.",
        suggestion: "Run workers with the same workflow definitions as the server, then retry the job.",
    },
    FailureCode {
        code: WORKFLOW_CHANGED,
        meaning: "The workflow's steps changed after the job was submitted.",
        suggestion: "Retry with from_step to move the job onto the new definition.",
    },
    FailureCode {
        code: WORKERS_DIED,
        meaning: "Workers died again and again while running the same step (MAX_RECOVERIES).",
        suggestion: "Look at the workers' logs for what kills them (memory, a crash), fix it, then retry the job.",
    },
    FailureCode {
        code: NO_HANDLER,
        meaning: "A step names a handler this worker does not have.",
        suggestion: "Run a worker built with that handler, then retry the job.",
    },
    FailureCode {
        code: PANICKED,
        meaning: "The step's code panicked.",
        suggestion: "This is a bug: report it with the job's logs. The step is retried meanwhile.",
    },
    FailureCode {
        code: TIMED_OUT,
        meaning: "The step ran longer than its timeout.",
        suggestion: "Raise the step's timeout in the workflow definition if the work is slow but sound, then retry.",
    },
];

/// The catalogue entry of `code` among `catalogues`, the first that has it.
pub fn describe<'a>(code: &str, catalogues: &[&'a [FailureCode]]) -> Option<&'a FailureCode> {
    catalogues
        .iter()
        .flat_map(|catalogue| catalogue.iter())
        .find(|entry| entry.code == code)
}
