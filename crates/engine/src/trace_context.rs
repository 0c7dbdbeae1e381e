//! One trace per job, across every worker that runs a part of it.
//!
//! At submit the job gets a W3C `traceparent` (stored in `jobs.trace_context`): the
//! context of a short `job.submit` span when an OpenTelemetry layer is installed, else
//! fresh random ids, so a worker that exports traces still groups the job's spans even
//! when the submitting process does not. Every run of the job makes its `job` span a
//! child of that context, so a step resumed by another process after a crash continues
//! the same trace. Without an OpenTelemetry layer every call here is a no-op apart from
//! formatting the ids. The engine only speaks the OpenTelemetry API: where spans go is
//! the binary's choice.

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use rand::RngCore;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

/// The trace context a new job is stored with. Opens (and at once closes) the job's
/// root span `job.submit`, linked from the caller's span, which in turn gets the
/// job's trace id as `job.trace_id`.
pub(crate) fn for_new_job(job_id: Uuid, workflow: &str) -> String {
    let caller = tracing::Span::current();
    let root = tracing::info_span!(parent: None, "job.submit", job.id = %job_id, workflow);
    root.add_link(caller.context().span().span_context().clone());
    let context = root.context().span().span_context().clone();
    let traceparent = if context.is_valid() {
        format_traceparent(context.trace_id(), context.span_id(), context.trace_flags())
    } else {
        random_traceparent()
    };
    if let Some(trace_id) = trace_id(&traceparent) {
        caller.set_attribute("job.trace_id", trace_id.to_owned());
    }
    traceparent
}

/// Makes `span` (a job run's root) a child of the job's stored context. Must be called
/// before the span is first entered.
pub(crate) fn continue_job_trace(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(parent) = traceparent.and_then(parse_traceparent) {
        // Fails only without an OpenTelemetry layer, when there is nothing to parent.
        let _ = span.set_parent(Context::new().with_remote_span_context(parent));
    }
}

/// The trace id (32 lowercase hex digits) of a stored `traceparent`, what a trace
/// viewer searches by.
pub fn trace_id(traceparent: &str) -> Option<&str> {
    parse_traceparent(traceparent)?;
    traceparent.get(3..35)
}

fn random_traceparent() -> String {
    let mut rng = rand::rng();
    let (mut trace, mut span) = ([0u8; 16], [0u8; 8]);
    // An all-zero id is invalid; 2^-64 odds, but a retry costs nothing.
    while trace == [0; 16] || span == [0; 8] {
        rng.fill_bytes(&mut trace);
        rng.fill_bytes(&mut span);
    }
    format_traceparent(
        TraceId::from_bytes(trace),
        SpanId::from_bytes(span),
        TraceFlags::SAMPLED,
    )
}

fn format_traceparent(trace: TraceId, span: SpanId, flags: TraceFlags) -> String {
    format!("00-{trace}-{span}-{:02x}", flags.to_u8())
}

/// Parses version 00 of the W3C header: `00-<32 hex>-<16 hex>-<2 hex>`.
fn parse_traceparent(text: &str) -> Option<SpanContext> {
    let mut parts = text.split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let lower_hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if parts.next().is_some()
        || version != "00"
        || !lower_hex(trace, 32)
        || !lower_hex(span, 16)
        || !lower_hex(flags, 2)
    {
        return None;
    }
    let context = SpanContext::new(
        TraceId::from_hex(trace).ok()?,
        SpanId::from_hex(span).ok()?,
        TraceFlags::new(u8::from_str_radix(flags, 16).ok()?),
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_contexts_parse_back_and_differ() {
        let (a, b) = (random_traceparent(), random_traceparent());
        assert_ne!(a, b);
        let parsed = parse_traceparent(&a).expect("valid");
        assert!(parsed.is_sampled() && parsed.is_remote());
        assert_eq!(trace_id(&a).unwrap(), parsed.trace_id().to_string());
        assert_eq!(
            format_traceparent(parsed.trace_id(), parsed.span_id(), parsed.trace_flags()),
            a
        );
    }

    #[test]
    fn malformed_contexts_are_rejected() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(parse_traceparent(good).is_some());
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad:?}");
            assert!(trace_id(bad).is_none(), "{bad:?}");
        }
    }
}
