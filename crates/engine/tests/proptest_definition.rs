//! Workflow definition files are read at start-up from a directory an operator
//! fills: whatever a file holds, parsing returns a definition or an error that
//! names the file, never a panic; valid definitions keep their steps in order
//! and hash to a stable version.

use engine::definition::WorkflowDefinition;
use proptest::prelude::*;
use toml::{Table, Value};

const ORIGIN: &str = "workflows/fuzz.toml";
const DEMO: &str = include_str!("../../../workflows/demo.toml");

fn known(handler: &str) -> bool {
    handler == "demo.step"
}

fn parse(text: &str) -> Result<WorkflowDefinition, engine::definition::DefinitionError> {
    WorkflowDefinition::from_toml_str(ORIGIN, text, &known)
}

fn duration() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1ms".to_owned()),
        Just("250ms".to_owned()),
        Just("5s".to_owned()),
        Just("2m".to_owned()),
        Just("1h 30m".to_owned()),
        Just("7days".to_owned()),
    ]
}

/// A duration a user might write by mistake, or to attack the parser.
fn odd_duration() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0s".to_owned()),
        Just("-5s".to_owned()),
        Just("99999999999999999999y".to_owned()),
        Just("18446744073709551615s".to_owned()),
        Just("1e309s".to_owned()),
        Just("".to_owned()),
        "\\PC{0,10}",
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(1.0),
        -10.0f64..10.0,
    ]
}

fn backoff(valid: bool) -> BoxedStrategy<Table> {
    if valid {
        (0u64..1000, 0u64..1000, 1.0f64..8.0, 0.0f64..=1.0)
            .prop_map(|(initial, extra, multiplier, jitter)| {
                let mut t = Table::new();
                t.insert("initial".into(), Value::String(format!("{initial}ms")));
                t.insert(
                    "max".into(),
                    Value::String(format!("{}ms", initial + extra)),
                );
                t.insert("multiplier".into(), Value::Float(multiplier));
                t.insert("jitter".into(), Value::Float(jitter));
                t
            })
            .boxed()
    } else {
        (odd_duration(), odd_duration(), float(), float())
            .prop_map(|(initial, max, multiplier, jitter)| {
                let mut t = Table::new();
                t.insert("initial".into(), Value::String(initial));
                t.insert("max".into(), Value::String(max));
                t.insert("multiplier".into(), Value::Float(multiplier));
                t.insert("jitter".into(), Value::Float(jitter));
                t
            })
            .boxed()
    }
}

/// A definition that must load: unique non-blank step names, known handler,
/// attempts >= 1, positive timeouts, a sane backoff.
fn valid_workflow() -> impl Strategy<Value = (Table, Vec<String>)> {
    let step = (
        "\\PC{1,16}",
        1u32..20,
        duration(),
        backoff(true),
        "\\PC{0,12}",
    );
    (
        "\\PC{1,20}",
        "\\PC{0,40}",
        prop::collection::vec(step, 1..8),
    )
        .prop_filter("names not blank", |(name, _, _)| !name.trim().is_empty())
        .prop_map(|(name, description, steps)| {
            let mut names = Vec::new();
            let mut list = Vec::new();
            for (i, (step, attempts, timeout, backoff, state)) in steps.into_iter().enumerate() {
                // Unique and never blank, whatever was drawn.
                let step_name = format!("s{i}-{step}");
                let mut t = Table::new();
                t.insert("name".into(), Value::String(step_name.clone()));
                t.insert("handler".into(), Value::String("demo.step".into()));
                t.insert("max_attempts".into(), Value::Integer(attempts.into()));
                t.insert("timeout".into(), Value::String(timeout));
                t.insert("backoff".into(), Value::Table(backoff));
                if !state.is_empty() {
                    t.insert("state".into(), Value::String(state));
                }
                names.push(step_name);
                list.push(Value::Table(t));
            }
            let mut doc = Table::new();
            doc.insert("name".into(), Value::String(name));
            doc.insert("description".into(), Value::String(description));
            doc.insert("steps".into(), Value::Array(list));
            (doc, names)
        })
}

