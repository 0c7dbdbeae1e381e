//! Monthly cost estimates from the price table in `prices/ca-central-1.toml`.
//! The table is compiled in, so an estimate never needs the network.

use super::placement::Sizing;
use super::{StoreKind, Target};
use analysis::Requirements;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const PRICE_TABLE: &str = include_str!("../../prices/ca-central-1.toml");

/// The bundle object shipped to the VM through S3, generously rounded up.
const BUNDLE_GB: f64 = 0.1;
/// The average Lambda invocation assumed when nothing better is known.
const LAMBDA_MS_PER_REQUEST: f64 = 100.0;
/// Load balancer capacity units assumed for a small app.
const ALB_LCUS: f64 = 1.0;
/// An application load balancer holds one public IPv4 address per zone.
const ALB_PUBLIC_IPS: f64 = 2.0;

#[derive(Debug, Deserialize)]
struct PriceTable {
    region: String,
    source: String,
    hours_per_month: f64,
    ec2_hourly: BTreeMap<String, f64>,
    ebs: Ebs,
    fargate: Fargate,
    lambda: Lambda,
    alb: Alb,
    eks: Eks,
    network: Network,
    s3: S3,
    rds: Rds,
    elasticache: ElastiCache,
    secrets_manager: SecretsManager,
}

#[derive(Debug, Deserialize)]
struct Rds {
    hourly: BTreeMap<String, f64>,
    gp3_gb_month: f64,
}

#[derive(Debug, Deserialize)]
struct ElastiCache {
    hourly: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
struct SecretsManager {
    secret_month: f64,
}

/// What the container-service and Kubernetes templates give a managed store.
const DATABASE_CLASS: &str = "db.t4g.micro";
const DATABASE_GB: f64 = 20.0;
const CACHE_NODE: &str = "cache.t4g.micro";

#[derive(Debug, Deserialize)]
struct Ebs {
    gp3_gb_month: f64,
    snapshot_gb_month: f64,
}

#[derive(Debug, Deserialize)]
struct Fargate {
    vcpu_hour: f64,
    gb_hour: f64,
}

#[derive(Debug, Deserialize)]
struct Lambda {
    per_million_requests: f64,
    gb_second: f64,
}

#[derive(Debug, Deserialize)]
struct Alb {
    hour: f64,
    lcu_hour: f64,
}

#[derive(Debug, Deserialize)]
struct Eks {
    control_plane_hour: f64,
}

// The table also lists NAT gateway prices for layouts with private subnets;
// the estimates here assume public subnets, so they are not read.
#[derive(Debug, Deserialize)]
struct Network {
    public_ipv4_hour: f64,
}

#[derive(Debug, Deserialize)]
struct S3 {
    standard_gb_month: f64,
}

static PRICES: LazyLock<PriceTable> = LazyLock::new(|| {
    toml::from_str(PRICE_TABLE).expect("prices/ca-central-1.toml is a valid price table")
});

pub(super) struct Estimate {
    pub monthly_usd: f64,
    pub lines: Vec<String>,
}

/// Adds up the monthly cost of `target` at `sizing`, one line per item with
/// its quantity and unit price, then the table's source.
pub(super) fn estimate(
    target: Target,
    region: &str,
    sizing: &Sizing,
    requirements: &Requirements,
    stores: &[StoreKind],
) -> Estimate {
    let prices = &*PRICES;
    let mut bill = Bill::default();
    match target {
        Target::Vm => {
            vm(prices, sizing, &mut bill);
            managed_stores(prices, stores, true, &mut bill);
        }
        Target::ContainerService => {
            fargate(prices, sizing, &mut bill);
            managed_stores(prices, stores, true, &mut bill);
        }
        Target::Serverless => lambda(prices, sizing, requirements, &mut bill),
        Target::Kubernetes => {
            eks(prices, sizing, &mut bill);
            managed_stores(prices, stores, false, &mut bill);
        }
        Target::DockerHost => {
            return Estimate {
                monthly_usd: 0.0,
                lines: vec![
                    "The app runs on a Docker host you already have: no cloud resources, no bill from deployflow.".to_owned(),
                ],
            };
        }
    }
    let mut lines = bill.lines;
    let total = round_cents(bill.total);
    lines.push(format!("Total: about ${total:.2} per month."));
    if region != prices.region {
        lines.push(format!(
            "Prices are {}'s; {region} may differ by a few percent.",
            prices.region
        ));
    }
    lines.push(format!("Prices: {}.", prices.source));
    Estimate {
        monthly_usd: total,
        lines,
    }
}

#[derive(Default)]
struct Bill {
    total: f64,
    lines: Vec<String>,
}

impl Bill {
    fn add(&mut self, item: &str, quantity: f64, unit: &str, unit_price: f64) {
        let cost = quantity * unit_price;
        self.total += cost;
        self.lines.push(format!(
            "{item}: {} {unit} × ${} = ${cost:.2}",
            trim_number(quantity),
            trim_number(unit_price)
        ));
    }

