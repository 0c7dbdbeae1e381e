//! A real smart-HTTP git server on loopback: every request runs `git http-backend` as a
//! CGI program over the repositories under a root directory, optionally behind HTTP
//! Basic auth, like a private GitHub repository.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// The one account a protected server accepts.
#[derive(Debug, Clone)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

impl BasicAuth {
    pub fn new(username: &str, password: &str) -> Self {
        Self {
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    fn header_value(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub struct GitServerOptions {
    pub auth: Option<BasicAuth>,
    /// Drops the client's `Git-Protocol` header so git answers in protocol v0, as an
    /// older server would.
    pub protocol_v0_only: bool,
}

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The `Authorization` header as sent, if any.
    pub authorization: Option<String>,
}

/// A running server; stops when dropped.
pub struct GitHttpServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    shutdown: Option<oneshot::Sender<()>>,
}

#[derive(Clone)]
struct ServerState {
    root: PathBuf,
    options: GitServerOptions,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl GitHttpServer {
    /// Serves the repositories under `root` (each a directory, bare or not) on
    /// 127.0.0.1 at a free port.
    pub async fn start(root: &Path, auth: Option<BasicAuth>) -> Self {
        Self::start_with(
            root,
            GitServerOptions {
                auth,
                ..GitServerOptions::default()
            },
        )
        .await
    }

    pub async fn start_with(root: &Path, options: GitServerOptions) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = ServerState {
            root: root.to_owned(),
            options,
            requests: requests.clone(),
        };
        let app = Router::new().fallback(handle).with_state(state);
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            requests,
            shutdown: Some(shutdown),
        }
    }

    /// `http://127.0.0.1:<port>/<name>`, the clone URL of the repository `root/<name>`.
    pub fn url_for(&self, name: &str) -> String {
        format!("http://{}/{}", self.addr, name.trim_start_matches('/'))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request served so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn handle(State(state): State<ServerState>, request: Request) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    state
        .requests
        .lock()
        .expect("requests lock")
        .push(RecordedRequest {
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            query: request.uri().query().map(str::to_owned),
            authorization: authorization.clone(),
        });
    if let Some(auth) = &state.options.auth
        && authorization.as_deref() != Some(auth.header_value().as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"git\"")],
            "authentication required\n",
        )
            .into_response();
    }
    match run_cgi(&state, request).await {
        Ok(response) => response,
        Err(message) => (StatusCode::INTERNAL_SERVER_ERROR, message).into_response(),
    }
}

async fn run_cgi(state: &ServerState, request: Request) -> Result<Response, String> {
    let (parts, body) = request.into_parts();
    let mut command = tokio::process::Command::new("git");
    command
        .arg("http-backend")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", &state.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(auth) = &state.options.auth {
        command.env("REMOTE_USER", &auth.username);
        command.env("AUTH_TYPE", "Basic");
    }
    for (name, value) in cgi_headers(&parts.headers, &state.options) {
        command.env(name, value);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("spawn git http-backend: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    // Feed the body while reading the output: the backend may answer before it has read
    // everything, and neither side may block the other.
    let feed = async move {
        let mut chunks = body.into_data_stream();
        while let Some(chunk) = chunks.next().await {
            let Ok(chunk) = chunk else { break };
            if stdin.write_all(&chunk).await.is_err() {
                break;
            }
        }
        drop(stdin);
    };
    let mut output = Vec::new();
    let mut errors = Vec::new();
    let (_, read_out, read_err) = tokio::join!(
        feed,
        stdout.read_to_end(&mut output),
        stderr.read_to_end(&mut errors)
    );
    read_out.map_err(|e| format!("read git http-backend output: {e}"))?;
    read_err.map_err(|e| format!("read git http-backend errors: {e}"))?;
    let status = child
        .wait()
        .await
        .map_err(|e| format!("wait for git http-backend: {e}"))?;
    if !status.success() && output.is_empty() {
        return Err(format!(
            "git http-backend failed ({status}): {}",
            String::from_utf8_lossy(&errors)
        ));
    }
    parse_cgi_response(&output)
}

/// Request headers as CGI variables: `Content-Type` and `Content-Length` by their own
/// names, every other one as `HTTP_<NAME>` (which carries `Git-Protocol` through).
fn cgi_headers(headers: &HeaderMap, options: &GitServerOptions) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| !(options.protocol_v0_only && name.as_str() == "git-protocol"))
        .filter(|(name, _)| *name != header::AUTHORIZATION)
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?.to_owned();
            let var = match name.as_str() {
                "content-type" => "CONTENT_TYPE".to_owned(),
                "content-length" => "CONTENT_LENGTH".to_owned(),
                other => format!("HTTP_{}", other.to_ascii_uppercase().replace('-', "_")),
            };
            Some((var, value))
        })
        .collect()
}

/// Splits CGI output into its header block (with the `Status:` pseudo-header) and body.
fn parse_cgi_response(output: &[u8]) -> Result<Response, String> {
    let (head, body) = split_head(output).ok_or("git http-backend wrote no header block")?;
    let head = std::str::from_utf8(head).map_err(|_| "non-UTF-8 CGI headers")?;
    let mut status = StatusCode::OK;
    let mut headers = HeaderMap::new();
    for line in head.lines().filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad CGI header line {line:?}"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or("500");
            status = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or_else(|| format!("bad CGI status {value:?}"))?;
        } else {
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| format!("bad CGI header name {name:?}"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("bad CGI header value {value:?}"))?;
            headers.append(name, value);
        }
    }
    let mut response = Response::new(Body::from(body.to_vec()));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

fn split_head(output: &[u8]) -> Option<(&[u8], &[u8])> {
    [&b"\r\n\r\n"[..], &b"\n\n"[..]]
        .iter()
        .filter_map(|sep| {
            output
                .windows(sep.len())
                .position(|w| w == *sep)
                .map(|i| (i, sep.len()))
        })
        .min_by_key(|(i, _)| *i)
        .map(|(i, len)| (&output[..i], &output[i + len..]))
}
