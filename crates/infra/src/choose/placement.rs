//! Region and size: taken from the requirements when they name valid ones,
//! else the defaults, with a sentence saying which and why.

use super::Target;
use analysis::Requirements;

pub const DEFAULT_REGION: &str = "ca-central-1";
pub const DEFAULT_INSTANCE_TYPE: &str = "t2.small";
/// EKS nodes need more memory than the VM default to host the system pods.
const DEFAULT_NODE_TYPE: &str = "t3.medium";
const DEFAULT_DISK_GB: u32 = 20;

/// AWS region names (commercial, GovCloud and China partitions).
const AWS_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "ca-west-1",
    "mx-central-1",
    "sa-east-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// True for a real AWS region name such as `eu-west-3`.
pub fn is_aws_region(name: &str) -> bool {
    AWS_REGIONS.contains(&name)
}

/// True when `name` has the shape of an EC2 instance type: a family with a
/// generation digit (`t3`, `m6i`, `c7gn`), a dot, and a size (`micro`,
/// `large`, `2xlarge`, `metal`).
pub fn is_instance_type(name: &str) -> bool {
    let Some((family, size)) = name.split_once('.') else {
        return false;
    };
    let family_ok = family.starts_with(|c: char| c.is_ascii_lowercase())
        && family.chars().any(|c| c.is_ascii_digit())
        && family
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let size_ok = matches!(size, "nano" | "micro" | "small" | "medium" | "large")
        || size
            .strip_suffix("xlarge")
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        || size == "metal"
        || size
            .strip_prefix("metal-")
            .and_then(|n| n.strip_suffix("xl"))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    family_ok && size_ok
}

pub(super) fn region(requirements: &Requirements, reasons: &mut Vec<String>) -> String {
    let Some(asked) = requirements.region.as_deref().map(str::trim) else {
        reasons.push(format!(
            "No region was asked for, so the default {DEFAULT_REGION} is used."
        ));
        return DEFAULT_REGION.to_owned();
    };
    let normalised = asked.to_ascii_lowercase();
    if is_aws_region(&normalised) {
        reasons.push(format!("The description asks for region {normalised}."));
        normalised
    } else {
        reasons.push(format!(
            "\"{asked}\" is not an AWS region name, so the default {DEFAULT_REGION} is used."
        ));
        DEFAULT_REGION.to_owned()
    }
}

pub(super) struct Sizing {
    pub instance_type: String,
    pub memory_mib: Option<u32>,
    pub cpu_units: Option<u32>,
    pub replicas: u32,
    pub disk_gb: u32,
}

/// A size word from the description, when it is one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scale {
    Nano,
    Micro,
    Small,
    Medium,
    Large,
    XLarge,
}

impl Scale {
    fn parse(word: &str) -> Option<Scale> {
        match word {
            "nano" | "tiny" => Some(Scale::Nano),
            "micro" => Some(Scale::Micro),
            "small" | "minimal" => Some(Scale::Small),
            "medium" => Some(Scale::Medium),
            "large" | "big" => Some(Scale::Large),
            "xlarge" | "x-large" | "extra-large" => Some(Scale::XLarge),
            _ => None,
        }
    }
}

/// What the description said about size, read once for every target.
enum AskedSize {
    None,
    InstanceType(String),
    Scale(Scale, String),
    Unreadable(String),
}

fn asked_size(requirements: &Requirements) -> AskedSize {
    let Some(raw) = requirements.size.as_deref().map(str::trim) else {
        return AskedSize::None;
    };
    let word = raw.to_ascii_lowercase();
    if is_instance_type(&word) {
        AskedSize::InstanceType(word)
    } else if let Some(scale) = Scale::parse(&word) {
        AskedSize::Scale(scale, raw.to_owned())
    } else {
        AskedSize::Unreadable(raw.to_owned())
    }
}

/// The memory (MiB) of one VM a small instance type has, and the next
/// sizes up with theirs.
const VM_SIZES: [(&str, u32); 3] = [
    (DEFAULT_INSTANCE_TYPE, 2048),
    ("t2.medium", 4096),
    ("t2.large", 8192),
];

/// What the deployment's containers need on a VM, in MiB, and what they
/// are, for the reason that names them.
pub(super) struct Demand {
    pub memory_mib: u32,
    pub what: Vec<String>,
}

pub(super) fn sizing(
    target: Target,
    requirements: &Requirements,
    demand: &Demand,
    reasons: &mut Vec<String>,
) -> Sizing {
    let asked = asked_size(requirements);
    if let AskedSize::Unreadable(raw) = &asked {
        reasons.push(format!(
            "\"{raw}\" is neither an EC2 instance type nor a size word, so the default size is used."
        ));
    }
    match target {
        Target::Vm => vm_sizing(&asked, requirements, demand, reasons),
        Target::ContainerService => fargate_sizing(&asked, requirements, reasons),
        Target::Serverless => lambda_sizing(&asked, reasons),
        Target::Kubernetes => eks_sizing(&asked, reasons),
        Target::DockerHost => Sizing {
            instance_type: String::new(),
            memory_mib: None,
            cpu_units: None,
            replicas: 1,
            disk_gb: 0,
        },
    }
}

