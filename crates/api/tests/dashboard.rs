//! The dashboard in a real browser: headless Chromium against a real server and
//! worker on PostgreSQL, with one demo job that succeeds after a retried step and
//! one that fails after its retries.
//!
//! `UPDATE_SCREENSHOT=1` writes the laptop screenshot to `docs/dashboard.png` (the
//! README shows it); otherwise screenshots go to a temporary directory.
//!
//! One backend only: the page reads the same JSON whatever store the server runs on,
//! and the HTTP tests already run every route against both.

#[allow(unused_macros)]
#[macro_use]
mod common;
mod browser;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use browser::Browser;
use common::{Backend, TestApp};
use serde_json::{Value, json};

/// One timeline bar, as the API and as the page tell it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Bar {
    step: String,
    attempt: u64,
    outcome: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_lists_jobs_draws_timelines_and_retries() {
    let Some(chromium) = browser::chromium() else {
        // CI installs Chromium and sets this, so a missing browser fails there.
        assert!(
            std::env::var_os("REQUIRE_CHROMIUM").is_none(),
            "REQUIRE_CHROMIUM is set but no Chromium was found"
        );
        eprintln!(
            "SKIPPED: no Chromium at /usr/bin/chromium (install Debian's `chromium` \
             or set CHROMIUM to a Chromium binary)"
        );
        return;
    };
    let app = TestApp::spawn(Backend::Postgres, true).await;
    page_and_assets_are_served_with_their_headers(&app).await;

    let ok = app
        .submit_demo(json!({"sleep_ms": 150, "fail_step": "build", "fail_times": 1}))
        .await;
    let failing = app
        .submit_demo(json!({"sleep_ms": 200, "fail_step": "publish", "fail_times": 1000}))
        .await;
    app.wait_for_status(&ok, "succeeded").await;
    app.wait_for_status(&failing, "failed").await;

    let mut page = Browser::launch(&chromium).await;
    page.viewport(1280, 860, false).await;
    page.navigate(&app.url("/")).await;

    // Without a session the page asks for a token, and the API refuses the
    // list; signing in sets the cookie and shows the jobs.
    page.wait_for(
        "!document.getElementById('sign-in').hidden || null",
        "the sign-in form",
    )
    .await;
    let refused = page
        .wait_for(
            "fetch('/list').then(r => r.status)",
            "the list without a session",
        )
        .await;
    assert_eq!(refused, json!(401));
    page.eval(&format!(
        "document.getElementById('sign-in-token').value = {:?}; \
         document.getElementById('sign-in-form').requestSubmit(); true",
        app.admin_token
    ))
    .await;
    page.wait_for(
        "document.getElementById('sign-in').hidden || null",
        "signed in",
    )
    .await;
    let cookie_readable = page
        .eval("document.cookie.includes('deployflow_session')")
        .await;
    assert_eq!(
        cookie_readable,
        json!(false),
        "the session cookie is HttpOnly"
    );
    // A state-changing request with the cookie but without the CSRF token is refused.
    let forged = page
        .wait_for(
            &format!("fetch('/job/{ok}/retry', {{method: 'POST'}}).then(r => r.status)"),
            "a POST without the CSRF token",
        )
        .await;
    assert_eq!(forged, json!(403));

    // The list: both jobs, newest first, with their statuses.
    let rows = page
        .wait_for(
            "(() => { const rows = [...document.querySelectorAll('#jobs [data-job-id]')]\
             .map(a => [a.dataset.jobId, a.dataset.status]); \
             return rows.length >= 2 ? rows : null; })()",
            "two jobs in the list",
        )
        .await;
    assert_eq!(
        rows,
        json!([[failing, "failed"], [ok, "succeeded"]]),
        "newest first"
    );

    // The filter asks the API for one status.
    page.eval(
        "(() => { const s = document.getElementById('status-filter'); s.value = 'succeeded'; \
         s.dispatchEvent(new Event('change')); })()",
    )
    .await;
    page.wait_for(
        &format!(
            "(() => {{ const rows = [...document.querySelectorAll('#jobs [data-job-id]')]; \
             return rows.length === 1 && rows[0].dataset.jobId === '{ok}'; }})()"
        ),
        "only the succeeded job under the succeeded filter",
    )
    .await;
    page.eval(
        "(() => { const s = document.getElementById('status-filter'); s.value = ''; \
         s.dispatchEvent(new Event('change')); })()",
    )
    .await;

    // The failed job, opened by clicking its row.
    page.click(&format!("#jobs [data-job-id='{failing}']"))
        .await;
    let job = api_job(&app, &failing).await;
    let bars = page_bars_matching(&mut page, &job).await;
    assert_eq!(
        bars.len(),
        6,
        "prepare, build and four publish attempts: {bars:?}"
    );
    assert_eq!(
        bars.iter().filter(|b| b.outcome == "failed").count(),
        4,
        "{bars:?}"
    );
    assert_eq!(
        page.eval("location.hash").await,
        json!(format!("#/job/{failing}"))
    );
    bars_follow_time(&mut page, &job).await;
    chain_shows(
        &mut page,
        &[
            ("prepare", "completed"),
            ("build", "completed"),
            ("publish", "failed"),
            ("verify", "pending"),
        ],
    )
    .await;
    failed_bar_explains_itself(&mut page).await;
    let facts = page
        .wait_for(
            "(t => t.includes('demo.requested_failure') ? t : null)\
             (document.getElementById('job-facts').textContent)",
            "the failure's code among the job's facts",
        )
        .await;
    assert!(
        facts
            .as_str()
            .unwrap_or_default()
            .contains(engine::demo::FAILURES[0].suggestion),
        "{facts}"
    );
    page.wait_for(
        "[...document.querySelectorAll('#job-log .log-message')]\
         .some(m => m.textContent.includes('failing on purpose'))",
        "the job's log lines from the event stream",
    )
    .await;
    let actions = page
        .eval("[...document.querySelectorAll('#job-actions [data-action]')].map(b => b.dataset.action)")
        .await;
    assert_eq!(
        actions,
        json!(["retry"]),
        "a failed demo job can only be retried"
    );

    // Retry from the page: the job runs again and its new attempts appear.
    page.click("#job-actions [data-action='retry']").await;
    let retried = wait_for_api(&app, &failing, |job| {
        job["status"] == "failed" && attempts(job).len() > 6
    })
    .await;
    let bars = page_bars_matching(&mut page, &retried).await;
    assert!(
        bars.iter().filter(|b| b.step == "publish").count() > 4,
        "the retried attempts are drawn: {bars:?}"
    );
    page.wait_for(
        "[...document.querySelectorAll('#job-log .log-message')]\
         .some(m => m.textContent.includes('retry requested'))",
        "the retry's log line, from the re-opened event stream",
    )
    .await;
    page.wait_for(
        "[...document.querySelectorAll('#job-taken li')]\
         .some(li => /retried by \\S+ \\(admin\\)/.test(li.textContent))",
        "who retried the job, under its timeline",
    )
    .await;

    // A refused action shows the problem's title and detail: the page still offers
    // Retry, but another client has retried the job meanwhile (its four attempts
    // and their backoff take longer than the click).
    let (code, body) = app.post_empty(&format!("/job/{failing}/retry")).await;
    assert_eq!(code, 202, "{body}");
    page.click("#job-actions [data-action='retry']").await;
    let alert = page
        .wait_for(
            "(() => { const a = document.getElementById('job-alert'); \
             return a.hidden ? null : [a.querySelector('strong').textContent, a.textContent]; })()",
            "the refused retry's problem",
        )
        .await;
    assert_eq!(
        alert[0], "Conflict with the job's current status",
        "{alert}"
    );
    assert!(
        alert[1].as_str().unwrap().len() > alert[0].as_str().unwrap().len() + 10,
        "the detail is shown too: {alert}"
    );
    let retried = wait_for_api(&app, &failing, |job| {
        job["status"] == "failed" && attempts(job).len() >= 14
    })
    .await;
    page_bars_matching(&mut page, &retried).await;

    // The succeeded job, opened by its address.
    page.navigate(&app.url(&format!("/#/job/{ok}"))).await;
    let job = api_job(&app, &ok).await;
    let bars = page_bars_matching(&mut page, &job).await;
    assert!(
        bars.contains(&Bar {
            step: "build".into(),
            attempt: 1,
            outcome: "failed".into()
        }),
        "{bars:?}"
    );
    assert_eq!(bars.len(), 5, "{bars:?}");
    bars_follow_time(&mut page, &job).await;
    let outputs = page
        .wait_for(
            "(() => { const o = [...document.querySelectorAll('#job-outputs [data-output]')]\
             .map(d => d.dataset.output); return o.length === 4 ? o : null; })()",
            "the four step outputs",
        )
        .await;
    assert_eq!(outputs, json!(["build", "prepare", "publish", "verify"]));
    let actions = page
        .eval("document.querySelectorAll('#job-actions [data-action]').length")
        .await;
    assert_eq!(actions, json!(0), "nothing to do for a succeeded demo job");
    page.wait_for(
        "document.getElementById('log-live').textContent === 'stream ended: job succeeded' \
         && [...document.querySelectorAll('#job-log .log-where')].some(w => w.textContent === 'verify#1')",
        "the whole log of the finished job, then the end of its stream",
    )
    .await;

    // The screenshot the README shows: a laptop, the list up to date, pointing at
    // the failed attempt.
    page.wait_for(
        &format!(
            "document.querySelector(\"#jobs [data-job-id='{failing}']\").dataset.status === 'failed'"
        ),
        "the list to show the retried job failed again",
    )
    .await;
    page.eval("window.scrollTo(0, 0)").await;
    page.hover("#job-timeline .bar[data-outcome='failed']")
        .await;
    page.wait_for("!document.getElementById('tooltip').hidden", "the tooltip")
        .await;
    let shots = screenshot_dir();
    save(&shots.0.join("dashboard.png"), &page.screenshot().await);

    // A phone: one pane at a time, nothing wider than the screen.
    page.viewport(390, 844, true).await;
    page.navigate(&app.url(&format!("/#/job/{failing}"))).await;
    page_bars_matching(&mut page, &retried).await;
    let layout = page
        .eval(
            "({list: getComputedStyle(document.querySelector('.list-pane')).display, \
              width: document.documentElement.scrollWidth})",
        )
        .await;
    assert_eq!(layout["list"], "none", "the job alone on a phone: {layout}");
    assert!(
        layout["width"].as_u64().unwrap() <= 390,
        "no sideways scrolling on a phone: {layout}"
    );
    page.eval("document.getElementById('job-timeline').scrollIntoView()")
        .await;
    save(
        &shots.1.join("dashboard-phone.png"),
        &page.screenshot().await,
    );
    page.click(".job-head .back").await;
    page.wait_for(
        "getComputedStyle(document.querySelector('.list-pane')).display !== 'none' \
         && document.querySelectorAll('#jobs [data-job-id]').length === 2",
        "the list again after going back",
    )
    .await;

    assert!(
        page.problems.is_empty(),
        "the page reported errors (a CSP violation is one): {:#?}",
        page.problems
    );

    // The policy is enforced, and a violation would have been caught above.
    let ran = page
        .eval(
            "(() => { const s = document.createElement('script'); \
             s.textContent = 'window.inlineRan = true'; document.body.append(s); \
             return window.inlineRan === true; })()",
        )
        .await;
    assert_eq!(ran, json!(false), "an inline script ran despite the CSP");
    page.eval("1").await;
    assert!(
        page.problems
            .iter()
            .any(|p| p.contains("Content Security Policy")),
        "the CSP violation was not reported: {:#?}",
        page.problems
    );
}

