//! The tests' engine reached as a remote engine is: over TCP with mutual
//! TLS (`DOCKER_HOST=tcp://127.0.0.1:PORT`, `DOCKER_TLS_VERIFY=1`,
//! `DOCKER_CERT_PATH`). A TLS endpoint (Debian's socat) stands in front of
//! the engine's socket with certificates openssl makes for the test, so
//! the Docker CLI's and Compose's TLS clients run as they would against a
//! remote `dockerd --tlsverify`, and a client without the right
//! certificate is refused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::docker_engine::DockerEngine;

/// A TLS endpoint of the tests' engine, stopped when dropped.
#[derive(Debug)]
pub struct TlsEngine {
    /// `DOCKER_HOST` for the CLIs.
    pub host: String,
    /// `DOCKER_CERT_PATH`: `ca.pem`, `cert.pem`, `key.pem` of a client the
    /// endpoint trusts.
    pub cert_path: PathBuf,
    /// A client certificate from another authority, which the endpoint
    /// refuses.
    pub untrusted_cert_path: PathBuf,
    relay: Child,
    _dir: tempfile::TempDir,
}

impl TlsEngine {
    /// Starts the endpoint in front of `engine`'s Unix socket.
    pub fn start(engine: &DockerEngine) -> Result<Self, String> {
        let socket = engine
            .host
            .strip_prefix("unix://")
            .ok_or_else(|| format!("{} is not a Unix socket", engine.host))?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let server = dir.path().join("server");
        let client = dir.path().join("client");
        let untrusted = dir.path().join("untrusted");
        authority(&server, "deployflow-test-ca")?;
        issue(&server, "server", "127.0.0.1", "serverAuth")?;
        std::fs::create_dir_all(&client).map_err(|e| e.to_string())?;
        std::fs::copy(server.join("ca.pem"), client.join("ca.pem")).map_err(|e| e.to_string())?;
        issue_into(&server, &client, "client", "clientAuth")?;
        // The server's authority (so the server is trusted), but a client
        // certificate of another one, which the endpoint never trusted.
        let other = dir.path().join("other-ca");
        authority(&other, "another-ca")?;
        std::fs::create_dir_all(&untrusted).map_err(|e| e.to_string())?;
        std::fs::copy(server.join("ca.pem"), untrusted.join("ca.pem"))
            .map_err(|e| e.to_string())?;
        issue_into(&other, &untrusted, "client", "clientAuth")?;

        let port = free_port()?;
        let listen = format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},cafile={},verify=1",
            server.join("server-cert.pem").display(),
            server.join("server-key.pem").display(),
            server.join("ca.pem").display(),
        );
        let relay = Command::new("socat")
            .arg(listen)
            .arg(format!("UNIX-CONNECT:{socket}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start socat (apt-get install socat): {e}"))?;
        let tls = Self {
            host: format!("tcp://127.0.0.1:{port}"),
            cert_path: client,
            untrusted_cert_path: untrusted,
            relay,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if tls.answers(&tls.cert_path) {
                return Ok(tls);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!("the TLS endpoint {} did not answer", tls.host))
    }

    /// Whether `docker version` reaches the engine with the client
    /// certificate in `cert_path`.
    pub fn answers(&self, cert_path: &Path) -> bool {
        Command::new("docker")
            .args(["version", "--format", "{{.Server.Version}}"])
            .env("DOCKER_HOST", &self.host)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", cert_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for TlsEngine {
    fn drop(&mut self) {
        let _ = self.relay.kill();
        let _ = self.relay.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A certificate authority in `dir`: `ca.pem`, `ca-key.pem`.
fn authority(dir: &Path, name: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let subject = format!("/CN={name}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-subj",
            &subject,
        ],
    )
}

/// `<role>-cert.pem` and `<role>-key.pem` in `dir`, signed by its authority.
fn issue(dir: &Path, role: &str, name: &str, usage: &str) -> Result<(), String> {
    let key = format!("{role}-key.pem");
    let csr = format!("{role}.csr");
    let cert = format!("{role}-cert.pem");
    let ext = format!("{role}.ext");
    let san = if usage == "serverAuth" {
        format!("subjectAltName=IP:{name},DNS:localhost\n")
    } else {
        String::new()
    };
    std::fs::write(dir.join(&ext), format!("{san}extendedKeyUsage={usage}\n"))
        .map_err(|e| e.to_string())?;
    let subject = format!("/CN={name}");
    openssl(
        dir,
        &[
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj",
            &subject,
        ],
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "1",
            "-out",
            &cert,
            "-extfile",
            &ext,
        ],
    )
}

/// A client certificate of `authority`, as `cert.pem` and `key.pem` in
/// `into` (the names the Docker CLI reads).
fn issue_into(authority: &Path, into: &Path, role: &str, usage: &str) -> Result<(), String> {
    issue(authority, role, role, usage)?;
    std::fs::rename(
        authority.join(format!("{role}-cert.pem")),
        into.join("cert.pem"),
    )
    .map_err(|e| e.to_string())?;
    std::fs::rename(
        authority.join(format!("{role}-key.pem")),
        into.join("key.pem"),
    )
    .map_err(|e| e.to_string())
}
