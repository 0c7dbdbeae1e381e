//! One Terraform command as a child process: `-json` lines become job log lines,
//! cancellation and timeouts reach it as SIGINT, then SIGKILL after a grace period.
//!
//! The child runs in a process group of its own, so the signal reaches the
//! providers it started too, and so a worker killed outright does not take a
//! half-done apply with it: Terraform finishes, saves its state and releases the
//! lock, which the next worker then waits for.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::TerraformConfig;

/// Lines of stderr kept for the error message.
const STDERR_TAIL_LINES: usize = 20;

/// How a command ended when it did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("cannot start {bin}: {source} (see TERRAFORM_BIN, DOCKER_BIN, AWS_BIN)")]
    Spawn {
        bin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command} failed (exit {code:?}): {message}")]
    Failed {
        command: String,
        code: Option<i32>,
        message: String,
    },
    #[error("{command} was stopped: {why}")]
    Stopped { command: String, why: &'static str },
    #[error("{command}: {source}")]
    Io {
        command: String,
        #[source]
        source: std::io::Error,
    },
}

/// A log line of the child's, for the job log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildLine {
    pub warn: bool,
    pub message: String,
}

/// What a successful command printed on stdout.
#[derive(Debug)]
pub struct CommandOutput {
    pub stdout: String,
}

/// What every child process gets: its whole environment, and how long it
/// may run before it is stopped.
#[derive(Debug, Clone, Copy)]
pub struct ChildSettings<'a> {
    /// The only environment the child sees (besides `extra_env`).
    pub env: &'a [(String, SecretString)],
    pub timeout: Duration,
    /// Between SIGINT and SIGKILL when it is stopped.
    pub stop_grace: Duration,
}

impl TerraformConfig {
    /// How Terraform, and the Docker and AWS CLIs of the image push, are run.
    pub fn child(&self) -> ChildSettings<'_> {
        ChildSettings {
            env: &self.env,
            timeout: self.command_timeout,
            stop_grace: self.stop_grace,
        }
    }
}

/// A program the apply step runs, and how its output is read.
#[derive(Debug, Clone, Copy)]
pub struct Program<'a> {
    pub bin: &'a Path,
    /// `-json` Terraform: stdout lines are machine-readable UI lines. Otherwise plain
    /// stdout lines are logged as they are, unless `secret_stdout`.
    pub json_lines: bool,
    /// Its stdout is a secret (e.g. a registry password): never logged.
    pub secret_stdout: bool,
}

/// Runs `config.bin args...` (Terraform) in `dir` with only the configured
/// environment (plus `extra_env`); each stdout line of a `-json` command goes to
/// `on_line` as a readable message, and stderr lines as warnings.
pub async fn run(
    config: &TerraformConfig,
    dir: &Path,
    args: &[String],
    extra_env: &[(&str, &str)],
    cancel: &CancellationToken,
    on_line: impl FnMut(ChildLine) + Send,
) -> Result<CommandOutput, CommandError> {
    let program = Program {
        bin: &config.bin,
        json_lines: true,
        secret_stdout: false,
    };
    run_program(
        &config.child(),
        program,
        dir,
        args,
        extra_env,
        None,
        cancel,
        on_line,
    )
    .await
}

