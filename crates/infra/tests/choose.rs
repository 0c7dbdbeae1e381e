//! The deployment choice: rules, region and size, the LLM override, and the
//! cost estimate.

use analysis::{Analysis, BindAddress, EnvVar, Evidence, Requirements};
use infra::choose::{
    Choice, StoreKind, Target, accept_llm_choice, choose, is_aws_region, is_instance_type,
};

fn app(language: &str, framework: &str) -> Analysis {
    Analysis {
        http: true,
        deny_reason: None,
        language: Some(language.to_owned()),
        runtime: None,
        framework: Some(framework.to_owned()),
        subdir: ".".to_owned(),
        port: Some(8000),
        port_env: None,
        bind: BindAddress {
            host: None,
            loopback_only: false,
            fix: None,
        },
        start_command: None,
        build_command: None,
        required_env: Vec::new(),
        env: Vec::new(),
        dockerized: false,
        docker_files: Vec::new(),
        docker: Vec::new(),
        datastores: Vec::new(),
        mysql_native_password: false,
        postgres_tls_by_default: false,
        app_dir_named: false,
        workers: Vec::new(),
        health_path: None,
        apps: Vec::new(),
        notes: Vec::new(),
        evidence: Vec::new(),
    }
}

fn flask() -> Analysis {
    app("python", "flask")
}

fn with_required_env(mut analysis: Analysis, name: &str) -> Analysis {
    analysis.env.push(EnvVar {
        name: name.to_owned(),
        required: true,
        secret: true,
        default: None,
        url_scheme: None,
        kind: analysis::variable_kind(name),
        read_at_build: false,
    });
    analysis.required_env.push(name.to_owned());
    analysis
}

fn with_k8s_manifest(mut analysis: Analysis) -> Analysis {
    analysis.evidence.push(Evidence {
        fact: "docker".to_owned(),
        file: "k8s/deployment.yaml".to_owned(),
        line: None,
        detail: String::new(),
    });
    analysis
}

fn req(edit: impl FnOnce(&mut Requirements)) -> Requirements {
    let mut r = Requirements::default();
    edit(&mut r);
    r
}

/// Sums the `= $X` of each breakdown line.
fn breakdown_sum(choice: &Choice) -> f64 {
    choice
        .cost_breakdown
        .iter()
        .filter_map(|l| l.rsplit_once("= $"))
        .map(|(_, amount)| amount.parse::<f64>().unwrap())
        .sum()
}

struct Case {
    description: &'static str,
    analysis: Analysis,
    requirements: Requirements,
    target: Target,
    region: &'static str,
    instance_type: &'static str,
}

