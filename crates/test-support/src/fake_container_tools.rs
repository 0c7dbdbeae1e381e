//! Fake `docker` and `aws` executables for the image push of container targets:
//! shell scripts that record every call (arguments, and the size of what came on
//! stdin, never its content) in a log the test reads. `aws ecr
//! get-login-password` prints a fixed password the test can look for; `docker
//! network inspect` answers as the isolated build network would.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What `aws ecr get-login-password` prints.
pub const FAKE_REGISTRY_PASSWORD: &str = "fake-ecr-password-0123456789";

const KILL_AFTER_PUSH: &str = "kill-caller-after-next-push";

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
        // The digest a push prints and the registry describes: the image
        // name's own hash, so both tools give the same one.
        let record = format!(
            "image_digest() {{ printf 'sha256:%s' \"$(printf %s \"$1\" | sha256sum | cut -d' ' -f1)\"; }}\n\
             bytes=0\ncase \"$1 $2\" in\n  login*|build*) bytes=$(wc -c | tr -d ' ');;\nesac\n\
             {{ printf '%s\\037' \"$(basename \"$0\")\" \"$@\"; printf 'stdin=%s\\n' \"$bytes\"; }} >> '{}'\n",
            log.display()
        );
        // The build network is there and isolated; its proxy is not yet
        // running, so the first build starts it.
        // A push can SIGKILL its caller (the worker) once it is done, as a
        // worker killed between its push and its next write would be.
        let kill_flag = dir.join(KILL_AFTER_PUSH);
        let docker = format!(
            "#!/bin/sh\n{record}case \"$1 $2\" in\n  'network inspect') echo 'true true';;\n  'container inspect') exit 1;;\nesac\n\
             if [ \"$1\" = push ]; then\n\
               echo \"${{2##*:}}: digest: $(image_digest \"$2\") size: 528\"\n\
               if [ -e '{flag}' ]; then rm -f '{flag}'; kill -9 $PPID; fi\n\
             fi\n",
            flag = kill_flag.display()
        );
        // `ecr describe-images` finds a tag a recorded `docker push` pushed.
        let aws = format!(
            "#!/bin/sh\n{record}if [ \"$1 $2\" = \"ecr get-login-password\" ]; then echo '{FAKE_REGISTRY_PASSWORD}'; fi\n\
             if [ \"$1 $2\" = \"ecr describe-images\" ]; then\n\
               tag=''; for a in \"$@\"; do case \"$a\" in imageTag=*) tag=\"${{a#imageTag=}}\";; esac; done\n\
               if [ -n \"$tag\" ] && grep -q \"push.*:$tag\" '{log}'; then\n\
                 image=$(grep -o \"push.[^[:cntrl:]]*:$tag\" '{log}' | head -n1 | cut -c6-)\n\
                 printf '{{\"imageDetails\":[{{\"imageTags\":[\"%s\"],\"imageDigest\":\"%s\"}}]}}\\n' \"$tag\" \"$(image_digest \"$image\")\"; exit 0\n\
               fi\n\
               echo 'An error occurred (ImageNotFoundException) when calling the DescribeImages operation' >&2; exit 254\n\
             fi\n",
            log = log.display()
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

    /// The digest the fake `docker push` prints for `image`, and the fake
    /// registry describes it with.
    pub fn digest_of(image: &str) -> String {
        use sha2::Digest;
        format!("sha256:{:x}", sha2::Sha256::digest(image.as_bytes()))
    }

    /// Makes the next `docker push` SIGKILL the process that ran it, once.
    pub fn kill_caller_after_next_push(&self) {
        std::fs::write(self.dir.join(KILL_AFTER_PUSH), b"").expect("write the kill flag");
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
