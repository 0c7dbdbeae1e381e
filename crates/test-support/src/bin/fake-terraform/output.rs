//! `output`: the root module's outputs from the state.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::diag::{Diag, Res};

pub async fn output(ctx: &Ctx) -> Res<i32> {
    let name = ctx.one_positional()?;
    let mut workspace = ctx.open(false).await?;
    let outputs = workspace
        .store
        .read()
        .await?
        .map(|state| state.outputs)
        .unwrap_or_default();
    let json_mode = ctx.cli.flags.bool("json", false);
    let raw = ctx.cli.flags.bool("raw", false);
    let Some(name) = name else {
        if json_mode {
            let all: BTreeMap<&String, Value> = outputs
                .iter()
                .map(|(k, o)| {
                    (
                        k,
                        json!({"sensitive": false, "type": o.kind, "value": o.value}),
                    )
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&all).expect("outputs serialise")
            );
        } else if outputs.is_empty() {
            eprintln!(
                "\nWarning: No outputs found\n\nThe state file either has no outputs defined, \
                 or all the defined outputs are empty."
            );
        } else {
            for (name, output) in &outputs {
                println!("{name} = {:?}", output.value);
            }
        }
        return Ok(0);
    };
    let output = outputs.get(name).ok_or_else(|| {
        Diag::new(format!("Output \"{name}\" not found")).detail(
            "The output variable requested could not be found in the state file. If you \
             recently added this to your configuration, be sure to run `terraform apply`, \
             since the state won't be updated with new output variables until that command \
             is run.",
        )
    })?;
    if json_mode {
        println!("{}", Value::String(output.value.clone()));
    } else if raw {
        print!("{}", output.value);
    } else {
        println!("{:?}", output.value);
    }
    Ok(0)
}
