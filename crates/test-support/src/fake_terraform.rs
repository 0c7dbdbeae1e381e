//! A fake `terraform` for end-to-end tests: the `fake-terraform` binary of this
//! crate mimics the real CLI (init, workspace, validate, plan, show, apply,
//! output, destroy; local and PostgreSQL state with locking) and "creates"
//! resources by recording them in its state, and starts a real HTTP app on
//! loopback as the deployed application.
//!
//! ```ignore
//! let tf = FakeTerraform::install(dir.path());
//! tf.fail_next("apply", 1, "rate limited");
//! // run production code with TERRAFORM_BIN=tf.bin(), then:
//! assert_eq!(tf.creates().len(), 3);
//! ```
//!
//! State paths of the local backend per workspace: without a `path`, the
//! default workspace uses `terraform.tfstate` and workspace `W` uses
//! `terraform.tfstate.d/W/terraform.tfstate` (as real Terraform); with
//! `-backend-config=path=P`, the default workspace uses `P` and workspace `W`
//! uses `P.W`. The output `app_url` is always set by an apply, declared or not.

pub mod protocol;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use protocol::{EventLine, FailFault, HangFault, InvocationLine};

const BINARY: &str = "fake-terraform";

/// A fake Terraform installed in a directory; kills the apps it started when dropped.
pub struct FakeTerraform {
    wrapper: PathBuf,
    control: PathBuf,
}

/// One run of the fake, as recorded in the control directory.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub args: Vec<String>,
    pub cwd: PathBuf,
    pub pid: u32,
    /// `None` while it runs (or if it was killed).
    pub exit_code: Option<i32>,
    pub started_at: SystemTime,
    pub ended_at: Option<SystemTime>,
    /// Names of the `AWS_*` variables in its environment, sorted (never values).
    pub aws_env: Vec<String>,
    pub pg_conn_str_set: bool,
    /// The names `TF_VAR_app_env` gave values for, sorted (never the values).
    pub app_env_names: Vec<String>,
}

impl Invocation {
    /// The subcommand (`apply`, `workspace`, ...): the first argument that is not a flag.
    pub fn command(&self) -> Option<&str> {
        self.args
            .iter()
            .map(String::as_str)
            .find(|arg| !arg.starts_with('-'))
    }
}

/// A resource the fake created or destroyed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceEvent {
    pub workspace: String,
    /// Where the state lives: `pg:<schema>` or `local:<path>`.
    pub state: String,
    pub address: String,
    pub id: String,
    pub pid: u32,
    pub at: SystemTime,
}

impl FakeTerraform {
    /// Writes `dir/terraform` (a wrapper running the `fake-terraform` binary of
    /// this build) and its control directory `dir/control`.
    pub fn install(dir: &Path) -> Self {
        let binary = find_binary();
        let control = dir.join("control");
        std::fs::create_dir_all(&control)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", control.display()));
        let wrapper = dir.join("terraform");
        let script = format!(
            "#!/bin/sh\n{}={} exec {} \"$@\"\n",
            protocol::CONTROL_ENV,
            shell_quote(&control),
            shell_quote(&binary)
        );
        std::fs::write(&wrapper, script)
            .and_then(|()| {
                std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            })
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", wrapper.display()));
        Self { wrapper, control }
    }

    /// The executable to run as `terraform`.
    pub fn bin(&self) -> PathBuf {
        self.wrapper.clone()
    }

    pub fn control_dir(&self) -> &Path {
        &self.control
    }

    /// The next `times` invocations of `command` fail (exit 1) with `message`.
    pub fn fail_next(&self, command: &str, times: u32, message: &str) {
        protocol::update_faults(&self.control, |faults| {
            faults.fail.push(FailFault {
                command: command.to_owned(),
                remaining: times,
                message: message.to_owned(),
            })
        });
    }

    /// The next invocation of `command` handles `after_resources` resources
    /// (persisting state after each), then sleeps until killed, holding its lock.
    pub fn hang_on(&self, command: &str, after_resources: usize) {
        protocol::update_faults(&self.control, |faults| {
            faults.hang.push(HangFault {
                command: command.to_owned(),
                after_resources,
            })
        });
    }

    /// Time each resource takes to create or destroy.
    pub fn set_resource_delay(&self, delay: Duration) {
        let ms = delay.as_millis().to_string();
        protocol::write_atomically(&self.control.join(protocol::DELAY_FILE), ms.as_bytes());
    }

