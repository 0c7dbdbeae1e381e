//! The app's environment as compose writes it: every variable the analysis
//! found becomes a `${NAME…}` reference filled from the shell or `.env` at
//! `make up`, so no secret value is ever written; port and bind settings are
//! literal values.

use super::launch::RuntimeEnv;
use super::stores;
use crate::choose::{Part, ServicePlan, StoreKind};
use crate::own_address::AddressForm;
use analysis::{Analysis, VariableKind};

/// One `environment:` entry of the app service.
#[derive(Debug, Clone)]
pub(super) struct ComposeEnv {
    pub name: String,
    /// The value as written in the compose file (interpolation syntax
    /// included); empty for a variable passed through only when it is set
    /// (a key with no value), which an empty value would override.
    pub value: String,
    pub reason: String,
    /// A port or bind setting, which overrides what the repository's compose file says.
    pub runtime: bool,
    /// A credential or signing key: a literal value the repository's
    /// compose file gives it is public, and is replaced.
    pub secret: bool,
    /// The app's own address: a literal of the repository's compose file
    /// that names only this machine (`localhost 127.0.0.1 [::1]`) is
    /// replaced, so the deployment's address reaches the app.
    pub own_address: bool,
}

impl ComposeEnv {
    /// The entry's value in a compose mapping: a key with no value passes
    /// the variable through from the shell or `.env` only when it is set.
    pub fn yaml_value(&self) -> serde_yaml_ng::Value {
        if self.value.is_empty() {
            serde_yaml_ng::Value::Null
        } else {
            serde_yaml_ng::Value::String(self.value.clone())
        }
    }

    /// The entry as an item of a compose list (`NAME=value`, or `NAME`
    /// alone to pass it through when set).
    pub fn list_item(&self) -> String {
        if self.value.is_empty() {
            self.name.clone()
        } else {
            format!("{}={}", self.name, self.value)
        }
    }
}

/// The app's environment and what must fill it before compose starts.
#[derive(Debug, Default)]
pub(super) struct AppEnv {
    pub entries: Vec<ComposeEnv>,
    /// Names compose refuses to start without, which the user must give.
    pub required: Vec<String>,
    /// Required keys the app signs with, generated once into `.env` by
    /// whoever starts the bundle unless the user gives them.
    pub generated: Vec<String>,
}

/// The app's variables (from the analysis) then the runtime settings, which
/// replace a variable of the same name; a variable wired to a store of
/// `services` carries its address.
pub(super) fn compose_env(
    analysis: &Analysis,
    runtime: &[RuntimeEnv],
    services: &ServicePlan,
) -> AppEnv {
    let mut entries: Vec<ComposeEnv> = Vec::new();
    let mut required = Vec::new();
    let mut generated = Vec::new();
    let listed = analysis.env.iter().map(|v| {
        let default = v.default.as_deref();
        (v.name.as_str(), v.required, v.secret, default, v.kind)
    });
    let unlisted = analysis
        .required_env
        .iter()
        .filter(|name| !analysis.env.iter().any(|v| &v.name == *name))
        .map(|name| {
            (
                name.as_str(),
                true,
                false,
                None,
                analysis::variable_kind(name),
            )
        });
    for (name, is_required, secret, default, kind) in listed.chain(unlisted) {
        if !is_variable_name(name)
            || is_process_environment(name)
            || runtime.iter().any(|r| r.name == name)
        {
            continue;
        }
        if let Some((kind, part)) = services.wire(name) {
            entries.push(wired(name, kind, part, services));
            continue;
        }
        // A key whose default is written in the code is known to whoever
        // reads the repository (`django-insecure-change-me`): tokens signed
        // with it could be forged, so it is generated as a required one is.
        // One read with no default at all is generated too: the app may
        // check it only where it signs (or in settings the analysis does
        // not follow), and a key nobody uses costs nothing.
        let from_other_variable = default.is_some_and(|d| d.contains("${"));
        if kind == VariableKind::AppSecret && !from_other_variable {
            generated.push(name.to_owned());
            entries.push(ComposeEnv {
                name: name.to_owned(),
                value: format!("${{{name}:?{name} is required}}"),
                reason: format!(
                    "{name} is a key the app signs with: unless given, `make up` generates one into .env once and keeps it there; it is never written here."
                ),
                runtime: false,
                secret: true,
                own_address: false,
            });
            continue;
        }
        if is_required && kind == VariableKind::OwnAddress {
            let local = own_address_here(name);
            entries.push(ComposeEnv {
                name: name.to_owned(),
                value: format!("${{{name}:-{local}}}"),
                reason: format!(
                    "{name} is the app's own address: `{local}` (where `make up` serves it) unless given; give the address its users reach it at."
                ),
                runtime: false,
                secret: false,
                own_address: true,
            });
            continue;
        }
        if let Some(off) = super::plain_http::tls_switch_off(name, default) {
            entries.push(ComposeEnv {
                name: name.to_owned(),
                value: format!("${{{name}:-false}}"),
                reason: off,
                runtime: false,
                secret: false,
                own_address: false,
            });
            continue;
        }
        let expanded = default.and_then(|d| expanded(d, analysis));
        let default = expanded.as_deref().or(default);
        let (value, reason) = reference(name, is_required, secret, default);
        if value.contains(":?") {
            required.push(name.to_owned());
        }
        entries.push(ComposeEnv {
            name: name.to_owned(),
            value,
            reason,
            runtime: false,
            secret,
            own_address: false,
        });
    }
    // Wired names the app's files do not read (`DATABASE_URL` for a store
    // only the description asked for).
    for service in &services.provisioned {
        for wire in &service.wiring {
            if !entries.iter().any(|e| e.name == wire.name) {
                entries.push(wired(&wire.name, service.kind, &wire.part, services));
            }
        }
    }
    for env in runtime {
        entries.push(ComposeEnv {
            name: env.name.clone(),
            value: escape(&env.value),
            reason: env.reason.clone(),
            runtime: true,
            secret: false,
            own_address: false,
        });
    }
    AppEnv {
        entries,
        required,
        generated,
    }
}

