//! Fake `docker` and `aws` executables for the image push of container targets:
//! shell scripts that record every call (arguments, and the size of what came on
//! stdin, never its content) in a log the test reads. `aws ecr
//! get-login-password` prints a fixed password the test can look for.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What `aws ecr get-login-password` prints.
pub const FAKE_REGISTRY_PASSWORD: &str = "fake-ecr-password-0123456789";

pub struct FakeContainerTools {
    dir: PathBuf,
}

/// One call of a fake tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// `docker` or `aws`, then its arguments.
    pub argv: Vec<String>,
    pub stdin_bytes: usize,
}

impl FakeContainerTools {
    /// Writes `dir/docker` and `dir/aws`.
    pub fn install(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).expect("fake tools dir");
        let log = dir.join("calls.log");
        let record = format!(
            "bytes=0\ncase \"$1 $2\" in\n  login*|build*) bytes=$(wc -c | tr -d ' ');;\nesac\n\
             {{ printf '%s\\037' \"$(basename \"$0\")\" \"$@\"; printf 'stdin=%s\\n' \"$bytes\"; }} >> '{}'\n",
            log.display()
        );
        let docker = format!("#!/bin/sh\n{record}");
        let aws = format!(
            "#!/bin/sh\n{record}if [ \"$1 $2\" = \"ecr get-login-password\" ]; then echo '{FAKE_REGISTRY_PASSWORD}'; fi\n"
        );
        for (name, script) in [("docker", docker), ("aws", aws)] {
            let path = dir.join(name);
            std::fs::write(&path, script).expect("write fake tool");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .expect("chmod fake tool");
        }
        Self {
            dir: dir.to_path_buf(),
        }
    }

    pub fn docker(&self) -> PathBuf {
        self.dir.join("docker")
    }

    pub fn aws(&self) -> PathBuf {
        self.dir.join("aws")
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<ToolCall> {
        let Ok(text) = std::fs::read_to_string(self.dir.join("calls.log")) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| {
                let (args, stdin) = line.rsplit_once("stdin=")?;
                Some(ToolCall {
                    argv: args
                        .split('\u{1f}')
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    stdin_bytes: stdin.trim().parse().unwrap_or(0),
                })
            })
            .collect()
    }
}
