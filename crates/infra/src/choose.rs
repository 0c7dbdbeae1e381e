//! Picks where an analysed app runs: rules decide by default, an LLM may argue
//! for another known target ([`accept_llm_choice`]), and every choice carries
//! its reasons, its sizing and a monthly cost estimate from the price table in
//! `crates/infra/prices/`.

mod cost;
mod placement;
mod rules;
mod services;

use analysis::{Analysis, Requirements};
use serde::{Deserialize, Serialize};

pub use placement::{DEFAULT_INSTANCE_TYPE, DEFAULT_REGION, is_aws_region, is_instance_type};
pub use services::{
    BackingService, NotProvisioned, Part, ServicePlan, StoreKind, Wire, plan as services,
};

/// The deployment targets deployflow knows how to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// EC2 (Ubuntu 24.04) running the bundle with `make up` (docker compose).
    Vm,
    /// ECS Fargate behind an application load balancer.
    ContainerService,
    /// Lambda behind a function URL.
    Serverless,
    /// EKS.
    Kubernetes,
    /// A Docker engine the user has (the local one, or `DOCKER_HOST`): the
    /// bundle runs there with compose; no cloud, no Terraform.
    DockerHost,
}

impl Target {
    /// The cloud targets: each has Terraform templates and a price.
    pub const ALL: [Target; 4] = [
        Target::Vm,
        Target::ContainerService,
        Target::Serverless,
        Target::Kubernetes,
    ];

