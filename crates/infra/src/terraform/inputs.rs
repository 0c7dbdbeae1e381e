//! What the templates are rendered from, and the checks that keep every value
//! inside the characters its place in the HCL (and in the VM's boot script)
//! can hold safely.

use analysis::Analysis;
use serde::{Deserialize, Serialize};

use crate::InfraError;
use crate::choose::{Choice, Part, StoreKind, Target, is_aws_region, is_instance_type};
use crate::own_address::{self, AddressForm};

/// The port the app answers on from outside, on every target.
pub const HOST_PORT: u16 = 8080;

/// The facts a template needs: the choice, the job, and the app's port,
/// environment variable names and health path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TerraformInputs {
    pub choice: Choice,
    /// The deployflow job: every resource is named and tagged after it.
    pub job_id: String,
    /// The port the app listens on inside its container.
    pub app_port: u16,
    /// Names of the environment variables the app reads; values are never rendered.
    pub env_names: Vec<String>,
    /// The variable the app reads its port from (`PORT`), set to `app_port`
    /// on the container targets.
    pub port_env: Option<String>,
    /// `port_env` holds a whole address (`ADDR=":8080"`), set to
    /// `0.0.0.0:PORT` rather than the port alone.
    #[serde(default)]
    pub port_env_is_address: bool,
    /// S3 object key the bundle archive is uploaded under (`vm`).
    pub bundle_key: String,
    /// The path a load balancer or readiness probe asks; `/` when unknown.
    pub health_path: Option<String>,
    /// What a managed PostgreSQL's connection URL ends with so the app's
    /// driver encrypts the connection (RDS refuses plain ones).
    #[serde(default)]
    pub database_url_query: String,
    /// The container's command when it must differ from the image's: the
    /// database migration, then the app (container-service).
    #[serde(default)]
    pub container_command: Option<Vec<String>>,
    /// Variables the app needs set to its own address, and their form: the
    /// load balancer's address fills those the user gave no value
    /// (container service, Kubernetes).
    #[serde(default)]
    pub own_addresses: Vec<(String, AddressForm)>,
}

impl TerraformInputs {
    /// Inputs from the analysis: its port (8080 when none was found), the
    /// names of the variables it found, and its health path when it is one a
    /// probe can use.
    pub fn new(choice: Choice, job_id: &str, analysis: &Analysis) -> Self {
        let database_url_query = database_url_query(&choice, analysis).to_owned();
        let mut env_names: Vec<String> = analysis
            .env
            .iter()
            .map(|var| var.name.clone())
            .chain(analysis.required_env.iter().cloned())
            .filter(|name| is_env_name(name))
            .collect();
        env_names.sort();
        env_names.dedup();
        TerraformInputs {
            choice,
            job_id: job_id.to_owned(),
            app_port: analysis.port.unwrap_or(HOST_PORT),
            env_names,
            port_env: analysis.port_env.clone().filter(|name| is_env_name(name)),
            port_env_is_address: analysis
                .port_env
                .as_deref()
                .is_some_and(|name| crate::bundle::holds_address(analysis, name)),
            bundle_key: format!("bundles/{}/bundle.tar.gz", slug(job_id)),
            health_path: analysis
                .health_path
                .clone()
                .filter(|path| is_health_path(path)),
            database_url_query,
            container_command: None,
            own_addresses: own_address::required(analysis)
                .into_iter()
                .filter(|(name, _)| is_env_name(name))
                .collect(),
        }
    }

    /// Rejects any value a template could not hold safely, with the reason.
    pub(super) fn validate(&self) -> Result<(), InfraError> {
        let bad = |message: String| Err(InfraError::TerraformInput(message));
        if !is_job_id(&self.job_id) {
            return bad(format!(
                "job id {:?} must be 1 to 128 letters, digits, '-' or '_'",
                self.job_id
            ));
        }
        if !is_aws_region(&self.choice.region) {
            return bad(format!("{:?} is not an AWS region", self.choice.region));
        }
        let runs_ec2 = matches!(self.choice.target, Target::Vm | Target::Kubernetes);
        if runs_ec2 && !is_instance_type(&self.choice.instance_type) {
            return bad(format!(
                "{:?} is not an EC2 instance type",
                self.choice.instance_type
            ));
        }
        if self.app_port == 0 {
            return bad("the app port must not be 0".to_owned());
        }
        if let Some(name) = self.env_names.iter().find(|name| !is_env_name(name)) {
            return bad(format!(
                "environment variable name {name:?} must be letters, digits and '_', not starting with a digit"
            ));
        }
        if let Some((name, _)) = self
            .own_addresses
            .iter()
            .find(|(name, _)| !is_env_name(name))
        {
            return bad(format!(
                "environment variable name {name:?} must be letters, digits and '_', not starting with a digit"
            ));
        }
        if let Some(name) = self.port_env.as_deref().filter(|name| !is_env_name(name)) {
            return bad(format!(
                "port variable name {name:?} must be letters, digits and '_', not starting with a digit"
            ));
        }
        if !is_object_key(&self.bundle_key) {
            return bad(format!(
                "bundle object key {:?} must be a relative path of letters, digits, '/', '.', '-' and '_' without '..'",
                self.bundle_key
            ));
        }
        if let Some(path) = self.health_path.as_deref().filter(|p| !is_health_path(p)) {
            return bad(format!(
                "health path {path:?} must start with '/' and hold only letters, digits and '/._~-'"
            ));
        }
        Ok(())
    }
}