/// A definition with hostile values in every field.
fn hostile_workflow() -> impl Strategy<Value = Table> {
    let step = (
        "\\PC{0,8}",
        prop_oneof![Just("demo.step".to_owned()), "\\PC{0,8}"],
        any::<i64>(),
        odd_duration(),
        backoff(false),
    );
    (
        "\\PC{0,8}",
        prop::collection::vec(step, 0..4),
        any::<i64>(),
        odd_duration(),
    )
        .prop_map(|(name, steps, default_attempts, default_timeout)| {
            let list = steps
                .into_iter()
                .map(|(name, handler, attempts, timeout, backoff)| {
                    let mut t = Table::new();
                    t.insert("name".into(), Value::String(name));
                    t.insert("handler".into(), Value::String(handler));
                    t.insert("max_attempts".into(), Value::Integer(attempts));
                    t.insert("timeout".into(), Value::String(timeout));
                    t.insert("backoff".into(), Value::Table(backoff));
                    Value::Table(t)
                })
                .collect();
            let mut defaults = Table::new();
            defaults.insert("max_attempts".into(), Value::Integer(default_attempts));
            defaults.insert("timeout".into(), Value::String(default_timeout));
            let mut doc = Table::new();
            doc.insert("name".into(), Value::String(name));
            doc.insert("defaults".into(), Value::Table(defaults));
            doc.insert("steps".into(), Value::Array(list));
            doc
        })
}

/// The demo file with a byte range replaced by random text.
fn mutated_demo() -> impl Strategy<Value = String> {
    (0..DEMO.len(), 0usize..40, "\\PC{0,20}").prop_map(|(at, len, insert)| {
        let mut start = at;
        while !DEMO.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + len).min(DEMO.len());
        while !DEMO.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}{insert}{}", &DEMO[..start], &DEMO[end..])
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_definitions_load_in_order_with_a_stable_version((doc, names) in valid_workflow()) {
        let text = toml::to_string(&doc).unwrap();
        let def = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(def.step_names(), names);
        prop_assert_eq!(def.version.len(), 16);
        prop_assert!(def.version.chars().all(|c| c.is_ascii_hexdigit()));
        prop_assert_eq!(&parse(&text).unwrap().version, &def.version);
        for step in &def.steps {
            prop_assert!(step.max_attempts >= 1);
            prop_assert!(!step.timeout.is_zero());
            prop_assert!(step.backoff.initial <= step.backoff.max);
            prop_assert!(step.backoff.multiplier >= 1.0);
            prop_assert!((0.0..=1.0).contains(&step.backoff.jitter));
        }
    }

    #[test]
    fn hostile_values_load_validated_or_fail_naming_the_file(doc in hostile_workflow()) {
        let text = toml::to_string(&doc).unwrap();
        match parse(&text) {
            Ok(def) => {
                prop_assert!(!def.name.trim().is_empty());
                for step in &def.steps {
                    prop_assert!(step.max_attempts >= 1);
                    prop_assert!(!step.timeout.is_zero());
                    prop_assert!(step.backoff.initial <= step.backoff.max);
                    prop_assert!(step.backoff.multiplier.is_finite() && step.backoff.multiplier >= 1.0);
                    prop_assert!((0.0..=1.0).contains(&step.backoff.jitter));
                }
            }
            Err(e) => {
                prop_assert!(e.to_string().starts_with(ORIGIN), "{e}");
                prop_assert!(!e.problem.trim().is_empty());
            }
        }
    }

    #[test]
    fn mutated_files_never_panic(text in mutated_demo()) {
        if let Err(e) = parse(&text) {
            prop_assert!(e.to_string().starts_with(ORIGIN), "{e}");
        }
    }

    #[test]
    fn random_text_never_panics(text in any::<String>()) {
        prop_assert!(parse(&text).is_err());
    }
}
