//! Merging the model's facts into the detectors'. Detector facts backed by
//! evidence win; the model fills gaps and may replace a detector guess that had
//! no evidence when it cites some. Every disagreement is written down.

use std::fmt::Display;

use analysis::{Analysis, BindAddress, EnvVar, Evidence, Snapshot};

use crate::answer::{LlmEvidence, LlmFacts};

const LLM_DETAIL: &str = "reported by the LLM";

pub(crate) struct Merged {
    pub analysis: Analysis,
    pub conflicts: Vec<String>,
}

pub(crate) fn merge(detected: &Analysis, llm: &LlmFacts, snapshot: &Snapshot) -> Merged {
    let (evidence, dropped) = checked_evidence(&llm.evidence, snapshot);
    let mut merger = Merger {
        detected,
        out: detected.clone(),
        llm_evidence: evidence,
        conflicts: Vec::new(),
        notes: Vec::new(),
    };
    if dropped > 0 {
        merger.notes.push(format!(
            "{dropped} evidence item(s) from the LLM pointed at files or lines that do not exist; ignored"
        ));
    }
    merger.facts(llm, snapshot);
    merger.out.notes.extend(merger.conflicts.iter().cloned());
    merger.out.notes.extend(merger.notes);
    Merged {
        analysis: merger.out,
        conflicts: merger.conflicts,
    }
}

struct Merger<'a> {
    detected: &'a Analysis,
    out: Analysis,
    llm_evidence: Vec<Evidence>,
    conflicts: Vec<String>,
    notes: Vec<String>,
}

