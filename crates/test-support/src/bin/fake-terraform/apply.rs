//! `apply` and `destroy`: each change persisted to the state as soon as it is
//! made (as Terraform does), then the app and the outputs.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use test_support::fake_terraform::protocol;

use crate::app;
use crate::config::{self, Config};
use crate::ctx::{Ctx, Workspace};
use crate::diag::{Diag, Res};
use crate::plan::{self, Action, Change, PlanFile};
use crate::state::{Output, State};

/// The output every apply sets: where the app answers.
const APP_URL: &str = "app_url";

pub async fn apply(ctx: &Ctx, destroy_command: bool) -> Res<i32> {
    let flags = &ctx.cli.flags;
    let plan_path = ctx.one_positional()?;
    if destroy_command && plan_path.is_some() {
        return Err(Diag::new("Too many command line arguments")
            .detail("destroy does not take a plan file; use apply with a destroy plan."));
    }
    if plan_path.is_some() && !(flags.all("var").is_empty() && flags.all("var-file").is_empty()) {
        return Err(
            Diag::new("Can't set variables when applying a saved plan").detail(
                "The -var and -var-file options cannot be used when applying a saved plan file, \
             because a saved plan includes the variable values that were set when it was \
             created.",
            ),
        );
    }
    if plan_path.is_none() && !flags.bool("auto-approve", false) {
        return Err(Diag::new("Apply not confirmed").detail(
            "Input is disabled and -auto-approve was not given, so the changes cannot be \
             approved.",
        ));
    }
    let mut workspace = ctx.open(true).await?;
    let mut state = workspace.store.read().await?.unwrap_or_else(State::absent);
    let (changes, destroy) = match plan_path {
        Some(path) => {
            let saved = PlanFile::read(path)?;
            saved.check_fresh(&state)?;
            (saved.changes, saved.destroy)
        }
        None => {
            let (vars, explicit) = config::input_vars(flags)?;
            config::check_vars(&workspace.config, &vars, &explicit)?;
            let destroy = destroy_command || flags.bool("destroy", false);
            let targets: Vec<String> = flags.all("target").into_iter().map(str::to_owned).collect();
            (
                plan::targeted(plan::diff(&workspace.config, &state, destroy), &targets),
                destroy,
            )
        }
    };
    ctx.ui.version_line();
    if state.lineage.is_empty() {
        state.lineage = uuid::Uuid::new_v4().to_string();
    }
    let delay = protocol::resource_delay(&ctx.control);
    for (done, change) in changes.iter().enumerate() {
        ctx.maybe_hang(done).await;
        make_change(ctx, &mut workspace, &mut state, change, delay).await?;
    }
    ctx.maybe_hang(changes.len()).await;
    let before = state.clone();
    if destroy {
        app::stop(state.fake_app.take());
        state.outputs.clear();
    } else {
        let running = app::ensure(&ctx.control, state.fake_app).await?;
        state.fake_app = Some(running);
        state.outputs = outputs(&workspace.config, running.port);
    }
    if state != before {
        state.serial += 1;
        workspace.store.write(&state).await?;
    }
    summarise(ctx, &changes, destroy, &state);
    Ok(0)
}

async fn make_change(
    ctx: &Ctx,
    workspace: &mut Workspace,
    state: &mut State,
    change: &Change,
    delay: std::time::Duration,
) -> Res<()> {
    let (verb, done) = match change.action {
        Action::Create => ("Creating...", "Creation complete"),
        Action::Delete => ("Destroying...", "Destruction complete"),
    };
    let action = json!(change.action);
    let hook = json!({"hook": {"resource": plan::resource_json(change), "action": action}});
    ctx.ui
        .event("apply_start", &format!("{}: {verb}", change.address), hook);
    tokio::time::sleep(delay).await;
    let id = match change.action {
        Action::Create => {
            let id = format!(
                "{}-{}",
                change.kind,
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            state.add(&change.resource(), &id);
            id
        }
        Action::Delete => state.remove(&change.address).unwrap_or_default(),
    };
    state.serial += 1;
    workspace.store.write(state).await?;
    let kind = match change.action {
        Action::Create => "create",
        Action::Delete => "destroy",
    };
    ctx.record(kind, workspace, &change.address, &id);
    let seconds = delay.as_secs();
    let fields = json!({"hook": {
        "resource": plan::resource_json(change), "action": action,
        "id_key": "id", "id_value": id, "elapsed_seconds": seconds,
    }});
    let message = format!("{}: {done} after {seconds}s [id={id}]", change.address);
    ctx.ui.event("apply_complete", &message, fields);
    Ok(())
}

fn outputs(config: &Config, port: u16) -> BTreeMap<String, Output> {
    let string = |value: String| Output {
        value,
        kind: "string".into(),
    };
    let mut outputs: BTreeMap<String, Output> = config
        .outputs
        .iter()
        .map(|name| (name.clone(), string(format!("fake-{name}"))))
        .collect();
    outputs.insert(APP_URL.into(), string(format!("http://127.0.0.1:{port}/")));
    outputs
}

fn summarise(ctx: &Ctx, changes: &[Change], destroy: bool, state: &State) {
    let (add, remove) = plan::counts(changes);
    let message = if destroy {
        format!("Destroy complete! Resources: {remove} destroyed.")
    } else {
        format!("Apply complete! Resources: {add} added, 0 changed, {remove} destroyed.")
    };
    let operation = if destroy { "destroy" } else { "apply" };
    let fields = json!({"changes": {
        "add": add, "change": 0, "import": 0, "remove": remove, "operation": operation
    }});
    ctx.ui.say("");
    ctx.ui.event("change_summary", &message, fields);
    let values: BTreeMap<&String, Value> = state
        .outputs
        .iter()
        .map(|(k, o)| {
            (
                k,
                json!({"sensitive": false, "type": o.kind, "value": o.value}),
            )
        })
        .collect();
    if ctx.ui.json {
        ctx.ui
            .event("outputs", "Outputs: ", json!({"outputs": values}));
    } else if !state.outputs.is_empty() {
        println!("\nOutputs:\n");
        for (name, output) in &state.outputs {
            println!("{name} = {:?}", output.value);
        }
    }
}