fn cases() -> Vec<Case> {
    let case = |description, analysis, requirements, target, region, instance_type| Case {
        description,
        analysis,
        requirements,
        target,
        region,
        instance_type,
    };
    vec![
        case(
            "nothing asked",
            flask(),
            req(|_| {}),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "high availability",
            flask(),
            req(|r| r.high_availability = true),
            Target::ContainerService,
            "ca-central-1",
            "fargate-512-1024",
        ),
        case(
            "high load",
            app("go", "gin"),
            req(|r| r.expected_load = Some("high".into())),
            Target::ContainerService,
            "ca-central-1",
            "fargate-512-1024",
        ),
        case(
            "medium load",
            flask(),
            req(|r| r.expected_load = Some("medium".into())),
            Target::Vm,
            "ca-central-1",
            "t2.medium",
        ),
        case(
            "scale to zero, small flask app",
            flask(),
            req(|r| r.scale_to_zero = true),
            Target::Serverless,
            "ca-central-1",
            "lambda-512",
        ),
        case(
            "cheap, small express app",
            app("node", "express"),
            req(|r| r.cost_sensitive = true),
            Target::Serverless,
            "ca-central-1",
            "lambda-512",
        ),
        case(
            "cheap typescript fastify app",
            app("typescript", "fastify"),
            req(|r| r.cost_sensitive = true),
            Target::Serverless,
            "ca-central-1",
            "lambda-512",
        ),
        case(
            "scale to zero but a database is asked for",
            flask(),
            req(|r| {
                r.scale_to_zero = true;
                r.database = Some("postgres".into())
            }),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "scale to zero but the app requires DATABASE_URL",
            with_required_env(app("python", "fastapi"), "DATABASE_URL"),
            req(|r| r.scale_to_zero = true),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "scale to zero but a Go app",
            app("go", "net-http"),
            req(|r| r.scale_to_zero = true),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "scale to zero but streamlit keeps sessions",
            app("python", "streamlit"),
            req(|r| r.scale_to_zero = true),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "explicit kubernetes",
            flask(),
            req(|r| r.target = Some("kubernetes".into())),
            Target::Kubernetes,
            "ca-central-1",
            "t3.medium",
        ),
        case(
            "explicit ecs",
            flask(),
            req(|r| r.target = Some("ecs".into())),
            Target::ContainerService,
            "ca-central-1",
            "fargate-512-1024",
        ),
        case(
            "explicit fargate, large",
            flask(),
            req(|r| {
                r.target = Some("fargate".into());
                r.size = Some("large".into())
            }),
            Target::ContainerService,
            "ca-central-1",
            "fargate-2048-4096",
        ),
        case(
            "explicit lambda despite a database",
            flask(),
            req(|r| {
                r.target = Some("lambda".into());
                r.database = Some("mysql".into())
            }),
            Target::Serverless,
            "ca-central-1",
            "lambda-512",
        ),
        case(
            "explicit vm wins over high availability",
            flask(),
            req(|r| {
                r.target = Some("vm".into());
                r.high_availability = true
            }),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "unknown explicit target falls back to rules",
            flask(),
            req(|r| r.target = Some("mainframe".into())),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "repository carries Kubernetes manifests",
            with_k8s_manifest(flask()),
            req(|_| {}),
            Target::Kubernetes,
            "ca-central-1",
            "t3.medium",
        ),
        case(
            "region named",
            flask(),
            req(|r| r.region = Some("eu-west-3".into())),
            Target::Vm,
            "eu-west-3",
            "t2.small",
        ),
        case(
            "region named in capitals",
            flask(),
            req(|r| r.region = Some("US-EAST-1".into())),
            Target::Vm,
            "us-east-1",
            "t2.small",
        ),
        case(
            "region that does not exist",
            flask(),
            req(|r| r.region = Some("mars-north-1".into())),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "instance type named",
            flask(),
            req(|r| r.size = Some("t3.micro".into())),
            Target::Vm,
            "ca-central-1",
            "t3.micro",
        ),
        case(
            "size word",
            flask(),
            req(|r| r.size = Some("large".into())),
            Target::Vm,
            "ca-central-1",
            "t2.large",
        ),
        case(
            "unreadable size",
            flask(),
            req(|r| r.size = Some("gigantic".into())),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "malformed instance type",
            flask(),
            req(|r| r.size = Some("t3.weird".into())),
            Target::Vm,
            "ca-central-1",
            "t2.small",
        ),
        case(
            "valid instance type outside the price table",
            flask(),
            req(|r| r.size = Some("c7g.xlarge".into())),
            Target::Vm,
            "ca-central-1",
            "c7g.xlarge",
        ),
        case(
            "kubernetes nodes sized by instance type",
            flask(),
            req(|r| {
                r.target = Some("eks".into());
                r.size = Some("m5.large".into())
            }),
            Target::Kubernetes,
            "ca-central-1",
            "m5.large",
        ),
    ]
}

