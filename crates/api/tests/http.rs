//! The HTTP API over real sockets, against PostgreSQL and SQLite alike.

#[macro_use]
mod common;

use std::time::Duration;

use common::{Backend, TestApp};
use serde_json::{Value, json};

api_tests!(
    submitted_job_runs_and_shows_its_timeline,
    list_is_newest_first_with_filters_and_cursor,
    same_idempotency_key_returns_the_same_job,
    cancel_and_retry,
    event_stream_follows_a_job_to_the_end,
    a_failed_jobs_code_is_in_the_list_and_in_its_event_stream,
    bad_requests_are_problems_and_create_nothing,
    openapi_and_probes,
);

async fn submitted_job_runs_and_shows_its_timeline(backend: Backend) {
    let app = TestApp::spawn(backend, true).await;
    let response = app
        .client
        .post(app.url("/workflows/demo/runs"))
        .json(&json!({"input": {"sleep_ms": 10, "fail_step": "build", "fail_times": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let submitted: Value = response.json().await.unwrap();
    let id = submitted["id"].as_str().unwrap().to_owned();
    assert_eq!(submitted["workflow"], "demo");
    assert_eq!(submitted["links"]["self"], format!("/job/{id}"));
    assert_eq!(location, format!("/job/{id}"));

    let job = app.wait_for_status(&id, "succeeded").await;
    assert_eq!(job["state"], "Verified");
    assert_eq!(job["input"]["fail_step"], "build");
    assert!(job["finished_at"].is_string(), "{job:#}");
    let trace_id = job["trace_id"].as_str().unwrap_or_default();
    assert!(
        trace_id.len() == 32 && trace_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{job:#}"
    );
    let steps = job["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["prepare", "build", "publish", "verify"]);
    assert!(steps.iter().all(|s| s["status"] == "completed"), "{job:#}");
    assert_eq!(steps[1]["state"], "Built");
    let build = steps[1]["attempts"].as_array().unwrap();
    assert_eq!(build.len(), 2, "{job:#}");
    assert_eq!(build[0]["attempt"], 1);
    assert_eq!(build[0]["outcome"], "failed");
    assert!(build[0]["error"].is_string());
    assert_eq!(build[0]["error_code"], "demo.requested_failure", "{job:#}");
    assert!(build[1]["error_code"].is_null(), "{job:#}");
    assert!(
        job["error_code"].is_null(),
        "a job that succeeded has no failure"
    );
    assert_eq!(build[1]["outcome"], "succeeded");
    assert!(build[1]["duration_ms"].as_i64().unwrap() >= 0);
    assert_eq!(steps[0]["attempts"].as_array().unwrap().len(), 1);
    let outputs = job["outputs"].as_object().unwrap();
    assert_eq!(outputs.len(), 4, "{job:#}");
    assert!(!job["logs"].as_array().unwrap().is_empty(), "{job:#}");

    // The log, paged with its cursor.
    let (code, page) = app.get(&format!("/job/{id}/logs?limit=1")).await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(page["logs"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_i64().unwrap();
    let (_, rest) = app.get(&format!("/job/{id}/logs?after={cursor}")).await;
    let rest = rest["logs"].as_array().unwrap();
    assert!(!rest.is_empty());
    assert!(rest.iter().all(|l| l["id"].as_i64().unwrap() > cursor));
    let end = rest.last().unwrap()["id"].as_i64().unwrap();
    let (_, empty) = app.get(&format!("/job/{id}/logs?after={end}")).await;
    assert_eq!(empty["logs"], json!([]));
    assert_eq!(empty["next_cursor"], end);
}

async fn list_is_newest_first_with_filters_and_cursor(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(app.submit_demo(json!({"sleep_ms": 10})).await);
    }
    let (code, _) = app.post_empty(&format!("/job/{}/cancel", ids[1])).await;
    assert_eq!(code, 202);

    let mut seen = Vec::new();
    let mut path = "/list?limit=2".to_owned();
    loop {
        let (code, page) = app.get(&path).await;
        assert_eq!(code, 200, "{page}");
        let jobs = page["jobs"].as_array().unwrap();
        assert!(jobs.len() <= 2);
        seen.extend(jobs.iter().map(|j| j["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_i64() {
            Some(cursor) => path = format!("/list?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let (_, cancelled) = app.get("/list?status=cancelled").await;
    let cancelled = cancelled["jobs"].as_array().unwrap();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["id"], ids[1].as_str());
    assert_eq!(cancelled[0]["status"], "cancelled");
    let (_, queued) = app.get("/list?status=queued").await;
    assert_eq!(queued["jobs"].as_array().unwrap().len(), 4);
    let (_, both) = app.get("/list?status=queued,cancelled&workflow=demo").await;
    assert_eq!(both["jobs"].as_array().unwrap().len(), 5);
    assert_eq!(both["next_cursor"], Value::Null);
    let (_, other) = app.get("/list?workflow=other").await;
    assert_eq!(other["jobs"], json!([]));
}

async fn same_idempotency_key_returns_the_same_job(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let body = json!({"input": {"sleep_ms": 10}, "idempotency_key": "deploy-42"});
    let (first_code, first) = app.post("/workflows/demo/runs", body.clone()).await;
    assert_eq!(first_code, 202, "{first}");
    let (second_code, second) = app.post("/workflows/demo/runs", body).await;
    assert_eq!(second_code, 200, "{second}");
    assert_eq!(first["id"], second["id"]);
    assert_eq!(app.job_count().await, 1);
}

async fn cancel_and_retry(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let id = app.submit_demo(json!({"sleep_ms": 10})).await;

    let (code, cancelled) = app.post_empty(&format!("/job/{id}/cancel")).await;
    assert_eq!(code, 202, "{cancelled}");
    assert_eq!(cancelled["cancel"], "cancelled");
    assert_eq!(cancelled["status"], "cancelled");

    let (code, again) = app.post_empty(&format!("/job/{id}/cancel")).await;
    assert_problem(code, &again, 409, "it is cancelled");

    let (code, bad_step) = app
        .post(&format!("/job/{id}/retry"), json!({"from_step": "nope"}))
        .await;
    assert_problem(code, &bad_step, 422, "not a step of workflow");

    let (code, retried) = app.post_empty(&format!("/job/{id}/retry")).await;
    assert_eq!(code, 202, "{retried}");
    assert_eq!(retried["status"], "queued");
    assert_eq!(retried["id"], id.as_str());

    let (code, twice) = app.post(&format!("/job/{id}/retry"), json!({})).await;
    assert_problem(code, &twice, 409, "queued");
}

async fn event_stream_follows_a_job_to_the_end(backend: Backend) {
    let app = TestApp::spawn(backend, true).await;
    let id = app.submit_demo(json!({"sleep_ms": 300})).await;
    let mut response = app
        .client
        .get(app.url(&format!("/job/{id}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut text = String::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(chunk) = response.chunk().await.unwrap() {
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    })
    .await;
    assert!(read.is_ok(), "the stream did not end: {text}");

    let events = parse_sse(&text);
    let statuses: Vec<&Value> = events
        .iter()
        .filter(|(kind, _)| kind == "status")
        .map(|(_, data)| data)
        .collect();
    assert!(statuses.len() >= 2, "{text}");
    assert_eq!(statuses.last().unwrap()["status"], "succeeded", "{text}");
    assert_eq!(statuses.last().unwrap()["state"], "Verified", "{text}");
    assert!(statuses.iter().any(|s| s["status"] == "running"), "{text}");
    assert!(events.iter().any(|(kind, _)| kind == "log"), "{text}");
}

async fn a_failed_jobs_code_is_in_the_list_and_in_its_event_stream(backend: Backend) {
    let app = TestApp::spawn(backend, true).await;
    let id = app
        .submit_demo(json!({"fail_step": "build", "fail_times": 99}))
        .await;
    let job = app.wait_for_status(&id, "failed").await;
    assert_eq!(job["error_code"], "demo.requested_failure", "{job:#}");

    let (code, page) = app.get("/list?status=failed").await;
    assert_eq!(code, 200, "{page}");
    let listed = &page["jobs"][0];
    assert_eq!(listed["id"], id.as_str(), "{page}");
    assert_eq!(listed["error_code"], "demo.requested_failure", "{page}");

    // The stream of a finished job sends its last status and ends.
    let response = app
        .client
        .get(app.url(&format!("/job/{id}/events")))
        .send()
        .await
        .unwrap();
    let text = tokio::time::timeout(Duration::from_secs(30), response.text())
        .await
        .expect("the stream of a finished job ends")
        .unwrap();
    let events = parse_sse(&text);
    let last = events
        .iter()
        .rev()
        .find(|(kind, _)| kind == "status")
        .map(|(_, data)| data)
        .unwrap_or_else(|| panic!("no status event: {text}"));
    assert_eq!(last["status"], "failed", "{text}");
    assert_eq!(last["error_code"], "demo.requested_failure", "{text}");
}

/// `(event, data)` pairs of an SSE body.
fn parse_sse(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut kind = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(k) = line.strip_prefix("event:") {
                    kind = Some(k.trim().to_owned());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            Some((kind?, serde_json::from_str(&data).ok()?))
        })
        .collect()
}

fn assert_problem(code: u16, body: &Value, status: u16, detail: &str) {
    assert_eq!(code, status, "{body:#}");
    assert_eq!(body["status"], status, "{body:#}");
    assert!(
        body["type"].is_string() && body["title"].is_string(),
        "{body:#}"
    );
    let text = body["detail"].as_str().unwrap_or_default();
    assert!(
        text.contains(detail),
        "detail {text:?} should mention {detail:?}"
    );
}

/// (method, path, content type, body, expected status, what the detail must say)
type Case<'a> = (&'a str, String, Option<&'a str>, String, u16, &'a str);

async fn bad_requests_are_problems_and_create_nothing(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let unknown = uuid::Uuid::new_v4();
    let oversized = format!(
        r#"{{"input": {{"sleep_ms": 1, "pad": "{}"}}}}"#,
        "x".repeat(70_000)
    );
    let json = Some("application/json");
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/workflows/demo/runs".into(),
            json,
            r#"{"input": "#.into(),
            400,
            "not valid JSON",
        ),
        (
            "POST",
            "/workflows/demo/runs".into(),
            json,
            "{}".into(),
            422,
            "missing field `input`",
        ),
        (
            "POST",
            "/workflows/demo/runs".into(),
            json,
            r#"{"input": 5}"#.into(),
            422,
            "must be a JSON object",
        ),
        (
            "POST",
            "/workflows/demo/runs".into(),
            json,
            r#"{"input": {}, "idempotency_key": 7}"#.into(),
            422,
            "invalid type: integer `7`",
        ),
        (
            "POST",
            "/workflows/demo/runs".into(),
            json,
            r#"{"input": {}, "priority": 1}"#.into(),
            422,
            "unknown field `priority`",
        ),
        (
            "POST",
            "/workflows/demo/runs".into(),
            json,
            r#"{"input": {"sleep_ms": "slow"}}"#.into(),
            422,
            "input for workflow",
        ),
        (
            "POST",
            "/workflows/demo/runs".into(),
            json,
            r#"{"input": {}, "idempotency_key": ""}"#.into(),
            422,
            "idempotency_key",
        ),
        (
            "POST",
            "/workflows/demo/runs".into(),
            json,
            oversized,
            413,
            "limit of 65536 bytes",
        ),
        (
            "POST",
            "/workflows/demo/runs".into(),
            None,
            r#"{"input": {}}"#.into(),
            415,
            "content-type: application/json",
        ),
        (
            "POST",
            "/workflows/nope/runs".into(),
            json,
            r#"{"input": {}}"#.into(),
            404,
            "unknown workflow \"nope\"",
        ),
        (
            "GET",
            format!("/job/{unknown}"),
            None,
            String::new(),
            404,
            "no job has id",
        ),
        (
            "GET",
            format!("/job/{unknown}/logs"),
            None,
            String::new(),
            404,
            "no job has id",
        ),
        (
            "GET",
            format!("/job/{unknown}/events"),
            None,
            String::new(),
            404,
            "no job has id",
        ),
        (
            "POST",
            format!("/job/{unknown}/cancel"),
            None,
            String::new(),
            404,
            "no job has id",
        ),
        (
            "POST",
            format!("/job/{unknown}/retry"),
            None,
            String::new(),
            404,
            "no job has id",
        ),
        (
            "POST",
            format!("/job/{unknown}/retry"),
            json,
            r#"{"from": "build"}"#.into(),
            422,
            "unknown field `from`",
        ),
        (
            "GET",
            "/job/not-a-uuid".into(),
            None,
            String::new(),
            400,
            "is not a job id",
        ),
        (
            "POST",
            "/job/123/cancel".into(),
            None,
            String::new(),
            400,
            "is not a job id",
        ),
        (
            "GET",
            "/list?status=done".into(),
            None,
            String::new(),
            400,
            "unknown status \"done\"",
        ),
        (
            "GET",
            "/list?limit=0".into(),
            None,
            String::new(),
            400,
            "from 1 to 200",
        ),
        (
            "GET",
            "/list?limit=500".into(),
            None,
            String::new(),
            400,
            "from 1 to 200",
        ),
        (
            "GET",
            "/list?limit=ten".into(),
            None,
            String::new(),
            400,
            "from 1 to 200",
        ),
        (
            "GET",
            "/list?cursor=abc".into(),
            None,
            String::new(),
            400,
            "cursor must be",
        ),
        (
            "GET",
            "/list?sort=asc".into(),
            None,
            String::new(),
            400,
            "unknown field `sort`",
        ),
        (
            "GET",
            format!("/job/{unknown}/logs?after=x"),
            None,
            String::new(),
            400,
            "after must be",
        ),
        (
            "GET",
            "/nope".into(),
            None,
            String::new(),
            404,
            "no route for GET /nope",
        ),
        (
            "DELETE",
            format!("/job/{unknown}"),
            None,
            String::new(),
            405,
            "does not accept DELETE",
        ),
        (
            "GET",
            "/workflows/demo/runs".into(),
            None,
            String::new(),
            405,
            "does not accept GET",
        ),
    ];
    for (method, path, content_type, body, status, detail) in cases {
        let mut request = app
            .client
            .request(method.parse().unwrap(), app.url(&path))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        let code = response.status().as_u16();
        let media = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        assert_eq!(
            media.as_deref(),
            Some("application/problem+json"),
            "{method} {path}: {text}"
        );
        let problem: Value = serde_json::from_str(&text).unwrap();
        assert!(
            code == status,
            "{method} {path}: expected {status}, got {code}: {problem:#}"
        );
        assert_problem(code, &problem, status, detail);
    }
    assert_eq!(app.job_count().await, 0);
    let all = engine::store::JobFilter::default();
    assert_eq!(app.engine.count(&all).await.unwrap(), 0);
}

async fn openapi_and_probes(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let (code, health) = app.get("/healthz").await;
    assert_eq!(code, 200, "{health}");
    let (code, ready) = app.get("/readyz").await;
    assert_eq!(code, 200, "{ready}");

    let (code, doc) = app.get("/openapi.json").await;
    assert_eq!(code, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    // The document comes from the router, so each operation it lists is served:
    // none answers "no route" or "method not allowed".
    let mut operations = 0;
    for (template, item) in paths {
        assert!(!template.contains('*'), "{template} is not an OpenAPI path");
        let path = template
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{name}", "demo")
            .replace("{path}", "nested/file.txt");
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .client
                .request(method.clone(), app.url(&path))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            let kind = serde_json::from_str::<Value>(&body).map(|b| b["type"].clone());
            assert_ne!(status, 405, "{method} {template}: {body}");
            assert!(
                !matches!(kind, Ok(ref t) if t == "/problems/no-route"),
                "{method} {template}: {body}"
            );
            operations += 1;
        }
    }
    for (template, method) in [
        ("/request", "post"),
        ("/job/{id}", "get"),
        ("/job/{id}/artifacts/{path}", "get"),
        ("/job/{id}/events", "get"),
        ("/job/{id}/retry", "post"),
        ("/session", "delete"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            paths.get(template).and_then(|p| p.get(method)).is_some(),
            "{method} {template} missing from the OpenAPI document"
        );
    }
    assert!(operations >= 21, "{operations} operations documented");
    // A path the router does not serve is named as such.
    let response = app.client.get(app.url("/jobs")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/no-route", "{problem}");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // The document lists every problem type the API sends, so a client can match on them.
    let types = doc["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
        .as_array()
        .expect("the problem types");
    for code in [
        "no-route",
        "job-not-found",
        "invalid-body",
        "unauthenticated",
    ] {
        assert!(
            types.contains(&json!(format!("/problems/{code}"))),
            "{types:?}"
        );
    }

    let (code, workflows) = app.get("/workflows").await;
    assert_eq!(code, 200);
    assert_eq!(workflows["workflows"][0]["name"], "demo");
}

/// A database failure is a 500 with an error id; the SQL error stays in the server log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_errors_are_500s_without_details() {
    let app = TestApp::spawn(Backend::Postgres, false).await;
    let id = app.submit_demo(json!({"sleep_ms": 10})).await;
    let pool = sqlx::PgPool::connect(app.db.url()).await.unwrap();
    sqlx::query("DROP SCHEMA engine CASCADE")
        .execute(&pool)
        .await
        .unwrap();
    for path in ["/list".to_owned(), format!("/job/{id}")] {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 500, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        let error_id = problem["error_id"].as_str().expect("error_id");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(error_id), "{problem:#}");
        assert!(!detail.contains("engine."), "{problem:#}");
        assert!(!detail.contains("relation"), "{problem:#}");
    }
    // The database itself still answers.
    let (code, _) = app.get("/readyz").await;
    assert_eq!(code, 200);
}
