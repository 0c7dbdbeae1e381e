//! The files through which a test's [`super::FakeTerraform`] handle and the
//! `fake-terraform` processes it installs talk: everything lives in one control
//! directory, so concurrent processes need no other channel.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The environment variable the wrapper script sets to the control directory.
pub const CONTROL_ENV: &str = "FAKE_TERRAFORM_CONTROL";
/// One JSON line per invocation start and end ([`InvocationLine`]).
pub const INVOCATIONS_FILE: &str = "invocations.jsonl";
/// One JSON line per resource created or destroyed ([`EventLine`]).
pub const EVENTS_FILE: &str = "events.jsonl";
/// Pending failures and hangs ([`Faults`]), changed only under [`FAULTS_LOCK`].
pub const FAULTS_FILE: &str = "faults.json";
const FAULTS_LOCK: &str = "faults.lock";
/// Milliseconds slept per resource during apply and destroy.
pub const DELAY_FILE: &str = "resource_delay_ms";
/// `unhealthy` makes every app answer 503; absent or anything else, 200.
pub const HEALTH_FILE: &str = "app_health";
/// Resource changes `show -json` of every plan adds to what the configuration
/// makes (a JSON list, as `terraform show -json` prints them): what a provider or a
/// computed value would plan that the files do not show.
pub const EXTRA_CHANGES_FILE: &str = "extra_planned_changes.json";
/// The pid of every app process ever started, one a line.
pub const APP_PIDS_FILE: &str = "app_pids";

/// A line of [`INVOCATIONS_FILE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum InvocationLine {
    Start {
        pid: u32,
        args: Vec<String>,
        cwd: PathBuf,
        at_ms: u64,
        /// Names only: values may be credentials.
        aws_env: Vec<String>,
        pg_conn_str_set: bool,
        /// The names `TF_VAR_app_env` gives values for (never the values).
        #[serde(default)]
        app_env_names: Vec<String>,
    },
    End {
        pid: u32,
        exit_code: i32,
        at_ms: u64,
    },
}

/// A line of [`EVENTS_FILE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventLine {
    /// `create` or `destroy`.
    pub kind: String,
    pub workspace: String,
    /// Where the state lives: `pg:<schema>` or `local:<path>`.
    pub state: String,
    pub address: String,
    pub id: String,
    pub pid: u32,
    pub at_ms: u64,
}

/// A scripted failure of the next `remaining` invocations of `command`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailFault {
    pub command: String,
    pub remaining: u32,
    pub message: String,
}

/// A scripted hang of the next invocation of `command`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HangFault {
    pub command: String,
    pub after_resources: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Faults {
    #[serde(default)]
    pub fail: Vec<FailFault>,
    #[serde(default)]
    pub hang: Vec<HangFault>,
}

/// Reads, changes and writes [`FAULTS_FILE`] under an exclusive lock, so two
/// processes never both consume the same fault.
pub fn update_faults<T>(control: &Path, change: impl FnOnce(&mut Faults) -> T) -> T {
    let lock = File::create(control.join(FAULTS_LOCK))
        .unwrap_or_else(|e| panic!("cannot open the faults lock in {}: {e}", control.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock the faults of {}: {e}", control.display()));
    let path = control.join(FAULTS_FILE);
    let mut faults: Faults = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let result = change(&mut faults);
    let text = serde_json::to_string(&faults).expect("faults serialise");
    write_atomically(&path, text.as_bytes());
    result
}

/// Writes through a temporary file and a rename, so readers never see half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(
        ".{}.tmp{}",
        name.unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Appends `text` and a newline with a single write.
pub fn append_raw_line(path: &Path, text: &str) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    file.write_all(format!("{text}\n").as_bytes())
        .unwrap_or_else(|e| panic!("cannot append to {}: {e}", path.display()));
}

/// Appends one JSON line with a single write, so concurrent writers do not interleave.
pub fn append_line(path: &Path, line: &impl Serialize) {
    let text = serde_json::to_string(line).expect("line serialises");
    append_raw_line(path, &text);
}

/// Every complete JSON line of `path` that parses as `T` (none if it is missing).
pub fn read_lines<T: for<'de> Deserialize<'de>>(path: &Path) -> Vec<T> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The per-resource delay set by the handle (zero when unset).
pub fn resource_delay(control: &Path) -> Duration {
    std::fs::read_to_string(control.join(DELAY_FILE))
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .map_or(Duration::ZERO, Duration::from_millis)
}

/// The status the apps answer with: 200, 503 when set unhealthy, or the
/// status the handle set.
pub fn app_status(control: &Path) -> u16 {
    let text = std::fs::read_to_string(control.join(HEALTH_FILE)).unwrap_or_default();
    match text.trim() {
        "unhealthy" => 503,
        other => other.parse().unwrap_or(200),
    }
}

/// Whether `pid` is a live app process of `fake-terraform serve-app`: a pid alone
/// may have been reused, and a killed app may linger as a zombie.
pub fn is_app_process(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmdline| {
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            args.get(1) == Some(&b"serve-app".as_slice())
        })
        .unwrap_or(false)
}

pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// The names of `vars` a fake records: those starting with `AWS_`, sorted.
pub fn aws_names(vars: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = vars.filter(|name| name.starts_with("AWS_")).collect();
    names.sort();
    names
}

/// The changes [`EXTRA_CHANGES_FILE`] adds to every plan.
pub fn extra_planned_changes(control: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(control.join(EXTRA_CHANGES_FILE))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}
