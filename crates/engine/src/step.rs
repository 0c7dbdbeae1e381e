//! Step handlers: the Rust code a workflow's steps name, registered by name.
//!
//! A handler gets a [`StepContext`] (the job's input, earlier steps' outputs, a
//! cancellation token, a log) and returns JSON output or a [`StepError`] that says
//! whether trying again may help. Handlers must be idempotent: an interrupted step runs
//! again on another worker.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::EngineError;
use crate::logs::{LogLevel, LogSink};
use crate::secrets::{SealedSecret, SecretKey};
use crate::store::{JobRecord, Lease, Protocol};

/// How a step failed, which decides what the engine does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Try again after the step's backoff, up to its `max_attempts`.
    Retryable,
    /// Trying again cannot help: the job fails now.
    Permanent,
}

/// What an attempt that did not fail came to: its output (JSON for the engine, a
/// typed value for a [`typed_outcome`] handler), or parking or ending the job.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome<O = Value> {
    /// The step's output: checkpointed, then the next step runs.
    Completed(O),
    /// Park the job (status `waiting`, in `state`) until a signal such as an approval
    /// resumes this step ([`crate::Engine::signal`]), which then runs again and reads
    /// the signal with [`StepContext::signal`]. No worker is held meanwhile.
    Wait { state: String, message: String },
    /// End the job succeeded here, in `state`, without running the later steps;
    /// `message` says why (it is the attempt's note on the timeline).
    Finish { state: String, message: String },
}

impl<O> StepOutcome<O> {
    /// See [`StepOutcome::Wait`].
    pub fn wait_in(state: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Wait {
            state: state.into(),
            message: message.into(),
        }
    }

    /// See [`StepOutcome::Finish`].
    pub fn finish_in(state: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Finish {
            state: state.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    pub kind: ErrorKind,
    pub message: String,
    /// A permanent failure may name the state the job ends in (e.g. `Denied`), so the
    /// job's state says what was decided rather than only which step last completed.
    pub state: Option<String>,
    /// A stable name for the kind of failure (`clone.not_found`), kept with the
    /// attempt and the job so that clients and people can act on it without parsing
    /// the message; the workflow's own catalogue says what each means.
    pub code: Option<String>,
}

impl StepError {
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Retryable,
            message: message.into(),
            state: None,
            code: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Permanent,
            message: message.into(),
            state: None,
            code: None,
        }
    }

    /// A permanent failure that leaves the job in `state`.
    pub fn ending_in(state: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            state: Some(state.into()),
            ..Self::permanent(message)
        }
    }

    /// The same failure, named by a stable `code` (see [`StepError::code`]).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

/// The memo key a signal is delivered under.
pub(crate) fn signal_memo_key(name: &str) -> String {
    format!("signal:{name}")
}

/// Everything a step may know about the job it runs in.
#[derive(Clone)]
pub struct StepContext {
    pub job_id: Uuid,
    pub workflow: String,
    pub step: String,
    /// 1-based attempt number of this step (interrupted attempts count).
    pub attempt: u32,
    /// Failed attempts of this step so far.
    pub failures: u32,
    pub worker_id: String,
    pub input: Arc<Value>,
    pub outputs: Arc<BTreeMap<String, Value>>,
    /// Cancelled when the job is cancelled, times out, or the worker loses its lease.
    pub cancellation: CancellationToken,
    pub(crate) log: LogSink,
    pub(crate) data: JobData,
}

/// What a step reaches in the store besides its input and outputs.
#[derive(Clone)]
pub(crate) struct JobData {
    pub store: Arc<dyn Protocol>,
    pub lease: Lease,
    pub secret_key: Option<SecretKey>,
}

/// Sealed values are kept apart from the job's secrets of the same name.
fn sealed_name(name: &str) -> String {
    format!("sealed:{name}")
}

/// A store failure inside a step: the database may come back, so try again later;
/// an unreadable secret will not fix itself.
fn store_error(what: &str, error: EngineError) -> StepError {
    match error {
        EngineError::Config(message) => StepError::permanent(message),
        other => StepError::retryable(format!("{what}: {other}")),
    }
}

impl StepContext {
    /// The job's input, decoded; a mismatch is a permanent error.
    pub fn input<T: DeserializeOwned>(&self) -> Result<T, StepError> {
        T::deserialize(self.input.as_ref())
            .map_err(|e| StepError::permanent(format!("invalid job input: {e}")))
    }

