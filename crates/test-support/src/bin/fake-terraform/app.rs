//! The "deployed application": this binary run as `serve-app`, a real HTTP
//! server on loopback in its own session (so killing the Terraform process or
//! its group leaves it running, as real infrastructure outlives its deployer).

use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use test_support::fake_terraform::protocol::{self, APP_PIDS_FILE};

use crate::diag::{Diag, Res};
use crate::state::App;

const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the app checks that its control directory still exists.
const ORPHAN_CHECK: Duration = Duration::from_secs(1);

/// `serve-app <control-dir> <port-file>`: serves until killed, or until the
/// control directory is removed (its test is gone, so nobody will kill it).
pub async fn serve(control: PathBuf, port_file: PathBuf) -> i32 {
    let _ = nix::unistd::setsid();
    let listener = match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("serve-app: cannot bind: {e}");
            return 1;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    protocol::write_atomically(&port_file, port.to_string().as_bytes());
    let health = control.clone();
    let app = Router::new().fallback(async move || {
        let status = StatusCode::from_u16(protocol::app_status(&health))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, status.canonical_reason().unwrap_or("answer"))
    });
    tokio::spawn(async move {
        while control.is_dir() {
            tokio::time::sleep(ORPHAN_CHECK).await;
        }
        std::process::exit(0);
    });
    match axum::serve(listener, app).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("serve-app: {e}");
            1
        }
    }
}

/// The app of `current` if it still runs and listens, else a newly started one.
pub async fn ensure(control: &Path, current: Option<App>) -> Res<App> {
    if let Some(app) = current.filter(|app| is_alive(*app)) {
        return Ok(app);
    }
    start(control).await
}

pub fn stop(app: Option<App>) {
    if let Some(app) = app.filter(|app| protocol::is_app_process(app.pid)) {
        let _ = kill(Pid::from_raw(app.pid as i32), Signal::SIGKILL);
    }
}

fn is_alive(app: App) -> bool {
    protocol::is_app_process(app.pid) && TcpStream::connect((Ipv4Addr::LOCALHOST, app.port)).is_ok()
}

async fn start(control: &Path) -> Res<App> {
    let port_file = control.join(format!("app-{}.port", uuid::Uuid::new_v4().simple()));
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .arg("serve-app")
        .arg(control)
        .arg(&port_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Diag::new("Failed to start the app").detail(e.to_string()))?;
    let pid = child.id();
    protocol::append_raw_line(&control.join(APP_PIDS_FILE), &pid.to_string());
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(port) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            return Ok(App { pid, port });
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Diag::new("Failed to start the app").detail(format!("it exited: {status}")));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return Err(Diag::new("Failed to start the app").detail("no port within 10s"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