    fn note(&mut self, line: String) {
        self.lines.push(line);
    }
}

fn vm(p: &PriceTable, s: &Sizing, bill: &mut Bill) {
    let hours = p.hours_per_month;
    ec2(p, &s.instance_type, f64::from(s.replicas), bill);
    bill.add(
        "EBS gp3 root volume",
        f64::from(s.disk_gb * s.replicas),
        "GB-month",
        p.ebs.gp3_gb_month,
    );
    bill.add(
        "EBS gp3 data volume (named volumes)",
        f64::from(super::VM_DATA_VOLUME_GB),
        "GB-month",
        p.ebs.gp3_gb_month,
    );
    // Daily snapshots are incremental: together they hold at most what
    // the volume held, plus each day's changes.
    bill.add(
        "EBS snapshots of the data volume (daily, incremental; at most its size)",
        f64::from(super::VM_DATA_VOLUME_GB),
        "GB-month",
        p.ebs.snapshot_gb_month,
    );
    bill.add(
        "Public IPv4 address",
        hours * f64::from(s.replicas),
        "h",
        p.network.public_ipv4_hour,
    );
    bill.add(
        "S3 bundle object",
        BUNDLE_GB,
        "GB-month",
        p.s3.standard_gb_month,
    );
}

fn ec2(p: &PriceTable, instance_type: &str, count: f64, bill: &mut Bill) {
    match p.ec2_hourly.get(instance_type) {
        Some(price) => bill.add(
            &format!("EC2 {instance_type} on-demand"),
            p.hours_per_month * count,
            "h",
            *price,
        ),
        None => bill.note(format!(
            "EC2 {instance_type}: not in the price table, not counted (check the AWS price list)."
        )),
    }
}

fn fargate(p: &PriceTable, s: &Sizing, bill: &mut Bill) {
    let hours = p.hours_per_month * f64::from(s.replicas);
    let vcpu = f64::from(s.cpu_units.unwrap_or(512)) / 1024.0;
    let gb = f64::from(s.memory_mib.unwrap_or(1024)) / 1024.0;
    bill.add("Fargate vCPU", vcpu * hours, "vCPU-h", p.fargate.vcpu_hour);
    bill.add("Fargate memory", gb * hours, "GB-h", p.fargate.gb_hour);
    load_balancer(p, bill);
    bill.add(
        "Public IPv4 addresses (load balancer and tasks in public subnets, no NAT gateway)",
        p.hours_per_month * (ALB_PUBLIC_IPS + f64::from(s.replicas)),
        "h",
        p.network.public_ipv4_hour,
    );
}

/// RDS for the SQL database, ElastiCache for Redis, and the secrets that
/// carry the password and (`connection_secret`: on ECS, not in a
/// Kubernetes Secret) the app's connection settings.
fn managed_stores(p: &PriceTable, stores: &[StoreKind], connection_secret: bool, bill: &mut Bill) {
    let hours = p.hours_per_month;
    let mut secrets = 0.0;
    for kind in stores {
        let (item, prices, class) = match kind {
            StoreKind::Redis => ("ElastiCache Redis", &p.elasticache.hourly, CACHE_NODE),
            _ => (kind.label(), &p.rds.hourly, DATABASE_CLASS),
        };
        match prices.get(class) {
            Some(price) => bill.add(&format!("{item} {class}"), hours, "h", *price),
            None => bill.note(format!(
                "{item} {class}: not in the price table, not counted."
            )),
        }
        if kind.is_sql() {
            bill.add(
                &format!(
                    "{} storage, gp3 (backups up to its size included)",
                    kind.label()
                ),
                DATABASE_GB,
                "GB-month",
                p.rds.gp3_gb_month,
            );
            secrets += 1.0;
        }
    }
    if connection_secret && !stores.is_empty() {
        secrets += 1.0;
    }
    if secrets > 0.0 {
        // One password per SQL database, plus the connection settings on ECS.
        bill.add(
            "Secrets Manager secrets",
            secrets,
            "secret-month",
            p.secrets_manager.secret_month,
        );
    }
}

fn load_balancer(p: &PriceTable, bill: &mut Bill) {
    bill.add(
        "Application load balancer",
        p.hours_per_month,
        "h",
        p.alb.hour,
    );
    bill.add(
        "Load balancer capacity units",
        p.hours_per_month * ALB_LCUS,
        "LCU-h",
        p.alb.lcu_hour,
    );
}

fn lambda(p: &PriceTable, s: &Sizing, r: &Requirements, bill: &mut Bill) {
    let requests = match r.expected_load.as_deref() {
        Some("low") => 100_000.0,
        Some("high") => 10_000_000.0,
        _ => 1_000_000.0,
    };
    let gb = f64::from(s.memory_mib.unwrap_or(512)) / 1024.0;
    bill.note(format!(
        "Assumes {} requests a month of {LAMBDA_MS_PER_REQUEST} ms each; the free tier is not counted.",
        trim_number(requests)
    ));
    bill.add(
        "Lambda requests",
        requests / 1_000_000.0,
        "million requests",
        p.lambda.per_million_requests,
    );
    bill.add(
        "Lambda compute",
        requests * LAMBDA_MS_PER_REQUEST / 1000.0 * gb,
        "GB-s",
        p.lambda.gb_second,
    );
}

fn eks(p: &PriceTable, s: &Sizing, bill: &mut Bill) {
    bill.add(
        "EKS control plane",
        p.hours_per_month,
        "h",
        p.eks.control_plane_hour,
    );
    ec2(p, &s.instance_type, f64::from(s.replicas), bill);
    bill.add(
        "EBS gp3 node volumes",
        f64::from(s.disk_gb * s.replicas),
        "GB-month",
        p.ebs.gp3_gb_month,
    );
    load_balancer(p, bill);
    bill.add(
        "Public IPv4 addresses (load balancer and nodes)",
        p.hours_per_month * (ALB_PUBLIC_IPS + f64::from(s.replicas)),
        "h",
        p.network.public_ipv4_hour,
    );
}

fn round_cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

/// Prints a number without trailing zeros: `730`, `0.0256`, `0.0000166667`.
fn trim_number(n: f64) -> String {
    let text = format!("{n:.10}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_price_table_parses_and_names_its_source() {
        let p = &*PRICES;
        assert_eq!(p.region, "ca-central-1");
        assert!(p.source.contains("recorded"), "{}", p.source);
        for family in ["t2", "t3", "t3a", "t4g", "m5", "m6i"] {
            assert!(
                p.ec2_hourly
                    .keys()
                    .any(|k| k.starts_with(&format!("{family}."))),
                "no {family} prices"
            );
        }
        assert!(p.ec2_hourly.values().all(|price| *price > 0.0));
    }

    #[test]
    fn numbers_print_without_trailing_zeros() {
        assert_eq!(trim_number(730.0), "730");
        assert_eq!(trim_number(0.0256), "0.0256");
        assert_eq!(trim_number(0.0000166667), "0.0000166667");
    }
}