impl Merger<'_> {
    fn facts(&mut self, llm: &LlmFacts, snapshot: &Snapshot) {
        let d = self.detected;
        self.out.http = self
            .pick("http", Some(d.http), Some(llm.http))
            .unwrap_or(d.http);
        self.out.deny_reason = if self.out.http {
            None
        } else {
            d.deny_reason.clone().or_else(|| llm.deny_reason.clone())
        };
        self.out.language = self.pick("language", d.language.clone(), lower(&llm.language));
        self.out.framework = self.pick("framework", d.framework.clone(), lower(&llm.framework));
        let subdir = self.checked_subdir(llm.subdir.as_deref(), snapshot);
        self.out.subdir = self
            .pick("subdir", Some(d.subdir.clone()), subdir)
            .unwrap_or_else(|| d.subdir.clone());
        self.out.port = self.pick("port", d.port, llm.port);
        self.out.port_env = self.pick("port_env", d.port_env.clone(), llm.port_env.clone());
        self.out.start_command = self.pick(
            "start_command",
            d.start_command.clone(),
            llm.start_command.clone(),
        );
        self.out.health_path = self.pick(
            "health_path",
            d.health_path.clone(),
            llm.health_path.clone(),
        );
        self.bind(llm);
        self.env(llm);
    }

    /// One fact from two sources: the detectors' value unless it lacks evidence
    /// and the model cites some, or the detectors have none.
    fn pick<T: PartialEq + Display>(
        &mut self,
        fact: &str,
        detected: Option<T>,
        llm: Option<T>,
    ) -> Option<T> {
        let Some(from_llm) = llm else {
            return detected;
        };
        let llm_cite = self.llm_cite(fact);
        let Some(from_detectors) = detected else {
            self.adopt(fact);
            self.notes
                .push(format!("{fact}: {from_llm} from the LLM ({llm_cite})"));
            return Some(from_llm);
        };
        if from_detectors == from_llm {
            return Some(from_detectors);
        }
        let detector_cite = self.detector_cite(fact);
        let take = detector_cite.is_none() && self.has_llm_evidence(fact);
        let (verb, kept) = if take {
            ("took", from_llm.to_string())
        } else {
            ("kept", from_detectors.to_string())
        };
        self.conflicts.push(format!(
            "{fact}: detectors say {from_detectors} ({}), LLM says {from_llm} ({llm_cite}); {verb} {kept}",
            detector_cite.as_deref().unwrap_or("no evidence"),
        ));
        if take {
            self.adopt(fact);
            Some(from_llm)
        } else {
            Some(from_detectors)
        }
    }

    fn bind(&mut self, llm: &LlmFacts) {
        let describe = |loopback: bool| {
            if loopback {
                "loopback only"
            } else {
                "all interfaces"
            }
        };
        let detected = self.detected.bind.clone();
        let chosen = self.pick(
            "bind",
            Some(describe(detected.loopback_only)),
            Some(describe(llm.bind.loopback_only)),
        );
        let agree = chosen == Some(describe(llm.bind.loopback_only));
        self.out.bind = if agree && detected.loopback_only != llm.bind.loopback_only {
            BindAddress {
                host: llm.bind.host.clone(),
                loopback_only: llm.bind.loopback_only,
                fix: llm.bind.fix.clone(),
            }
        } else if agree {
            BindAddress {
                host: detected.host.or_else(|| llm.bind.host.clone()),
                loopback_only: detected.loopback_only,
                fix: detected.fix.or_else(|| llm.bind.fix.clone()),
            }
        } else {
            detected
        };
    }

    fn env(&mut self, llm: &LlmFacts) {
        let required_by_name = llm.required_env.iter().map(|name| LlmVar {
            name,
            required: true,
            secret: false,
            default: None,
        });
        let listed = llm.env.iter().map(|v| LlmVar {
            name: &v.name,
            required: v.required,
            secret: v.secret,
            default: v.default.as_deref(),
        });
        for var in listed.chain(required_by_name) {
            if !is_env_name(var.name) {
                continue;
            }
            self.env_var(var);
        }
    }

    fn env_var(&mut self, var: LlmVar<'_>) {
        let fact = format!("env:{}", var.name);
        if let Some(known) = self.out.env.iter_mut().find(|e| e.name == var.name) {
            // Treating a variable as secret is always the safer reading.
            known.secret |= var.secret;
            if known.secret {
                known.default = None;
            }
            let known_required = known.required;
            if known_required != var.required {
                let detector_cite = self.detector_cite(&fact);
                self.conflicts.push(format!(
                    "{fact} required: detectors say {known_required} ({}), LLM says {} ({}); kept {known_required}",
                    detector_cite.as_deref().unwrap_or("no evidence"),
                    var.required,
                    self.llm_cite(&fact),
                ));
            }
            return;
        }
        let secret = var.secret || looks_secret(var.name);
        self.out.env.push(EnvVar {
            name: var.name.to_owned(),
            required: var.required,
            secret,
            default: if secret {
                None
            } else {
                var.default.map(str::to_owned)
            },
            read_at_build: false,
            url_scheme: None,
            kind: analysis::variable_kind(var.name),
        });
        if var.required && !self.out.required_env.iter().any(|n| n == var.name) {
            self.out.required_env.push(var.name.to_owned());
        }
        self.adopt(&fact);
        self.notes.push(format!(
            "{fact}: added from the LLM ({})",
            self.llm_cite(&fact)
        ));
    }

    fn checked_subdir(&mut self, subdir: Option<&str>, snapshot: &Snapshot) -> Option<String> {
        let raw = subdir?.trim();
        let normal = raw.trim_start_matches("./").trim_end_matches('/');
        let normal = if normal.is_empty() { "." } else { normal };
        let prefix = format!("{normal}/");
        if normal == "." || snapshot.files.iter().any(|f| f.path.starts_with(&prefix)) {
            Some(normal.to_owned())
        } else {
            self.notes.push(format!(
                "subdir: the LLM named {raw:?}, which is not a directory of the repository; ignored"
            ));
            None
        }
    }

    /// Copies the model's evidence for `fact` into the analysis.
    fn adopt(&mut self, fact: &str) {
        let adopted: Vec<Evidence> = self
            .llm_evidence
            .iter()
            .filter(|e| e.fact == fact)
            .cloned()
            .collect();
        self.out.evidence.extend(adopted);
    }

    fn has_llm_evidence(&self, fact: &str) -> bool {
        self.llm_evidence.iter().any(|e| e.fact == fact)
    }

    fn llm_cite(&self, fact: &str) -> String {
        self.llm_evidence
            .iter()
            .find(|e| e.fact == fact)
            .map_or_else(|| "no evidence given".to_owned(), cite)
    }

    /// Where the detectors saw `fact`; a denial counts for `http`.
    fn detector_cite(&self, fact: &str) -> Option<String> {
        let aliases: &[&str] = if fact == "http" && !self.detected.http {
            &["http", "deny"]
        } else {
            &[fact]
        };
        self.detected
            .evidence
            .iter()
            .find(|e| aliases.contains(&e.fact.as_str()))
            .map(cite)
    }
}

