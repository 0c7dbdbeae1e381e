//! A fake `terraform` for end-to-end tests (see `test_support::fake_terraform`):
//! the real CLI's commands, flags, messages and exit codes, with resources that
//! are only records in the state, and a real HTTP app on loopback.

mod app;
mod apply;
mod backend;
mod cli;
mod config;
mod ctx;
mod diag;
mod init;
mod local;
mod output;
mod pg;
mod plan;
mod state;
mod store;
mod ui;
mod workspace;

use std::path::{Path, PathBuf};
use std::process::exit;
use std::time::SystemTime;

use test_support::fake_terraform::protocol::{self, INVOCATIONS_FILE, InvocationLine};

use crate::ctx::Ctx;
use crate::diag::Diag;
use crate::ui::Ui;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if args.first().map(String::as_str) == Some("serve-app") {
        let [_, control, port_file] = &args[..] else {
            eprintln!("usage: fake-terraform serve-app <control-dir> <port-file>");
            exit(2);
        };
        exit(runtime.block_on(app::serve(control.into(), port_file.into())));
    }
    let cwd = std::env::current_dir().expect("current directory");
    let control = std::env::var_os(protocol::CONTROL_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| cwd.join(".terraform/fake-control"));
    std::fs::create_dir_all(&control)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", control.display()));
    record_start(&control, &args, &cwd);
    let code = runtime.block_on(run(&args, control.clone()));
    let end = InvocationLine::End {
        pid: std::process::id(),
        exit_code: code,
        at_ms: protocol::unix_ms(SystemTime::now()),
    };
    protocol::append_line(&control.join(INVOCATIONS_FILE), &end);
    exit(code);
}

fn record_start(control: &Path, args: &[String], cwd: &Path) {
    let start = InvocationLine::Start {
        pid: std::process::id(),
        args: args.to_vec(),
        cwd: cwd.to_owned(),
        at_ms: protocol::unix_ms(SystemTime::now()),
        aws_env: protocol::aws_names(std::env::vars_os().map(|(k, _)| k.to_string_lossy().into())),
        pg_conn_str_set: std::env::var_os("PG_CONN_STR").is_some(),
        app_env_names: std::env::var("TF_VAR_app_env")
            .ok()
            .and_then(|json| {
                serde_json::from_str::<std::collections::BTreeMap<String, serde_json::Value>>(&json)
                    .ok()
            })
            .map(|values| values.into_keys().collect())
            .unwrap_or_default(),
    };
    protocol::append_line(&control.join(INVOCATIONS_FILE), &start);
}

async fn run(args: &[String], control: PathBuf) -> i32 {
    let json_arg = args
        .iter()
        .any(|a| matches!(a.as_str(), "-json" | "--json"));
    let cli = match cli::parse(args) {
        Ok(cli) => cli,
        Err(diag) => return fail(&Ui { json: json_arg }, &diag),
    };
    let ui = Ui {
        json: cli.flags.bool("json", false),
    };
    if let Some(dir) = &cli.chdir
        && let Err(e) = std::env::set_current_dir(dir)
    {
        let diag = Diag::new("Invalid -chdir option").detail(format!("{}: {e}", dir.display()));
        return fail(&ui, &diag);
    }
    let (failure, hang) = take_fault(&control, &cli.command);
    if let Some(message) = failure {
        return fail(&ui, &Diag::new(message));
    }
    let ctx = Ctx {
        cli,
        ui,
        control,
        cwd: std::env::current_dir().expect("current directory"),
        hang,
    };
    let command = ctx.cli.command.as_str();
    if hang.is_some() && !matches!(command, "plan" | "apply" | "destroy") {
        ctx.hang_forever().await;
    }
    let result = match command {
        "version" => Ok(init::version(&ctx)),
        "init" => init::init(&ctx).await,
        "validate" => init::validate(&ctx),
        "workspace" => workspace::workspace(&ctx).await,
        "plan" => plan::plan(&ctx).await,
        "show" => plan::show(&ctx).await,
        "apply" => apply::apply(&ctx, false).await,
        "destroy" => apply::apply(&ctx, true).await,
        "output" => output::output(&ctx).await,
        other => Err(Diag::new(format!("Unknown command {other:?}"))
            .detail("fake-terraform implements version, init, validate, workspace, plan, show, apply, destroy and output.")),
    };
    result.unwrap_or_else(|diag| fail(&ctx.ui, &diag))
}

fn fail(ui: &Ui, diag: &Diag) -> i32 {
    ui.error(diag);
    1
}

/// Consumes a scripted failure of `command`, else a scripted hang.
fn take_fault(control: &Path, command: &str) -> (Option<String>, Option<usize>) {
    protocol::update_faults(control, |faults| {
        let failure = faults
            .fail
            .iter_mut()
            .find(|f| f.command == command && f.remaining > 0)
            .map(|f| {
                f.remaining -= 1;
                f.message.clone()
            });
        faults.fail.retain(|f| f.remaining > 0);
        if failure.is_some() {
            return (failure, None);
        }
        let hang = faults
            .hang
            .iter()
            .position(|h| h.command == command)
            .map(|i| faults.hang.remove(i).after_resources);
        (None, hang)
    })
}
