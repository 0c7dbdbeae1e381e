use std::fmt;

use serde::{Deserialize, Serialize};

/// The rule a [`Violation`](super::Violation) broke; its kebab-case name is
/// stable (checkpoints and the LLM repair prompt carry it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The file is not valid HCL, or a block lacks its labels.
    ParseError,
    /// Only `*.tf` files: `.tf.json`, `.tfvars` and others would be loaded unchecked.
    FileNotAllowed,
    /// A top-level block Terraform accepts but the gate does not (`import`, `check`...).
    BlockNotAllowed,
    ProviderNotAllowed,
    /// A `required_providers` entry without a version constraint.
    ProviderVersion,
    /// Credentials written into a provider block.
    ProviderCredentials,
    ResourceNotAllowed,
    /// `data "external"` or `data "http"`: they run programs or reach the network at plan time.
    DataSourceForbidden,
    DataSourceNotAllowed,
    /// Any `provisioner` (`local-exec`, `remote-exec`, `file`).
    Provisioner,
    /// A module from anywhere but a local `./` path.
    ModuleSource,
    /// A `backend` or `cloud` block other than the one deployflow sets.
    Backend,
    RegionNotPinned,
    InstanceTypeNotPinned,
    /// Ingress from the whole internet on anything but the app port.
    WorldIngress,
    /// An ingress rule whose source or ports the gate cannot read as literals.
    IngressUnverifiable,
    /// Reading files of the machine that runs terraform (other than the bundle).
    LocalFile,
    MissingOutput,
    /// A variable with no default that deployflow does not supply.
    UnsuppliedVariable,
    /// A provider argument deployflow's templates do not set (`exec`,
    /// `assume_role`, `profile`, `endpoints`...).
    ProviderArgument,
    /// An IAM action outside the allow-list, `*` resources on scoped
    /// actions, `Not*` elements, or a policy the gate cannot read.
    IamAction,
    /// A trust policy for anything but an AWS service.
    IamPrincipal,
    /// An AWS-managed policy outside the allow-list, or attached out of sight.
    IamManagedPolicy,
    /// A resource of the account this deployment did not create, named by
    /// literal id, ARN or name.
    ForeignResource,
    /// A data source reading beyond what a deployment needs (an SSM
    /// parameter outside `/aws/service/`, an AMI without a trusted owner).
    DataSourceScope,
    /// A `count` or replica size that is not a literal within the bound.
    SizeNotBounded,
    /// An object key that is not a literal, or one written twice: Terraform
    /// reads the last (or the computed) one, the gate could read another.
    ObjectKey,
    /// A string with a `%{ if }` or `%{ for }` directive: its text is only
    /// known once evaluated (a literal id behind a condition).
    TemplateDirective,
    /// A character Terraform and the gate may read differently (control
    /// characters, Unicode spaces and invisible marks, invalid UTF-8).
    Character,
    /// A lifecycle setting or argument that keeps a resource from being
    /// destroyed or takes over one that exists (`prevent_destroy`, `overwrite`).
    Lifecycle,
    /// An `ephemeral` block of a type this deployment does not need.
    EphemeralNotAllowed,
    /// A database or cache open to the internet or unencrypted, or a
    /// password written where the state keeps it.
    StoreExposure,
    /// An output that reads the app's settings or a secret, or is marked
    /// sensitive; `nonsensitive()` of anything but names.
    SecretExposure,
    /// An argument, nested block or tag its resource type is not given by
    /// deployflow's templates: the rules read what is there, this bounds
    /// what may be there.
    ArgumentNotAllowed,
    /// A Kubernetes pod or service given more than the app needs: the
    /// node's namespaces, files or ports, privileges, added capabilities, a
    /// service-account token, external IPs.
    PodPrivilege,
    /// A record the templates keep switched off: a container without its
    /// log configuration, an EKS cluster without its audit logs.
    LogsOff,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::ParseError => "parse-error",
            Rule::FileNotAllowed => "file-not-allowed",
            Rule::BlockNotAllowed => "block-not-allowed",
            Rule::ProviderNotAllowed => "provider-not-allowed",
            Rule::ProviderVersion => "provider-version",
            Rule::ProviderCredentials => "provider-credentials",
            Rule::ResourceNotAllowed => "resource-not-allowed",
            Rule::DataSourceForbidden => "data-source-forbidden",
            Rule::DataSourceNotAllowed => "data-source-not-allowed",
            Rule::Provisioner => "provisioner",
            Rule::ModuleSource => "module-source",
            Rule::Backend => "backend",
            Rule::RegionNotPinned => "region-not-pinned",
            Rule::InstanceTypeNotPinned => "instance-type-not-pinned",
            Rule::WorldIngress => "world-ingress",
            Rule::IngressUnverifiable => "ingress-unverifiable",
            Rule::LocalFile => "local-file",
            Rule::MissingOutput => "missing-output",
            Rule::UnsuppliedVariable => "unsupplied-variable",
            Rule::ProviderArgument => "provider-argument",
            Rule::IamAction => "iam-action",
            Rule::IamPrincipal => "iam-principal",
            Rule::IamManagedPolicy => "iam-managed-policy",
            Rule::ForeignResource => "foreign-resource",
            Rule::DataSourceScope => "data-source-scope",
            Rule::SizeNotBounded => "size-not-bounded",
            Rule::ObjectKey => "object-key",
            Rule::TemplateDirective => "template-directive",
            Rule::Character => "character",
            Rule::Lifecycle => "lifecycle",
            Rule::EphemeralNotAllowed => "ephemeral-not-allowed",
            Rule::StoreExposure => "store-exposure",
            Rule::SecretExposure => "secret-exposure",
            Rule::ArgumentNotAllowed => "argument-not-allowed",
            Rule::PodPrivilege => "pod-privilege",
            Rule::LogsOff => "logs-off",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
