//! A twelfth round of attacks, after the argument allow-list: values the
//! gate computed differently from Terraform (text outside ASCII, where
//! Terraform counts grapheme clusters and keeps `ﬀ` one letter), secrets
//! read through a `for` variable or a parenthesised reference, names that
//! accounts grant or exempt by, references that can be null, the app URL's
//! user-name trick, and fleets of cheap resources that use up quotas.

use super::*;

#[test]
fn a_twelfth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let serverless = Policy::for_choice(&choice(Target::Serverless));
    let job = Policy::for_job(
        &choice(Target::ContainerService),
        "0190a4b2-7c3d-7abc-8def-0123456789ab",
    );
    assert_each_refused(vec![
        (
            "an instance type Terraform cuts out of text with combining marks",
            format!(
                "resource \"aws_instance\" \"x\" {{\n  {}\n}}\n",
                INSTANCE.replace(
                    "\"t2.small\"",
                    "trimsuffix(substr(\"e\u{301}\u{301}t2.smallXYZp5.48xlarge\", 3, 11), \"XYZ\")"
                )
            ),
            &[Rule::InstanceTypeNotPinned],
            &vm,
        ),
        (
            "a region upper-cased through a ligature",
            "provider \"aws\" {\n  alias  = \"other\"\n  region = lower(substr(upper(\"\u{fb00}ca-central-1eu-central-1\"), 2, 12))\n}\n".to_owned(),
            &[Rule::RegionNotPinned],
            &vm,
        ),
        (
            "a parameter's value in a tag, read through a for variable",
            "resource \"aws_vpc\" \"x\" {\n  cidr_block = \"10.9.0.0/16\"\n  tags       = { Name = one([for p in aws_ssm_parameter.env : p.value if endswith(p.name, \"/STRIPE_API_KEY\")]) }\n}\n".to_owned(),
            &[Rule::SecretExposure, Rule::ArgumentNotAllowed],
            &vm,
        ),
        (
            "a parameter's value in a description, through parentheses and try()",
            "resource \"aws_security_group\" \"x\" {\n  vpc_id      = aws_vpc.main.id\n  description = \"lb ${try((aws_ssm_parameter.env[\"STRIPE_API_KEY\"]).value, \"\")}\"\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &container_service,
        ),
        (
            "Elastic IPs by the dozen (five per region, billed while idle)",
            "resource \"aws_eip\" \"spare_0\" {\n  count  = 3\n  domain = \"vpc\"\n}\n\nresource \"aws_eip\" \"spare_1\" {\n  count  = 3\n  domain = \"vpc\"\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "networks beside the deployment's own",
            "resource \"aws_vpc\" \"spare\" {\n  count      = 3\n  cidr_block = \"10.100.0.0/16\"\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &vm,
        ),
        (
            "an instance whose subnet and security groups are null and empty",
            "resource \"aws_instance\" \"x\" {\n  ami                    = data.aws_ami.ubuntu.id\n  instance_type          = \"t2.small\"\n  subnet_id              = one([])\n  vpc_security_group_ids = compact([])\n  metadata_options {\n    http_tokens                 = \"required\"\n    http_put_response_hop_limit = 1\n  }\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "a service in the account's default cluster",
            "resource \"aws_ecs_service\" \"x\" {\n  name            = \"x\"\n  cluster         = one([])\n  task_definition = aws_ecs_task_definition.app.arn\n  desired_count   = 1\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "a role named like the single sign-on roles guardrails spare",
            "resource \"aws_iam_role\" \"task\" {\n  name_prefix        = \"AWSReservedSSO_AdministratorAccess_\"\n  assume_role_policy = jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Action = \"sts:AssumeRole\", Principal = { Service = \"ecs-tasks.amazonaws.com\" } }] })\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &job,
        ),
        (
            "a secret named into another team's folder",
            "resource \"aws_secretsmanager_secret\" \"x\" {\n  name_prefix             = \"prod/shared/store-env-\"\n  recovery_window_in_days = 0\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &job,
        ),
        (
            "a public invoke whose function URL condition is null",
            "resource \"aws_lambda_permission\" \"x\" {\n  statement_id           = \"x\"\n  action                 = \"lambda:InvokeFunction\"\n  function_name          = aws_lambda_function.app.function_name\n  principal              = \"*\"\n  function_url_auth_type = try(null, \"NONE\")\n}\n".to_owned(),
            &[Rule::IamPrincipal],
            &serverless,
        ),
        (
            "the app URL's host turned into a user name",
            BASE.replace(
                "value = \"http://${aws_eip.app.public_ip}:8080\"",
                "value = \"http://${aws_eip.app.public_ip}${\"@app-status.example.net\"}:8080/\"",
            ),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "the provider from another registry",
            BASE.replace("\"hashicorp/aws\"", "\"registry.opentofu.org/hashicorp/aws\""),
            &[Rule::ProviderNotAllowed],
            &vm,
        ),
        (
            "tasks eight times the size the deployment was chosen at",
            "resource \"aws_ecs_task_definition\" \"x\" {\n  family                = \"x\"\n  cpu                   = 4096\n  memory                = 8192\n  container_definitions = jsonencode([{ name = \"app\", image = \"${aws_ecr_repository.app.repository_url}:1\" }])\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &container_service,
        ),
    ]);
}

#[test]
fn the_sizes_of_the_choice_and_the_templates_text_pass() {
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let size = container_service.max_task_size.expect("a Fargate size");
    assert_passes(
        &format!(
            "resource \"aws_ecs_task_definition\" \"x\" {{\n  family                = \"x\"\n  cpu                   = {}\n  memory                = {}\n  container_definitions = jsonencode([{{ name = \"app\", image = \"${{aws_ecr_repository.app.repository_url}}:1\", logConfiguration = {{ logDriver = \"awslogs\", options = {{ awslogs-group = aws_cloudwatch_log_group.app.name }} }} }}])\n}}\n",
            size.cpu.unwrap(),
            size.memory
        ),
        &container_service,
    );
    assert_passes(
        "resource \"aws_vpc\" \"x\" {\n  count      = 1\n  cidr_block = \"10.9.0.0/16\"\n  tags       = { Name = \"${local.name}-vpc-${count.index}\" }\n}\n\nlocals {\n  name = \"df-x\"\n}\n",
        &vm_policy(),
    );
}
