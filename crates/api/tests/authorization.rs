//! Who may do what, over real sockets: every route against every role and no
//! token, refusals without side effects, submitters confined to their own
//! jobs, actions recorded with who took them, and the session cookie.

#[macro_use]
mod common;

use common::{Backend, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

api_tests!(
    every_route_answers_each_role_as_the_table_says,
    a_submitter_sees_and_acts_on_its_own_jobs_only,
    revoked_expired_and_malformed_tokens_are_refused,
    a_session_cookie_needs_its_csrf_token_to_change_anything,
    submissions_are_limited_per_token,
    event_streams_are_limited_per_token,
);

const ROLES: [&str; 4] = ["viewer", "submitter", "approver", "admin"];

/// A client that sends `secret` as its bearer token (none: no header).
fn client(secret: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(secret) = secret {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {secret}").parse().unwrap(),
        );
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    method: &Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, String) {
    let mut request = client.request(method.clone(), app.url(path));
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// What a refused request must leave as it was: the jobs and the target's
/// status and log.
async fn snapshot(app: &TestApp, job: &str) -> (usize, Value, usize) {
    let (_, view) = app.get(&format!("/job/{job}")).await;
    let (_, logs) = app.get(&format!("/job/{job}/logs?limit=1000")).await;
    (
        app.job_count().await,
        view["status"].clone(),
        logs["lines"].as_array().map_or(0, Vec::len),
    )
}

async fn every_route_answers_each_role_as_the_table_says(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let mut secrets = Vec::new();
    for role in ROLES {
        let token = app
            .engine
            .create_token(&format!("{role}-1"), role, None)
            .await
            .unwrap();
        secrets.push((role, token.secret));
    }
    // The job acted on belongs to the submitter, so every role may see it.
    let submitter = client(Some(&secrets[1].1));
    let (status, body) = send(
        &app,
        &submitter,
        &Method::POST,
        "/workflows/demo/runs",
        Some(&json!({"input": {}})),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let job: Value = serde_json::from_str(&body).unwrap();
    let job = job["id"].as_str().unwrap().to_owned();

    // (method, path, body, least role; None = public)
    let table: Vec<(Method, String, Option<Value>, Option<usize>)> = vec![
        (Method::GET, "/healthz".into(), None, None),
        (Method::GET, "/readyz".into(), None, None),
        (Method::GET, "/openapi.json".into(), None, None),
        (Method::GET, "/".into(), None, None),
        (Method::GET, "/list".into(), None, Some(0)),
        (Method::GET, "/workflows".into(), None, Some(0)),
        (Method::GET, "/metrics".into(), None, Some(0)),
        (Method::GET, "/session".into(), None, Some(0)),
        (Method::GET, format!("/job/{job}"), None, Some(0)),
        (Method::GET, format!("/job/{job}/logs"), None, Some(0)),
        (Method::GET, format!("/job/{job}/artifacts"), None, Some(0)),
        (
            Method::GET,
            format!("/job/{job}/artifacts/bundle/Dockerfile"),
            None,
            Some(0),
        ),
        (
            Method::POST,
            "/workflows/demo/runs".into(),
            Some(json!({"input": {}})),
            Some(1),
        ),
        (
            Method::POST,
            "/request".into(),
            Some(json!({"repo_url": "https://github.com/acme/shop", "description": "cheap"})),
            Some(1),
        ),
        (Method::POST, format!("/job/{job}/retry"), None, Some(1)),
        (Method::POST, format!("/job/{job}/approve"), None, Some(2)),
        (Method::POST, format!("/job/{job}/reject"), None, Some(2)),
        (Method::POST, format!("/job/{job}/destroy"), None, Some(3)),
        (
            Method::POST,
            "/workflows/destroy/runs".into(),
            Some(json!({"input": {"deployment": job}})),
            Some(3),
        ),
        // Last: it changes the job the others act on.
        (Method::POST, format!("/job/{job}/cancel"), None, Some(1)),
    ];
    // Every operation of the API is in the table, but for these, which have tests
    // of their own here: the sign-in, the sign-out and the event stream.
    let tabled: Vec<String> = table
        .iter()
        .map(|(method, path, ..)| {
            let template = path
                .replace(&job, "{id}")
                .replace("/workflows/destroy/", "/workflows/{name}/")
                .replace("/workflows/demo/", "/workflows/{name}/")
                .replace("/artifacts/bundle/Dockerfile", "/artifacts/{path}");
            format!("{method} {template}")
        })
        .collect();
    let exempt = ["POST /session", "DELETE /session", "GET /job/{id}/events"];
    for (template, item) in api::openapi().paths.paths {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let operation = match method {
                "GET" => &item.get,
                "POST" => &item.post,
                "PUT" => &item.put,
                "DELETE" => &item.delete,
                _ => &item.patch,
            };
            let name = format!("{method} {template}");
            if operation.is_some() && !exempt.contains(&name.as_str()) {
                assert!(tabled.contains(&name), "{name} is not in the role table");
            }
        }
    }
    for (method, path, body, least) in &table {
        let mut callers: Vec<(Option<usize>, &str)> = vec![(None, "")];
        callers.extend(
            secrets
                .iter()
                .enumerate()
                .map(|(i, (_, s))| (Some(i), s.as_str())),
        );
        for (rank, secret) in callers {
            let before = snapshot(&app, &job).await;
            let client = client(rank.map(|_| secret));
            let (status, text) = send(&app, &client, method, path, body.as_ref()).await;
            let who = rank.map_or("no token", |r| ROLES[r]);
            let allowed = match (least, rank) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(least), Some(rank)) => rank >= *least,
            };
            if allowed {
                assert!(
                    ![401, 403].contains(&status),
                    "{method} {path} as {who}: {status} {text}"
                );
            } else {
                let expected = if rank.is_none() { 401 } else { 403 };
                assert_eq!(status, expected, "{method} {path} as {who}: {text}");
                assert!(text.contains("/problems/"), "{text}");
                assert_eq!(
                    snapshot(&app, &job).await,
                    before,
                    "{method} {path} refused for {who} changed something"
                );
            }
            for (_, secret) in &secrets {
                assert!(!text.contains(secret.as_str()), "a token leaked: {text}");
            }
        }
    }
    let (_, logs) = app.get(&format!("/job/{job}/logs?limit=1000")).await;
    assert!(
        logs.to_string()
            .contains("cancel requested by submitter-1 (submitter)"),
        "{logs}"
    );
    let (_, view) = app.get(&format!("/job/{job}")).await;
    let actions = view["actions"].as_array().expect("the job's actions");
    assert!(
        actions.iter().any(|a| a["action"] == "cancel requested"
            && a["actor"] == "submitter-1"
            && a["role"] == "submitter"),
        "the timeline names who cancelled: {actions:?}"
    );
    assert!(
        actions.iter().all(|a| a["actor"] != "viewer-1"),
        "a refused request is not recorded: {actions:?}"
    );
}

