//! The deployment workflows' failure codes: each failure a step ends with carries one
//! ([`engine::StepError::with_code`]), and this catalogue says what it means and what
//! to do. `docs/failure-codes.md` is rendered from it ([`markdown`]) and a test keeps
//! the two equal.

use engine::codes::FailureCode;

/// Defines each code as a constant and lists them all in [`CATALOGUE`], so no code
/// can be used without its entry.
macro_rules! catalogue {
    ($($name:ident = $code:literal: $meaning:literal => $suggestion:literal;)*) => {
        $(pub const $name: &str = $code;)*

        /// Every failure code of the deployment workflows.
        pub const CATALOGUE: &[FailureCode] = &[
            $(FailureCode { code: $code, meaning: $meaning, suggestion: $suggestion },)*
        ];
    };
}

catalogue! {
    CLONE_INVALID_URL = "clone.invalid_url":
        "The repository URL is not one this server accepts."
        => "Give the https URL of a Git repository on a host the server allows.";
    CLONE_NOT_FOUND = "clone.not_found":
        "The Git host answered that the repository does not exist."
        => "Check the URL for typos; a private repository also looks missing without credentials.";
    CLONE_AUTH = "clone.auth":
        "The Git host asked for credentials, or refused the ones given."
        => "Make the repository public, or give the server read access to it.";
    CLONE_REF_NOT_FOUND = "clone.ref_not_found":
        "The branch, tag or commit asked for is not in the repository (or is not a valid name)."
        => "Check the reference; a commit must still be reachable from a branch or tag.";
    CLONE_TOO_LARGE = "clone.too_large":
        "The repository is larger than the server's limits on size or file count."
        => "Deploy a smaller repository (or a subdirectory of a monorepo split out), or raise the limits.";
    CLONE_UNSAFE_TREE = "clone.unsafe_tree":
        "The repository holds paths that cannot be checked out safely (links out of the tree, odd names)."
        => "Remove those paths from the repository.";
    CLONE_NOT_A_REPOSITORY = "clone.not_a_repository":
        "The URL answered, but not as a Git repository."
        => "Use the repository's clone URL rather than a web page's.";
    CLONE_NETWORK = "clone.network":
        "The Git host could not be reached, or the clone took too long."
        => "The step is retried; if it keeps failing, check the host is up and reachable from the workers.";
    CLONE_GIT = "clone.git":
        "Git failed while cloning or reading the checkout."
        => "Retry the job; if it fails again, report it with the job's logs.";
    MODEL_AUTH = "model.auth":
        "The model service refused the API key."
        => "Check OPENAI_API_KEY (and OPENAI_BASE_URL for another provider).";
    MODEL_REJECTED = "model.rejected":
        "The model service refused the request, or the model settings are invalid."
        => "Check OPENAI_MODEL and the service's limits; the job's logs name the reason.";
    MODEL_UNAVAILABLE = "model.unavailable":
        "The model service did not answer after several tries."
        => "The step is retried; check the service's status if it keeps failing.";
    MODEL_INVALID_ANSWER = "model.invalid_answer":
        "The model's answers could not be used, even after asking again."
        => "Retry the job, or run without a model key: the deterministic analysis and templates still work.";
    ANALYSE_NOT_HTTP = "analyse.not_http":
        "No HTTP server was found in the repository, so there is nothing to deploy as a web app."
        => "Check the repository is a web service; the job's analysis says what was looked for.";
    GENERATE_UNSUPPORTED = "generate.unsupported":
        "The analysis lacks something the Docker bundle needs: a port, a start command, a supported language."
        => "Add a Dockerfile to the repository, or say the missing fact in the requirements (\"listens on port 8000\").";
    GENERATE_INVALID = "generate.invalid":
        "A generated file (compose file, template, Terraform) came out invalid."
        => "This is a bug: report it with the job's artifacts.";
    GENERATE_AUTHOR = "generate.author":
        "The model could not write Terraform that passes the checks."
        => "Retry the job, or run without a model key to use the built-in templates.";
    REQUEST_INVALID_SOURCE = "request.invalid_source":
        "The source given is neither a directory nor an allowed repository URL."
        => "Give a directory, or a repository URL the server allows.";
    REQUEST_MISSING_VALUES = "request.missing_values":
        "The app requires variables the job has no values for."
        => "Submit again with values for them in env (the analysis lists each with where it is read).";
    REQUEST_VALUES_UNREADABLE = "request.values_unreadable":
        "The job's variable values cannot be opened."
        => "Check the workers' SECRETS_KEY is the one the server had when the job was submitted.";
    WORKER_IO = "worker.io":
        "A file operation on the worker failed."
        => "Check the worker's disk space and permissions; the step is retried.";
    WORKER_RECORD_UNREADABLE = "worker.record_unreadable":
        "Something the job kept in an earlier attempt cannot be read back."
        => "Retry the job from the step before this one.";
    DOCKER_UNAVAILABLE = "docker.unavailable":
        "No Docker engine or Compose could be used on the worker."
        => "Start Docker on the worker (or point DOCKER_HOST at one) and install docker compose.";
    DOCKER_COMMAND = "docker.command":
        "A docker command failed on the worker."
        => "The step is retried; the job's logs hold Docker's own message.";
    BUILD_FETCH_REFUSED = "build.fetch_refused":
        "A Dockerfile fetches from a host outside the build's allow-list (ADD <url>)."
        => "Add the host to BUILD_EGRESS_ALLOW if it is trusted, or vendor the file into the repository.";
    BUILD_NETWORK = "build.network":
        "The isolated build network or its egress proxy could not be made ready."
        => "The step is retried; check the worker's Docker engine.";
    PREFLIGHT_UNAVAILABLE = "preflight.unavailable":
        "PREFLIGHT=required, but no Docker engine is there to build and start the bundle."
        => "Give the worker a Docker engine, or set PREFLIGHT=auto to deploy without the check.";
    PREFLIGHT_BUILD = "preflight.build":
        "The generated bundle did not build."
        => "Read the diagnosis and the build log's last lines in the job; fix the repository or the requirements and retry.";
    PREFLIGHT_NOT_ISOLATED = "preflight.not_isolated":
        "The app cannot be started away from the control plane: its compose file joins a network made outside its project."
        => "Use networks the compose file declares itself, or run the bundle yourself where you trust it (`make up`).";
    PREFLIGHT_START = "preflight.start":
        "The bundle built, but its containers did not start."
        => "Read the last lines in the job; a missing variable or a port already taken are common causes.";
    PREFLIGHT_EXITED = "preflight.exited":
        "The app started and then exited or kept restarting."
        => "Read the app's last lines in the job: usually a missing variable or a database it cannot reach.";
    PREFLIGHT_NO_ANSWER = "preflight.no_answer":
        "The app ran but did not answer HTTP on its port in time."
        => "Check the port and health path the analysis found; say the right port in the requirements if it is wrong.";
    COMPOSE_HOST_ACCESS = "compose.host_access":
        "The repository's compose file gives containers access to the host (host network, privileged, the Docker socket, host paths)."
        => "Remove that access from the compose file, or run `make up` on the host yourself if you trust it.";
    DOCKER_HOST_UP = "docker_host.up":
        "docker compose up failed on the Docker host."
        => "The step is retried; the job's logs hold Compose's last lines.";
    POLICY_REFUSED = "policy.refused":
        "The policy gate refused the Terraform or its plan; nothing was applied."
        => "The message names each rule broken. Generated Terraform that fails the gate is a bug: report it.";
    APPROVAL_REJECTED = "approval.rejected":
        "A person rejected the plan."
        => "Submit again with changed requirements, or retry from the apply step to plan afresh.";
    APPLY_PLAN_MISSING = "apply.plan_missing":
        "The saved plan is gone from the job's artifacts."
        => "Retry the job from the apply step to plan afresh.";
    APPLY_PLAN_STALE = "apply.plan_stale":
        "The infrastructure changed after the plan was approved."
        => "Retry the job from the apply step to plan afresh, and approve the new plan.";
    APPLY_NO_OUTPUT = "apply.no_output":
        "Terraform printed no output the step needs (the app's URL or the image repository)."
        => "Generated Terraform without those outputs is a bug: report it with the job's artifacts.";
    APPLY_STATE_LOCKED = "apply.state_locked":
        "Another Terraform run holds the deployment's state lock."
        => "Wait for the other run to end, then retry; if none runs, release the lock with terraform force-unlock.";
    TERRAFORM_MISSING = "terraform.missing":
        "A command the step needs (terraform, aws, docker) is not installed on the worker."
        => "Install it on the worker, or set its path (TERRAFORM_BIN, AWS_BIN, DOCKER_BIN).";
    TERRAFORM_COMMAND = "terraform.command":
        "A Terraform or cloud command failed."
        => "The step is retried; the job's logs hold the command's own message.";
    HEALTHCHECK_NOT_PUBLIC = "healthcheck.not_public":
        "The URL the deployment printed is not on the internet (a private, loopback or metadata address, or a name resolving only to such)."
        => "A cloud deployment's app_url must be its public address; the worker probes nothing else (HEALTHCHECK_ALLOW_PRIVATE=true for a private network of your own).";
    HEALTHCHECK_UNHEALTHY = "healthcheck.unhealthy":
        "The deployed app did not answer its health check in time."
        => "Check the app's logs where it runs; the job names the URL probed and the last answer.";
    DESTROY_NO_SUCH_JOB = "destroy.no_such_job":
        "The deployment named does not exist."
        => "Give the id of a deployment job (GET /list).";
    DESTROY_NOT_A_DEPLOYMENT = "destroy.not_a_deployment":
        "The job named is not a deployment."
        => "Give the id of a deployment job.";
    DESTROY_JOB_ACTIVE = "destroy.job_active":
        "The deployment is still running or waiting."
        => "Cancel it, or let it finish, then destroy.";
    DESTROY_NOT_HERE = "destroy.not_here":
        "This worker does not run Terraform against the cloud, or the deployment has nothing applied."
        => "Run the destroy on a worker configured for the cloud; a deployment that only planned has nothing to destroy.";
}