/// Runs any `program` the way [`run`] runs Terraform, with `stdin` fed to it.
#[allow(clippy::too_many_arguments)]
pub async fn run_program(
    config: &ChildSettings<'_>,
    program: Program<'_>,
    dir: &Path,
    args: &[String],
    extra_env: &[(&str, &str)],
    stdin: Option<Vec<u8>>,
    cancel: &CancellationToken,
    mut on_line: impl FnMut(ChildLine) + Send,
) -> Result<CommandOutput, CommandError> {
    let command_name = format!(
        "{} {}",
        program
            .bin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        args.first().map(String::as_str).unwrap_or_default()
    );
    let mut command = Command::new(program.bin);
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(false);
    for (name, value) in config.env {
        command.env(name, value.expose_secret());
    }
    for (name, value) in extra_env {
        command.env(name, value);
    }
    command.env("TF_IN_AUTOMATION", "1");
    let mut child = command.spawn().map_err(|source| CommandError::Spawn {
        bin: program.bin.display().to_string(),
        source,
    })?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = pipe.write_all(&bytes).await;
            let _ = pipe.shutdown().await;
        });
    }
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out_reader = tokio::spawn(read_lines(stdout, tx.clone(), false));
    let err_reader = tokio::spawn(read_lines(stderr, tx, true));

    let mut stdout_text = String::new();
    let mut stderr_tail: Vec<String> = Vec::new();
    let mut take = |is_err: bool, line: String, on_line: &mut dyn FnMut(ChildLine)| {
        if is_err {
            if stderr_tail.len() == STDERR_TAIL_LINES {
                stderr_tail.remove(0);
            }
            if !line.trim().is_empty() {
                on_line(ChildLine {
                    warn: true,
                    message: line.clone(),
                });
            }
            stderr_tail.push(line);
        } else {
            if program.json_lines {
                if let Some(readable) = readable_json_line(&line) {
                    on_line(readable);
                }
            } else if !program.secret_stdout && !line.trim().is_empty() {
                on_line(ChildLine {
                    warn: false,
                    message: line.clone(),
                });
            }
            stdout_text.push_str(&line);
            stdout_text.push('\n');
        }
    };
    let deadline = tokio::time::sleep(config.timeout);
    tokio::pin!(deadline);
    let kill_at = tokio::time::sleep(Duration::MAX);
    tokio::pin!(kill_at);
    let mut stopped: Option<&'static str> = None;
    let mut killed = false;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            Some((is_err, line)) = rx.recv() => take(is_err, line, &mut on_line),
            _ = cancel.cancelled(), if stopped.is_none() => {
                stopped = Some("the job was cancelled or the worker lost its lease");
                interrupt(pgid);
                kill_at.as_mut().reset(tokio::time::Instant::now() + config.stop_grace);
            }
            _ = &mut deadline, if stopped.is_none() => {
                stopped = Some("it ran longer than its timeout");
                interrupt(pgid);
                kill_at.as_mut().reset(tokio::time::Instant::now() + config.stop_grace);
            }
            _ = &mut kill_at, if stopped.is_some() && !killed => {
                killed = true;
                if let Some(pgid) = pgid {
                    tracing::warn!(pgid = pgid.as_raw(), "{command_name} ignored SIGINT: SIGKILL");
                    let _ = killpg(pgid, Signal::SIGKILL);
                }
            }
        }
    };
    // The rest of its output; a grandchild that kept the pipes open is not waited for.
    while let Ok(Some((is_err, line))) =
        tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
    {
        take(is_err, line, &mut on_line);
    }
    out_reader.abort();
    err_reader.abort();
    let status = status.map_err(|source| CommandError::Io {
        command: command_name.clone(),
        source,
    })?;
    if let Some(why) = stopped {
        return Err(CommandError::Stopped {
            command: command_name,
            why,
        });
    }
    if status.success() {
        return Ok(CommandOutput {
            stdout: stdout_text,
        });
    }
    let mut message = error_summary(&stdout_text);
    if message.is_empty() {
        message = stderr_tail.join("\n").trim().to_owned();
    }
    Err(CommandError::Failed {
        command: command_name,
        code: status.code(),
        message,
    })
}

/// SIGINT to the child's group: Terraform then stops cleanly and saves its state.
fn interrupt(pgid: Option<Pid>) {
    if let Some(pgid) = pgid {
        tracing::warn!(pgid = pgid.as_raw(), "stopping terraform: SIGINT");
        let _ = killpg(pgid, Signal::SIGINT);
    }
}

async fn read_lines(
    stream: impl AsyncRead + Unpin,
    tx: tokio::sync::mpsc::UnboundedSender<(bool, String)>,
    is_err: bool,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if tx.send((is_err, line)).is_err() {
            break;
        }
    }
}

/// Terraform's machine-readable UI line → a log line (`None` for non-JSON output
/// such as `show -json`, which is read as a whole).
fn readable_json_line(line: &str) -> Option<ChildLine> {
    let value: Value = serde_json::from_str(line).ok()?;
    let message = value.get("@message")?.as_str()?.to_owned();
    let level = value
        .get("@level")
        .and_then(Value::as_str)
        .unwrap_or("info");
    Some(ChildLine {
        warn: matches!(level, "warn" | "error"),
        message,
    })
}

/// The error diagnostics of a `-json` command's output, joined.
fn error_summary(stdout: &str) -> String {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v.get("@level").and_then(Value::as_str) == Some("error"))
        .filter_map(|v| {
            let diagnostic = v.get("diagnostic");
            let summary = diagnostic
                .and_then(|d| d.get("summary"))
                .and_then(Value::as_str)
                .or_else(|| v.get("@message").and_then(Value::as_str))?;
            let detail = diagnostic
                .and_then(|d| d.get("detail"))
                .and_then(Value::as_str)
                .unwrap_or("");
            Some(if detail.is_empty() {
                summary.to_owned()
            } else {
                format!("{summary}: {detail}")
            })
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_become_log_lines_and_errors_are_summarised() {
        let line =
            r#"{"@level":"info","@message":"aws_vpc.main: Creating...","type":"apply_start"}"#;
        assert_eq!(
            readable_json_line(line),
            Some(ChildLine {
                warn: false,
                message: "aws_vpc.main: Creating...".into()
            })
        );
        assert_eq!(readable_json_line("plain text"), None);
        let out = concat!(
            r#"{"@level":"info","@message":"ok"}"#,
            "\n",
            r#"{"@level":"error","@message":"Error: x","diagnostic":{"summary":"Saved plan is stale","detail":"state changed"}}"#
        );
        assert_eq!(error_summary(out), "Saved plan is stale: state changed");
    }
}
