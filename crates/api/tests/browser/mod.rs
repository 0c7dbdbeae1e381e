//! Headless Chromium driven over the Chrome DevTools Protocol, just enough for page
//! tests: navigate, evaluate, wait for a condition, click and hover with the mouse,
//! resize, take a screenshot. Script exceptions and console errors (a Content
//! Security Policy violation is one) are collected so a test can assert there were
//! none.
//!
//! The protocol is JSON over one WebSocket; each call waits for its own answer and
//! notes the events that arrive meanwhile, which is all a sequential test needs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long one protocol call or one awaited condition may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `$CHROMIUM`, else Debian's `chromium`, if it is installed.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let default = Path::new("/usr/bin/chromium");
    default.exists().then(|| default.to_owned())
}

pub struct Browser {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Uncaught exceptions and console errors, as text.
    pub problems: Vec<String>,
    _child: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts a headless Chromium with a throwaway profile and opens one page.
    pub async fn launch(executable: &Path) -> Self {
        let profile = tempfile::tempdir().expect("browser profile dir");
        let mut child = Command::new(executable)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-extensions",
                "--disable-component-update",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", executable.display()));
        let url = devtools_url(&mut child).await;
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("connect to the DevTools WebSocket");
        let mut browser = Browser {
            ws,
            session: String::new(),
            next_id: 0,
            problems: Vec::new(),
            _child: child,
            _profile: profile,
        };
        let target = browser
            .send(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = browser
            .send(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        browser.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_owned();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            browser.call(domain, json!({})).await;
        }
        browser
    }

    /// One protocol call on the page.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(Some(&session), method, params).await
    }

    async fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .expect("send a DevTools message");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer within {TIMEOUT:?}"))
                .unwrap_or_else(|| panic!("{method}: the browser closed the connection"))
                .expect("read a DevTools message");
            let Message::Text(text) = frame else { continue };
            let answer: Value = serde_json::from_str(&text).expect("DevTools JSON");
            if answer["id"] == id {
                if !answer["error"].is_null() {
                    panic!("{method} failed: {}", answer["error"]);
                }
                return answer["result"].clone();
            }
            self.note_event(&answer);
        }
    }

    fn note_event(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                let details = &params["exceptionDetails"];
                let text = details["exception"]["description"]
                    .as_str()
                    .or(details["text"].as_str())
                    .unwrap_or("exception");
                self.problems.push(format!("uncaught: {text}"));
            }
            Some("Runtime.consoleAPICalled") if params["type"] == "error" => {
                self.problems
                    .push(format!("console.error: {}", params["args"]));
            }
            // Network errors (a 409 the page shows as a problem) are the page's business.
            Some("Log.entryAdded")
                if params["entry"]["level"] == "error"
                    && params["entry"]["source"] != "network" =>
            {
                self.problems.push(format!(
                    "{}: {}",
                    params["entry"]["source"], params["entry"]["text"]
                ));
            }
            _ => {}
        }
    }

    /// Sets the viewport: a laptop or, with `mobile`, a phone.
    pub async fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    pub async fn navigate(&mut self, url: &str) {
        let answer = self.call("Page.navigate", json!({"url": url})).await;
        assert!(answer["errorText"].is_null(), "navigate {url}: {answer}");
        self.wait_for("document.readyState === 'complete'", "the page to load")
            .await;
    }

    /// The value of a JavaScript expression (promises awaited).
    pub async fn eval(&mut self, expression: &str) -> Value {
        let answer = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if !answer["exceptionDetails"].is_null() {
            panic!("{expression}\nthrew {}", answer["exceptionDetails"]);
        }
        answer["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is truthy, and returns that value.
    pub async fn wait_for(&mut self, expression: &str, what: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let value = self.eval(expression).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!(0)
                && value != json!("");
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let text = self
                    .eval("document.body ? document.body.innerText.slice(0, 3000) : ''")
                    .await;
                panic!(
                    "waited {TIMEOUT:?} for {what} ({expression}); last value {value}; \
                     page text:\n{}",
                    text.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The centre of the first element matching `selector`, scrolled into view.
    async fn centre(&mut self, selector: &str) -> (f64, f64) {
        let selector_js = serde_json::to_string(selector).expect("selector as JSON");
        let point = self
            .wait_for(
                &format!(
                    "(() => {{ const e = document.querySelector({selector_js}); if (!e) return null; \
                     e.scrollIntoView({{block: 'nearest'}}); const r = e.getBoundingClientRect(); \
                     return r.width > 0 && r.height > 0 ? [r.x + r.width / 2, r.y + r.height / 2] : null; }})()"
                ),
                &format!("a visible {selector}"),
            )
            .await;
        (point[0].as_f64().unwrap(), point[1].as_f64().unwrap())
    }

    /// Moves the mouse over the element, as a person pointing at it would.
    pub async fn hover(&mut self, selector: &str) {
        let (x, y) = self.centre(selector).await;
        self.mouse("mouseMoved", x, y).await;
    }

    /// A left click in the middle of the element; it must be visible and on top there.
    pub async fn click(&mut self, selector: &str) {
        let (x, y) = self.centre(selector).await;
        self.mouse("mouseMoved", x, y).await;
        self.mouse("mousePressed", x, y).await;
        self.mouse("mouseReleased", x, y).await;
    }

    async fn mouse(&mut self, kind: &str, x: f64, y: f64) {
        let mut params = json!({"type": kind, "x": x, "y": y});
        if kind != "mouseMoved" {
            params["button"] = json!("left");
            params["clickCount"] = json!(1);
        }
        self.call("Input.dispatchMouseEvent", params).await;
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        let answer = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(answer["data"].as_str().expect("screenshot data"))
            .expect("screenshot base64")
    }
}

/// Reads Chromium's stderr until it names its DevTools endpoint, then keeps draining
/// it so the browser never blocks on a full pipe.
async fn devtools_url(child: &mut Child) -> String {
    let stderr = child.stderr.take().expect("browser stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(TIMEOUT, async {
        while let Some(line) = lines.next_line().await.expect("read browser stderr") {
            if let Some(at) = line.find("ws://") {
                return Some(line[at..].trim().to_owned());
            }
            seen.push(line);
        }
        None
    })
    .await;
    let Ok(Some(url)) = found else {
        panic!(
            "Chromium did not announce its DevTools endpoint; it said:\n{}",
            seen.join("\n")
        );
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    url
}