async fn a_submitter_sees_and_acts_on_its_own_jobs_only(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let alice = app
        .engine
        .create_token("alice", "submitter", None)
        .await
        .unwrap();
    let bob = app
        .engine
        .create_token("bob", "submitter", None)
        .await
        .unwrap();
    let (alice, bob) = (client(Some(&alice.secret)), client(Some(&bob.secret)));
    let run = json!({"input": {}});
    let (_, body) = send(
        &app,
        &alice,
        &Method::POST,
        "/workflows/demo/runs",
        Some(&run),
    )
    .await;
    let alices: Value = serde_json::from_str(&body).unwrap();
    let alices = alices["id"].as_str().unwrap().to_owned();
    send(
        &app,
        &bob,
        &Method::POST,
        "/workflows/demo/runs",
        Some(&run),
    )
    .await;

    let (_, list) = send(&app, &alice, &Method::GET, "/list", None).await;
    let list: Value = serde_json::from_str(&list).unwrap();
    let ids: Vec<&str> = list["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [alices.as_str()], "alice lists only her job");
    let (_, list) = app.get("/list").await;
    assert_eq!(
        list["jobs"].as_array().unwrap().len(),
        2,
        "an admin sees both"
    );

    for (method, path) in [
        (Method::GET, format!("/job/{alices}")),
        (Method::GET, format!("/job/{alices}/logs")),
        (Method::POST, format!("/job/{alices}/cancel")),
    ] {
        let (status, text) = send(&app, &bob, &method, &path, None).await;
        assert_eq!(status, 404, "bob {method} {path}: {text}");
    }
    let (_, job) = app.get(&format!("/job/{alices}")).await;
    assert_eq!(job["status"], "queued", "bob's cancel did nothing");
    let (status, _) = send(
        &app,
        &alice,
        &Method::POST,
        &format!("/job/{alices}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, 202);
}

async fn revoked_expired_and_malformed_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let live = app.engine.create_token("ci", "viewer", None).await.unwrap();
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let expired = app
        .engine
        .create_token("old", "viewer", Some(past))
        .await
        .unwrap();
    let revoked = app
        .engine
        .create_token("gone", "admin", None)
        .await
        .unwrap();
    assert!(app.engine.revoke_token("gone").await.unwrap());
    assert!(
        !app.engine.revoke_token("gone").await.unwrap(),
        "revoked once"
    );
    assert!(
        app.engine.create_token("ci", "admin", None).await.is_err(),
        "names are unique"
    );

    let (status, _) = send(
        &app,
        &client(Some(&live.secret)),
        &Method::GET,
        "/list",
        None,
    )
    .await;
    assert_eq!(status, 200);
    for secret in [
        expired.secret.as_str(),
        revoked.secret.as_str(),
        "dfl_0000",
        "not-a-token",
    ] {
        let (status, text) = send(&app, &client(Some(secret)), &Method::GET, "/list", None).await;
        assert_eq!(status, 401, "{secret}: {text}");
    }
    let basic = reqwest::Client::new()
        .get(app.url("/list"))
        .basic_auth("admin", Some(&live.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    assert_eq!(basic.headers()["www-authenticate"], "Bearer");

    let listed = app.engine.tokens().await.unwrap();
    let text = serde_json::to_string(&listed).unwrap();
    assert!(text.contains("\"ci\"") && text.contains("viewer"), "{text}");
    assert!(
        !text.contains(&live.secret) && !text.contains("digest"),
        "{text}"
    );
}

async fn a_session_cookie_needs_its_csrf_token_to_change_anything(backend: Backend) {
    let mut config = common::api_config();
    config.auth.allowed_hosts = vec!["127.0.0.1".into(), "localhost".into()];
    let app = TestApp::spawn_with(backend, false, config).await;
    let token = app
        .engine
        .create_token("ops", "submitter", None)
        .await
        .unwrap();
    let browser = reqwest::Client::new();
    let signed = browser
        .post(app.url("/session"))
        .json(&json!({"token": token.secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
    let cookie = signed.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let session: Value = signed.json().await.unwrap();
    assert_eq!(session["role"], "submitter");
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();

    let get = browser
        .get(app.url("/list"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200, "reads need no CSRF token");
    let run = json!({"input": {}});
    let before = app.job_count().await;
    let forged = browser
        .post(app.url("/workflows/demo/runs"))
        .header("cookie", &cookie)
        .json(&run)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(app.job_count().await, before, "nothing was submitted");
    let cross_site = browser
        .post(app.url("/workflows/demo/runs"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .header("origin", "https://evil.example")
        .json(&run)
        .send()
        .await
        .unwrap();
    assert_eq!(
        cross_site.status(),
        403,
        "a page of another site is refused"
    );
    let rebound = browser
        .get(app.url("/list"))
        .header("cookie", &cookie)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421, "a DNS-rebound Host is refused");
    assert_eq!(app.job_count().await, before, "nothing was submitted");
    let honest = browser
        .post(app.url("/workflows/demo/runs"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&run)
        .send()
        .await
        .unwrap();
    assert_eq!(
        honest.status(),
        202,
        "cookie and CSRF token together submit"
    );
    let wrong = browser
        .post(app.url("/workflows/demo/runs"))
        .header("cookie", &cookie)
        .header("x-csrf-token", "0".repeat(64))
        .json(&run)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let out = browser.delete(app.url("/session")).send().await.unwrap();
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

async fn submissions_are_limited_per_token(backend: Backend) {
    let mut config = common::api_config();
    config.auth.submissions_per_minute = 3;
    config.auth.max_active_jobs = 2;
    let app = TestApp::spawn_with(backend, false, config).await;
    let ci = app
        .engine
        .create_token("ci", "submitter", None)
        .await
        .unwrap();
    let ops = app
        .engine
        .create_token("ops", "submitter", None)
        .await
        .unwrap();
    let (ci, ops) = (client(Some(&ci.secret)), client(Some(&ops.secret)));
    let run = json!({"input": {}});
    let submit = |client: reqwest::Client| {
        let url = app.url("/workflows/demo/runs");
        let run = run.clone();
        async move { client.post(url).json(&run).send().await.unwrap() }
    };
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = submit(ci.clone()).await;
        assert_eq!(response.status(), 202);
        let body: Value = response.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    // Two queued jobs: the cap, before the rate limit.
    let capped = submit(ci.clone()).await;
    assert_eq!(capped.status(), 429);
    let problem: Value = capped.json().await.unwrap();
    assert_eq!(
        problem["type"], "/problems/too-many-active-jobs",
        "{problem}"
    );
    assert_eq!(app.job_count().await, 2, "nothing was submitted");
    let (status, _) = send(
        &app,
        &ci,
        &Method::POST,
        &format!("/job/{}/cancel", ids[0]),
        None,
    )
    .await;
    assert_eq!(status, 202);
    // One job active again, but the third submission of the minute is the last.
    let third = submit(ci.clone()).await;
    assert_eq!(third.status(), 202);
    let (status, _) = send(
        &app,
        &ci,
        &Method::POST,
        &format!("/job/{}/cancel", ids[1]),
        None,
    )
    .await;
    assert_eq!(status, 202);
    let limited = submit(ci.clone()).await;
    assert_eq!(limited.status(), 429);
    let seconds: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    let problem: Value = limited.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/rate-limited", "{problem}");
    // Another token has its own allowance.
    assert_eq!(submit(ops).await.status(), 202);
}

async fn event_streams_are_limited_per_token(backend: Backend) {
    let mut config = common::api_config();
    config.auth.max_event_streams = 2;
    let app = TestApp::spawn_with(backend, false, config).await;
    let watcher = app
        .engine
        .create_token("watcher", "viewer", None)
        .await
        .unwrap();
    let other = app
        .engine
        .create_token("other", "viewer", None)
        .await
        .unwrap();
    let (watcher, other) = (client(Some(&watcher.secret)), client(Some(&other.secret)));
    // A job nobody runs: its stream stays open until the client leaves.
    let job = app.submit_demo(json!({})).await;
    let url = app.url(&format!("/job/{job}/events"));
    let first = watcher.get(&url).send().await.unwrap();
    let second = watcher.get(&url).send().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = watcher.get(&url).send().await.unwrap();
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    let problem: Value = third.json().await.unwrap();
    assert_eq!(
        problem["type"], "/problems/too-many-event-streams",
        "{problem}"
    );
    assert_eq!(
        other.get(&url).send().await.unwrap().status(),
        200,
        "the cap is per token"
    );
    // A client that goes away frees its place (the server notices at the
    // latest when its next keep-alive comment, every 15 s, finds no reader).
    drop(first);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(45);
    loop {
        let again = watcher.get(&url).send().await.unwrap();
        if again.status() == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a closed stream never freed its place"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    drop(second);
}
