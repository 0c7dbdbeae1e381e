//! `workspace select [-or-create] NAME`, `new NAME`, `show`, `list`.

use crate::backend::{self, DEFAULT_WORKSPACE};
use crate::config;
use crate::ctx::Ctx;
use crate::diag::{Diag, Res};
use crate::state::State;

pub async fn workspace(ctx: &Ctx) -> Res<i32> {
    let sub = ctx.cli.sub.as_deref().unwrap_or("");
    let config = config::load(&ctx.cwd)?;
    let backend = backend::load(&ctx.cwd, &config)?;
    let current = backend::workspace(&ctx.cwd);
    match sub {
        "show" => {
            println!("{current}");
            return Ok(0);
        }
        "list" => {
            let mut store = ctx.store(&backend, &current).await?;
            for name in store.workspaces().await? {
                let mark = if name == current { "*" } else { " " };
                println!("{mark} {name}");
            }
            return Ok(0);
        }
        "select" | "new" => {}
        other => {
            return Err(
                Diag::new(format!("Unsupported workspace subcommand {other:?}"))
                    .detail("fake-terraform implements select, new, show and list."),
            );
        }
    }
    let name = match ctx.cli.positional.as_slice() {
        [name] => name.as_str(),
        _ => return Err(Diag::new("Expected a single argument: NAME.")),
    };
    let mut store = ctx.store(&backend, name).await?;
    let exists = name == DEFAULT_WORKSPACE || store.workspaces().await?.iter().any(|w| w == name);
    let create = sub == "new" || ctx.cli.flags.bool("or-create", false);
    if sub == "new" && exists {
        return Err(Diag::new(format!("Workspace \"{name}\" already exists")));
    }
    if exists {
        backend::select_workspace(&ctx.cwd, name)?;
        println!("Switched to workspace \"{name}\".");
        return Ok(0);
    }
    if !create {
        return Err(
            Diag::new(format!("Workspace \"{name}\" doesn't exist.")).detail(
                "You can create this workspace with the \"new\" subcommand or include the \
             \"-or-create\" flag with the \"select\" subcommand.",
            ),
        );
    }
    if ctx.cli.flags.bool("lock", true) {
        store.lock(ctx.cli.flags.lock_timeout()?).await?;
    }
    if store.read().await?.is_none() {
        store.write(&State::fresh()).await?;
    }
    backend::select_workspace(&ctx.cwd, name)?;
    println!("Created and switched to workspace \"{name}\"!");
    Ok(0)
}
