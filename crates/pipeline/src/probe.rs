//! One HTTP probe of an app, as the preflight step and the health check make
//! and record it.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One probe of the app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    pub at: DateTime<Utc>,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

pub fn is_healthy(status: u16) -> bool {
    (200..400).contains(&status)
}

/// Which answers show the app up: the same for preflight and the health
/// check, so what passed one passes the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// 2xx or 3xx, on the health path the analysis found.
    Healthy,
    /// Any HTTP answer but a server error or 400, on `/` when no health
    /// path was found: `/` is only a guess, and an API that serves nothing
    /// there answers 404 (or 401, 422), which still shows it serves. A 400
    /// to a plain `GET /` is the app refusing every request to this address
    /// (Django's `DisallowedHost`, a TLS port spoken to in plain HTTP).
    AnyBelow500,
}

impl Answers {
    pub fn for_health_path(health_path: Option<&str>) -> Self {
        if health_path.is_some_and(|p| p.starts_with('/')) {
            Answers::Healthy
        } else {
            Answers::AnyBelow500
        }
    }

    pub fn shows_up(self, status: u16) -> bool {
        match self {
            Answers::Healthy => is_healthy(status),
            Answers::AnyBelow500 => (200..500).contains(&status) && status != 400,
        }
    }

    /// What a passing answer that is not 2xx/3xx means, to say beside it.
    pub fn note(self, status: u16) -> &'static str {
        if is_healthy(status) {
            ""
        } else {
            " (no health path was found, and an answer on `/` shows the app serves HTTP; give the deployment a health path for a real check)"
        }
    }
}

/// `base` with the health path in place of its path.
pub fn probe_url(base: &str, health_path: Option<&str>) -> String {
    let Some(path) = health_path.filter(|p| p.starts_with('/')) else {
        return base.to_owned();
    };
    match reqwest::Url::parse(base) {
        Ok(mut url) => {
            url.set_path(path);
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}

pub fn describe(probe: &Probe) -> String {
    match (&probe.status, &probe.error) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".into(),
    }
}

pub async fn probe(client: &reqwest::Client, url: &str) -> Probe {
    let at = Utc::now();
    let started = Instant::now();
    let span = tracing::info_span!("health.probe", http.request.method = "GET", url.full = %url,
        http.response.status_code = tracing::field::Empty);
    let answer = tracing::Instrument::instrument(client.get(url).send(), span.clone()).await;
    if let Ok(response) = &answer {
        span.record("http.response.status_code", response.status().as_u16());
    }
    let latency_ms = started.elapsed().as_millis() as u64;
    match answer {
        Ok(response) => Probe {
            at,
            status: Some(response.status().as_u16()),
            latency_ms,
            error: None,
        },
        Err(error) => Probe {
            at,
            status: None,
            latency_ms,
            error: Some(without_url(&error)),
        },
    }
}

/// reqwest's message without the URL it appends (the URL is already recorded).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection refused or unreachable"
    } else {
        "request failed"
    };
    let source = std::error::Error::source(error)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    format!("{kind}{source}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guess_at_the_root_takes_any_answer_but_a_refusal() {
        let root = Answers::for_health_path(None);
        for status in [200, 302, 401, 404, 422] {
            assert!(root.shows_up(status), "{status}");
        }
        for status in [400, 500, 502] {
            assert!(!root.shows_up(status), "{status}");
        }
        let path = Answers::for_health_path(Some("/healthz"));
        assert!(path.shows_up(204) && !path.shows_up(404));
    }

    #[test]
    fn the_health_path_replaces_the_url_path() {
        assert_eq!(
            probe_url("http://127.0.0.1:8080/", Some("/healthz")),
            "http://127.0.0.1:8080/healthz"
        );
        assert_eq!(probe_url("http://h:8080/", None), "http://h:8080/");
        assert_eq!(
            probe_url("http://h:8080/", Some("health")),
            "http://h:8080/"
        );
        assert!(is_healthy(204) && is_healthy(302) && !is_healthy(503));
        let guess = Answers::for_health_path(None);
        assert!(guess.shows_up(404) && guess.shows_up(422) && !guess.shows_up(502));
        let path = Answers::for_health_path(Some("/health"));
        assert!(path.shows_up(200) && !path.shows_up(404));
    }
}
