//! The description is typed by a user: whatever it holds, reading it gives
//! requirements from the known vocabularies and never panics.

use analysis::parse_requirements;
use proptest::prelude::*;

/// Words the rules look for, mixed with characters whose lower-case form has a
/// different byte length (`İ`, `ẞ`, `Ⱥ`), which trips offset arithmetic
/// between a text and its lower-cased copy.
fn description() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("cheap".to_owned()),
        Just("highly available".to_owned()),
        Just("in Canada".to_owned()),
        Just("us-east-1".to_owned()),
        Just("eu-west-3".to_owned()),
        Just("postgres".to_owned()),
        Just("t3.micro".to_owned()),
        Just("serverless".to_owned()),
        Just("kubernetes".to_owned()),
        Just("high traffic".to_owned()),
        Just("the api app".to_owned()),
        Just("İ".to_owned()),
        Just("ẞ".to_owned()),
        Just("Ⱥ".to_owned()),
        "\\PC{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(word, 0..12).prop_map(|words| words.join(" "))
}

const LOADS: &[&str] = &["low", "medium", "high"];
const TARGETS: &[&str] = &["vm", "container-service", "serverless", "kubernetes"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_description_reads_without_panicking(text in description()) {
        let r = parse_requirements(&text);
        if let Some(load) = &r.expected_load {
            prop_assert!(LOADS.contains(&load.as_str()), "load {load:?}");
        }
        if let Some(target) = &r.target {
            prop_assert!(TARGETS.contains(&target.as_str()), "target {target:?}");
        }
        if let Some(region) = &r.region {
            let parts: Vec<&str> = region.split('-').collect();
            prop_assert!(
                parts.len() >= 3
                    && parts.iter().all(|p| !p.is_empty())
                    && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "region {region:?} is not an AWS region name"
            );
        }
        let found = [
            r.cost_sensitive,
            r.high_availability,
            r.expected_load.is_some(),
            r.scale_to_zero,
            r.database.is_some(),
            r.region.is_some(),
            r.size.is_some(),
            r.target.is_some(),
        ];
        // Each requirement read records the phrase it came from.
        prop_assert!(
            r.evidence.len() >= found.iter().filter(|f| **f).count(),
            "{r:?}"
        );
    }

    #[test]
    fn reading_is_deterministic(text in description()) {
        prop_assert_eq!(parse_requirements(&text), parse_requirements(&text));
    }
}
