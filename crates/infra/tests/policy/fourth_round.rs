//! A fourth round of attacks by a tester who saw only the code: the
//! operator's cluster token handed to pods, names that nest under an own
//! ARN, another team's task family or log group, a node group without the
//! launch template that guards its metadata, fleets written block by block,
//! a default for the one file the gate lets Terraform read, and a load
//! balancer without the security groups that decide its open ports.

use super::*;

fn service(name: &str) -> String {
    format!(
        "resource \"aws_ecs_service\" \"{name}\" {{\n  name            = \"{name}\"\n  cluster         = aws_ecs_cluster.main.id\n  task_definition = aws_ecs_task_definition.app.arn\n  desired_count   = 2\n}}\n"
    )
}

fn function(name: &str) -> String {
    format!(
        "resource \"aws_lambda_function\" \"{name}\" {{\n  function_name                  = \"{name}\"\n  role                           = aws_iam_role.fn.arn\n  package_type                   = \"Image\"\n  image_uri                      = \"${{aws_ecr_repository.app.repository_url}}:v1\"\n  reserved_concurrent_executions = 10\n}}\n"
    )
}

const LAUNCH_TEMPLATE: &str = "  launch_template {\n    id      = aws_launch_template.nodes.id\n    version = aws_launch_template.nodes.latest_version\n  }\n";

fn node_group(name: &str, launch_template: &str) -> String {
    format!(
        "resource \"aws_eks_node_group\" \"{name}\" {{\n  cluster_name  = aws_eks_cluster.main.name\n  node_role_arn = aws_iam_role.nodes.arn\n  subnet_ids    = aws_subnet.private[*].id\n{launch_template}}}\n"
    )
}

fn task_definition(family: &str, log_group: &str) -> String {
    format!(
        r#"resource "aws_ecs_task_definition" "x" {{
  family = {family}
  container_definitions = jsonencode([{{
    name  = "app"
    image = "${{aws_ecr_repository.app.repository_url}}:v1"
    logConfiguration = {{
      logDriver = "awslogs"
      options = {{
        awslogs-group  = {log_group}
        awslogs-region = "ca-central-1"
      }}
    }}
  }}])
}}"#
    )
}

fn policy_document(actions: &str, resource: &str) -> String {
    format!(
        "data \"aws_iam_policy_document\" \"x\" {{\n  statement {{\n    actions   = [{actions}]\n    resources = [\"{resource}\"]\n  }}\n}}\n"
    )
}

#[test]
fn a_fourth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let job = Policy::for_job(&choice(Target::ContainerService), "job-4");
    let serverless = Policy::for_choice(&choice(Target::Serverless));
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let own_family = format!("\"{}-app\"", infra::terraform::resource_name("job-4"));
    assert_each_refused(vec![
        (
            "a node group without a launch template, its metadata open to the pods",
            node_group("x", ""),
            &[Rule::PodPrivilege],
            &kubernetes,
        ),
        (
            "the operator's cluster token in an output",
            "output \"t\" {\n  value     = data.aws_eks_cluster_auth.main.token\n  sensitive = true\n}\n".to_owned(),
            &[Rule::ProviderCredentials, Rule::SecretExposure],
            &kubernetes,
        ),
        (
            "the operator's cluster token through a local",
            "locals {\n  auth = data.aws_eks_cluster_auth.main\n}\n".to_owned(),
            &[Rule::ProviderCredentials, Rule::DataSourceScope],
            &kubernetes,
        ),
        (
            "every ECR repository named under an own one",
            policy_document(
                "\"ecr:BatchGetImage\", \"ecr:GetDownloadUrlForLayer\"",
                "${aws_ecr_repository.cache.arn}/*",
            ),
            &[Rule::IamAction],
            &container_service,
        ),
        (
            "every log group under /aws through an own group named /aws",
            policy_document(
                "\"logs:PutLogEvents\"",
                "${aws_cloudwatch_log_group.x.arn}/*",
            ),
            &[Rule::IamAction],
            &serverless,
        ),
        (
            "a revision of another team's task family",
            task_definition("\"payments-api\"", "aws_cloudwatch_log_group.app.name"),
            &[Rule::ForeignResource],
            &job,
        ),
        (
            "the app's logs into another team's log group",
            task_definition(&own_family, "\"/ecs/payments\""),
            &[Rule::ForeignResource],
            &job,
        ),
        (
            "a fleet of services written block by block",
            [service("a"), service("b"), service("c")].concat(),
            &[Rule::SizeNotBounded],
            &container_service,
        ),
        (
            "a fleet of node groups written block by block",
            [
                node_group("a", LAUNCH_TEMPLATE),
                node_group("b", LAUNCH_TEMPLATE),
                node_group("c", LAUNCH_TEMPLATE),
            ]
            .concat(),
            &[Rule::SizeNotBounded],
            &kubernetes,
        ),
        (
            "functions that reserve the account's concurrency together",
            [function("a"), function("b"), function("c")].concat(),
            &[Rule::SizeNotBounded],
            &serverless,
        ),
        (
            "a bucket whose objects are locked for years: no destroy succeeds",
            "resource \"aws_s3_bucket\" \"x\" {\n  bucket_prefix       = \"x-\"\n  object_lock_enabled = true\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
        (
            "a service joined to another team's Service Connect namespace",
            "resource \"aws_ecs_service\" \"x\" {\n  name            = \"x\"\n  cluster         = aws_ecs_cluster.main.id\n  task_definition = aws_ecs_task_definition.app.arn\n  service_connect_configuration {\n    enabled   = true\n    namespace = \"payments\"\n  }\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "a network load balancer with no security group, forwarding SSH to the tasks",
            "resource \"aws_lb\" \"ssh\" {\n  name               = \"ssh\"\n  load_balancer_type = \"network\"\n  subnets            = aws_subnet.public[*].id\n}\n".to_owned(),
            &[Rule::WorldIngress],
            &container_service,
        ),
        (
            "a load balancer whose security groups are an empty list",
            "resource \"aws_lb\" \"x\" {\n  name            = \"x\"\n  security_groups = []\n  subnets         = aws_subnet.public[*].id\n}\n".to_owned(),
            &[Rule::WorldIngress],
            &container_service,
        ),
        (
            "a default for the bundle path: a file of the worker wherever it is not passed",
            "variable \"bundle_path\" {\n  type    = string\n  default = \"/root/.aws/credentials\"\n}\n".to_owned(),
            &[Rule::LocalFile],
            &vm,
        ),
    ]);
    // What the templates write still passes: a bucket's objects, a log
    // group's streams, the job's own family and log group, one service.
    for (extra, policy) in [
        (
            policy_document("\"s3:GetObject\"", "${aws_s3_bucket.b.arn}/*"),
            &vm,
        ),
        (
            policy_document(
                "\"logs:CreateLogStream\", \"logs:PutLogEvents\"",
                "${aws_cloudwatch_log_group.x.arn}:*",
            ),
            &serverless,
        ),
        (
            task_definition(&own_family, "aws_cloudwatch_log_group.app.name"),
            &job,
        ),
        ([service("a"), service("b")].concat(), &container_service),
        (node_group("x", LAUNCH_TEMPLATE), &kubernetes),
        (
            "resource \"aws_lb\" \"x\" {\n  name            = \"x\"\n  security_groups = [aws_security_group.alb.id]\n  subnets         = aws_subnet.public[*].id\n}\n".to_owned(),
            &container_service,
        ),
    ] {
        assert_passes(&extra, policy);
    }
}