#[test]
fn rules_choose_target_region_and_size_with_a_cost() {
    for case in cases() {
        let choice = choose(&case.analysis, &case.requirements);
        let d = case.description;
        assert_eq!(choice.target, case.target, "{d}: {:?}", choice.reasons);
        assert_eq!(choice.region, case.region, "{d}");
        assert_eq!(choice.instance_type, case.instance_type, "{d}");
        assert_eq!(choice.decided_by, "rules", "{d}");
        assert!(
            choice.monthly_cost_usd > 0.0,
            "{d}: {:?}",
            choice.cost_breakdown
        );
        assert!(!choice.reasons.is_empty(), "{d}");
        assert!(
            choice.reasons.iter().all(|r| r.ends_with('.')),
            "{d}: reasons are sentences: {:?}",
            choice.reasons
        );
        let sum = breakdown_sum(&choice);
        assert!(
            (sum - choice.monthly_cost_usd).abs() < 0.05,
            "{d}: lines add up to {sum}, total {}",
            choice.monthly_cost_usd
        );
        let source = choice.cost_breakdown.last().unwrap();
        assert!(
            source.contains("ca-central-1") && source.contains("recorded 2026-11"),
            "{d}: {source}"
        );
    }
}

#[test]
fn reasons_explain_defaults_and_rejections() {
    let choice = choose(&flask(), &req(|r| r.region = Some("mars-north-1".into())));
    assert!(
        choice
            .reasons
            .iter()
            .any(|r| r.contains("mars-north-1") && r.contains("not an AWS region"))
    );

    let choice = choose(
        &flask(),
        &req(|r| {
            r.scale_to_zero = true;
            r.database = Some("postgres".into())
        }),
    );
    assert!(
        choice
            .reasons
            .iter()
            .any(|r| r.contains("serverless does not fit") && r.contains("postgres")),
        "{:?}",
        choice.reasons
    );

    let named = analysis::parse_requirements("small web app on a single server");
    let choice = choose(&flask(), &named);
    assert!(
        choice
            .reasons
            .iter()
            .any(|r| r.contains("asks for vm (\"single server\")")),
        "the reason quotes the words that named the target: {:?}",
        choice.reasons
    );

    let choice = choose(&flask(), &req(|r| r.size = Some("c7g.xlarge".into())));
    assert!(
        choice
            .cost_breakdown
            .iter()
            .any(|l| l.contains("c7g.xlarge") && l.contains("not in the price table"))
    );

    let choice = choose(&flask(), &req(|r| r.region = Some("eu-west-3".into())));
    assert!(
        choice
            .cost_breakdown
            .iter()
            .any(|l| l.contains("eu-west-3 may differ"))
    );
}

#[test]
fn sizing_follows_the_target() {
    let vm = choose(&flask(), &Requirements::default());
    assert_eq!(
        (vm.replicas, vm.disk_gb, vm.memory_mib, vm.cpu_units),
        (1, 20, None, None)
    );
    assert!(
        vm.cost_breakdown
            .iter()
            .any(|l| l.starts_with("EC2 t2.small on-demand: 730 h × $"))
    );

    let ha = choose(&flask(), &req(|r| r.high_availability = true));
    assert_eq!(
        (ha.replicas, ha.memory_mib, ha.cpu_units),
        (2, Some(1024), Some(512))
    );
    assert!(
        ha.cost_breakdown
            .iter()
            .any(|l| l.starts_with("Application load balancer"))
    );

    let lambda = choose(&flask(), &req(|r| r.scale_to_zero = true));
    assert_eq!(lambda.memory_mib, Some(512));
    assert!(
        lambda
            .cost_breakdown
            .iter()
            .any(|l| l.starts_with("Lambda compute"))
    );
    assert!(
        lambda.monthly_cost_usd < vm.monthly_cost_usd,
        "serverless is the cheap option for a small app"
    );

    let eks = choose(&flask(), &req(|r| r.target = Some("kubernetes".into())));
    assert_eq!(eks.replicas, 2);
    assert!(
        eks.cost_breakdown
            .iter()
            .any(|l| l.starts_with("EKS control plane"))
    );
    assert!(eks.monthly_cost_usd > ha.monthly_cost_usd);
}