struct LlmVar<'a> {
    name: &'a str,
    required: bool,
    secret: bool,
    default: Option<&'a str>,
}

fn cite(evidence: &Evidence) -> String {
    match evidence.line {
        Some(line) => format!("{}:{line}", evidence.file),
        None => evidence.file.clone(),
    }
}

fn lower(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "KEY",
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "DSN",
        "CREDENTIAL",
    ]
    .iter()
    .any(|word| upper.contains(word))
}

/// The model's evidence that points at a real file (and a real line in it),
/// and how many items did not.
fn checked_evidence(items: &[LlmEvidence], snapshot: &Snapshot) -> (Vec<Evidence>, usize) {
    let mut kept = Vec::new();
    for item in items {
        let path = item.file.trim().trim_start_matches("./");
        let Some(file) = snapshot.get(path) else {
            continue;
        };
        let line_exists = match (item.line, file.content.as_deref()) {
            (Some(line), Some(text)) => line >= 1 && (line as usize) <= text.lines().count(),
            _ => true,
        };
        if line_exists {
            kept.push(Evidence {
                fact: item.fact.trim().to_owned(),
                file: path.to_owned(),
                line: item.line,
                detail: LLM_DETAIL.to_owned(),
            });
        }
    }
    let dropped = items.len() - kept.len();
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{LlmBind, LlmEnvVar};

    fn detected() -> Analysis {
        Analysis {
            http: true,
            deny_reason: None,
            language: Some("python".into()),
            runtime: None,
            framework: Some("flask".into()),
            subdir: ".".into(),
            port: Some(5000),
            port_env: None,
            bind: BindAddress {
                host: None,
                loopback_only: false,
                fix: None,
            },
            start_command: None,
            build_command: None,
            required_env: vec![],
            env: vec![EnvVar {
                name: "DEBUG".into(),
                required: false,
                secret: false,
                default: Some("0".into()),
                url_scheme: None,
                kind: analysis::VariableKind::Setting,
                read_at_build: false,
            }],
            dockerized: true,
            docker_files: vec!["Dockerfile".into()],
            docker: Vec::new(),
            datastores: Vec::new(),
            mysql_native_password: false,
            postgres_tls_by_default: false,
            app_dir_named: false,
            workers: Vec::new(),
            health_path: None,
            apps: vec![],
            notes: vec![],
            evidence: vec![Evidence {
                fact: "port".into(),
                file: "app.py".into(),
                line: Some(3),
                detail: String::new(),
            }],
        }
    }

    fn llm() -> LlmFacts {
        LlmFacts {
            http: true,
            deny_reason: None,
            language: Some("Python".into()),
            framework: Some("flask".into()),
            subdir: Some(".".into()),
            port: Some(8000),
            port_env: Some("PORT".into()),
            start_command: Some("gunicorn app:app".into()),
            required_env: vec!["DATABASE_URL".into()],
            env: vec![LlmEnvVar {
                name: "API_TOKEN".into(),
                required: false,
                secret: false,
                default: Some("abc".into()),
            }],
            health_path: None,
            bind: LlmBind {
                host: Some("0.0.0.0".into()),
                loopback_only: false,
                fix: None,
            },
            evidence: vec![
                LlmEvidence {
                    fact: "port".into(),
                    file: "Dockerfile".into(),
                    line: Some(2),
                },
                LlmEvidence {
                    fact: "start_command".into(),
                    file: "Dockerfile".into(),
                    line: Some(3),
                },
                LlmEvidence {
                    fact: "port_env".into(),
                    file: "ghost.py".into(),
                    line: Some(1),
                },
            ],
            more_files: vec![],
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot::from_texts([
            (
                "app.py",
                "from flask import Flask\napp = Flask(__name__)\napp.run(port=5000)\n",
            ),
            (
                "Dockerfile",
                "FROM python\nEXPOSE 8000\nCMD gunicorn app:app\n",
            ),
        ])
    }

    #[test]
    fn detector_evidence_wins_and_the_conflict_is_written_down() {
        let merged = merge(&detected(), &llm(), &snapshot());
        assert_eq!(merged.analysis.port, Some(5000));
        assert_eq!(
            merged.conflicts,
            vec!["port: detectors say 5000 (app.py:3), LLM says 8000 (Dockerfile:2); kept 5000"]
        );
        assert!(merged.analysis.notes.contains(&merged.conflicts[0]));
    }

    #[test]
    fn the_llm_fills_gaps_with_its_evidence() {
        let merged = merge(&detected(), &llm(), &snapshot());
        let a = &merged.analysis;
        assert_eq!(a.start_command.as_deref(), Some("gunicorn app:app"));
        assert!(a.evidence.contains(&Evidence {
            fact: "start_command".into(),
            file: "Dockerfile".into(),
            line: Some(3),
            detail: LLM_DETAIL.into(),
        }));
        // Evidence for a file that does not exist is dropped, the fact kept.
        assert_eq!(a.port_env.as_deref(), Some("PORT"));
        assert!(!a.evidence.iter().any(|e| e.file == "ghost.py"));
        assert_eq!(a.required_env, vec!["DATABASE_URL"]);
        // A secret-looking name is secret whatever the model says, and its
        // default is not kept.
        let token = a.env.iter().find(|e| e.name == "API_TOKEN").unwrap();
        assert!(token.secret && token.default.is_none());
        assert_eq!(a.language.as_deref(), Some("python"));
        assert!(merged.conflicts.len() == 1, "{:?}", merged.conflicts);
    }

    #[test]
    fn a_detector_guess_without_evidence_yields_to_cited_llm_facts() {
        let mut guess = detected();
        guess.evidence.clear();
        let merged = merge(&guess, &llm(), &snapshot());
        assert_eq!(merged.analysis.port, Some(8000));
        assert_eq!(
            merged.conflicts,
            vec!["port: detectors say 5000 (no evidence), LLM says 8000 (Dockerfile:2); took 8000"]
        );
    }

    #[test]
    fn a_denial_with_evidence_stands() {
        let mut denied = detected();
        denied.http = false;
        denied.deny_reason = Some("a CLI tool".into());
        denied.evidence.push(Evidence {
            fact: "deny".into(),
            file: "app.py".into(),
            line: None,
            detail: String::new(),
        });
        let merged = merge(&denied, &llm(), &snapshot());
        assert!(!merged.analysis.http);
        assert_eq!(merged.analysis.deny_reason.as_deref(), Some("a CLI tool"));
        assert!(merged.conflicts[0].starts_with("http: detectors say false (app.py)"));
    }

    #[test]
    fn a_subdir_that_does_not_exist_is_ignored() {
        let mut facts = llm();
        facts.subdir = Some("backend".into());
        let merged = merge(&detected(), &facts, &snapshot());
        assert_eq!(merged.analysis.subdir, ".");
        assert!(
            merged
                .analysis
                .notes
                .iter()
                .any(|n| n.contains("\"backend\""))
        );
    }

    #[test]
    fn loopback_fix_is_filled_in_when_both_agree() {
        let mut loopback = detected();
        loopback.bind = BindAddress {
            host: Some("127.0.0.1".into()),
            loopback_only: true,
            fix: None,
        };
        loopback.evidence.push(Evidence {
            fact: "bind".into(),
            file: "app.py".into(),
            line: Some(3),
            detail: String::new(),
        });
        let mut facts = llm();
        facts.bind = LlmBind {
            host: Some("127.0.0.1".into()),
            loopback_only: true,
            fix: Some("--host 0.0.0.0".into()),
        };
        let merged = merge(&loopback, &facts, &snapshot());
        assert_eq!(
            merged.analysis.bind,
            BindAddress {
                host: Some("127.0.0.1".into()),
                loopback_only: true,
                fix: Some("--host 0.0.0.0".into()),
            }
        );
    }
}
