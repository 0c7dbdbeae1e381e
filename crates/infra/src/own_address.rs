//! The app's own address: the variables an app reads where its users reach it
//! from (`BASE_URL`, `APP_URL`, `ALLOWED_HOSTS`, `PHX_HOST`), and the form each
//! takes. A deployment knows that address, so a required one is filled in
//! where the user gave none: `make up`'s local address in the bundle, the load
//! balancer's on the container service and Kubernetes.

use analysis::{Analysis, VariableKind};
use serde::{Deserialize, Serialize};

/// How a variable holds the app's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressForm {
    /// A URL with scheme, host and port (`BASE_URL`).
    Url,
    /// A bare host name (`PHX_HOST`, `APP_HOST`).
    Host,
    /// A list of host names the app answers for (`ALLOWED_HOSTS`): `*`,
    /// which matches any. Apps split such a list on commas or on spaces, so a
    /// list would be read wrong by half of them; and a load balancer's health
    /// checks arrive with the task's own address as their host.
    AnyHost,
}

impl AddressForm {
    /// The form `name` holds, by its name.
    pub fn of(name: &str) -> AddressForm {
        let upper = name.to_ascii_uppercase();
        if upper.ends_with("ALLOWED_HOSTS") {
            AddressForm::AnyHost
        } else if upper.ends_with("_HOST") {
            AddressForm::Host
        } else {
            AddressForm::Url
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AddressForm::Url => "url",
            AddressForm::Host => "host",
            AddressForm::AnyHost => "any-host",
        }
    }
}

/// The variables the app needs set to its own address, with their form.
pub fn required(analysis: &Analysis) -> Vec<(String, AddressForm)> {
    let listed = analysis
        .env
        .iter()
        .filter(|var| var.required && var.kind == VariableKind::OwnAddress)
        .map(|var| var.name.as_str());
    let unlisted = analysis
        .required_env
        .iter()
        .filter(|name| !analysis.env.iter().any(|var| &var.name == *name))
        .filter(|name| analysis::variable_kind(name) == VariableKind::OwnAddress)
        .map(String::as_str);
    let mut names: Vec<(String, AddressForm)> = listed
        .chain(unlisted)
        .map(|name| (name.to_owned(), AddressForm::of(name)))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_follows_the_name() {
        for (name, form) in [
            ("BASE_URL", AddressForm::Url),
            ("NEXTAUTH_URL", AddressForm::Url),
            ("APP_URL", AddressForm::Url),
            ("ALLOWED_HOSTS", AddressForm::AnyHost),
            ("DJANGO_ALLOWED_HOSTS", AddressForm::AnyHost),
            ("PHX_HOST", AddressForm::Host),
            ("app_host", AddressForm::Host),
        ] {
            assert_eq!(AddressForm::of(name), form, "{name}");
        }
    }
}
