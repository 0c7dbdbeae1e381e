//! A thirty-seventh round of attacks: a data source tied by `depends_on`
//! (or a `lifecycle` condition, `count`, `for_each`) to a value AWS changes
//! by itself, a cluster's version, read fine at the first apply and failed
//! once that value moved; the cluster token depending on it failed with it,
//! in the destroy's own refresh of the token, so a Kubernetes deployment
//! could not be destroyed.

use super::*;

#[test]
fn a_data_source_is_read_plainly() {
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let platform = "data \"aws_availability_zones\" \"platform\" {\n  state = \"available\"\n}\n";
    assert_each_refused(vec![
        (
            "the cluster token waiting on another data source",
            format!(
                "{platform}data \"aws_eks_cluster_auth\" \"other\" {{\n  name       = aws_eks_cluster.main.name\n  depends_on = [data.aws_availability_zones.platform]\n}}\n"
            ),
            &[Rule::ArgumentNotAllowed],
            &kubernetes,
        ),
        (
            "a postcondition on what a data source read",
            "data \"aws_availability_zones\" \"platform\" {\n  state = \"available\"\n  lifecycle {\n    postcondition {\n      condition     = length(self.names) > 2\n      error_message = \"zones\"\n    }\n  }\n}\n".to_owned(),
            &[Rule::ArgumentNotAllowed],
            &kubernetes,
        ),
        (
            "a counted data source",
            "data \"aws_availability_zones\" \"platform\" {\n  count = 1\n  state = \"available\"\n}\n".to_owned(),
            &[Rule::ArgumentNotAllowed],
            &kubernetes,
        ),
    ]);
    let report = check_with(
        &format!(
            "{platform}data \"aws_eks_cluster_auth\" \"other\" {{\n  name       = aws_eks_cluster.main.name\n  depends_on = [data.aws_availability_zones.platform]\n}}\n"
        ),
        &kubernetes,
    );
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.message.contains("depends_on on a data source is refused")),
        "{}",
        messages(&report)
    );
    assert_passes(platform, &kubernetes);
}

/// The newest image's name ends in the day it was built: a condition on
/// it fails every plan once a newer one is published. Only what a
/// deployment needs of a data source may be read.
#[test]
fn only_what_a_deployment_needs_of_a_data_source_is_read() {
    let vm = vm_policy();
    let ami = "data \"aws_ami\" \"built\" {\n  most_recent = true\n  owners      = [\"099720109477\"]\n  filter {\n    name   = \"name\"\n    values = [\"ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*\"]\n  }\n}\n";
    assert_each_refused(vec![
        (
            "a date read from the image's name",
            format!(
                "{ami}locals {{\n  zone = [\"available\"][parseint(substr(data.aws_ami.built.name, -8, -1), 10) > 20260801 ? 1 : 0]\n}}\n"
            ),
            &[Rule::DataSourceScope],
            &vm,
        ),
        (
            "the image's creation date",
            format!("{ami}output \"built\" {{\n  value = data.aws_ami.built.creation_date\n}}\n"),
            &[Rule::DataSourceScope],
            &vm,
        ),
        (
            "the whole image",
            format!("{ami}output \"built\" {{\n  value = jsonencode(data.aws_ami.built)\n}}\n"),
            &[Rule::DataSourceScope],
            &vm,
        ),
    ]);
    assert_passes(
        &format!("{ami}output \"image\" {{\n  value = data.aws_ami.built.id\n}}\n"),
        &vm,
    );
}
