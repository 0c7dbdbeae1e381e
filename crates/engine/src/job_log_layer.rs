//! The tracing layer that makes a job's log: every event emitted inside a job's span
//! (the engine's own, a step handler's, a library's) is also stored with the job, with
//! the step and attempt of the enclosing step span, secrets redacted. Lines go to the
//! job's bounded [`LogSink`] and are written with its next heartbeat or checkpoint.
//!
//! `JobRun` registers its sink under `(job id, epoch)` while it runs; the layer finds
//! it through the `job` span's `job.id` and `epoch` fields.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use uuid::Uuid;

use crate::logs::{LogLevel, LogSink};
use crate::redact::redact;

/// The span names the layer understands (created by `job_run.rs`).
pub(crate) const JOB_SPAN: &str = "job";
pub(crate) const STEP_SPAN: &str = "step";

static SINKS: LazyLock<Mutex<HashMap<(Uuid, i64), LogSink>>> = LazyLock::new(Default::default);

/// Routes events inside `job`'s span to `sink` until the guard is dropped.
pub(crate) fn register(job_id: Uuid, epoch: i64, sink: LogSink) -> Registration {
    SINKS
        .lock()
        .expect("job log sinks")
        .insert((job_id, epoch), sink);
    Registration {
        key: (job_id, epoch),
    }
}

pub(crate) struct Registration {
    key: (Uuid, i64),
}

impl Drop for Registration {
    fn drop(&mut self) {
        SINKS.lock().expect("job log sinks").remove(&self.key);
    }
}

/// Add to the subscriber (with a level filter, e.g. INFO) to fill job logs.
#[derive(Debug, Default, Clone, Copy)]
pub struct JobLogLayer;

/// What a job or step span contributes to the lines under it.
enum SpanRole {
    Job(LogSink),
    Step { name: String, attempt: Option<u32> },
}

impl<S> Layer<S> for JobLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let name = attrs.metadata().name();
        if name != JOB_SPAN && name != STEP_SPAN {
            return;
        }
        let mut fields = SpanFields::default();
        attrs.record(&mut fields);
        let role = if name == JOB_SPAN {
            let (Some(job_id), Some(epoch)) = (fields.job_id, fields.epoch) else {
                return;
            };
            let sinks = SINKS.lock().expect("job log sinks");
            let Some(sink) = sinks.get(&(job_id, epoch)) else {
                return;
            };
            SpanRole::Job(sink.clone())
        } else {
            let Some(step) = fields.step else { return };
            SpanRole::Step {
                name: step,
                attempt: fields.attempt,
            }
        };
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(role);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let mut step = None;
        let mut sink = None;
        for span in scope {
            match span.extensions().get::<SpanRole>() {
                Some(SpanRole::Step { name, attempt }) if step.is_none() => {
                    step = Some((name.clone(), *attempt));
                }
                Some(SpanRole::Job(job_sink)) => {
                    sink = Some(job_sink.clone());
                    break;
                }
                _ => {}
            }
        }
        let Some(sink) = sink else { return };
        let mut message = EventMessage::default();
        event.record(&mut message);
        let (step, attempt) = match step {
            Some((name, attempt)) => (Some(name), attempt),
            None => (None, None),
        };
        sink.push(
            step.as_deref(),
            attempt,
            level(event.metadata().level()),
            redact(&message.text()),
        );
    }
}

fn level(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        _ => LogLevel::Debug,
    }
}

#[derive(Default)]
struct SpanFields {
    job_id: Option<Uuid>,
    epoch: Option<i64>,
    step: Option<String>,
    attempt: Option<u32>,
}

impl Visit for SpanFields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "job.id" => self.job_id = Uuid::parse_str(text.trim_matches('"')).ok(),
            "step" => self.step = Some(text.trim_matches('"').to_owned()),
            "epoch" => self.epoch = text.parse().ok(),
            "attempt" => self.attempt = text.parse().ok(),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        match field.name() {
            "epoch" => self.epoch = Some(value),
            "attempt" => self.attempt = u32::try_from(value).ok(),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "epoch" => self.epoch = i64::try_from(value).ok(),
            "attempt" => self.attempt = u32::try_from(value).ok(),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "job.id" => self.job_id = Uuid::parse_str(value).ok(),
            "step" => self.step = Some(value.to_owned()),
            _ => {}
        }
    }
}

/// The event's message followed by its other fields as `key=value`.
#[derive(Default)]
struct EventMessage {
    message: String,
    fields: String,
}

impl EventMessage {
    fn text(&self) -> String {
        if self.fields.is_empty() {
            self.message.clone()
        } else if self.message.is_empty() {
            self.fields.trim_start().to_owned()
        } else {
            format!("{}{}", self.message, self.fields)
        }
    }
}

impl Visit for EventMessage {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}