/// `?sslmode=require` (encrypt, as libpq and most drivers read it) for a
/// managed PostgreSQL, which refuses plain connections. node-postgres reads
/// `require` as "verify against Node's CAs", which RDS's own CA is not among,
/// so it gets `no-verify` (still encrypted); asyncpg reads `ssl`.
fn database_url_query(choice: &Choice, analysis: &Analysis) -> &'static str {
    let Some(store) = choice
        .services
        .provisioned
        .iter()
        .find(|s| s.kind == StoreKind::Postgres)
    else {
        return "";
    };
    let asyncpg = store.wiring.iter().any(
        |w| matches!(&w.part, Part::Url { scheme: Some(scheme) } if scheme.contains("asyncpg")),
    );
    let node = matches!(
        analysis.language.as_deref(),
        Some("javascript" | "typescript")
    );
    let prisma = analysis
        .evidence
        .iter()
        .any(|e| e.file.ends_with("schema.prisma"));
    if asyncpg {
        "?ssl=require"
    } else if node && !prisma {
        "?sslmode=no-verify"
    } else {
        "?sslmode=require"
    }
}

/// What a job's resources are named after (`df-` and its [`slug`]): the
/// templates' `local.name`, and the policy's [`resource_name`](crate::policy::Policy::resource_name).
pub fn resource_name(job_id: &str) -> String {
    format!("df-{}", slug(job_id))
}

/// The job id reduced to lowercase letters and digits, at most 16 of them
/// (the first and last 8 of a longer id: for UUIDv7 ids, time and randomness).
pub(super) fn slug(job_id: &str) -> String {
    let alnum: Vec<char> = job_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let slug: String = if alnum.len() <= 16 {
        alnum.into_iter().collect()
    } else {
        alnum[..8].iter().chain(&alnum[alnum.len() - 8..]).collect()
    };
    break_account_numbers(slug)
}

/// A run of exactly 12 digits reads as an AWS account's number, which the
/// gate refuses anywhere (`01a25117…1593205b` holds `251171593205`, about
/// one UUIDv7 id in 25): its seventh digit becomes a letter no hex digit
/// is (`0` → `g` … `9` → `p`), so the slug stays unique. Longer runs, which
/// the gate never refused, are left as deployments made with them named.
fn break_account_numbers(slug: String) -> String {
    let seventh: Vec<usize> = crate::policy::account_numbers(&slug)
        .map(|run| run.start + 6)
        .collect();
    let mut bytes = slug.into_bytes();
    for at in seventh {
        bytes[at] = b'g' + (bytes[at] - b'0');
    }
    // Only ASCII digits were turned into ASCII letters.
    String::from_utf8(bytes).unwrap_or_default()
}

fn is_job_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && id.chars().any(|c| c.is_ascii_alphanumeric())
}

pub(crate) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_object_key(key: &str) -> bool {
    (1..=512).contains(&key.len())
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'))
}

fn is_health_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() <= 256
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '~' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_never_holds_an_account_number() {
        // The job id of a VM job the gate refused: `251171593205`.
        let id = "01a25117-f732-73eb-a161-8a051593205b";
        assert_eq!(slug(id), "01a251171l93205b");
        assert!(
            !resource_name(id)
                .chars()
                .collect::<Vec<_>>()
                .windows(12)
                .any(|w| w.iter().all(char::is_ascii_digit))
        );
        // Thirteen digits were never refused: names made with them stay.
        assert_eq!(slug("0190123412345678901b"), "019012345678901b");
        assert_eq!(slug("1234567890123"), "1234567890123");
    }

    #[test]
    fn slug_keeps_short_ids_and_shortens_uuids() {
        assert_eq!(slug("Job_42"), "job42");
        assert_eq!(
            slug("0190a4b2-7c3d-7abc-8def-0123456789ab"),
            "0190a4b2456789ab"
        );
    }

    #[test]
    fn object_keys_stay_relative_and_plain() {
        assert!(is_object_key("bundles/abc/bundle.tar.gz"));
        for bad in ["/abs", "a/../b", "a//b", "a b", "a'b", "a$b", ""] {
            assert!(!is_object_key(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn env_names_are_shell_identifiers() {
        assert!(is_env_name("DATABASE_URL"));
        assert!(is_env_name("_x1"));
        for bad in ["1X", "A-B", "A B", "", "A=B"] {
            assert!(!is_env_name(bad), "{bad:?} accepted");
        }
    }
}
