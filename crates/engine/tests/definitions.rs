//! Workflow definition files: what loads, and the message each mistake gets.

use std::path::Path;

use engine::definition::{DefinitionError, WorkflowDefinition, load_dir};

fn known(handler: &str) -> bool {
    handler == "demo.step"
}

fn parse(text: &str) -> Result<WorkflowDefinition, DefinitionError> {
    WorkflowDefinition::from_toml_str("workflows/test.toml", text, &known)
}

fn problem(text: &str) -> String {
    parse(text)
        .expect_err("definition should be refused")
        .to_string()
}

const STEP: &str = "[[steps]]\nname = \"build\"\nhandler = \"demo.step\"\n";

#[test]
fn shipped_workflows_load() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../workflows"));
    // The deployment workflow's handlers are registered by the pipeline crate.
    let shipped = |handler: &str| known(handler) || handler.starts_with("deploy.");
    let defs = load_dir(dir, &shipped).expect("shipped definitions are valid");
    assert_eq!(
        defs["deploy"].step_names(),
        vec![
            "clone",
            "analyse",
            "choose",
            "generate",
            "preflight",
            "apply",
            "healthcheck"
        ]
    );
    assert_eq!(defs["destroy"].step_names(), vec!["destroy"]);
    let demo = &defs["demo"];
    assert_eq!(
        demo.step_names(),
        vec!["prepare", "build", "publish", "verify"]
    );
    assert_eq!(demo.steps[1].state, "Built");
    assert_eq!(demo.steps[1].max_attempts, 4);
    assert_eq!(demo.steps[1].timeout.as_secs(), 300);
    assert_eq!(demo.steps[1].backoff.initial.as_millis(), 200);
}

#[test]
fn defaults_apply_and_steps_override_them() {
    let def = parse(
        "name = \"w\"\n[defaults]\nmax_attempts = 7\ntimeout = \"1m\"\nbackoff = { initial = \"1s\", max = \"9s\" }\n\
         [[steps]]\nname = \"a\"\nhandler = \"demo.step\"\n\
         [[steps]]\nname = \"b\"\nhandler = \"demo.step\"\nmax_attempts = 1\ntimeout = \"2s\"\nbackoff = { initial = \"3s\" }\n",
    )
    .unwrap();
    assert_eq!(
        (def.steps[0].max_attempts, def.steps[0].timeout.as_secs()),
        (7, 60)
    );
    assert_eq!(
        (def.steps[1].max_attempts, def.steps[1].timeout.as_secs()),
        (1, 2)
    );
    assert_eq!(def.steps[1].backoff.initial.as_secs(), 3);
    assert_eq!(
        def.steps[1].backoff.max.as_secs(),
        9,
        "unset fields fall back to [defaults]"
    );
}

#[test]
fn version_is_a_content_hash() {
    let a = parse(&format!("name = \"w\"\n{STEP}")).unwrap();
    let same = parse(&format!("# a comment\nname = \"w\"\n\n{STEP}")).unwrap();
    let other = parse(&format!("name = \"w\"\n{STEP}max_attempts = 9\n")).unwrap();
    assert_eq!(
        a.version, same.version,
        "formatting does not change the version"
    );
    assert_ne!(a.version, other.version, "content does");
}

#[test]
fn each_mistake_names_file_step_and_problem() {
    let cases = [
        (
            format!("name = \"w\"\n{STEP}max_attempts = 0\n"),
            "step \"build\": max_attempts must be at least 1",
        ),
        (
            "name = \"w\"\n[[steps]]\nname = \"build\"\nhandler = \"nope\"\n".to_string(),
            "step \"build\": unknown step handler \"nope\"",
        ),
        (
            format!("name = \"w\"\n{STEP}{STEP}"),
            "step \"build\": duplicate step name",
        ),
        (
            format!("name = \"w\"\n{STEP}timeout = \"5 parsecs\"\n"),
            "step \"build\": timeout: bad duration \"5 parsecs\"",
        ),
        (
            format!("name = \"w\"\n{STEP}timeout = \"0s\"\n"),
            "timeout must be greater than zero",
        ),
        (
            format!("name = \"w\"\n{STEP}backoff = {{ initial = \"10s\", max = \"1s\" }}\n"),
            "backoff.max (1s) is smaller than backoff.initial (10s)",
        ),
        (
            format!("name = \"w\"\n{STEP}backoff = {{ jitter = 2.0 }}\n"),
            "backoff.jitter must be within 0.0..=1.0",
        ),
        (
            format!("name = \"w\"\n{STEP}backoff = {{ multiplier = 0.5 }}\n"),
            "backoff.multiplier must be >= 1.0",
        ),
        (
            "name = \"w\"\n".to_string(),
            "a workflow needs at least one step",
        ),
        (format!("name = \"\"\n{STEP}"), "`name` must not be empty"),
        (
            format!("name = \"w\"\n{STEP}retries = 3\n"),
            "unknown field `retries`",
        ),
        (
            format!("name = \"w\"\n{STEP}max_attempts = \"three\"\n"),
            "invalid type",
        ),
    ];
    for (text, expected) in cases {
        let message = problem(&text);
        assert!(
            message.starts_with("workflows/test.toml"),
            "names the file: {message}"
        );
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}"
        );
    }
}

#[test]
fn duplicate_workflow_names_across_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("name = \"same\"\n{STEP}");
    std::fs::write(dir.path().join("a.toml"), &text).unwrap();
    std::fs::write(dir.path().join("b.toml"), &text).unwrap();
    std::fs::write(dir.path().join("notes.md"), "ignored").unwrap();
    let err = load_dir(dir.path(), &known).unwrap_err();
    assert!(err.to_string().contains("b.toml"), "{err}");
    assert!(
        err.to_string()
            .contains("workflow \"same\" is defined twice"),
        "{err}"
    );
}

#[test]
fn missing_directory_is_a_clear_error() {
    let err = load_dir(Path::new("/nonexistent/workflows"), &known).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/nonexistent/workflows: cannot read"),
        "{err}"
    );
}