async fn page_and_assets_are_served_with_their_headers(app: &TestApp) {
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let csp = header(&page, "content-security-policy");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let etag = header(&page, "etag");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "nothing inline"
    );
    let script = html
        .split('"')
        .find(|s| s.starts_with("/assets/app.js?v="))
        .expect("the script's versioned address")
        .to_owned();

    let js = app.client.get(app.url(&script)).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(
        header(&js, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header(&js, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let stale = app
        .client
        .get(app.url("/assets/app.css?v=old"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&stale, "content-type"), "text/css; charset=utf-8");
    assert_eq!(
        header(&stale, "cache-control"),
        "no-cache",
        "not this version's"
    );

    let again = app
        .client
        .get(app.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let missing = app
        .client
        .get(app.url("/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "content-type"), "application/problem+json");
}

async fn api_job(app: &TestApp, id: &str) -> Value {
    let (code, job) = app.get(&format!("/job/{id}")).await;
    assert_eq!(code, 200, "{job}");
    job
}

async fn wait_for_api(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job = api_job(app, id).await;
        if done(&job) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} never got there: {job:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every attempt of the job, as `GET /job/{id}` tells it, in time order.
fn attempts(job: &Value) -> Vec<(String, Bar)> {
    let mut all: Vec<(String, Bar)> = job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|step| {
            step["attempts"].as_array().unwrap().iter().map(|a| {
                (
                    a["started_at"].as_str().unwrap().to_owned(),
                    Bar {
                        step: step["name"].as_str().unwrap().to_owned(),
                        attempt: a["attempt"].as_u64().unwrap(),
                        outcome: a["outcome"].as_str().unwrap().to_owned(),
                    },
                )
            })
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// Waits until the page shows `job` with exactly its attempts as bars; returns them.
async fn page_bars_matching(page: &mut Browser, job: &Value) -> Vec<Bar> {
    let id = job["id"].as_str().unwrap();
    let mut expected: Vec<Bar> = attempts(job).into_iter().map(|(_, b)| b).collect();
    expected.sort();
    let expected_json: Vec<Value> = expected
        .iter()
        .map(|b| json!([b.step, b.attempt.to_string(), b.outcome]))
        .collect();
    let expected_json = Value::Array(expected_json).to_string();
    page.wait_for(
        &format!(
            "(() => {{ const job = document.getElementById('job'); \
             if (job.hidden || job.dataset.jobId !== '{id}' || job.dataset.status !== '{status}') return null; \
             const bars = [...document.querySelectorAll('#job-timeline .bar')]\
             .map(b => [b.dataset.step, b.dataset.attempt, b.dataset.outcome]).sort((a, b) => \
             a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : Number(a[1]) - Number(b[1]) || (a[2] < b[2] ? -1 : 1)); \
             return JSON.stringify(bars) === JSON.stringify({expected_json}); }})()",
            status = job["status"].as_str().unwrap(),
        ),
        &format!("the page to show job {id} with the bars {expected:?}"),
    )
    .await;
    expected
}

/// Bars later in time start further right, on one shared axis.
async fn bars_follow_time(page: &mut Browser, job: &Value) {
    let lefts = page
        .eval(
            "[...document.querySelectorAll('#job-timeline .bar')].map(b => \
             ({step: b.dataset.step, attempt: Number(b.dataset.attempt), \
               left: b.getBoundingClientRect().left, width: b.getBoundingClientRect().width}))",
        )
        .await;
    let position = |bar: &Bar| {
        lefts
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["step"] == bar.step && b["attempt"] == bar.attempt)
            .map(|b| b["left"].as_f64().unwrap())
            .unwrap_or_else(|| panic!("no bar for {bar:?} in {lefts}"))
    };
    let in_time: Vec<f64> = attempts(job).iter().map(|(_, b)| position(b)).collect();
    assert!(
        in_time.windows(2).all(|w| w[0] <= w[1] + 0.5),
        "bars out of time order: {in_time:?} ({lefts})"
    );
    assert!(
        in_time.first() < in_time.last(),
        "bars share one axis: {in_time:?}"
    );
    assert!(
        lefts
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["width"].as_f64().unwrap() >= 3.0),
        "every bar is visible: {lefts}"
    );
}

async fn chain_shows(page: &mut Browser, expected: &[(&str, &str)]) {
    let expected = Value::Array(
        expected
            .iter()
            .map(|(state, status)| json!([state, status]))
            .collect(),
    );
    page.wait_for(
        &format!(
            "JSON.stringify([...document.querySelectorAll('#job-chain [data-state]')]\
             .map(i => [i.dataset.state, i.dataset.status])) === JSON.stringify({expected})"
        ),
        &format!("the step chain {expected}"),
    )
    .await;
}

/// Hovering a failed bar shows its error, in the tooltip and in its title.
async fn failed_bar_explains_itself(page: &mut Browser) {
    let bar = "#job-timeline .bar[data-outcome='failed']";
    page.hover(bar).await;
    let tip = page
        .wait_for(
            "(() => { const t = document.getElementById('tooltip'); \
             return t.hidden ? null : t.textContent; })()",
            "the tooltip of a failed attempt",
        )
        .await;
    let tip = tip.as_str().unwrap();
    assert!(tip.contains("demo failure"), "{tip}");
    assert!(tip.contains("failed"), "{tip}");
    let title = page
        .eval(&format!("document.querySelector(\"{bar}\").title"))
        .await;
    assert_eq!(title.as_str(), Some(tip), "title and tooltip say the same");
    page.hover("#job-facts").await;
    page.wait_for(
        "document.getElementById('tooltip').hidden",
        "the tooltip to go",
    )
    .await;
}

/// Where screenshots go: (laptop, phone). The laptop one lands in `docs/` only when
/// asked, so a test run leaves the tree as it was.
fn screenshot_dir() -> (PathBuf, PathBuf) {
    let scratch = std::env::temp_dir().join("deployflow-dashboard");
    std::fs::create_dir_all(&scratch).unwrap();
    if std::env::var_os("UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        std::fs::create_dir_all(&docs).unwrap();
        (docs, scratch)
    } else {
        (scratch.clone(), scratch)
    }
}

fn save(path: &Path, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 10_000,
        "an empty-looking screenshot: {} bytes",
        png.len()
    );
    std::fs::write(path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}
