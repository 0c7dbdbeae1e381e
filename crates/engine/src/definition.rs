//! Workflow definitions: `workflows/*.toml`, loaded and validated at start-up.
//!
//! A definition is an ordered list of steps; each names the Rust handler that runs it,
//! the state the job enters when it completes, and its retry, backoff and timeout
//! settings (falling back to the file's `[defaults]`). A job is pinned to the
//! definition's content hash (`version`) when it is submitted.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backoff::BackoffPolicy;

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowDefinition {
    pub name: String,
    pub description: String,
    pub steps: Vec<StepDefinition>,
    /// Content hash of the resolved definition: jobs are pinned to it.
    #[serde(skip)]
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepDefinition {
    pub name: String,
    pub handler: String,
    /// The job's state once this step has completed (e.g. `Cloned`).
    pub state: String,
    pub max_attempts: u32,
    #[serde(serialize_with = "serialize_ms")]
    pub timeout: Duration,
    pub backoff: BackoffPolicy,
}

fn serialize_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

impl WorkflowDefinition {
    pub fn step_names(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.name.clone()).collect()
    }

    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }

    /// Builds a definition in code (benchmarks, tests), validated like a file.
    pub fn from_toml_str(
        origin: &str,
        text: &str,
        known_handlers: &dyn Fn(&str) -> bool,
    ) -> Result<Self, DefinitionError> {
        let err = |step: Option<&str>, problem: String| DefinitionError {
            file: PathBuf::from(origin),
            step: step.map(str::to_owned),
            problem,
        };
        let raw: RawWorkflow = toml::from_str(text).map_err(|e| err(None, e.to_string()))?;
        if raw.name.trim().is_empty() {
            return Err(err(None, "`name` must not be empty".into()));
        }
        if raw.steps.is_empty() {
            return Err(err(None, "a workflow needs at least one step".into()));
        }
        let defaults = raw.defaults.unwrap_or_default();
        let mut seen = HashSet::new();
        let mut steps = Vec::with_capacity(raw.steps.len());
        for raw_step in raw.steps {
            let name = raw_step.name.clone();
            let step = resolve_step(raw_step, &defaults, known_handlers)
                .map_err(|problem| err(Some(&name), problem))?;
            if !seen.insert(step.name.clone()) {
                return Err(err(Some(&name), "duplicate step name".into()));
            }
            steps.push(step);
        }
        let mut def = WorkflowDefinition {
            name: raw.name,
            description: raw.description.unwrap_or_default(),
            steps,
            version: String::new(),
        };
        def.version = content_hash(&def);
        Ok(def)
    }
}

fn content_hash(def: &WorkflowDefinition) -> String {
    let canonical = serde_json::to_vec(def).expect("definitions serialize");
    let digest = Sha256::digest(&canonical);
    hex::encode(&digest[..8])
}

fn resolve_step(
    raw: RawStep,
    defaults: &RawDefaults,
    known_handlers: &dyn Fn(&str) -> bool,
) -> Result<StepDefinition, String> {
    if raw.name.trim().is_empty() {
        return Err("step `name` must not be empty".into());
    }
    let handler = raw.handler.unwrap_or_else(|| raw.name.clone());
    if !known_handlers(&handler) {
        return Err(format!("unknown step handler {handler:?}"));
    }
    let max_attempts = raw.max_attempts.or(defaults.max_attempts).unwrap_or(3);
    if max_attempts == 0 {
        return Err("max_attempts must be at least 1".into());
    }
    let timeout = raw
        .timeout
        .as_deref()
        .or(defaults.timeout.as_deref())
        .map(|t| parse_duration("timeout", t))
        .transpose()?
        .unwrap_or(Duration::from_secs(300));
    if timeout.is_zero() {
        return Err("timeout must be greater than zero".into());
    }
    let backoff = resolve_backoff(raw.backoff.as_ref(), defaults.backoff.as_ref())?;
    let state = raw.state.unwrap_or_else(|| default_state_name(&raw.name));
    Ok(StepDefinition {
        name: raw.name,
        handler,
        state,
        max_attempts,
        timeout,
        backoff,
    })
}

