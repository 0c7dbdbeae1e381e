//! A fake OpenAI-compatible chat completions server: a real HTTP server on
//! 127.0.0.1 that records every request (headers and JSON body) and answers
//! from a script, in OpenAI's wire format with token usage.
//!
//! ```ignore
//! let fake = FakeOpenAi::start().await;
//! fake.push_json(json!({"files": ["app.py"], "reason": "entry point"}))
//!     .push_status(500)
//!     .push_raw_content("not json");
//! // point the client at fake.base_url(), then inspect fake.requests()
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A completion whose assistant message has this content.
    Content(String),
    /// An HTTP error with OpenAI's `{"error": {...}}` body.
    Error {
        status: u16,
        message: String,
        code: Option<String>,
        param: Option<String>,
    },
    /// Waits, then answers: long enough and the client times out.
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    /// A completion whose content is `value` serialised.
    pub fn json(value: &Value) -> Self {
        Reply::Content(value.to_string())
    }

    pub fn status(status: u16) -> Self {
        Reply::error(status, format!("scripted failure {status}"))
    }

    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Reply::Error {
            status,
            message: message.into(),
            code: None,
            param: None,
        }
    }
}

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub path: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; `Value::Null` when it was not JSON.
    pub body: Value,
    /// `(prompt_tokens, completion_tokens)` the fake reported, for a completion.
    pub usage: Option<(u32, u32)>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn authorization(&self) -> Option<&str> {
        self.header("authorization")
    }

    pub fn model(&self) -> Option<&str> {
        self.body["model"].as_str()
    }

    /// `(role, content)` of each message.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.body["messages"]
            .as_array()
            .map(|messages| {
                messages
                    .iter()
                    .map(|m| {
                        (
                            m["role"].as_str().unwrap_or_default().to_owned(),
                            message_text(&m["content"]),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// All message contents joined: what the model was shown.
    pub fn text(&self) -> String {
        self.messages()
            .into_iter()
            .map(|(_, content)| content)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `json_schema`, `json_object` or `text`, when a response format was asked for.
    pub fn response_format(&self) -> Option<&str> {
        self.body["response_format"]["type"].as_str()
    }
}

/// Content is a string or a list of `{"type": "text", "text": …}` parts.
fn message_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

type Responder = Box<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

#[derive(Default)]
struct Script {
    queue: VecDeque<Reply>,
    responder: Option<Responder>,
    requests: Vec<RecordedRequest>,
}

type Shared = Arc<Mutex<Script>>;

/// The running fake; stops when dropped.
pub struct FakeOpenAi {
    addr: SocketAddr,
    script: Shared,
    shutdown: Option<oneshot::Sender<()>>,
}

impl FakeOpenAi {
    pub async fn start() -> Self {
        let script: Shared = Arc::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .route("/chat/completions", post(complete))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake OpenAI on loopback");
        let addr = listener.local_addr().expect("fake OpenAI address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            script,
            shutdown: Some(shutdown),
        }
    }

    /// `http://127.0.0.1:PORT/v1`, the value for `OPENAI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues a reply; replies are used in order, one per request.
    pub fn push(&self, reply: Reply) -> &Self {
        self.script.lock().unwrap().queue.push_back(reply);
        self
    }

    pub fn push_json(&self, value: Value) -> &Self {
        self.push(Reply::json(&value))
    }

    pub fn push_raw_content(&self, text: impl Into<String>) -> &Self {
        self.push(Reply::Content(text.into()))
    }

    pub fn push_status(&self, status: u16) -> &Self {
        self.push(Reply::status(status))
    }

    pub fn push_error(&self, status: u16, message: impl Into<String>) -> &Self {
        self.push(Reply::error(status, message))
    }

    pub fn push_delay(&self, delay: Duration, then: Reply) -> &Self {
        self.push(Reply::Delayed(delay, Box::new(then)))
    }

    /// Answers requests once the queue is empty. Without one, an unscripted
    /// request gets a 500 saying so, which fails the test visibly.
    pub fn respond_with(
        &self,
        responder: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> &Self {
        self.script.lock().unwrap().responder = Some(Box::new(responder));
        self
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.script.lock().unwrap().requests.clone()
    }

    pub fn request_count(&self) -> usize {
        self.script.lock().unwrap().requests.len()
    }

    /// Queued replies not used yet.
    pub fn pending(&self) -> usize {
        self.script.lock().unwrap().queue.len()
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn complete(
    State(script): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut request = RecordedRequest {
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        usage: None,
    };
    let (delay, reply, index) = {
        let mut script = script.lock().unwrap();
        let scripted = match script.queue.pop_front() {
            Some(reply) => reply,
            None => match &script.responder {
                Some(responder) => responder(&request),
                None => Reply::error(500, "fake OpenAI: no scripted reply left"),
            },
        };
        let (delay, reply) = unwrap_delay(scripted);
        if let Reply::Content(content) = &reply {
            request.usage = Some(usage(&request, content.as_str()));
        }
        script.requests.push(request.clone());
        (delay, reply, script.requests.len())
    };
    // Recorded before waiting, so a client that gives up is still seen.
    tokio::time::sleep(delay).await;
    render(reply, &request, index)
}

fn unwrap_delay(reply: Reply) -> (Duration, Reply) {
    match reply {
        Reply::Delayed(wait, inner) => {
            let (more, reply) = unwrap_delay(*inner);
            (wait + more, reply)
        }
        reply => (Duration::ZERO, reply),
    }
}

/// Roughly four characters a token, like OpenAI's English average; never zero.
fn usage(request: &RecordedRequest, content: &str) -> (u32, u32) {
    let prompt = request.text().chars().count() / 4 + 1;
    let completion = content.chars().count() / 4 + 1;
    (
        u32::try_from(prompt).unwrap_or(u32::MAX),
        u32::try_from(completion).unwrap_or(u32::MAX),
    )
}

fn render(reply: Reply, request: &RecordedRequest, index: usize) -> Response {
    match reply {
        Reply::Content(content) => {
            let (prompt, completion) = request.usage.unwrap_or((0, 0));
            let body = json!({
                "id": format!("chatcmpl-fake-{index}"),
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": request.model().unwrap_or("fake-model"),
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": null},
                    "finish_reason": "stop",
                    "logprobs": null
                }],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion
                }
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Reply::Error {
            status,
            message,
            code,
            param,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let kind = match status.as_u16() {
                401 | 403 => "invalid_request_error",
                429 => "rate_limit_exceeded",
                500..=599 => "server_error",
                _ => "invalid_request_error",
            };
            let body = json!({
                "error": {"message": message, "type": kind, "param": param, "code": code}
            });
            (status, axum::Json(body)).into_response()
        }
        Reply::Delayed(_, inner) => render(*inner, request, index),
    }
}