/// The app's own address where `make up` serves it, in the variable's form.
fn own_address_here(name: &str) -> String {
    match AddressForm::of(name) {
        AddressForm::AnyHost => "*".to_owned(),
        AddressForm::Host => "localhost".to_owned(),
        AddressForm::Url => format!("http://localhost:{}", super::HOST_PORT),
    }
}

/// A variable set to reach a store deployflow runs beside the app, or,
/// for managed stores on the VM, passed through from what its boot script
/// reads.
fn wired(name: &str, kind: StoreKind, part: &Part, services: &ServicePlan) -> ComposeEnv {
    let (value, reason) = if services.managed_on_vm {
        (
            format!("${{{name}:?{name} is set by the VM's boot script}}"),
            format!(
                "{name} reaches the managed {} (RDS or ElastiCache): the VM's boot script sets it from the deployment's Secrets Manager secret.",
                kind.label()
            ),
        )
    } else {
        (
            stores::wired_value(kind, part, services.url_query(kind)),
            format!(
                "{name} reaches the {} service deployflow runs beside the app.",
                kind.label()
            ),
        )
    };
    ComposeEnv {
        name: name.to_owned(),
        value,
        reason,
        runtime: false,
        secret: false,
        own_address: false,
    }
}

fn reference(name: &str, required: bool, secret: bool, default: Option<&str>) -> (String, String) {
    // A SQLite file's URL holds no credential: that default is written.
    let file_database = default.is_some_and(|d| d.starts_with("sqlite:"));
    if secret && !file_database {
        return if required {
            (
                format!("${{{name}:?{name} is required}}"),
                format!(
                    "{name} is a secret the app requires: it is read from the environment or .env at start, never written here."
                ),
            )
        } else {
            (
                String::new(),
                format!(
                    "{name} is an optional secret: passed through from the environment or .env when set, never written here."
                ),
            )
        };
    }
    let upper = name.to_ascii_uppercase();
    let debug_flag = upper == "DEBUG" || upper.ends_with("_DEBUG");
    match default {
        // `bool(os.environ.get("DEBUG", 0))`: written as text, "0" or
        // "False" is true, and the deployment would run in debug mode.
        Some(default) if debug_flag && !default.is_empty() => (
            String::new(),
            format!(
                "{name} is passed through when set: a debug flag keeps the app's own default (written as the text `{default}`, code that tests its truth reads it as on)."
            ),
        ),
        // An example file's development setting (`DEBUG=True`,
        // `NODE_ENV=development`) would run the deployment in that mode.
        Some(default) if is_development_setting(name, default) => (
            String::new(),
            format!(
                "{name} is passed through when set: the example's `{default}` is a development setting, not written for a deployment."
            ),
        ),
        // The app computes its own default (or copes without one): unset
        // stays unset, where an empty value would replace that default.
        Some("") => (
            String::new(),
            format!("{name} keeps the app's own default unless set in the environment or .env."),
        ),
        // `}` would end the reference early; such a default is written literally.
        Some(default) if default.contains('}') => (
            escape(default),
            format!("{name} is set to the app's own default."),
        ),
        Some(default) => (
            format!("${{{name}:-{}}}", escape(default)),
            format!("{name} keeps the app's default unless set in the environment or .env."),
        ),
        None if required => (
            format!("${{{name}:?{name} is required}}"),
            format!(
                "{name} is required by the app and has no default: set it in the environment or .env."
            ),
        ),
        None => (
            String::new(),
            format!("{name} is passed through from the environment or .env when set."),
        ),
    }
}

