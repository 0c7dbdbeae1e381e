//! The root module: the `*.tf` files of the working directory, parsed as HCL.

use std::collections::BTreeMap;
use std::path::Path;

use hcl::{Block, Body, Expression};

use crate::diag::{Diag, Res};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub kind: String,
    pub name: String,
}

impl Resource {
    pub fn address(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }
}

#[derive(Debug, Default)]
pub struct Config {
    pub resources: Vec<Resource>,
    /// Each resource's arguments written as literals, by address: what a
    /// plan knows of it before anything is made.
    pub known: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    pub outputs: Vec<String>,
    /// Declared variables: whether each has a default.
    pub variables: BTreeMap<String, bool>,
    /// The `terraform { backend "TYPE" { ... } }` block: type and string arguments.
    pub backend: Option<(String, BTreeMap<String, String>)>,
}

pub fn load(dir: &Path) -> Res<Config> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "tf"))
        .collect();
    files.sort();
    let mut config = Config::default();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let body = hcl::parse(&text).map_err(|e| {
            Diag::new("Invalid configuration syntax").detail(format!("{}: {e}", file.display()))
        })?;
        add_body(&mut config, &body).map_err(|d| {
            let detail = format!("{}: {}", file.display(), d.detail);
            d.detail(detail)
        })?;
    }
    Ok(config)
}

fn add_body(config: &mut Config, body: &Body) -> Res<()> {
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
        match (block.identifier(), labels.as_slice()) {
            ("resource", [kind, name]) => {
                let resource = Resource {
                    kind: (*kind).to_owned(),
                    name: (*name).to_owned(),
                };
                config
                    .known
                    .insert(resource.address(), known_arguments(block.body()));
                config.resources.push(resource);
            }
            ("output", [name]) => config.outputs.push((*name).to_owned()),
            ("variable", [name]) => {
                let has_default = block.body().attributes().any(|a| a.key() == "default");
                config.variables.insert((*name).to_owned(), has_default);
            }
            ("terraform", []) => add_terraform(config, block)?,
            ("resource" | "output" | "variable", _) => {
                return Err(Diag::new("Invalid block labels").detail(format!(
                    "a {} block has the wrong number of labels",
                    block.identifier()
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The top-level arguments whose values are literals (a bool, a number, a
/// string without interpolation), as Terraform's plan shows them.
fn known_arguments(body: &Body) -> serde_json::Map<String, serde_json::Value> {
    body.attributes()
        .filter_map(|attribute| {
            let value = match attribute.expr() {
                Expression::Bool(b) => serde_json::Value::Bool(*b),
                Expression::Number(n) => serde_json::to_value(n).ok()?,
                Expression::String(s) => serde_json::Value::String(s.clone()),
                _ => return None,
            };
            Some((attribute.key().to_owned(), value))
        })
        .collect()
}

fn add_terraform(config: &mut Config, block: &Block) -> Res<()> {
    for backend in block
        .body()
        .blocks()
        .filter(|b| b.identifier() == "backend")
    {
        let [kind] = backend.labels() else {
            return Err(Diag::new("Invalid backend block").detail("backend needs one label"));
        };
        if config.backend.is_some() {
            return Err(Diag::new("Duplicate backend configuration"));
        }
        let arguments = backend
            .body()
            .attributes()
            .filter_map(|a| match a.expr() {
                Expression::String(value) => Some((a.key().to_owned(), value.clone())),
                _ => None,
            })
            .collect();
        config.backend = Some((kind.as_str().to_owned(), arguments));
    }
    Ok(())
}

/// Checks `-var` values against the declared variables, as Terraform does.
pub fn check_vars(
    config: &Config,
    vars: &BTreeMap<String, String>,
    explicit: &[String],
) -> Res<()> {
    if let Some(name) = explicit.iter().find(|n| !config.variables.contains_key(*n)) {
        return Err(Diag::new("Value for undeclared variable").detail(format!(
            "A variable named \"{name}\" was assigned on the command line, but the root \
                 module does not declare a variable of that name."
        )));
    }
    let missing = config
        .variables
        .iter()
        .find(|(name, has_default)| !**has_default && !vars.contains_key(*name));
    if let Some((name, _)) = missing {
        return Err(Diag::new("No value for required variable").detail(format!(
            "The root module input variable \"{name}\" is not set, and has no default value. \
             Use a -var or -var-file command line argument to provide a value for this \
             variable."
        )));
    }
    Ok(())
}

/// The input variables of a run: `TF_VAR_*` from the environment, then
/// `-var-file`s, then `-var`s, later ones winning, as Terraform orders them.
/// Returns them with the names given explicitly (which must be declared).
pub fn input_vars(flags: &crate::cli::Flags) -> Res<(BTreeMap<String, String>, Vec<String>)> {
    let mut vars: BTreeMap<String, String> = std::env::vars()
        .filter_map(|(k, v)| Some((k.strip_prefix("TF_VAR_")?.to_owned(), v)))
        .collect();
    let mut explicit = Vec::new();
    for file in flags.all("var-file") {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Diag::new("Failed to read variables file").detail(format!("{file}: {e}"))
        })?;
        let body = hcl::parse(&text)
            .map_err(|e| Diag::new("Invalid variables file").detail(format!("{file}: {e}")))?;
        for attribute in body.attributes() {
            let value = match attribute.expr() {
                Expression::String(s) => s.clone(),
                other => other.to_string(),
            };
            explicit.push(attribute.key().to_owned());
            vars.insert(attribute.key().to_owned(), value);
        }
    }
    for (key, value) in flags.vars()? {
        explicit.push(key.clone());
        vars.insert(key, value);
    }
    Ok((vars, explicit))
}