    /// The name used in checkpoints and descriptions (`vm`, `container-service`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Vm => "vm",
            Target::ContainerService => "container-service",
            Target::Serverless => "serverless",
            Target::Kubernetes => "kubernetes",
            Target::DockerHost => "docker-host",
        }
    }

    /// Whether the target is on AWS (Terraform applies it).
    pub fn is_cloud(self) -> bool {
        self != Target::DockerHost
    }

    /// Reads a target from its name or a common synonym (`ec2`, `ecs`,
    /// `fargate`, `lambda`, `eks`, `k8s`), case-insensitively.
    pub fn parse(name: &str) -> Option<Target> {
        let name = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        match name.as_str() {
            "vm" | "ec2" | "virtual-machine" | "instance" => Some(Target::Vm),
            "container-service" | "ecs" | "fargate" | "ecs-fargate" => {
                Some(Target::ContainerService)
            }
            "serverless" | "lambda" | "aws-lambda" => Some(Target::Serverless),
            "kubernetes" | "k8s" | "eks" => Some(Target::Kubernetes),
            "docker-host" | "docker" | "local" | "localhost" | "self-hosted" => {
                Some(Target::DockerHost)
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The VM's data volume in GiB: its named volumes (the stores' data) on a
/// volume of their own, which outlives the instance.
pub const VM_DATA_VOLUME_GB: u32 = 10;

/// The decision the `choose` step checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub target: Target,
    /// Why this target, one sentence per reason.
    pub reasons: Vec<String>,
    pub region: String,
    /// EC2 instance type for `vm` (and EKS nodes); Fargate/Lambda sizing otherwise.
    pub instance_type: String,
    /// Fargate task / Lambda memory in MiB, when the target uses it.
    pub memory_mib: Option<u32>,
    pub cpu_units: Option<u32>,
    /// How many instances / tasks / nodes run the app (2+ when availability matters).
    pub replicas: u32,
    /// Root volume size in GiB for `vm` instances and `kubernetes` nodes (0 otherwise).
    pub disk_gb: u32,
    /// Monthly estimate in USD from the price table.
    pub monthly_cost_usd: f64,
    /// How the estimate was made (items and unit prices), and the price table's source and date.
    pub cost_breakdown: Vec<String>,
    /// `rules` or `llm` (accepted only when it named a known target).
    pub decided_by: String,
    /// The databases and caches that run beside the app, and those the app
    /// needs that are not provisioned on this target.
    #[serde(default, skip_serializing_if = "ServicePlan::is_empty")]
    pub services: ServicePlan,
}

/// Chooses the target by rules: an explicit target in the requirements wins,
/// then high availability or high load (container service), then a small
/// stateless app that wants to scale to zero or be cheap (serverless), else a
/// single VM. Region and size come from the requirements when they are valid.
pub fn choose(analysis: &Analysis, requirements: &Requirements) -> Choice {
    let decision = rules::decide(analysis, requirements);
    build(
        decision.target,
        decision.reasons,
        analysis,
        requirements,
        "rules",
    )
}

/// The Docker host target, for `reason` (the default of a machine with a
/// Docker engine and no cloud credentials).
pub fn on_docker_host(analysis: &Analysis, requirements: &Requirements, reason: String) -> Choice {
    build(
        Target::DockerHost,
        vec![reason],
        analysis,
        requirements,
        "rules",
    )
}

/// Accepts the target an LLM argued for, when it is one of [`Target::ALL`]
/// and comes with reasons; the sizing and estimate are then redone for it.
/// Otherwise the rules' choice stands, with a note saying why the proposal
/// was not taken.
pub fn accept_llm_choice(
    rules: Choice,
    proposed_target: &str,
    reasons: Vec<String>,
    analysis: &Analysis,
    requirements: &Requirements,
) -> Choice {
    let reasons: Vec<String> = reasons
        .into_iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    let Some(target) = Target::parse(proposed_target) else {
        return with_note(
            rules,
            format!(
                "The LLM proposed \"{}\", which is not a known target (vm, container-service, serverless, kubernetes); the rules' choice stands.",
                proposed_target.trim()
            ),
        );
    };
    if reasons.is_empty() {
        return with_note(
            rules,
            format!("The LLM proposed {target} without giving reasons; the rules' choice stands."),
        );
    }
    if !target.is_cloud() || !rules.target.is_cloud() {
        return with_note(
            rules,
            format!(
                "The LLM proposed {target}; whether the app runs on a Docker host or in the cloud is the user's call, so the rules' choice stands."
            ),
        );
    }
    let mut all = reasons;
    all.push(format!(
        "The rules had chosen {}: {}",
        rules.target,
        rules.reasons.join(" ")
    ));
    build(target, all, analysis, requirements, "llm")
}

impl Choice {
    /// The choice once the user's own values are known: a store whose
    /// variables they gave is theirs (see [`ServicePlan::give`]), and the
    /// estimate no longer counts it.
    pub fn with_given_values(mut self, given: &[&str]) -> Choice {
        let theirs = self.services.give(given);
        if theirs.is_empty() {
            return self;
        }
        let priced = self.target == Target::ContainerService || self.services.managed_on_vm;
        self.services.managed_on_vm &= !self.services.provisioned.is_empty();
        if priced {
            // Managed stores are priced lines of the estimate: price it again.
            let sizing = placement::Sizing {
                instance_type: self.instance_type.clone(),
                memory_mib: self.memory_mib,
                cpu_units: self.cpu_units,
                replicas: self.replicas,
                disk_gb: self.disk_gb,
            };
            let estimate = cost::estimate(
                self.target,
                &self.region,
                &sizing,
                &Requirements::default(),
                &managed_kinds(self.target, &self.services),
            );
            self.monthly_cost_usd = estimate.monthly_usd;
            self.cost_breakdown = estimate.lines;
            return self;
        }
        for kind in theirs {
            let line = format!("{}: runs ", kind.label());
            self.cost_breakdown.retain(|l| !l.starts_with(&line));
        }
        self
    }
}

/// The kinds of store AWS runs for the deployment (see [`ServicePlan::managed`]).
fn managed_kinds(target: Target, services: &ServicePlan) -> Vec<StoreKind> {
    services.managed(target).iter().map(|s| s.kind).collect()
}

/// The memory the app, its workers and the stores beside it take on one
/// VM, by rule of thumb: a JVM app 768 MiB, a Ruby one 384, others 256,
/// each worker as much again; PostgreSQL 256, MySQL 512 (MariaDB 256),
/// Redis 64; a search engine the app uses (which the repository's compose
/// file runs) 1 GiB; the system and Docker 384.
fn demand(analysis: &Analysis, services: &ServicePlan) -> placement::Demand {
    let app = match analysis.runtime() {
        "java" | "kotlin" | "scala" | "jvm" => 768,
        "ruby" => 384,
        _ => 256,
    };
    let mut memory_mib = 384 + app;
    let mut what = vec!["the app".to_owned()];
    for worker in &analysis.workers {
        memory_mib += app;
        what.push(format!("its `{}` worker", worker.name));
    }
    let beside = if services.managed_on_vm {
        &[][..]
    } else {
        &services.provisioned[..]
    };
    for store in beside {
        memory_mib += match store.kind {
            StoreKind::Postgres => 256,
            StoreKind::Mysql if store.mariadb => 256,
            StoreKind::Mysql => 512,
            StoreKind::Redis => 64,
        };
        what.push(store.kind.label().to_owned());
    }
    if analysis.datastores.iter().any(|d| d == "elasticsearch") {
        memory_mib += 1024;
        what.push("a search engine".to_owned());
    }
    placement::Demand { memory_mib, what }
}

fn with_note(mut choice: Choice, note: String) -> Choice {
    choice.reasons.push(note);
    choice
}

fn build(
    target: Target,
    mut reasons: Vec<String>,
    analysis: &Analysis,
    requirements: &Requirements,
    decided_by: &str,
) -> Choice {
    let region = placement::region(requirements, &mut reasons);
    let mut services = services::plan(analysis, requirements, target);
    if target == Target::Vm {
        let (managed, why) = services::managed_on_vm(&services, analysis, requirements);
        services.managed_on_vm = managed;
        reasons.extend(why);
    }
    let demand = demand(analysis, &services);
    let sizing = placement::sizing(target, requirements, &demand, &mut reasons);
    if !analysis.workers.is_empty() && !matches!(target, Target::DockerHost | Target::Vm) {
        let names: Vec<String> = analysis
            .workers
            .iter()
            .map(|w| format!("`{}` (`{}`)", w.name, w.command))
            .collect();
        reasons.push(format!(
            "The Procfile's other processes, {}, are not run on the {target} target, which runs the app's web process only; a Docker host or a VM runs them beside it.",
            names.join(", ")
        ));
    }
    let estimate = cost::estimate(
        target,
        &region,
        &sizing,
        requirements,
        &managed_kinds(target, &services),
    );
    let mut cost_breakdown = estimate.lines;
    // Before the last line, which names the price table.
    let at = cost_breakdown.len().saturating_sub(1);
    for store in services.provisioned.iter().rev() {
        let line = match target {
            Target::Vm if services.managed_on_vm => continue,
            Target::Vm => format!(
                "{}: runs on the instance beside the app, no charge of its own; its data is on the deployment's {VM_DATA_VOLUME_GB} GB data volume, which outlives the instance",
                store.kind.label(),
            ),
            Target::DockerHost => {
                format!(
                    "{}: runs beside the app on the Docker host",
                    store.kind.label()
                )
            }
            // Priced in the estimate's own lines.
            _ => continue,
        };
        cost_breakdown.insert(at, line);
    }
    Choice {
        target,
        reasons,
        region,
        instance_type: sizing.instance_type,
        memory_mib: sizing.memory_mib,
        cpu_units: sizing.cpu_units,
        replicas: sizing.replicas,
        disk_gb: sizing.disk_gb,
        monthly_cost_usd: estimate.monthly_usd,
        cost_breakdown,
        decided_by: decided_by.to_owned(),
        services,
    }
}