    /// The checkpointed output of an earlier step, decoded.
    pub fn output_of<T: DeserializeOwned>(&self, step: &str) -> Result<T, StepError> {
        let value = self.outputs.get(step).ok_or_else(|| {
            StepError::permanent(format!("step {step:?} has no checkpointed output"))
        })?;
        T::deserialize(value).map_err(|e| {
            StepError::permanent(format!("output of step {step:?} is unreadable: {e}"))
        })
    }

    /// Appends a line to the job's log (stored with the next checkpoint or heartbeat).
    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        self.log
            .push(Some(&self.step), Some(self.attempt), level, message.into());
    }

    pub fn info(&self, message: impl Into<String>) {
        self.log(LogLevel::Info, message);
    }

    pub fn warn(&self, message: impl Into<String>) {
        self.log(LogLevel::Warn, message);
    }

    /// A secret the job was submitted with, decrypted. `None` when it has none of
    /// that name. Never log or return it.
    pub async fn secret(&self, name: &str) -> Result<Option<String>, StepError> {
        self.secret_of(self.job_id, name).await
    }

    /// A secret another job was submitted with (the deployment a destroy job
    /// tears down), decrypted. Never log or return it.
    pub async fn secret_of(&self, job_id: Uuid, name: &str) -> Result<Option<String>, StepError> {
        let sealed = self
            .data
            .store
            .sealed_secret(job_id, name)
            .await
            .map_err(|e| store_error("reading a job secret", e))?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let key = self.data.secret_key.as_ref().ok_or_else(|| {
            StepError::permanent(
                "the job carries a secret but this worker has no secrets key (SECRETS_KEY)",
            )
        })?;
        key.open(job_id, &sealed)
            .map(Some)
            .map_err(|e| store_error("opening a job secret", e))
    }

    /// A value this step recorded under `key` in an earlier attempt (of this job).
    pub async fn memo_get(&self, key: &str) -> Result<Option<Value>, StepError> {
        self.data
            .store
            .memo_get(self.job_id, &self.step, key)
            .await
            .map_err(|e| store_error("reading a step memo", e))
    }

    /// Records `value` under `key` so a retried or resumed attempt of this step finds
    /// it; refused once this attempt has lost its lease.
    pub async fn memo_put(&self, key: &str, value: &Value) -> Result<(), StepError> {
        self.data
            .store
            .memo_put(&self.data.lease, &self.step, key, value)
            .await
            .map_err(|e| store_error("writing a step memo", e))
    }

    /// `value` sealed with the secrets key for this job under `name`, to keep
    /// where a resumed or retried step finds it again (a memo, an artifact)
    /// while nobody reads it from the database: a password the step made.
    pub fn seal(&self, name: &str, value: &str) -> Result<Value, StepError> {
        let sealed = self
            .secret_key()?
            .seal(self.job_id, &sealed_name(name), value);
        Ok(serde_json::json!({
            "nonce": hex::encode(&sealed.nonce),
            "ciphertext": hex::encode(&sealed.ciphertext),
        }))
    }

    /// Opens what [`seal`](Self::seal) made for this job under `name`.
    pub fn open(&self, name: &str, sealed: &Value) -> Result<String, StepError> {
        self.open_of(self.job_id, name, sealed)
    }

    /// Opens what [`seal`](Self::seal) made for another job under `name`.
    pub fn open_of(&self, job_id: Uuid, name: &str, sealed: &Value) -> Result<String, StepError> {
        let unreadable =
            || StepError::permanent(format!("the sealed value {name:?} is unreadable"));
        let field = |field: &str| {
            sealed
                .get(field)
                .and_then(Value::as_str)
                .and_then(|h| hex::decode(h).ok())
                .ok_or_else(unreadable)
        };
        let sealed = SealedSecret {
            name: sealed_name(name),
            nonce: field("nonce")?,
            ciphertext: field("ciphertext")?,
        };
        self.secret_key()?
            .open(job_id, &sealed)
            .map_err(|e| store_error("opening a sealed value", e))
    }

    fn secret_key(&self) -> Result<&SecretKey, StepError> {
        self.data.secret_key.as_ref().ok_or_else(|| {
            StepError::permanent(
                "this step keeps a secret but this worker has no secrets key (SECRETS_KEY)",
            )
        })
    }

    /// The value of signal `name` (e.g. an approval) delivered while the job waited,
    /// if any. Cleared when the step is retried from scratch.
    pub async fn signal(&self, name: &str) -> Result<Option<Value>, StepError> {
        self.memo_get(&signal_memo_key(name)).await
    }

    /// Another job's record (the deployment a destroy job tears down, say).
    pub async fn other_job(&self, job_id: Uuid) -> Result<Option<JobRecord>, StepError> {
        self.data
            .store
            .get_job(job_id)
            .await
            .map_err(|e| store_error("reading a job", e))
    }

    /// The files a job (this one, or another such as the deployment a destroy job
    /// tears down) stored under `prefix`, with their contents, by path.
    pub async fn artifacts_under(
        &self,
        job_id: Uuid,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StepError> {
        let metas = self
            .data
            .store
            .list_artifacts(job_id)
            .await
            .map_err(|e| store_error("listing artifacts", e))?;
        let mut files = Vec::new();
        for meta in metas.into_iter().filter(|m| m.path.starts_with(prefix)) {
            let artifact = self
                .data
                .store
                .get_artifact(job_id, &meta.path)
                .await
                .map_err(|e| store_error("reading an artifact", e))?;
            if let Some(artifact) = artifact {
                files.push((meta.path, artifact.content));
            }
        }
        Ok(files)
    }

    /// Stores a file the job produced (replacing one at the same path), downloadable
    /// from the API. Written only while this worker still holds the job's lease.
    pub async fn put_artifact(&self, path: &str, content: &[u8]) -> Result<(), StepError> {
        self.data
            .store
            .put_artifact(&self.data.lease, &self.step, path, content)
            .await
            .map_err(|e| store_error("storing an artifact", e))
    }
}

