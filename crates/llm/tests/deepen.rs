//! `deepen` against a real HTTP fake of the OpenAI API: file choice, what is
//! sent, fallbacks, memoisation and merging.

mod common;

use common::{
    DESCRIPTION, ENV_SECRET, PEM_BODY, SETTINGS_PASSWORD, config, detected, facts, file_choice,
    requirements, snapshot,
};
use llm::{CallOutcome, Client, Deepened, LlmError, MemoryMemo, NoMemo, deepen};
use test_support::fake_openai::{FakeOpenAi, Reply};

async fn run(fake: &FakeOpenAi, memo: &dyn llm::Memo) -> Result<Deepened, LlmError> {
    let client = Client::new(config(fake));
    deepen(&client, &snapshot(), &detected(), DESCRIPTION, memo).await
}

fn script_happy_path(fake: &FakeOpenAi) {
    fake.push_json(file_choice(&["app.py", "Dockerfile", ".env.example"]))
        .push_json(facts(&[]))
        .push_json(requirements());
}

#[tokio::test]
async fn chosen_files_are_sent_and_secret_files_never_are() {
    let fake = FakeOpenAi::start().await;
    fake.push_json(file_choice(&[
        "app.py",
        ".env",
        "certs/server.pem",
        "settings.py",
        "missing.py",
    ]))
    .push_json(facts(&[]))
    .push_json(requirements());

    let deepened = run(&fake, &NoMemo).await.unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    // Round one shows the tree and the detector facts, no contents.
    let first = requests[0].text();
    assert!(
        first.contains("app.py (") && first.contains("\"port\": 5000"),
        "{first}"
    );
    assert!(
        first.contains(".env (") && first.contains("[withheld"),
        "{first}"
    );
    assert!(
        !first.contains("@app.get"),
        "no contents before the model asks"
    );
    // Round two carries the chosen, allowed files, with line numbers.
    let second = requests[1].text();
    assert!(
        second.contains("   12| app.run(host=\"0.0.0.0\", port=5000)"),
        "{second}"
    );
    assert!(second.contains("=== settings.py"), "{second}");
    assert!(second.contains(".env: withheld"), "{second}");
    assert!(second.contains("missing.py: no such file"), "{second}");
    assert_eq!(deepened.files_sent, vec!["app.py", "settings.py"]);
    for request in &requests {
        let text = request.body.to_string();
        for secret in [ENV_SECRET, PEM_BODY, SETTINGS_PASSWORD] {
            assert!(!text.contains(secret), "{secret} was sent");
        }
    }
    for withheld in [".env", "certs/server.pem"] {
        assert!(
            deepened
                .analysis
                .notes
                .iter()
                .any(|n| n.contains(&format!("asked for {withheld}; withheld"))),
            "{:?}",
            deepened.analysis.notes
        );
    }
}

#[tokio::test]
async fn facts_are_merged_with_conflicts_recorded_and_every_call_recorded() {
    let fake = FakeOpenAi::start().await;
    script_happy_path(&fake);

    let deepened = run(&fake, &NoMemo).await.unwrap();

    let conflict = "port: detectors say 5000 (app.py:12), LLM says 8000 (Dockerfile:2); kept 5000";
    assert_eq!(deepened.conflicts, vec![conflict]);
    let analysis = &deepened.analysis;
    assert!(analysis.notes.iter().any(|n| n == conflict));
    assert_eq!(analysis.port, Some(5000));
    // Gaps filled, each with the model's evidence.
    assert_eq!(
        analysis.start_command.as_deref(),
        Some("gunicorn -b 0.0.0.0:8000 app:app")
    );
    assert_eq!(analysis.health_path.as_deref(), Some("/health"));
    assert_eq!(analysis.required_env, vec!["DATABASE_URL"]);
    for (fact, file, line) in [
        ("start_command", "Dockerfile", 3),
        ("health_path", "app.py", 7),
        ("env:DATABASE_URL", ".env.example", 2),
    ] {
        assert!(
            analysis
                .evidence
                .iter()
                .any(|e| e.fact == fact && e.file == file && e.line == Some(line)),
            "no evidence for {fact}: {:?}",
            analysis.evidence
        );
    }
    // The description, structured.
    let requirements = deepened.requirements.as_ref().unwrap();
    assert!(requirements.cost_sensitive);
    assert_eq!(requirements.database.as_deref(), Some("postgres"));
    assert_eq!(requirements.region.as_deref(), Some("ca-central-1"));
    // One record per call, with the tokens the service reported.
    let purposes: Vec<&str> = deepened.calls.iter().map(|c| c.purpose.as_str()).collect();
    assert_eq!(purposes, vec!["choose_files", "read_files", "requirements"]);
    for (record, request) in deepened.calls.iter().zip(fake.requests()) {
        let (prompt, completion) = request.usage.unwrap();
        assert_eq!(
            (record.prompt_tokens, record.completion_tokens),
            (prompt, completion)
        );
        assert_eq!(record.model, common::MODEL);
        assert_eq!(record.outcome, CallOutcome::Ok);
        assert!(!record.memoised);
    }
}

