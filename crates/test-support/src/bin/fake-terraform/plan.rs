//! `plan` and `show`: the difference between the configuration and the state,
//! and the saved plan file (JSON here, where Terraform writes a zip).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use test_support::fake_terraform::protocol;

use crate::config::{Config, Resource};
use crate::ctx::Ctx;
use crate::diag::{Diag, Res};
use crate::state::State;
use crate::ui::{Ui, VERSION};

const PLAN_FORMAT: &str = "fake-terraform-plan-1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Delete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub action: Action,
    /// What the plan knows of a created resource's values.
    #[serde(default)]
    pub known: serde_json::Map<String, Value>,
}

impl Change {
    pub fn resource(&self) -> Resource {
        Resource {
            kind: self.kind.clone(),
            name: self.name.clone(),
        }
    }
}

/// A saved plan: the changes and the state (lineage, serial) they were made against.
#[derive(Debug, Serialize, Deserialize)]
pub struct PlanFile {
    pub format: String,
    pub lineage: String,
    pub serial: u64,
    pub workspace: String,
    pub destroy: bool,
    pub changes: Vec<Change>,
    pub variables: BTreeMap<String, String>,
}

impl PlanFile {
    pub fn read(path: &str) -> Res<Self> {
        let failed = |detail: String| Diag::new("Failed to load saved plan").detail(detail);
        let text = std::fs::read_to_string(path).map_err(|e| failed(format!("{path}: {e}")))?;
        let plan: PlanFile = serde_json::from_str(&text)
            .map_err(|_| failed(format!("{path} is not a saved plan file")))?;
        if plan.format != PLAN_FORMAT {
            return Err(failed(format!("{path} is not a saved plan file")));
        }
        Ok(plan)
    }

    /// Terraform refuses a plan made against another version of the state.
    pub fn check_fresh(&self, state: &State) -> Res<()> {
        let other_lineage =
            !self.lineage.is_empty() && !state.lineage.is_empty() && self.lineage != state.lineage;
        if other_lineage || self.serial != state.serial {
            return Err(Diag::new("Saved plan is stale").detail(
                "The given plan file can no longer be applied because the state was changed by \
                 another operation after the plan was created.",
            ));
        }
        Ok(())
    }
}

/// Creates for configured resources missing from the state, deletes for state
/// resources no longer configured (all of them with `destroy`).
pub fn diff(config: &Config, state: &State, destroy: bool) -> Vec<Change> {
    let in_state = state.ids();
    let mut changes = Vec::new();
    if !destroy {
        for resource in &config.resources {
            if !in_state.contains_key(&resource.address()) {
                let mut created = change(resource, Action::Create);
                if let Some(known) = config.known.get(&resource.address()) {
                    created.known = known.clone();
                }
                changes.push(created);
            }
        }
    }
    for state_resource in &state.resources {
        let resource = Resource {
            kind: state_resource.kind.clone(),
            name: state_resource.name.clone(),
        };
        if destroy || !config.resources.contains(&resource) {
            changes.push(change(&resource, Action::Delete));
        }
    }
    changes
}

fn change(resource: &Resource, action: Action) -> Change {
    Change {
        address: resource.address(),
        kind: resource.kind.clone(),
        name: resource.name.clone(),
        action,
        known: serde_json::Map::new(),
    }
}

/// Only the changes of the `-target` addresses, when any are given (real
/// Terraform also takes their dependencies; the fake's resources have none).
pub fn targeted(changes: Vec<Change>, targets: &[String]) -> Vec<Change> {
    if targets.is_empty() {
        return changes;
    }
    changes
        .into_iter()
        .filter(|c| targets.contains(&c.address))
        .collect()
}

pub fn counts(changes: &[Change]) -> (usize, usize) {
    let add = changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .count();
    (add, changes.len() - add)
}

pub async fn plan(ctx: &Ctx) -> Res<i32> {
    if !ctx.cli.positional.is_empty() {
        return Err(Diag::new("Too many command line arguments")
            .detail("To specify a working directory for the plan, use the global -chdir flag."));
    }
    let mut workspace = ctx.open(true).await?;
    let (vars, explicit) = crate::config::input_vars(&ctx.cli.flags)?;
    crate::config::check_vars(&workspace.config, &vars, &explicit)?;
    let state = workspace.store.read().await?.unwrap_or_else(State::absent);
    ctx.maybe_hang(0).await;
    let destroy = ctx.cli.flags.bool("destroy", false);
    let targets: Vec<String> = ctx
        .cli
        .flags
        .all("target")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let changes = targeted(diff(&workspace.config, &state, destroy), &targets);
    ctx.ui.version_line();
    print_plan(&ctx.ui, &changes);
    if let Some(out) = ctx.cli.flags.get("out") {
        let file = PlanFile {
            format: PLAN_FORMAT.into(),
            lineage: state.lineage.clone(),
            serial: state.serial,
            workspace: workspace.name.clone(),
            destroy,
            changes: changes.clone(),
            variables: vars,
        };
        std::fs::write(
            out,
            serde_json::to_string_pretty(&file).expect("plan serialises"),
        )?;
        ctx.ui.say(&format!("\nSaved the plan to: {out}"));
    }
    let detailed = ctx.cli.flags.bool("detailed-exitcode", false);
    Ok(if detailed && !changes.is_empty() {
        2
    } else {
        0
    })
}

