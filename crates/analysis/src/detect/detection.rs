//! What one language detector concludes about one app directory.

use std::collections::BTreeMap;

use super::scan::{Found, Spot};

/// What kind of program the directory holds. Only `Server` and `Static`
/// can be deployed as a web service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Server,
    Static,
    Bot,
    Cli,
    Desktop,
    Mobile,
    Batch,
    Notebook,
    Library,
    Unknown,
}

impl Kind {
    pub fn serves_http(self) -> bool {
        matches!(self, Kind::Server | Kind::Static)
    }
}

/// How sure a detector is; compared when several claim the same directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Confidence {
    /// Only file types point to the language.
    Files = 1,
    /// A manifest names the framework or tool.
    Manifest = 2,
    /// Source code uses it (an import, an app object, a listen call).
    Code = 3,
}

#[derive(Debug, Clone)]
pub(crate) struct Detection {
    pub language: &'static str,
    pub framework: Option<&'static str>,
    pub kind: Kind,
    pub confidence: Confidence,
    /// Why this language: a manifest or source file.
    pub language_at: Spot,
    /// Why this framework / kind (for a denial: what makes it a CLI, bot...).
    pub kind_at: Spot,
    /// A port the code or the framework's config sets.
    pub port: Option<Found<u16>>,
    /// The env var the code reads the port from.
    pub port_env: Option<Found<String>>,
    /// The framework's documented default port.
    pub default_port: Option<u16>,
    /// A bind address the code or config sets.
    pub host: Option<Found<String>>,
    /// The env var the code reads the bind address from.
    pub host_env: Option<String>,
    /// The code starts a server that listens on loopback unless told
    /// otherwise (Flask's `app.run()`, `uvicorn.run(app)`, Gradio's `launch()`).
    pub loopback_default: Option<Spot>,
    /// How to make this app listen on all interfaces.
    pub bind_fix: Option<String>,
    /// The command the repository itself implies (a script, a main block).
    pub start: Option<Found<String>>,
    /// A start command we had to make up from the framework's conventions.
    pub start_derived: Option<String>,
    pub build: Option<String>,
    /// An address the server program's own config file sets (gunicorn's
    /// `bind` in gunicorn.conf.py), for when its command line gives none.
    pub runner_address: Option<Found<String>>,
    /// A health endpoint the framework provides (Spring Actuator...), used
    /// when the routes show none.
    pub health: Option<Found<String>>,
    /// package.json scripts, so `npm start` in a Dockerfile can be read.
    pub scripts: BTreeMap<String, String>,
    pub notes: Vec<String>,
}

impl Detection {
    pub fn new(language: &'static str, kind: Kind, confidence: Confidence, at: Spot) -> Self {
        Self {
            language,
            framework: None,
            kind,
            confidence,
            kind_at: at.clone(),
            language_at: at,
            port: None,
            port_env: None,
            default_port: None,
            host: None,
            host_env: None,
            loopback_default: None,
            bind_fix: None,
            start: None,
            start_derived: None,
            build: None,
            health: None,
            runner_address: None,
            scripts: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    pub fn framework(mut self, name: &'static str, at: Spot) -> Self {
        self.framework = Some(name);
        self.kind_at = at;
        self
    }

    /// Orders detections of one directory: an HTTP server beats a static
    /// site beats anything else, then the surer detector wins.
    pub fn rank(&self) -> (u8, Confidence) {
        let kind = match self.kind {
            Kind::Server => 3,
            Kind::Static => 2,
            Kind::Unknown => 0,
            _ => 1,
        };
        (kind, self.confidence)
    }

    /// Records the port as the code or config gives it: a literal, or an env
    /// var with its default.
    pub fn set_port(&mut self, value: &super::value::Value, at: Spot) {
        if let Some(port) = value.port() {
            self.port = Some(Found::new(port, at.clone()));
        }
        if let Some(env) = &value.env {
            self.port_env = Some(Found::new(env.clone(), at));
        }
    }

    /// Records the bind address as the code or config gives it.
    pub fn set_host(&mut self, value: &super::value::Value, at: Spot) {
        if let Some(host) = value.host() {
            self.host = Some(Found::new(host, at));
        }
        if let Some(env) = &value.env {
            self.host_env = Some(env.clone());
        }
    }
}