#[async_trait]
pub trait StepHandler: Send + Sync + 'static {
    async fn run(&self, ctx: StepContext) -> Result<StepOutcome, StepError>;
}

/// Adapts a typed async function `(ctx, input) -> output` into a [`StepHandler`].
pub fn typed<I, O, F, Fut>(f: F) -> impl StepHandler
where
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(StepContext, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, StepError>> + Send + 'static,
{
    typed_outcome(move |ctx, input| {
        let output = f(ctx, input);
        async move { output.await.map(StepOutcome::Completed) }
    })
}

/// Adapts a typed async function `(ctx, input) -> StepOutcome<output>` into a
/// [`StepHandler`]: a step that may park the job or end it early.
pub fn typed_outcome<I, O, F, Fut>(f: F) -> impl StepHandler
where
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(StepContext, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<StepOutcome<O>, StepError>> + Send + 'static,
{
    TypedOutcome {
        f,
        _types: PhantomData,
    }
}

struct TypedOutcome<F, I, O> {
    f: F,
    _types: PhantomData<fn(I) -> O>,
}

#[async_trait]
impl<I, O, F, Fut> StepHandler for TypedOutcome<F, I, O>
where
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(StepContext, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<StepOutcome<O>, StepError>> + Send + 'static,
{
    async fn run(&self, ctx: StepContext) -> Result<StepOutcome, StepError> {
        let input: I = ctx.input()?;
        Ok(match (self.f)(ctx, input).await? {
            StepOutcome::Completed(output) => StepOutcome::Completed(output_value(output)?),
            StepOutcome::Wait { state, message } => StepOutcome::Wait { state, message },
            StepOutcome::Finish { state, message } => StepOutcome::Finish { state, message },
        })
    }
}

fn output_value(output: impl Serialize) -> Result<Value, StepError> {
    serde_json::to_value(output)
        .map_err(|e| StepError::permanent(format!("step output is not JSON: {e}")))
}

type InputCheck = Arc<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

/// Step handlers by name, and the input checks of workflows that declare one.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn StepHandler>>,
    input_checks: HashMap<String, InputCheck>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, name: impl Into<String>, handler: impl StepHandler) -> &mut Self {
        self.handlers.insert(name.into(), Arc::new(handler));
        self
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn StepHandler>> {
        self.handlers.get(name).cloned()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.handlers.contains_key(name)
    }

    /// Declares the input type of `workflow`: submits whose input does not decode as
    /// `T`, or that `check` refuses, are rejected before a job is created.
    pub fn validate_input<T: DeserializeOwned + 'static>(
        &mut self,
        workflow: impl Into<String>,
        check: impl Fn(&T) -> Result<(), String> + Send + Sync + 'static,
    ) -> &mut Self {
        let check: InputCheck = Arc::new(move |value: &Value| {
            let input = T::deserialize(value).map_err(|e| e.to_string())?;
            check(&input)
        });
        self.input_checks.insert(workflow.into(), check);
        self
    }

    /// Checks a submit's input against the workflow's declared input, if any.
    pub fn check_input(&self, workflow: &str, input: &Value) -> Result<(), String> {
        match self.input_checks.get(workflow) {
            Some(check) => check(input),
            None => Ok(()),
        }
    }
}