fn resolve_backoff(
    step: Option<&RawBackoff>,
    defaults: Option<&RawBackoff>,
) -> Result<BackoffPolicy, String> {
    let fallback = BackoffPolicy::default();
    let pick = |f: fn(&RawBackoff) -> Option<&String>| {
        step.and_then(f).or_else(|| defaults.and_then(f)).cloned()
    };
    let initial = match pick(|b| b.initial.as_ref()) {
        Some(s) => parse_duration("backoff.initial", &s)?,
        None => fallback.initial,
    };
    let max = match pick(|b| b.max.as_ref()) {
        Some(s) => parse_duration("backoff.max", &s)?,
        None => fallback.max.max(initial),
    };
    let multiplier = step
        .and_then(|b| b.multiplier)
        .or_else(|| defaults.and_then(|b| b.multiplier))
        .unwrap_or(fallback.multiplier);
    let jitter = step
        .and_then(|b| b.jitter)
        .or_else(|| defaults.and_then(|b| b.jitter))
        .unwrap_or(fallback.jitter);
    if max < initial {
        return Err(format!(
            "backoff.max ({}) is smaller than backoff.initial ({})",
            humantime::format_duration(max),
            humantime::format_duration(initial)
        ));
    }
    if !(multiplier.is_finite() && multiplier >= 1.0) {
        return Err(format!(
            "backoff.multiplier must be >= 1.0, got {multiplier}"
        ));
    }
    if !(0.0..=1.0).contains(&jitter) {
        return Err(format!(
            "backoff.jitter must be within 0.0..=1.0, got {jitter}"
        ));
    }
    Ok(BackoffPolicy {
        initial,
        max,
        multiplier,
        jitter,
    })
}

fn parse_duration(field: &str, text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| {
        format!("{field}: bad duration {text:?} ({e}); write e.g. \"500ms\", \"30s\", \"5m\"")
    })
}

/// `deploy` -> `Deployed`-like names are left to the file; the default is the step
/// name capitalised with a `Done` suffix so that a missing `state` is still readable.
fn default_state_name(step: &str) -> String {
    let mut chars = step.chars();
    match chars.next() {
        Some(first) => format!("{}{}Done", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// A problem in a definition file, naming the file, the step and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DefinitionError {
    pub file: PathBuf,
    pub step: Option<String>,
    pub problem: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(step) = &self.step {
            write!(f, ": step {step:?}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// Loads every `*.toml` in `dir`, in file-name order; a duplicate workflow name is an error.
pub fn load_dir(
    dir: &Path,
    known_handlers: &dyn Fn(&str) -> bool,
) -> Result<BTreeMap<String, WorkflowDefinition>, DefinitionError> {
    let dir_err = |problem: String| DefinitionError {
        file: dir.to_path_buf(),
        step: None,
        problem,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| dir_err(format!("cannot read: {e}")))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let mut defs = BTreeMap::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| DefinitionError {
            file: path.clone(),
            step: None,
            problem: format!("cannot read: {e}"),
        })?;
        let def =
            WorkflowDefinition::from_toml_str(&path.to_string_lossy(), &text, known_handlers)?;
        if defs.contains_key(&def.name) {
            return Err(DefinitionError {
                file: path,
                step: None,
                problem: format!("workflow {:?} is defined twice", def.name),
            });
        }
        defs.insert(def.name.clone(), def);
    }
    Ok(defs)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflow {
    name: String,
    description: Option<String>,
    defaults: Option<RawDefaults>,
    #[serde(default)]
    steps: Vec<RawStep>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    max_attempts: Option<u32>,
    timeout: Option<String>,
    backoff: Option<RawBackoff>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: String,
    handler: Option<String>,
    state: Option<String>,
    max_attempts: Option<u32>,
    timeout: Option<String>,
    backoff: Option<RawBackoff>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawBackoff {
    initial: Option<String>,
    max: Option<String>,
    multiplier: Option<f64>,
    jitter: Option<f64>,
}