fn print_plan(ui: &Ui, changes: &[Change]) {
    if changes.is_empty() {
        ui.say("\nNo changes. Your infrastructure matches the configuration.");
    } else {
        ui.say("\nTerraform will perform the following actions:\n");
    }
    for change in changes {
        let (verb, human) = match change.action {
            Action::Create => ("create", "will be created"),
            Action::Delete => ("delete", "will be destroyed"),
        };
        let fields = json!({"change": {"resource": resource_json(change), "action": verb}});
        let message = format!("{}: Plan to {verb}", change.address);
        if ui.json {
            ui.event("planned_change", &message, fields);
        } else {
            ui.say(&format!("  # {} {human}", change.address));
        }
    }
    let (add, remove) = counts(changes);
    let message = format!("Plan: {add} to add, 0 to change, {remove} to destroy.");
    let fields = json!({"changes": {
        "add": add, "change": 0, "import": 0, "remove": remove, "operation": "plan"
    }});
    ui.event("change_summary", &message, fields);
}

pub fn resource_json(change: &Change) -> Value {
    json!({
        "addr": change.address,
        "module": "",
        "resource": change.address,
        "implied_provider": change.kind.split('_').next().unwrap_or(""),
        "resource_type": change.kind,
        "resource_name": change.name,
        "resource_key": null,
    })
}

/// `show -json FILE`: the plan in Terraform's JSON plan representation;
/// `show -json`: the state in its JSON state representation.
pub async fn show(ctx: &Ctx) -> Res<i32> {
    if !ctx.cli.flags.bool("json", false) {
        return Err(Diag::new("fake-terraform only implements show -json"));
    }
    let document = match ctx.one_positional()? {
        Some(path) => {
            let mut document = plan_json(&PlanFile::read(path)?);
            let extra = protocol::extra_planned_changes(&ctx.control);
            if let Some(changes) = document["resource_changes"].as_array_mut() {
                changes.extend(extra);
            }
            document
        }
        None => {
            let mut workspace = ctx.open(false).await?;
            let state = workspace.store.read().await?;
            state_json(state.as_ref())
        }
    };
    println!("{document}");
    Ok(0)
}

fn plan_json(plan: &PlanFile) -> Value {
    let changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            let (before, after) = match c.action {
                Action::Create => (Value::Null, Value::Object(c.known.clone())),
                Action::Delete => (json!({}), Value::Null),
            };
            json!({
                "address": c.address,
                "mode": "managed",
                "type": c.kind,
                "name": c.name,
                "provider_name": format!("registry.terraform.io/hashicorp/{}",
                    c.kind.split('_').next().unwrap_or("")),
                "change": {"actions": [c.action], "before": before, "after": after},
            })
        })
        .collect();
    let variables: BTreeMap<&String, Value> = plan
        .variables
        .iter()
        .map(|(k, v)| (k, json!({"value": v})))
        .collect();
    json!({
        "format_version": "1.2",
        "terraform_version": VERSION,
        "variables": variables,
        "resource_changes": changes,
        "output_changes": {},
        "errored": false,
    })
}

fn state_json(state: Option<&State>) -> Value {
    let Some(state) = state else {
        return json!({"format_version": "1.0"});
    };
    let resources: Vec<Value> = state
        .ids()
        .into_iter()
        .map(|(address, id)| {
            let (kind, name) = address.split_once('.').unwrap_or((&address, ""));
            json!({"address": address, "mode": "managed", "type": kind, "name": name,
                   "values": {"id": id}})
        })
        .collect();
    let outputs: BTreeMap<&String, Value> = state
        .outputs
        .iter()
        .map(|(k, o)| {
            (
                k,
                json!({"sensitive": false, "type": o.kind, "value": o.value}),
            )
        })
        .collect();
    json!({
        "format_version": "1.0",
        "terraform_version": VERSION,
        "values": {"outputs": outputs, "root_module": {"resources": resources}},
    })
}
