//! Hostile repository URLs sent to `POST /request` of a running API with the
//! production URL policy (GitHub only, no local repositories): each is refused
//! with a 422 problem naming `repo_url`, and no job is created (whitespace
//! around an otherwise good URL is trimmed, not refused). Then a redirect
//! of git's handshake, which a clone running on a worker must not follow to a
//! host the policy never admitted.

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, TestApp};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

api_tests!(hostile_urls_are_refused_and_create_nothing);

/// The API over `app`'s engine with the default policy: `github.com` over https only.
async fn strict_api(app: &TestApp) -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let config = api::ApiConfig {
        url_policy: pipeline::UrlPolicy::default(),
        metrics: None,
        auth: api::auth::AuthConfig::default(),
    };
    tokio::spawn({
        let engine = app.engine.clone();
        let shutdown = shutdown.clone();
        async move {
            api::serve(listener, engine, config, shutdown)
                .await
                .expect("serve");
        }
    });
    (base, shutdown)
}

fn hostile_urls() -> Vec<String> {
    let mut urls: Vec<String> = [
        "file:///etc",
        "file:///root/.ssh",
        "FILE:///etc/passwd",
        "ssh://git@github.com/acme/shop.git",
        "git://github.com/acme/shop.git",
        "git+ssh://github.com/acme/shop",
        "git@github.com:acme/shop.git",
        "github.com:acme/shop.git",
        "ext::sh -c touch% /tmp/pwned",
        "ftp://github.com/acme/shop",
        "http://github.com/acme/shop",
        "https://gitlab.com/acme/shop",
        "https://github.com.evil.example/acme/shop",
        "https://evilgithub.com/acme/shop",
        "https://127.0.0.1/acme/shop",
        "http://127.0.0.1:8080/acme/shop",
        "https://localhost/acme/shop",
        "https://app.localhost/acme/shop",
        "https://[::1]/acme/shop",
        "https://[::ffff:127.0.0.1]/acme/shop",
        "https://169.254.169.254/latest/meta-data",
        "http://169.254.169.254/latest/meta-data",
        "https://2130706433/acme/shop",
        "https://0x7f000001/acme/shop",
        "https://0/acme/shop",
        "https://10.0.0.1/acme/shop",
        "https://user:secret@github.com/acme/shop",
        "https://ghp_abcdef@github.com/acme/shop",
        "https://github.com@169.254.169.254/acme/shop",
        "https://169.254.169.254#@github.com/acme/shop",
        "https://github.com%2F@evil.example/acme/shop",
        "https://github.com/acme/%2e%2e/%2e%2e/etc",
        "https://github%2ecom/acme/shop",
        "https://github.com/acme/shop?x=1",
        "https://github.com/acme/../../etc/passwd",
        "https://github.com/acme/shop/tree/main",
        "https://github.com:99999/acme/shop",
        "https://github.com\\@evil.example/acme/shop",
        "https://git\u{0456}hub.com/acme/shop",
        // Surrounding whitespace is trimmed, but inside the URL a control
        // character or a space is refused: a WHATWG parser would silently
        // drop a tab or newline and clone another repository than the one
        // shown.
        "https://github.com/acme/shop\nevil",
        "https://github.com/acme/shop\r\nHost: evil.example",
        "https://github.com/ac\nme/shop",
        "https://github.com/ac\tme/shop",
        "https://github.com/acme/sh op",
        "https://github.com/acme/shop\u{7f}",
        "https://github.com/ac\u{85}me/shop",
        "https://github.com/ac\u{0}me/shop",
        "",
        "   ",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    urls.push(format!("https://github.com/acme/{}", "a".repeat(5000)));
    urls.push(format!("https://{}.github.com/acme/shop", "a".repeat(300)));
    urls
}

async fn hostile_urls_are_refused_and_create_nothing(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let (base, shutdown) = strict_api(&app).await;
    let before = app.job_count().await;
    let mut refused = 0;
    for url in hostile_urls() {
        let body = json!({"repo_url": url, "description": "a public API"});
        let response = app
            .client
            .post(format!("{base}/request"))
            .json(&body)
            .send()
            .await
            .expect("POST /request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let problem: Value = response.json().await.expect("a JSON problem");
        assert_eq!(status, 422, "{url:?}: {problem:#}");
        assert_eq!(content_type, "application/problem+json", "{url:?}");
        assert_eq!(problem["status"], 422, "{url:?}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with("repo_url: "),
            "{url:?}: the detail must name the field: {detail:?}"
        );
        assert!(
            detail.len() < 600,
            "{url:?}: the detail is {} bytes",
            detail.len()
        );
        for secret in ["secret@", "ghp_abcdef"] {
            assert!(!problem.to_string().contains(secret), "{problem}");
        }
        refused += 1;
    }
    // The same URLs through the deployment workflow's run route.
    let response = app
        .client
        .post(format!("{base}/workflows/deploy/runs"))
        .json(&json!({"input": {"repo_url": "https://169.254.169.254/x/y", "description": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    assert_eq!(
        app.job_count().await,
        before,
        "a refused request created a job"
    );
    println!("hostile URLs refused: {refused}, jobs created: 0");
    // Whitespace around a pasted URL is trimmed: the job is for exactly the
    // URL without it.
    let body =
        json!({"repo_url": " \thttps://github.com/acme/shop\n", "description": "a public API"});
    let response = app
        .client
        .post(format!("{base}/request"))
        .json(&body)
        .send()
        .await
        .expect("POST /request");
    let status = response.status().as_u16();
    let accepted: Value = response.json().await.expect("a JSON job");
    assert_eq!(status, 202, "{accepted:#}");
    let id = accepted["id"].as_str().expect("id");
    let job: Value = app
        .client
        .get(format!("{base}/job/{id}"))
        .send()
        .await
        .expect("GET /job")
        .json()
        .await
        .expect("a JSON job");
    assert_eq!(
        job["input"]["repo_url"], "https://github.com/acme/shop",
        "{job:#}"
    );
    shutdown.cancel();
}

/// A plain-TCP HTTP server answering every request with `302 Location:
/// <location><path>`, counting requests.
fn redirector(listener: std::net::TcpListener, location: String) -> Arc<AtomicUsize> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let target = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let reply = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}{target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    hits
}

/// Records the first line of every request it gets, answers 404.
fn canary(listener: std::net::TcpListener) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let line = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            log.lock().unwrap().push(line);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    seen
}

/// The test API admits loopback repositories, so the redirect's target is another
/// loopback address (`127.0.0.2`, the only kind a test may reach): what matters is
/// that the clone goes to a host other than the one the URL policy checked. In
/// production the same 302 from an allowed host would name `169.254.169.254`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_of_the_handshake_to_another_host_is_not_followed() {
    let app = TestApp::spawn(Backend::Postgres, true).await;
    let canary_listener = std::net::TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let canary_addr = canary_listener.local_addr().unwrap();
    let seen = canary(canary_listener);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = redirector(listener, format!("http://{canary_addr}"));

    let (code, body) = app
        .post(
            "/request",
            json!({"repo_url": format!("http://{addr}/acme/shop.git"), "description": "public API"}),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();

    // The first clone attempt has asked the redirector and ended.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, job) = app.get(&format!("/job/{id}")).await;
        let attempts = job.to_string();
        if hits.load(Ordering::SeqCst) > 0 && attempts.contains("retryable")
            || job["status"] == "failed"
        {
            break;
        }
        assert!(Instant::now() < deadline, "no clone attempt ended: {job:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, job) = app.get(&format!("/job/{id}")).await;
    assert_ne!(job["status"], "succeeded", "{job:#}");
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.is_empty(),
        "the clone followed the redirect to {canary_addr}: {seen:?}"
    );
}
