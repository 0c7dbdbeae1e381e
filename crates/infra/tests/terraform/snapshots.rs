//! Snapshots of what deployflow generates for a few apps: the bundle's
//! Dockerfile, compose file and Makefile, and every Terraform file. A change
//! to a template or a generator shows here as a reviewable diff
//! (`cargo insta review`, or accept with `INSTA_UPDATE=always`).

use super::*;

fn generated(snapshot: &Snapshot, description: &str, target: Target) -> String {
    let (analysis, choice) = decide(snapshot, description, target);
    let bundle = infra::bundle::bundle(
        &analysis,
        snapshot,
        &choice,
        &infra::bundle::BundleOptions::default(),
    )
    .unwrap();
    let mut inputs = TerraformInputs::new(choice, JOB, &analysis);
    inputs.container_command = bundle.start_with_migration.clone();
    let terraform = render(&inputs).unwrap();
    let report = check(&terraform, &Policy::for_choice(&inputs.choice));
    assert!(report.passed, "{:#?}", report.violations);
    let bundle_files = ["Dockerfile", bundle.compose_file.as_str(), "Makefile"]
        .into_iter()
        .map(|name| (format!("bundle/{name}"), bundle.files[name].clone()));
    let terraform_files = terraform
        .into_iter()
        .map(|(name, text)| (format!("terraform/{name}"), text));
    bundle_files
        .chain(terraform_files)
        .map(|(name, text)| format!("==== {name} ====\n{text}\n"))
        .collect()
}

#[test]
fn a_django_app_with_postgres_and_redis_on_the_container_service() {
    insta::assert_snapshot!(generated(
        &stores::django_app(),
        "a public API",
        Target::ContainerService
    ));
}

#[test]
fn a_django_app_with_postgres_and_redis_on_kubernetes() {
    insta::assert_snapshot!(generated(
        &stores::django_app(),
        "a public API",
        Target::Kubernetes
    ));
}

#[test]
fn an_express_app_on_a_vm() {
    insta::assert_snapshot!(generated(&express_app(), "a small API", Target::Vm));
}
