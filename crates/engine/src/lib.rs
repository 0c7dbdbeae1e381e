//! deployflow's durable workflow engine. It knows nothing about deployments: it runs
//! workflows (ordered steps defined in `workflows/*.toml`, implemented by registered
//! Rust handlers) on PostgreSQL or SQLite, with leases, fencing, per-step checkpoints,
//! retries with backoff, timeouts, cancellation and logs. See ARCHITECTURE.md.

pub mod access;
pub mod backoff;
mod catalog;
mod claim_ahead;
pub mod codes;
pub mod definition;
pub mod demo;
mod engine;
mod error;
pub mod follow;
mod job_log_layer;
mod job_run;
pub mod logs;
pub mod metrics;
mod redact;
mod secrets;
mod slots;
pub mod step;
pub mod store;
pub mod trace_context;
mod worker;

pub use catalog::Catalog;
pub use engine::{Engine, JobDetails, MAX_IDEMPOTENCY_KEY_LEN};
pub use error::{EngineError, Result};
pub use job_log_layer::JobLogLayer;
pub use redact::redact;
pub use secrets::{SealedSecret, SecretKey};
pub use step::{
    ErrorKind, Registry, StepContext, StepError, StepHandler, StepOutcome, typed, typed_outcome,
};
pub use store::{Database, JobStatus, Store, connect};
pub use worker::{Worker, WorkerConfig, WorkerStats};
