//! Real worker processes for process-level tests: spawn a binary with its environment,
//! signal it (SIGKILL, SIGSTOP, SIGCONT, SIGTERM), wait for it to exit or for a condition
//! with a timeout, read its log, and read the side effects the demo workflow records in
//! its effects file (`DEMO_EFFECTS_FILE`).
//!
//! Every [`WorkerProcess`] is SIGKILLed and reaped when dropped, also when the test
//! panics; on a panic the tail of its log is printed, so a failing test shows what the
//! workers were doing.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use uuid::Uuid;

/// How often [`wait_until`] and the waits of [`WorkerProcess`] look again.
const POLL: Duration = Duration::from_millis(50);
/// Lines of a worker's log printed when a test panics.
const LOG_TAIL_LINES: usize = 40;

/// Polls `probe` until it returns `Some`, and returns that value; panics with `what` if
/// `timeout` passes first.
pub async fn wait_until<T>(
    what: &str,
    timeout: Duration,
    probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    wait_until_polling(what, timeout, POLL, probe).await
}

/// [`wait_until`], looking every `poll`.
pub async fn wait_until_polling<T>(
    what: &str,
    timeout: Duration,
    poll: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        tokio::time::sleep(poll).await;
    }
}

/// Like [`wait_until`] for a condition that needs no value.
pub async fn wait_for(what: &str, timeout: Duration, mut condition: impl AsyncFnMut() -> bool) {
    wait_until(what, timeout, async || condition().await.then_some(())).await
}

/// A machine-wide lock held while a timing-sensitive process test runs; released on drop.
pub struct ExclusiveRun {
    _file: File,
}

/// Waits for, then takes, the lock every test running worker processes shares, across
/// all test processes on this machine (`cargo test` runs tests as threads, nextest as
/// processes): tests with short leases or frozen workers then never compete with one
/// another for the CPU, so their heartbeats and timings hold.
pub async fn exclusive_run() -> ExclusiveRun {
    let path = std::env::temp_dir().join("deployflow-worker-process-tests.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open lock file {}: {e}", path.display()));
    let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .expect("lock task")
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", path.display()));
    ExclusiveRun { _file: file }
}

/// Milliseconds since the Unix epoch: the clock the demo's effect lines are stamped with.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A child process whose stdout and stderr go to `<log_dir>/<name>.log`.
pub struct WorkerProcess {
    name: String,
    child: Child,
    log_path: PathBuf,
    exit: Option<ExitStatus>,
}

impl WorkerProcess {
    /// Spawns `command`; `name` labels it in messages and names its log file.
    pub fn spawn(name: &str, mut command: Command, log_dir: &Path) -> Self {
        let log_path = log_dir.join(format!("{name}.log"));
        let log = File::create(&log_path)
            .unwrap_or_else(|e| panic!("cannot create log file {}: {e}", log_path.display()));
        let log_for_stdout = log.try_clone().expect("clone log file handle");
        command
            .stdin(Stdio::null())
            .stdout(log_for_stdout)
            .stderr(log);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn process {name} ({command:?}): {e}"));
        Self {
            name: name.to_owned(),
            child,
            log_path,
            exit: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The exit status if the process has exited (it is reaped then), `None` while it runs.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self
                .child
                .try_wait()
                .unwrap_or_else(|e| panic!("cannot check process {}: {e}", self.name));
        }
        self.exit
    }

    /// Sends `signal`; panics if the process has already exited (a reaped pid may be reused).
    pub fn signal(&mut self, signal: Signal) {
        if let Some(status) = self.exited() {
            panic!(
                "cannot send {signal} to process {}: it already exited ({status})",
                self.name
            );
        }
        kill(self.pid(), signal)
            .unwrap_or_else(|e| panic!("cannot send {signal} to process {}: {e}", self.name));
    }

    /// SIGKILL, then reaps the process: when this returns, it is gone.
    pub fn kill(&mut self) -> ExitStatus {
        if self.exited().is_none() {
            let _ = kill(self.pid(), Signal::SIGKILL);
            let status = self
                .child
                .wait()
                .unwrap_or_else(|e| panic!("cannot reap process {}: {e}", self.name));
            self.exit = Some(status);
        }
        self.exit.expect("exit status after kill")
    }

    /// SIGSTOP: the process freezes (timers, heartbeats and all) until [`Self::resume`].
    pub fn freeze(&mut self) {
        self.signal(Signal::SIGSTOP);
    }

    /// SIGCONT.
    pub fn resume(&mut self) {
        self.signal(Signal::SIGCONT);
    }