#[test]
fn an_llm_target_is_accepted_only_from_the_known_list() {
    let requirements = Requirements::default();
    let app = flask();
    let rules = choose(&app, &requirements);
    assert_eq!(rules.target, Target::Vm);

    let argued = vec!["The app is stateless and traffic is bursty.".to_owned()];
    let llm = accept_llm_choice(
        rules.clone(),
        "serverless",
        argued.clone(),
        &app,
        &requirements,
    );
    assert_eq!(llm.target, Target::Serverless);
    assert_eq!(llm.decided_by, "llm");
    assert_eq!(llm.reasons[0], argued[0]);
    assert!(
        llm.reasons
            .iter()
            .any(|r| r.starts_with("The rules had chosen vm"))
    );
    assert_eq!(
        llm.instance_type, "lambda-512",
        "sizing is redone for the new target"
    );
    assert_ne!(llm.monthly_cost_usd, rules.monthly_cost_usd);

    let synonym = accept_llm_choice(rules.clone(), "ECS", argued.clone(), &app, &requirements);
    assert_eq!(synonym.target, Target::ContainerService);

    let unknown = accept_llm_choice(rules.clone(), "heroku", argued, &app, &requirements);
    assert_eq!(unknown.target, Target::Vm);
    assert_eq!(unknown.decided_by, "rules");
    assert!(
        unknown
            .reasons
            .last()
            .unwrap()
            .contains("\"heroku\", which is not a known target")
    );

    let unargued = accept_llm_choice(
        rules.clone(),
        "kubernetes",
        vec!["  ".into()],
        &app,
        &requirements,
    );
    assert_eq!(unargued.target, Target::Vm);
    assert!(
        unargued
            .reasons
            .last()
            .unwrap()
            .contains("without giving reasons")
    );
}

#[test]
fn choices_round_trip_through_json_with_kebab_case_targets() {
    let choice = choose(&flask(), &req(|r| r.high_availability = true));
    let json = serde_json::to_value(&choice).unwrap();
    assert_eq!(json["target"], "container-service");
    let back: Choice = serde_json::from_value(json).unwrap();
    assert_eq!(back, choice);
    for target in Target::ALL {
        assert_eq!(Target::parse(target.as_str()), Some(target));
        assert_eq!(serde_json::to_value(target).unwrap(), target.as_str());
    }
}

#[test]
fn region_and_instance_type_shapes() {
    for region in [
        "ca-central-1",
        "us-gov-west-1",
        "ap-southeast-4",
        "eu-south-2",
    ] {
        assert!(is_aws_region(region), "{region}");
    }
    for region in ["ca-central-9", "canada", "us-east", ""] {
        assert!(!is_aws_region(region), "{region}");
    }
    for t in [
        "t2.small",
        "m6i.2xlarge",
        "c7gn.metal",
        "t4g.nano",
        "u-6tb1.metal",
        "m7i.metal-24xl",
    ] {
        assert!(is_instance_type(t), "{t}");
    }
    for t in [
        "t2",
        "small",
        "t2.huge",
        "T2.SMALL",
        ".small",
        "tt.small",
        "t3.x2large",
    ] {
        assert!(!is_instance_type(t), "{t}");
    }
}