fn vm_sizing(
    asked: &AskedSize,
    requirements: &Requirements,
    demand: &Demand,
    reasons: &mut Vec<String>,
) -> Sizing {
    let instance_type = match asked {
        AskedSize::InstanceType(t) => {
            reasons.push(format!("The description asks for instance type {t}."));
            t.clone()
        }
        AskedSize::Scale(scale, raw) => {
            let t = format!("t2.{}", scale_suffix(*scale));
            reasons.push(format!(
                "\"{raw}\" was asked for, which is {t} in the default family."
            ));
            t
        }
        _ if requirements.expected_load.as_deref() == Some("medium") => {
            reasons.push(
                "Medium load is expected, so the VM is a t2.medium (2 vCPU, 4 GiB).".to_owned(),
            );
            "t2.medium".to_owned()
        }
        _ => match VM_SIZES
            .iter()
            .position(|(_, mib)| demand.memory_mib <= *mib)
        {
            Some(0) => {
                reasons.push(format!(
                    "The default instance type {DEFAULT_INSTANCE_TYPE} (1 vCPU, 2 GiB) fits one small app."
                ));
                DEFAULT_INSTANCE_TYPE.to_owned()
            }
            found => {
                let (t, mib) = VM_SIZES[found.unwrap_or(VM_SIZES.len() - 1)];
                reasons.push(format!(
                    "The VM runs {} (about {} MiB with the system and Docker), more than the default {DEFAULT_INSTANCE_TYPE}'s 2 GiB: it is a {t} ({} GiB).",
                    demand.what.join(", "),
                    demand.memory_mib,
                    mib / 1024
                ));
                t.to_owned()
            }
        },
    };
    Sizing {
        instance_type,
        memory_mib: None,
        cpu_units: None,
        replicas: 1,
        disk_gb: DEFAULT_DISK_GB,
    }
}

fn scale_suffix(scale: Scale) -> &'static str {
    match scale {
        Scale::Nano => "nano",
        Scale::Micro => "micro",
        Scale::Small => "small",
        Scale::Medium => "medium",
        Scale::Large => "large",
        Scale::XLarge => "xlarge",
    }
}

fn fargate_sizing(
    asked: &AskedSize,
    requirements: &Requirements,
    reasons: &mut Vec<String>,
) -> Sizing {
    // Fargate's valid (cpu units, MiB) pairs for each step of size.
    let (cpu, memory) = match asked {
        AskedSize::Scale(Scale::Nano | Scale::Micro, _) => (256, 512),
        AskedSize::Scale(Scale::Medium, _) => (1024, 2048),
        AskedSize::Scale(Scale::Large, _) => (2048, 4096),
        AskedSize::Scale(Scale::XLarge, _) => (4096, 8192),
        AskedSize::InstanceType(t) => {
            reasons.push(format!(
                "Fargate is sized in vCPU and memory, not instance types, so {t} is not used."
            ));
            (512, 1024)
        }
        _ => (512, 1024),
    };
    let replicas = if requirements.high_availability
        || requirements.expected_load.as_deref() == Some("high")
    {
        2
    } else {
        1
    };
    reasons.push(format!(
        "Each Fargate task gets {} vCPU and {} GiB; {replicas} task(s) run.",
        f64::from(cpu) / 1024.0,
        f64::from(memory) / 1024.0
    ));
    Sizing {
        instance_type: format!("fargate-{cpu}-{memory}"),
        memory_mib: Some(memory),
        cpu_units: Some(cpu),
        replicas,
        disk_gb: 0,
    }
}

fn lambda_sizing(asked: &AskedSize, reasons: &mut Vec<String>) -> Sizing {
    let memory = match asked {
        AskedSize::Scale(Scale::Nano | Scale::Micro, _) => 256,
        AskedSize::Scale(Scale::Medium, _) => 1024,
        AskedSize::Scale(Scale::Large | Scale::XLarge, _) => 2048,
        _ => 512,
    };
    reasons.push(format!(
        "The function gets {memory} MiB of memory (Lambda allots CPU in proportion)."
    ));
    Sizing {
        instance_type: format!("lambda-{memory}"),
        memory_mib: Some(memory),
        cpu_units: None,
        replicas: 1,
        disk_gb: 0,
    }
}

fn eks_sizing(asked: &AskedSize, reasons: &mut Vec<String>) -> Sizing {
    let instance_type = match asked {
        AskedSize::InstanceType(t) => t.clone(),
        _ => DEFAULT_NODE_TYPE.to_owned(),
    };
    reasons.push(format!(
        "Two {instance_type} nodes run the cluster's workloads, one per availability zone."
    ));
    Sizing {
        instance_type,
        memory_mib: None,
        cpu_units: None,
        replicas: 2,
        disk_gb: DEFAULT_DISK_GB,
    }
}