    /// SIGTERM: asks for a graceful shutdown.
    pub fn terminate(&mut self) {
        self.signal(Signal::SIGTERM);
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the log contains `needle`; panics after `timeout`, or if the process
    /// exits without having written it.
    pub async fn wait_for_log(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log().contains(needle) {
                return;
            }
            if let Some(status) = self.exited() {
                if self.log().contains(needle) {
                    return;
                }
                panic!(
                    "process {} exited ({status}) without logging {needle:?}",
                    self.name
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for process {} to log {needle:?}",
                    self.name
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The base URL (`http://host:port`) a `deployflow serve` process logs (JSON logs)
    /// once it listens, waiting up to `timeout` for it.
    pub async fn api_url(&mut self, timeout: Duration) -> String {
        self.wait_for_log("HTTP API listening", timeout).await;
        let listen = self
            .log()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|v| v["message"] == "HTTP API listening")
            .and_then(|v| v["listen"].as_str().map(str::to_owned))
            .expect("the listening address is logged");
        format!("http://{listen}")
    }

    /// The worker id a `deployflow worker` logs (JSON logs, `LOG_FORMAT=json`) in its
    /// "worker started" line, waiting up to `timeout` for it. The id is the lease owner
    /// stored in attempts and checkpoints, and the worker named in effect lines.
    pub async fn worker_id(&mut self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.log().lines().find_map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).ok()?;
                if value.get("message")?.as_str()? != "worker started" {
                    return None;
                }
                Some(value.get("worker.id")?.as_str()?.to_owned())
            });
            if let Some(id) = found {
                return id;
            }
            if let Some(status) = self.exited() {
                panic!(
                    "worker {} exited ({status}) before it started:\n{}",
                    self.name,
                    self.log()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "worker {} did not log \"worker started\" within {timeout:?}:\n{}",
                    self.name,
                    self.log()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        // SIGKILL also ends a stopped process. No panics here: this may run while unwinding.
        if self.exit.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = kill(self.pid(), Signal::SIGKILL);
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            eprintln!(
                "----- last {} log lines of process {} ({}) -----\n{}\n----- end of {} -----",
                tail.len(),
                self.name,
                self.log_path.display(),
                tail.join("\n"),
                self.name
            );
        }
    }
}

/// Which end of a step an effect line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The step began.
    Start,
    /// The step finished successfully (written just before it returns).
    Done,
}

/// One line of the demo workflow's effects file:
/// `<job_id> <step> <attempt> <worker_id> start|done <unix_ms>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub job: Uuid,
    pub step: String,
    pub attempt: u32,
    pub worker: String,
    pub phase: Phase,
    pub at_ms: i64,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.phase {
            Phase::Start => "start",
            Phase::Done => "done",
        };
        write!(
            f,
            "{} {} {} {} {} {}",
            self.job, self.step, self.attempt, self.worker, phase, self.at_ms
        )
    }
}

impl std::str::FromStr for Effect {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, String> {
        let fields: Vec<&str> = line.split(' ').collect();
        let [job, step, attempt, worker, phase, at_ms] = fields[..] else {
            return Err(format!("effect line {line:?} does not have 6 fields"));
        };
        let bad = |what: &str| format!("effect line {line:?}: bad {what}");
        Ok(Effect {
            job: job.parse().map_err(|_| bad("job id"))?,
            step: step.to_owned(),
            attempt: attempt.parse().map_err(|_| bad("attempt"))?,
            worker: worker.to_owned(),
            phase: match phase {
                "start" => Phase::Start,
                "done" => Phase::Done,
                _ => return Err(bad("phase")),
            },
            at_ms: at_ms.parse().map_err(|_| bad("timestamp"))?,
        })
    }
}

/// Every complete line of an effects file, in file order (empty if the file does not
/// exist yet). A last line without its newline is still being written and is skipped.
pub fn read_effects(path: &Path) -> Vec<Effect> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("cannot read effects file {}: {e}", path.display()),
    };
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => return Vec::new(),
    };
    complete
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| line.parse().unwrap_or_else(|e: String| panic!("{e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_effect_lines_and_skips_a_partial_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("effects");
        assert!(read_effects(&path).is_empty());
        let job = Uuid::now_v7();
        std::fs::write(
            &path,
            format!(
                "{job} build 2 host-1-abc start 1700000000000\n{job} build 2 host-1-abc done 17000"
            ),
        )
        .unwrap();
        let effects = read_effects(&path);
        assert_eq!(effects.len(), 1);
        assert_eq!(effects[0].job, job);
        assert_eq!(effects[0].step, "build");
        assert_eq!(effects[0].attempt, 2);
        assert_eq!(effects[0].worker, "host-1-abc");
        assert_eq!(effects[0].phase, Phase::Start);
        assert_eq!(effects[0].at_ms, 1_700_000_000_000);
        assert_eq!(
            effects[0].to_string(),
            format!("{job} build 2 host-1-abc start 1700000000000")
        );
    }

    #[tokio::test]
    async fn signals_and_reaps_a_process() {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        command.args(["-c", "echo ready; exec sleep 30"]);
        let mut process = WorkerProcess::spawn("sleeper", command, dir.path());
        process.wait_for_log("ready", Duration::from_secs(10)).await;
        process.freeze();
        process.resume();
        assert!(process.exited().is_none());
        process.terminate();
        let status = process
            .wait_exit(Duration::from_secs(10))
            .await
            .expect("exits on SIGTERM");
        assert!(!status.success());
    }
}