#[tokio::test]
async fn a_model_that_never_answers_in_json_falls_back_to_the_detector_facts() {
    let fake = FakeOpenAi::start().await;
    fake.respond_with(|_| Reply::Content("Sure! It is a Flask app on port 8000.".into()));

    let deepened = run(&fake, &NoMemo).await.unwrap();

    let mut expected = detected();
    assert_eq!(deepened.analysis.port, expected.port);
    assert!(deepened.conflicts.is_empty());
    assert!(deepened.requirements.is_none());
    assert!(
        deepened
            .analysis
            .notes
            .iter()
            .any(|n| n.contains("kept the detector facts")),
        "{:?}",
        deepened.analysis.notes
    );
    expected.notes = deepened.analysis.notes.clone();
    assert_eq!(deepened.analysis, expected, "nothing but notes changed");
    // Three attempts for the file choice, three for the requirements.
    assert_eq!(fake.request_count(), 6);
    assert!(
        deepened
            .calls
            .iter()
            .all(|c| c.outcome == CallOutcome::InvalidOutput && c.attempts == 3)
    );
}

#[tokio::test]
async fn a_bad_key_fails_the_analysis_for_good() {
    let fake = FakeOpenAi::start().await;
    fake.push_status(401);

    let error = run(&fake, &NoMemo).await.unwrap_err();

    assert!(matches!(error, LlmError::Auth { .. }), "{error:?}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_second_deepen_with_the_same_memo_sends_nothing() {
    let fake = FakeOpenAi::start().await;
    script_happy_path(&fake);
    let memo = MemoryMemo::new();

    let first = run(&fake, &memo).await.unwrap();
    let after_first = fake.request_count();
    let second = run(&fake, &memo).await.unwrap();

    assert_eq!(after_first, 3);
    assert_eq!(
        fake.request_count(),
        after_first,
        "no request the second time"
    );
    assert_eq!(first.analysis, second.analysis);
    assert_eq!(first.requirements, second.requirements);
    assert_eq!(first.files_sent, second.files_sent);
    assert!(second.calls.iter().all(|c| c.memoised && c.attempts == 0));
}

#[tokio::test]
async fn a_retried_step_pays_only_for_the_calls_that_failed() {
    let fake = FakeOpenAi::start().await;
    fake.push_json(file_choice(&["app.py"]))
        .push_status(500)
        .push_status(500)
        .push_status(500);
    let memo = MemoryMemo::new();

    let error = run(&fake, &memo).await.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert_eq!(fake.request_count(), 4);

    fake.push_json(facts(&[])).push_json(requirements());
    let deepened = run(&fake, &memo).await.unwrap();

    assert_eq!(
        fake.request_count(),
        6,
        "the file choice was not asked again"
    );
    assert!(deepened.calls[0].memoised);
    assert!(!deepened.calls[1].memoised);
    assert_eq!(deepened.analysis.port, Some(5000));
}

#[tokio::test]
async fn the_model_can_read_more_files_over_several_calls() {
    let fake = FakeOpenAi::start().await;
    fake.push_json(file_choice(&["app.py"]))
        .push_json(facts(&["Dockerfile", ".env"]))
        .push_json(facts(&[]))
        .push_json(requirements());

    let deepened = run(&fake, &NoMemo).await.unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    assert!(!requests[1].text().contains("EXPOSE 8000"));
    let third = requests[2].messages();
    let last = &third.last().unwrap().1;
    assert!(last.contains("    2| EXPOSE 8000"), "{last}");
    assert!(!last.contains(ENV_SECRET));
    // The conversation carries the earlier answers.
    assert_eq!(
        third.iter().filter(|(role, _)| role == "assistant").count(),
        2
    );
    assert_eq!(deepened.files_sent, vec!["app.py", "Dockerfile"]);
    let purposes: Vec<&str> = deepened.calls.iter().map(|c| c.purpose.as_str()).collect();
    assert_eq!(
        purposes,
        vec!["choose_files", "read_files", "read_files", "requirements"]
    );
}

#[tokio::test]
async fn reading_stops_at_the_call_limit() {
    let fake = FakeOpenAi::start().await;
    fake.push_json(file_choice(&["app.py"]))
        .push_json(facts(&["Dockerfile"]))
        .push_json(requirements());
    let mut config = config(&fake);
    config.max_calls = 3;
    let client = Client::new(config);

    let deepened = deepen(&client, &snapshot(), &detected(), DESCRIPTION, &NoMemo)
        .await
        .unwrap();

    assert_eq!(fake.request_count(), 3);
    assert_eq!(deepened.files_sent, vec!["app.py"]);
    assert!(
        deepened
            .analysis
            .notes
            .iter()
            .any(|n| n.contains("wanted more files (Dockerfile)")),
        "{:?}",
        deepened.analysis.notes
    );
}

#[tokio::test]
async fn file_contents_are_cut_to_the_byte_limits() {
    let fake = FakeOpenAi::start().await;
    fake.push_json(file_choice(&["app.py", "Dockerfile", "requirements.txt"]))
        .push_json(facts(&[]));
    let mut config = config(&fake);
    config.max_file_bytes = 40;
    config.max_total_bytes = 60;
    let client = Client::new(config);

    let deepened = deepen(&client, &snapshot(), &detected(), "", &NoMemo)
        .await
        .unwrap();

    let sent = fake.requests()[1].text();
    assert!(
        sent.contains("[… truncated: 40 of 146 bytes shown]"),
        "{sent}"
    );
    assert!(sent.contains("[… truncated: 20 of"), "{sent}");
    assert!(
        sent.contains("requirements.txt: not sent, the reading budget is spent"),
        "{sent}"
    );
    assert!(!sent.contains("@app.get"), "{sent}");
    assert_eq!(deepened.files_sent, vec!["app.py", "Dockerfile"]);
    // An empty description needs no call.
    assert_eq!(fake.request_count(), 2);
    assert!(deepened.requirements.is_none());
}