    /// Whether the apps answer 200 (healthy) or 503; read on every request.
    pub fn set_app_healthy(&self, healthy: bool) {
        let text = if healthy { "healthy" } else { "unhealthy" };
        protocol::write_atomically(&self.control.join(protocol::HEALTH_FILE), text.as_bytes());
    }

    /// The status the apps answer every request with, from now on.
    pub fn set_app_status(&self, status: u16) {
        let text = status.to_string();
        protocol::write_atomically(&self.control.join(protocol::HEALTH_FILE), text.as_bytes());
    }

    /// Every plan from now on also plans `change` (one entry of
    /// `resource_changes`), as if a computed value had made it.
    pub fn add_planned_change(&self, change: serde_json::Value) {
        let mut changes = protocol::extra_planned_changes(&self.control);
        changes.push(change);
        let text = serde_json::to_string(&changes).expect("JSON serialises");
        protocol::write_atomically(
            &self.control.join(protocol::EXTRA_CHANGES_FILE),
            text.as_bytes(),
        );
    }

    /// Every invocation so far, in start order.
    pub fn invocations(&self) -> Vec<Invocation> {
        let lines: Vec<InvocationLine> =
            protocol::read_lines(&self.control.join(protocol::INVOCATIONS_FILE));
        let mut invocations: Vec<Invocation> = Vec::new();
        for line in lines {
            match line {
                InvocationLine::Start {
                    pid,
                    args,
                    cwd,
                    at_ms,
                    aws_env,
                    pg_conn_str_set,
                    app_env_names,
                } => invocations.push(Invocation {
                    args,
                    cwd,
                    pid,
                    exit_code: None,
                    started_at: protocol::from_unix_ms(at_ms),
                    ended_at: None,
                    aws_env,
                    pg_conn_str_set,
                    app_env_names,
                }),
                // A pid may be reused: an end belongs to the latest open start of its pid.
                InvocationLine::End {
                    pid,
                    exit_code,
                    at_ms,
                } => {
                    if let Some(open) = invocations
                        .iter_mut()
                        .rev()
                        .find(|i| i.pid == pid && i.ended_at.is_none())
                    {
                        open.exit_code = Some(exit_code);
                        open.ended_at = Some(protocol::from_unix_ms(at_ms));
                    }
                }
            }
        }
        invocations
    }

    /// Every resource creation ever done, in order.
    pub fn creates(&self) -> Vec<ResourceEvent> {
        self.events("create")
    }

    /// Every resource destruction ever done, in order.
    pub fn destroys(&self) -> Vec<ResourceEvent> {
        self.events("destroy")
    }

    /// The pids of the app processes started so far that are still alive.
    pub fn live_app_pids(&self) -> Vec<u32> {
        let text =
            std::fs::read_to_string(self.control.join(protocol::APP_PIDS_FILE)).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.trim().parse().ok())
            .filter(|pid| protocol::is_app_process(*pid))
            .collect()
    }

    fn events(&self, kind: &str) -> Vec<ResourceEvent> {
        let lines: Vec<EventLine> = protocol::read_lines(&self.control.join(protocol::EVENTS_FILE));
        lines
            .into_iter()
            .filter(|line| line.kind == kind)
            .map(|line| ResourceEvent {
                workspace: line.workspace,
                state: line.state,
                address: line.address,
                id: line.id,
                pid: line.pid,
                at: protocol::from_unix_ms(line.at_ms),
            })
            .collect()
    }

    /// Fake processes still running (a hung apply a test did not kill).
    fn running_fakes(&self) -> Vec<u32> {
        self.invocations()
            .iter()
            .filter(|i| i.ended_at.is_none() && is_fake_process(i.pid, &self.control))
            .map(|i| i.pid)
            .collect()
    }
}

impl Drop for FakeTerraform {
    fn drop(&mut self) {
        for pid in self.live_app_pids().into_iter().chain(self.running_fakes()) {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
    }
}

/// Whether `pid` is still a fake-terraform run of this control directory.
fn is_fake_process(pid: u32, control: &Path) -> bool {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let wanted = format!("{}={}", protocol::CONTROL_ENV, control.display());
    environ
        .split(|b| *b == 0)
        .any(|entry| entry == wanted.as_bytes())
}

/// The binary cargo builds next to the test executables (`target/<profile>/`).
fn find_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    exe.ancestors()
        .skip(1)
        .map(|dir| dir.join(BINARY))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no {BINARY} binary found next to {}: build it with \
                 `cargo build -p deployflow-test-support --bins` \
                 (`cargo nextest run --workspace` builds it)",
                exe.display()
            )
        })
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}