/// The catalogue entry of `code`: the engine's own, the demo's or a deployment's.
pub fn describe(code: &str) -> Option<&'static FailureCode> {
    engine::codes::describe(
        code,
        &[engine::codes::CATALOGUE, engine::demo::FAILURES, CATALOGUE],
    )
}

/// `docs/failure-codes.md`: every code with its meaning and what to do.
pub fn markdown() -> String {
    let mut text = String::from(
        "# Failure codes\n\n\
         A failed job carries a stable code beside its message: `GET /job/{id}` shows it as\n\
         `error_code` with a `suggestion`, each attempt on the timeline has its own, and\n\
         `deployflow status` and the dashboard print both. Match on the code, not the message.\n\
         This file is generated from the catalogues in `crates/engine/src/codes.rs` and\n\
         `crates/pipeline/src/failures.rs`.\n",
    );
    for (title, catalogue) in [
        ("The engine", engine::codes::CATALOGUE),
        ("Deployments", CATALOGUE),
        ("The demo workflow", engine::demo::FAILURES),
    ] {
        text.push_str(&format!(
            "\n## {title}\n\n| code | what happened | what to do |\n|---|---|---|\n"
        ));
        for entry in catalogue {
            text.push_str(&format!(
                "| `{}` | {} | {} |\n",
                entry.code,
                entry.meaning.replace('|', "\\|"),
                entry.suggestion.replace('|', "\\|")
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn codes_are_unique_and_shaped_area_dot_name() {
        let mut seen = BTreeSet::new();
        for entry in [engine::codes::CATALOGUE, engine::demo::FAILURES, CATALOGUE].concat() {
            let (area, name) = entry.code.split_once('.').expect(entry.code);
            let word =
                |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            assert!(word(area) && word(name), "{}", entry.code);
            assert!(seen.insert(entry.code), "{} is listed twice", entry.code);
            assert!(entry.meaning.ends_with('.'), "{}", entry.code);
            assert!(entry.suggestion.ends_with('.'), "{}", entry.code);
        }
        assert_eq!(describe(CLONE_NOT_FOUND).unwrap().code, "clone.not_found");
        assert_eq!(
            describe(engine::codes::TIMED_OUT).unwrap().code,
            "engine.timed_out"
        );
        assert!(describe("clone.nonsense").is_none());
    }

    #[test]
    fn the_docs_list_every_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/failure-codes.md");
        let expected = markdown();
        if std::env::var_os("DEPLOYFLOW_WRITE_DOCS").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let written = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            written == expected,
            "docs/failure-codes.md is out of date: run \
             `DEPLOYFLOW_WRITE_DOCS=1 cargo test -p deployflow-pipeline the_docs_list_every_code`"
        );
    }
}
