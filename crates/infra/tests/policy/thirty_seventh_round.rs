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
