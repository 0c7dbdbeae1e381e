//! `Client::chat_json` against a real HTTP fake of the OpenAI API.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{KEY, MODEL, config};
use llm::{CallOutcome, ChatMessage, Client, LlmError, MemoryMemo, NoMemo};
use serde_json::{Value, json};
use test_support::fake_openai::{FakeOpenAi, Reply};

fn schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["port"],
        "properties": {"port": {"type": "integer", "minimum": 1, "maximum": 65535}}
    })
}

async fn ask(client: &Client) -> Result<(Value, llm::CallRecord), LlmError> {
    client
        .chat_json("port", "You read ports.", "Which port?", &schema(), &NoMemo)
        .await
}

#[tokio::test]
async fn the_request_carries_model_key_and_strict_schema_and_usage_is_recorded() {
    let fake = FakeOpenAi::start().await;
    fake.push_json(json!({"port": 8080}));
    let client = Client::new(config(&fake));

    let (value, record) = ask(&client).await.unwrap();

    assert_eq!(value, json!({"port": 8080}));
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.model(), Some(MODEL));
    assert_eq!(
        request.authorization(),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(request.response_format(), Some("json_schema"));
    assert_eq!(
        request.body["response_format"]["json_schema"]["strict"],
        json!(true)
    );
    assert_eq!(
        request.body["response_format"]["json_schema"]["schema"],
        schema()
    );
    assert_eq!(
        request.messages(),
        vec![
            ("system".to_owned(), "You read ports.".to_owned()),
            ("user".to_owned(), "Which port?".to_owned()),
        ]
    );
    let (prompt, completion) = request.usage.unwrap();
    assert!(prompt > 0 && completion > 0);
    assert_eq!(
        (record.prompt_tokens, record.completion_tokens),
        (prompt, completion)
    );
    assert_eq!(record.model, MODEL);
    assert_eq!(record.purpose, "port");
    assert_eq!(record.attempts, 1);
    assert!(!record.memoised);
    assert_eq!(record.outcome, CallOutcome::Ok);
}

#[tokio::test]
async fn invalid_json_then_valid_is_accepted_after_feeding_the_error_back() {
    let fake = FakeOpenAi::start().await;
    fake.push_raw_content("the port is probably 8080")
        .push_json(json!({"port": 8080}));
    let client = Client::new(config(&fake));

    let (value, record) = ask(&client).await.unwrap();

    assert_eq!(value, json!({"port": 8080}));
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let retry = requests[1].messages();
    assert_eq!(
        retry[2],
        (
            "assistant".to_owned(),
            "the port is probably 8080".to_owned()
        )
    );
    assert_eq!(retry[3].0, "user");
    assert!(retry[3].1.contains("not valid JSON"), "{}", retry[3].1);
    // Both attempts were paid for.
    let paid: u32 = requests.iter().map(|r| r.usage.unwrap().0).sum();
    assert_eq!(record.prompt_tokens, paid);
    assert_eq!(record.attempts, 2);
}

