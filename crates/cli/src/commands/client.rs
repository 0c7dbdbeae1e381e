//! The HTTP client of the `run`, `status`, `list`, `retry` and `cancel` commands: one
//! small [`ApiClient`] over `reqwest`, and the two errors a script can tell apart by
//! exit status: [`ApiProblem`] (the API refused the request, exit 1) and
//! [`ApiUnreachable`] (no answer from the API, exit 3).

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use crate::commands::ConfigError;

/// How long establishing a connection to the API may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole request may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Characters of a non-JSON error body quoted in a message.
const BODY_EXCERPT_CHARS: usize = 300;

/// The API answered with an error status: its problem document, or what stood in for one.
#[derive(Debug)]
pub struct ApiProblem {
    pub status: u16,
    pub title: String,
    pub detail: String,
}

impl std::fmt::Display for ApiProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (HTTP {} {})", self.detail, self.status, self.title)
    }
}

impl std::error::Error for ApiProblem {}

/// No answer from the API: connection refused, name not resolved, timed out.
#[derive(Debug)]
pub struct ApiUnreachable {
    pub url: String,
    pub reason: String,
}

impl std::fmt::Display for ApiUnreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot reach the deployflow API at {} ({}); is `deployflow serve` running \
             there? Set --api or DEPLOYFLOW_API to its URL",
            self.url, self.reason
        )
    }
}

impl std::error::Error for ApiUnreachable {}

/// A successful answer: its status and its JSON body, both as parsed and as sent.
#[derive(Debug)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub body: Value,
    pub raw: String,
}

/// A client of one deployflow API base URL.
pub struct ApiClient {
    base: Url,
    http: reqwest::Client,
}

impl ApiClient {
    /// A client of the API at `base` (`http://host:port`, optionally with a path prefix).
    pub fn new(base: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let base = Url::parse(base).map_err(|e| {
            ConfigError(format!(
                "--api / DEPLOYFLOW_API must be a URL such as http://127.0.0.1:8080, got {base:?}: {e}"
            ))
        })?;
        if base.scheme() != "http" || base.cannot_be_a_base() {
            return Err(ConfigError(format!(
                "--api / DEPLOYFLOW_API must be an http:// URL such as http://127.0.0.1:8080, \
                 got {base} (this build speaks plain HTTP; put TLS in a proxy in front of it)"
            ))
            .into());
        }
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| {
                    ConfigError("DEPLOYFLOW_TOKEN holds characters a header cannot carry".into())
                })?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("deployflow/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot set up the HTTP client: {e}"))?;
        Ok(Self { base, http })
    }

    /// The URL of `segments` under the base URL (each segment percent-encoded), with `query`.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked in new: the base URL can be a base")
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    pub async fn get(&self, url: Url) -> anyhow::Result<ApiResponse> {
        self.send(Method::GET, url, None).await
    }

    pub async fn post(&self, url: Url, body: Option<&Value>) -> anyhow::Result<ApiResponse> {
        self.send(Method::POST, url, body).await
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> anyhow::Result<ApiResponse> {
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.transport(&url, e))?;
        let status = response.status();
        let raw = response.text().await.map_err(|e| self.transport(&url, e))?;
        if !status.is_success() {
            return Err(problem(status, &raw).into());
        }
        let body = serde_json::from_str(&raw).map_err(|e| {
            anyhow::anyhow!(
                "{method} {url} answered {status} with a body that is not JSON ({e}): {}",
                excerpt(&raw)
            )
        })?;
        Ok(ApiResponse { status, body, raw })
    }

    /// A transport failure: unreachable (exit 3) if no answer came, a plain error otherwise.
    fn transport(&self, url: &Url, error: reqwest::Error) -> anyhow::Error {
        if error.is_connect() || error.is_timeout() {
            let reason = if error.is_timeout() {
                "timed out".to_owned()
            } else {
                root_cause(&error)
            };
            ApiUnreachable {
                url: self.base.as_str().trim_end_matches('/').to_owned(),
                reason,
            }
            .into()
        } else {
            anyhow::anyhow!("request to {url} failed: {}", root_cause(&error))
        }
    }
}

/// The innermost cause of an error, which names what actually went wrong.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// The error an error status stands for: the problem document's fields, or an excerpt of
/// whatever else came (a proxy's HTML page, say).
fn problem(status: StatusCode, raw: &str) -> ApiProblem {
    let document = serde_json::from_str::<Value>(raw).ok();
    let field = |name: &str| {
        document
            .as_ref()
            .and_then(|d| d.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let title = field("title")
        .or_else(|| status.canonical_reason().map(str::to_owned))
        .unwrap_or_default();
    let detail = field("detail").unwrap_or_else(|| {
        if raw.trim().is_empty() {
            format!("the API answered {status} without a body")
        } else {
            // The API answers every error with a problem document: something
            // else is listening (an app published on the API's port).
            format!(
                "the API answered {status}: {} (this is not a deployflow problem document: \
                 is DEPLOYFLOW_API the API's URL? A deployment `deployflow deploy` ran in \
                 its own process has no API: destroy it with `deployflow destroy --here <id>`)",
                excerpt(raw)
            )
        }
    });
    ApiProblem {
        status: status.as_u16(),
        title,
        detail,
    }
}

fn excerpt(raw: &str) -> String {
    let trimmed = raw.trim();
    match trimmed.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &trimmed[..end]),
        None => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_urls_under_the_base_with_encoded_segments_and_query() {
        let client = ApiClient::new("http://127.0.0.1:8080", None).unwrap();
        assert_eq!(
            client.url(&["workflows", "a b/c", "runs"], &[]).as_str(),
            "http://127.0.0.1:8080/workflows/a%20b%2Fc/runs"
        );
        let client = ApiClient::new("http://host/prefix/", None).unwrap();
        assert_eq!(
            client
                .url(&["list"], &[("status", "failed,cancelled".into())])
                .as_str(),
            "http://host/prefix/list?status=failed%2Ccancelled"
        );
    }

    #[test]
    fn rejects_base_urls_it_cannot_use() {
        for bad in ["127.0.0.1:8080", "https://example.com", "not a url"] {
            let error = ApiClient::new(bad, None).err().expect(bad);
            assert!(error.downcast_ref::<ConfigError>().is_some(), "{bad}");
        }
    }

    #[test]
    fn error_statuses_become_problems() {
        let p = problem(
            StatusCode::NOT_FOUND,
            r#"{"type":"/problems/job-not-found","title":"Not found","status":404,"detail":"no job has id x"}"#,
        );
        assert_eq!(p.to_string(), "no job has id x (HTTP 404 Not found)");
        let p = problem(StatusCode::BAD_GATEWAY, "<html>bad gateway</html>");
        assert_eq!(p.status, 502);
        assert!(
            p.detail.contains("<html>bad gateway</html>"),
            "{}",
            p.detail
        );
        let p = problem(StatusCode::SERVICE_UNAVAILABLE, "");
        assert!(p.detail.contains("without a body"), "{}", p.detail);
    }
}