#[test]
fn a_database_the_app_needs_runs_on_the_vm_and_the_estimate_says_so() {
    let mut analysis = with_required_env(flask(), "DATABASE_URL");
    analysis.datastores = vec!["postgres".to_owned()];
    // On the VM it runs on RDS: priced, with the password's secret and the
    // connection settings' one.
    let choice = choose(&analysis, &Requirements::default());
    assert_eq!(choice.target, Target::Vm);
    assert_eq!(choice.services.provisioned.len(), 1);
    assert!(choice.services.managed_on_vm);
    for expected in [
        "PostgreSQL db.t4g.micro: 730 h",
        "Secrets Manager secrets: 2 secret-month",
    ] {
        assert!(
            choice
                .cost_breakdown
                .iter()
                .any(|l| l.starts_with(expected)),
            "{expected}: {:#?}",
            choice.cost_breakdown
        );
    }
    assert!(
        choice
            .reasons
            .iter()
            .any(|r| r.contains("PostgreSQL run managed by AWS")),
        "{:#?}",
        choice.reasons
    );
    // The user's own database: the estimate no longer counts RDS.
    let theirs = choice.clone().with_given_values(&["DATABASE_URL"]);
    assert!(!theirs.services.managed_on_vm);
    assert!(theirs.monthly_cost_usd < choice.monthly_cost_usd - 10.0);

    // Asked for cheap, or for the database on the instance, or set up by
    // the repository's compose file, it runs beside the app at no charge
    // of its own.
    let beside = [
        req(|r| r.cost_sensitive = true),
        req(|r| r.managed_stores = Some(false)),
    ];
    let mut own_compose = analysis.clone();
    own_compose.docker_files = vec!["docker-compose.yml".to_owned()];
    for (analysis, requirements) in [
        (&analysis, &beside[0]),
        (&analysis, &beside[1]),
        (&own_compose, &Requirements::default()),
    ] {
        let on_vm = choose(
            analysis,
            &req(|r| {
                *r = requirements.clone();
                r.target = Some("vm".into());
            }),
        );
        assert_eq!(on_vm.target, Target::Vm);
        assert!(!on_vm.services.managed_on_vm, "{:#?}", on_vm.reasons);
        assert!(
            on_vm
                .cost_breakdown
                .iter()
                .any(|l| l.starts_with("PostgreSQL: runs on the instance beside the app")),
            "{:#?}",
            on_vm.cost_breakdown
        );
        assert!(
            !on_vm
                .cost_breakdown
                .iter()
                .any(|l| l.contains("db.t4g.micro"))
        );
    }
    // "managed database" wins over cheap.
    let asked = choose(
        &analysis,
        &req(|r| {
            r.cost_sensitive = true;
            r.managed_stores = Some(true);
            r.target = Some("vm".into());
        }),
    );
    assert!(asked.services.managed_on_vm, "{:#?}", asked.reasons);

    let serverless = accept_llm_choice(
        choice.clone(),
        "serverless",
        vec!["It must scale to zero.".to_owned()],
        &analysis,
        &Requirements::default(),
    );
    assert!(serverless.services.provisioned.is_empty());
    assert_eq!(
        serverless.services.not_provisioned[0].variables,
        ["DATABASE_URL"]
    );

    // Kubernetes runs it on RDS too; the connection settings are a
    // Kubernetes Secret, so only the password is in Secrets Manager.
    let kubernetes = accept_llm_choice(
        choice.clone(),
        "kubernetes",
        vec!["It must scale out.".to_owned()],
        &analysis,
        &Requirements::default(),
    );
    assert_eq!(kubernetes.services.provisioned[0].kind, StoreKind::Postgres);
    for expected in [
        "PostgreSQL db.t4g.micro: 730 h",
        "Secrets Manager secrets: 1 secret-month",
    ] {
        assert!(
            kubernetes
                .cost_breakdown
                .iter()
                .any(|l| l.starts_with(expected)),
            "{expected}: {:#?}",
            kubernetes.cost_breakdown
        );
    }

    let managed = accept_llm_choice(
        choice,
        "container-service",
        vec!["It must scale out.".to_owned()],
        &analysis,
        &Requirements::default(),
    );
    assert_eq!(managed.services.provisioned[0].kind, StoreKind::Postgres);
    let rds = managed
        .cost_breakdown
        .iter()
        .find(|l| l.starts_with("PostgreSQL db.t4g.micro: 730 h"))
        .unwrap_or_else(|| panic!("{:#?}", managed.cost_breakdown));
    assert!(rds.contains("× $"), "{rds}");
    assert!(
        managed
            .cost_breakdown
            .iter()
            .any(|l| l.starts_with("Secrets Manager secrets: 2 secret-month")),
        "{:#?}",
        managed.cost_breakdown
    );

    // The user's own database: the estimate no longer counts RDS.
    let theirs = managed.clone().with_given_values(&["DATABASE_URL"]);
    assert!(theirs.services.provisioned.is_empty());
    assert!(
        !theirs
            .cost_breakdown
            .iter()
            .any(|l| l.contains("db.t4g.micro") || l.contains("Secrets Manager")),
        "{:#?}",
        theirs.cost_breakdown
    );
    // The total counts exactly the lines that went.
    let priced = |line: &String| {
        line.rsplit_once("= $")
            .and_then(|(_, cost)| cost.parse::<f64>().ok())
    };
    let store_lines: f64 = managed
        .cost_breakdown
        .iter()
        .filter(|l| !theirs.cost_breakdown.contains(l))
        .filter_map(priced)
        .sum();
    assert!(store_lines > 10.0, "{:#?}", managed.cost_breakdown);
    assert!(
        (managed.monthly_cost_usd - theirs.monthly_cost_usd - store_lines).abs() < 0.02,
        "{} - {} != {store_lines}",
        managed.monthly_cost_usd,
        theirs.monthly_cost_usd
    );
}