/// What the shell, the image or npm gives every process: passed through
/// from the host that runs `make up`, the host's `PATH` or `HOME` would
/// replace the image's.
fn is_process_environment(name: &str) -> bool {
    matches!(
        name,
        "PATH"
            | "HOME"
            | "PWD"
            | "OLDPWD"
            | "USER"
            | "LOGNAME"
            | "SHELL"
            | "TERM"
            | "LANG"
            | "LC_ALL"
            | "HOSTNAME"
            | "TMPDIR"
            | "PYTHONPATH"
            | "JAVA_HOME"
            | "GOPATH"
            | "GOROOT"
            | "NODE_PATH"
    ) || name.starts_with("npm_")
}

/// A mode switch set to development: a debug flag on, or an environment
/// name of development (`NODE_ENV=development`, `APP_ENV=local`).
/// The names an env file sets to a development setting (`FLASK_ENV=development`,
/// `DEBUG=True`).
pub(super) fn development_settings(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(super::dotenv_addresses::assignment)
        .filter(|(name, value)| is_development_setting(name, value))
        .map(|(name, _)| name.to_owned())
        .collect()
}

fn is_development_setting(name: &str, value: &str) -> bool {
    let name = name.to_ascii_uppercase();
    let value = value.trim().to_ascii_lowercase();
    let debug_flag = name == "DEBUG" || name.ends_with("_DEBUG");
    let environment = matches!(
        name.as_str(),
        "NODE_ENV"
            | "APP_ENV"
            | "ENV"
            | "ENVIRONMENT"
            | "APP_ENVIRONMENT"
            | "RAILS_ENV"
            | "RACK_ENV"
            | "FLASK_ENV"
            | "MIX_ENV"
            | "GIN_MODE"
            | "ASPNETCORE_ENVIRONMENT"
            | "DOTNET_ENVIRONMENT"
    );
    (debug_flag && matches!(value.as_str(), "true" | "1" | "yes" | "on"))
        || (environment
            && matches!(
                value.as_str(),
                "development" | "dev" | "local" | "debug" | "test" | "testing"
            ))
}

/// An example file's default that names another variable
/// (`MAIL_FROM_NAME="${APP_NAME}"`), which the app's dotenv loader expands
/// and compose's `environment` would pass on as the text `${APP_NAME}`:
/// with each reference replaced by that variable's own literal default.
/// `None` when it names none, or one without a literal default.
fn expanded(default: &str, analysis: &Analysis) -> Option<String> {
    let mut out = String::new();
    let mut rest = default;
    while let Some(start) = rest.find("${") {
        let end = start + rest[start..].find('}')?;
        let name = &rest[start + 2..end];
        let value = analysis
            .env
            .iter()
            .find(|v| v.name == name)?
            .default
            .as_deref()
            .filter(|d| !d.contains('$'))?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    if out.is_empty() && rest.len() == default.len() {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

/// A literal for compose, where `$` starts an interpolation.
pub(super) fn escape(value: &str) -> String {
    value.replace('$', "$$")
}

/// Compose can only interpolate names made of letters, digits and `_`.
fn is_variable_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
