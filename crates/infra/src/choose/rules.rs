//! The rules that pick a target from the analysis and the requirements.

use super::Target;
use analysis::{Analysis, Requirements};

pub(super) struct Decision {
    pub target: Target,
    pub reasons: Vec<String>,
}

/// Languages whose small HTTP apps start fast enough on Lambda (behind the
/// Lambda Web Adapter) for scale-to-zero to be pleasant.
const SERVERLESS_RUNTIMES: &[&str] = &["python", "node"];

/// Frameworks that serve plain request/response HTTP. Streamlit, Gradio and
/// the SSR frameworks keep sessions or websockets open, or start too slowly.
const SERVERLESS_FRAMEWORKS: &[&str] = &[
    "flask",
    "fastapi",
    "aiohttp",
    "express",
    "fastify",
    "koa",
    "node-http",
    "nestjs",
];

/// Environment variable name parts that say the app needs a database.
const DATABASE_ENV_HINTS: &[&str] = &["DATABASE", "POSTGRES", "MYSQL", "MARIADB", "MONGO", "REDIS"];

pub(super) fn decide(analysis: &Analysis, requirements: &Requirements) -> Decision {
    let mut reasons = Vec::new();
    if let Some(named) = requirements.target.as_deref() {
        match Target::parse(named) {
            Some(target) => {
                // The words that named it (`"single server" → vm`), not the name.
                let words = requirements
                    .evidence
                    .iter()
                    .find(|e| e.ends_with(&format!("→ {named}")))
                    .and_then(|e| e.split(" → ").next())
                    .unwrap_or(named);
                let words = words.trim_matches('"');
                reasons.push(format!(
                    "The description asks for {target} (\"{words}\"), and an explicit target always wins."
                ));
                return Decision { target, reasons };
            }
            None => reasons.push(format!(
                "The description names \"{named}\", which is not a known target; the rules chose instead."
            )),
        }
    }
    if let Some(file) = kubernetes_manifest(analysis) {
        reasons.push(format!(
            "The repository carries Kubernetes manifests ({file}), so it is deployed to EKS."
        ));
        return decided(Target::Kubernetes, reasons);
    }
    if requirements.high_availability {
        reasons.push(
            "High availability was asked for: ECS Fargate runs two tasks in two availability zones behind a load balancer, so one failing task or zone does not take the app down.".to_owned(),
        );
        return decided(Target::ContainerService, reasons);
    }
    if load(requirements) == Some("high") {
        reasons.push(
            "High load is expected: ECS Fargate scales tasks horizontally behind a load balancer, which one VM cannot.".to_owned(),
        );
        return decided(Target::ContainerService, reasons);
    }
    if requirements.scale_to_zero || requirements.cost_sensitive {
        let wish = if requirements.scale_to_zero {
            "Scaling to zero was asked for"
        } else {
            "A low cost was asked for"
        };
        match serverless_fit(analysis, requirements) {
            Ok(why) => {
                reasons.push(format!(
                    "{wish} and {why}: Lambda costs nothing while idle and runs the same container image."
                ));
                return decided(Target::Serverless, reasons);
            }
            Err(why_not) => reasons.push(format!(
                "{wish}, but serverless does not fit ({why_not}); the cheapest fit is one small VM."
            )),
        }
    }
    reasons.push(
        "A single small EC2 VM running the bundle with docker compose is the simplest and cheapest way to run one HTTP app; nothing asked for more.".to_owned(),
    );
    decided(Target::Vm, reasons)
}

fn decided(target: Target, reasons: Vec<String>) -> Decision {
    Decision { target, reasons }
}

fn load(requirements: &Requirements) -> Option<&str> {
    requirements.expected_load.as_deref().map(str::trim)
}

/// Why the app suits Lambda, or why it does not.
fn serverless_fit(analysis: &Analysis, requirements: &Requirements) -> Result<String, String> {
    let language = match analysis.runtime() {
        "" => "unknown",
        runtime => runtime,
    };
    if !SERVERLESS_RUNTIMES.contains(&language) {
        return Err(format!("the app runs on {language}, not Python or Node"));
    }
    let framework = analysis.framework.as_deref().unwrap_or("unknown");
    if !SERVERLESS_FRAMEWORKS.contains(&framework) {
        return Err(format!(
            "{framework} is not a small stateless request/response framework"
        ));
    }
    if let Some(database) = requirements.database.as_deref() {
        return Err(format!(
            "the description asks for a {database} database, which needs a server that stays up"
        ));
    }
    if let Some(name) = database_env(analysis) {
        return Err(format!("the app requires {name}, a database connection"));
    }
    // A function runs only while a request is in flight: a queue consumer
    // or a scheduler beside the web process would never run.
    if let Some(worker) = analysis.workers.first() {
        return Err(format!(
            "the app runs a worker ({}: {}) beside its web process, which needs a process that stays up",
            worker.name, worker.command
        ));
    }
    Ok(format!(
        "the app is a small stateless {framework} ({language}) HTTP app with no database"
    ))
}

fn database_env(analysis: &Analysis) -> Option<&str> {
    let required = analysis
        .env
        .iter()
        .filter(|v| v.required)
        .map(|v| v.name.as_str())
        .chain(analysis.required_env.iter().map(String::as_str));
    required.into_iter().find(|name| is_database_env(name))
}

fn is_database_env(name: &str) -> bool {
    DATABASE_ENV_HINTS.iter().any(|hint| name.contains(hint))
        || name.starts_with("PG")
        || name.starts_with("DB_")
        || name.ends_with("_DB")
        || name.contains("_DB_")
}

/// A Kubernetes manifest the analysis saw (a `kubernetes` fact, or a file
/// whose path says so), when the repository asks for Kubernetes.
fn kubernetes_manifest(analysis: &Analysis) -> Option<&str> {
    let paths = analysis
        .evidence
        .iter()
        .filter(|e| e.fact == "kubernetes" || looks_like_kubernetes(&e.file))
        .map(|e| e.file.as_str())
        .chain(
            analysis
                .docker_files
                .iter()
                .map(String::as_str)
                .filter(|f| looks_like_kubernetes(f)),
        );
    paths.into_iter().next()
}

fn looks_like_kubernetes(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let in_dir =
        |dir: &str| path.starts_with(&format!("{dir}/")) || path.contains(&format!("/{dir}/"));
    matches!(
        file,
        "Chart.yaml" | "kustomization.yaml" | "kustomization.yml" | "skaffold.yaml"
    ) || ["k8s", "kubernetes", "helm", "charts"]
        .iter()
        .any(|d| in_dir(d))
}