#[test]
fn workers_are_said_to_be_left_out_where_only_the_web_process_runs() {
    let mut analysis = flask();
    analysis.workers = vec![analysis::Worker {
        name: "worker".to_owned(),
        command: "celery -A app worker".to_owned(),
    }];
    let said = |target: &str| {
        choose(&analysis, &req(|r| r.target = Some(target.to_owned())))
            .reasons
            .iter()
            .any(|r| r.contains("`worker` (`celery -A app worker`), are not run"))
    };
    assert!(said("container-service"));
    assert!(said("serverless"));
    assert!(!said("vm"));
    assert!(!said("docker-host"));
}

#[test]
fn a_cheap_app_with_a_worker_runs_on_a_vm_not_a_function() {
    let cheap = req(|r| r.cost_sensitive = true);
    assert_eq!(choose(&flask(), &cheap).target, Target::Serverless);

    let mut analysis = flask();
    analysis.workers = vec![analysis::Worker {
        name: "worker".to_owned(),
        command: "celery -A app worker".to_owned(),
    }];
    let choice = choose(&analysis, &cheap);
    assert_eq!(choice.target, Target::Vm, "{:?}", choice.reasons);
    assert!(
        choice
            .reasons
            .iter()
            .any(|r| r.contains("serverless does not fit")
                && r.contains("worker (worker: celery -A app worker)")),
        "{:?}",
        choice.reasons
    );
}

#[test]
fn a_vm_running_more_than_two_gib_of_containers_is_sized_up() {
    assert_eq!(
        choose(&flask(), &Requirements::default()).instance_type,
        "t2.small"
    );
    let mut rails = app("ruby", "rails");
    rails.workers = vec![analysis::Worker {
        name: "worker".to_owned(),
        command: "bundle exec sidekiq".to_owned(),
    }];
    rails.datastores = vec!["postgres".into(), "redis".into(), "elasticsearch".into()];
    let choice = choose(&rails, &req(|r| r.database = Some("postgres".into())));
    assert_eq!(choice.target, Target::Vm);
    assert_eq!(choice.instance_type, "t2.medium", "{:?}", choice.reasons);
    assert!(
        choice
            .reasons
            .iter()
            .any(|r| r.contains("its `worker` worker") && r.contains("a search engine")),
        "{:?}",
        choice.reasons
    );
    // A size the description asks for stands.
    let asked = choose(&rails, &req(|r| r.size = Some("t3.small".into())));
    assert_eq!(asked.instance_type, "t3.small");
}
