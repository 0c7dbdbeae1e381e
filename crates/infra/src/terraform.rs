//! The Terraform for a chosen target: vetted templates rendered from the
//! [`Choice`](crate::choose::Choice) and the app's facts ([`render`]), and the
//! LLM path that may write its own ([`generate`]), which is only accepted
//! when it passes the policy gate ([`crate::policy::check`]).
//!
//! What the rendered files expect when they are applied:
//! - AWS credentials in the environment of `terraform` (never in the files);
//! - `vm`: `-var bundle_path=<bundle .tar.gz>` (Makefile at the archive root);
//! - `container-service`, `serverless`, `kubernetes`: the app image pushed to
//!   the `ecr_repository_url` output, tagged `image_tag` (the Lambda function
//!   cannot be created before the image exists: apply
//!   `-target=aws_ecr_repository.app` first);
//! - optionally `TF_VAR_app_env`, a map of the app's environment values.
//!
//! Every target has an `app_url` output.

mod generate;
mod inputs;
mod render;
mod stores;

pub use generate::{
    AttemptOutcome, AttemptReport, AuthorRequest, Generated, Source, TerraformAuthor, generate,
};
pub use inputs::{HOST_PORT, TerraformInputs, resource_name};
pub use render::render;

/// The variable holding the local path of the bundle archive (`vm` only).
pub const BUNDLE_PATH_VARIABLE: &str = "bundle_path";

/// Whether a configuration's `.tf` files declare the variable `name`, as
/// Terraform reads them (comments, spacing and label forms aside): a
/// command line that passes an undeclared variable, or leaves out a
/// declared one without a default, is refused before anything runs.
pub fn declares_variable<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    name: &str,
) -> bool {
    files
        .into_iter()
        .filter(|(path, _)| path.ends_with(".tf"))
        .filter_map(|(_, text)| hcl::parse(std::str::from_utf8(text).ok()?).ok())
        .any(|body| {
            body.blocks().any(|block| {
                block.identifier() == "variable"
                    && block
                        .labels()
                        .first()
                        .is_some_and(|label| label.as_str() == name)
            })
        })
}

/// The data source a Kubernetes configuration reads the cluster's
/// short-lived token from (its provider block's `token`).
pub const CLUSTER_TOKEN_DATA_SOURCE: &str = "aws_eks_cluster_auth";

/// The addresses (`data.KIND.NAME`) of the data sources of `kind` the `.tf`
/// files declare, read as Terraform reads them.
pub fn data_source_addresses<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    kind: &str,
) -> Vec<String> {
    let mut addresses: Vec<String> = files
        .into_iter()
        .filter(|(path, _)| path.ends_with(".tf"))
        .filter_map(|(_, text)| hcl::parse(std::str::from_utf8(text).ok()?).ok())
        .flat_map(|body| {
            body.blocks()
                .filter(|block| block.identifier() == "data")
                .filter_map(|block| match block.labels() {
                    [found, name] if found.as_str() == kind => {
                        Some(format!("data.{kind}.{}", name.as_str()))
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    addresses.sort();
    addresses.dedup();
    addresses
}

/// The variable the image targets' apply passes the image's tag in
/// (`-var=image_tag=…`).
pub const IMAGE_TAG_VARIABLE: &str = "image_tag";
/// The sensitive map of the app's environment values, by name.
pub const APP_ENV_VARIABLE: &str = "app_env";

#[cfg(test)]
mod tests {
    use super::{CLUSTER_TOKEN_DATA_SOURCE, data_source_addresses, declares_variable};

    #[test]
    fn the_cluster_token_data_sources_are_found_as_terraform_reads_them() {
        let text = "# data \"aws_eks_cluster_auth\" \"commented\" {}\ndata \"aws_eks_cluster_auth\" \"main\" {\n  name = aws_eks_cluster.main.name\n}\ndata aws_eks_cluster_auth other {\n  name = \"x\"\n}\ndata \"aws_region\" \"current\" {}\n";
        assert_eq!(
            data_source_addresses(
                [("eks.tf", text.as_bytes()), ("notes.md", text.as_bytes())],
                CLUSTER_TOKEN_DATA_SOURCE
            ),
            [
                "data.aws_eks_cluster_auth.main",
                "data.aws_eks_cluster_auth.other"
            ]
        );
    }

    #[test]
    fn a_variable_is_declared_as_terraform_reads_it() {
        let declares =
            |text: &str| declares_variable([("variables.tf", text.as_bytes())], "bundle_path");
        assert!(declares("variable \"bundle_path\" {\n  type = string\n}\n"));
        assert!(declares(
            "variable  \"bundle_path\" {\n  type = string\n}\n"
        ));
        assert!(declares("variable bundle_path {\n  type = string\n}\n"));
        assert!(!declares(
            "# There is no variable \"bundle_path\" here.\nvariable \"image_tag\" {}\n"
        ));
        assert!(!declares_variable(
            [("notes.md", b"variable \"bundle_path\" {}\n".as_slice())],
            "bundle_path"
        ));
    }
}