#[tokio::test]
async fn schema_violations_are_rejected_and_reported_to_the_model() {
    let fake = FakeOpenAi::start().await;
    fake.push_json(json!({"port": "eighty"}))
        .push_json(json!({"port": 80, "extra": true}))
        .push_json(json!({"port": 70000}));
    let client = Client::new(config(&fake));

    let error = ask(&client).await.unwrap_err();

    assert!(
        matches!(&error, LlmError::InvalidOutput { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "retries = 2 means three attempts");
    assert!(
        requests[1].text().contains("/port"),
        "{}",
        requests[1].text()
    );
    assert!(
        requests[2].text().contains("extra"),
        "{}",
        requests[2].text()
    );
}

#[tokio::test]
async fn unauthorized_is_permanent_immediate_and_never_shows_the_key() {
    let fake = FakeOpenAi::start().await;
    fake.push_error(401, format!("Incorrect API key provided: {KEY}."));
    let client = Client::new(config(&fake));

    let error = ask(&client).await.unwrap_err();

    assert!(matches!(error, LlmError::Auth { status: 401 }), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(fake.request_count(), 1, "a refused key is not retried");
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{client:?}"),
    ] {
        assert!(!text.contains(KEY), "key leaked: {text}");
    }
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let fake = FakeOpenAi::start().await;
    fake.push_status(500).push_json(json!({"port": 3000}));
    let client = Client::new(config(&fake));

    let (value, record) = ask(&client).await.unwrap();

    assert_eq!(value, json!({"port": 3000}));
    assert_eq!(fake.request_count(), 2);
    assert_eq!(record.attempts, 2);
}

#[tokio::test]
async fn server_errors_that_persist_are_a_retryable_failure() {
    let fake = FakeOpenAi::start().await;
    fake.push_status(503).push_status(429).push_status(502);
    let client = Client::new(config(&fake));

    let error = ask(&client).await.unwrap_err();

    assert!(
        matches!(&error, LlmError::Unavailable { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(error.to_string().contains("502"), "{error}");
    assert_eq!(fake.request_count(), 3);
}

#[tokio::test]
async fn exhausted_quota_is_not_retried() {
    let fake = FakeOpenAi::start().await;
    fake.push(Reply::Error {
        status: 429,
        message: "You exceeded your current quota".into(),
        code: Some("insufficient_quota".into()),
        param: None,
    });
    let client = Client::new(config(&fake));

    let error = ask(&client).await.unwrap_err();

    assert!(
        matches!(&error, LlmError::Rejected { status: 429, .. }),
        "{error:?}"
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let fake = FakeOpenAi::start().await;
    fake.push_delay(Duration::from_secs(3), Reply::json(&json!({"port": 1})))
        .push_json(json!({"port": 2}));
    let mut config = config(&fake);
    config.request_timeout = Duration::from_millis(300);
    let client = Client::new(config);

    let (value, _) = ask(&client).await.unwrap();

    assert_eq!(value, json!({"port": 2}));
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_server_without_structured_outputs_gets_json_object_mode() {
    let fake = FakeOpenAi::start().await;
    fake.push(Reply::Error {
        status: 400,
        message: "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.".into(),
        code: None,
        param: Some("response_format".into()),
    })
    .push_json(json!({"port": 5}))
    .push_json(json!({"port": 6}));
    let client = Client::new(config(&fake));

    assert_eq!(ask(&client).await.unwrap().0, json!({"port": 5}));
    assert_eq!(ask(&client).await.unwrap().0, json!({"port": 6}));

    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "the switch happens once");
    assert_eq!(requests[0].response_format(), Some("json_schema"));
    for later in &requests[1..] {
        assert_eq!(later.response_format(), Some("json_object"));
        let (role, first) = &later.messages()[0];
        assert_eq!(role, "system");
        assert!(first.contains("\"maximum\":65535"), "{first}");
    }
}

#[tokio::test]
async fn a_memoised_answer_costs_no_request() {
    let fake = FakeOpenAi::start().await;
    fake.push_json(json!({"port": 9}));
    let client = Client::new(config(&fake));
    let memo = MemoryMemo::new();

    let first = client
        .chat_json("port", "sys", "user", &schema(), &memo)
        .await
        .unwrap();
    let second = client
        .chat_json("port", "sys", "user", &schema(), &memo)
        .await
        .unwrap();

    assert_eq!(fake.request_count(), 1);
    assert_eq!(first.0, second.0);
    assert!(!first.1.memoised && second.1.memoised);
    assert_eq!((second.1.prompt_tokens, second.1.attempts), (0, 0));
    // A different question is a different key.
    fake.push_json(json!({"port": 10}));
    let other = client
        .chat_json("port", "sys", "another user", &schema(), &memo)
        .await
        .unwrap();
    assert_eq!(other.0, json!({"port": 10}));
    assert_eq!(fake.request_count(), 2);
}

/// Log output captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_call_logs_model_tokens_and_latency_in_its_span_but_no_key() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let fake = FakeOpenAi::start().await;
    fake.push_status(500).push_json(json!({"port": 1}));
    let client = Client::new(config(&fake));

    let (_, record) = client
        .chat_json("port", "sys", "user", &schema(), &MemoryMemo::new())
        .await
        .unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs
        .lines()
        .find(|l| l.contains("llm call"))
        .unwrap_or_else(|| panic!("no call line in:\n{logs}"));
    assert!(
        line.contains(&format!("llm.call{{model={MODEL} purpose=port ")),
        "{line}"
    );
    for field in [
        format!("llm.prompt_tokens={}", record.prompt_tokens),
        format!("llm.completion_tokens={}", record.completion_tokens),
        "llm.attempts=2".to_owned(),
        format!("duration_ms={}", record.latency_ms),
    ] {
        assert!(line.contains(&field), "{field} missing: {line}");
    }
    let memo_key = llm::memo_key(
        MODEL,
        &[ChatMessage::system("sys"), ChatMessage::user("user")],
        &schema(),
    );
    assert!(!logs.contains(KEY), "key logged:\n{logs}");
    assert!(!logs.contains(&memo_key), "memo key logged:\n{logs}");
}
