//! Variables the app reads when it is built, not only when it runs: the
//! public variables bundlers write into the pages they build (Next.js,
//! Nuxt, Vite, Create React App, Gatsby, Astro, SvelteKit, Expo), and those
//! a repository's own Dockerfile declares with `ARG`. They reach the build
//! as build arguments, with the same "required, give a value" handling as
//! the run-time environment.

use super::env::ComposeEnv;
use analysis::Analysis;

/// Prefixes of the variables bundlers inline at build time.
const PUBLIC_PREFIXES: &[&str] = &[
    "NEXT_PUBLIC_",
    "NUXT_PUBLIC_",
    "VITE_",
    "REACT_APP_",
    "GATSBY_",
    "PUBLIC_",
    "EXPO_PUBLIC_",
    "VUE_APP_",
];

/// Whether a bundler writes `name`'s value into the built pages.
pub(super) fn inlined_at_build(name: &str) -> bool {
    PUBLIC_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Every variable the analysis found the app reading.
fn app_variables(analysis: &Analysis) -> impl Iterator<Item = &str> {
    analysis
        .env
        .iter()
        .map(|v| v.name.as_str())
        .chain(analysis.required_env.iter().map(String::as_str))
}

/// The analysis' variables a generated image's build reads: the public
/// ones, and those a bundler's configuration reads (`next.config.js`'s
/// `env:` writes them into the pages), unless they are secrets, which stay
/// out of the image's history.
pub(super) fn generated_build_args(analysis: &Analysis) -> Vec<String> {
    let configured = analysis
        .env
        .iter()
        .filter(|v| v.read_at_build && !v.secret)
        .map(|v| v.name.as_str());
    let mut names: Vec<String> = app_variables(analysis)
        .filter(|name| inlined_at_build(name))
        .chain(configured)
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The app's variables that `dockerfile` declares with `ARG`: those passed
/// as build arguments, and the secrets among them, which are not: a build
/// argument's value stays in the image's history (`docker history`), for
/// whoever can pull the image.
pub(super) fn declared_app_args(analysis: &Analysis, dockerfile: &str) -> DeclaredArgs {
    let mut declared = DeclaredArgs::default();
    for name in declared_args(dockerfile) {
        if !app_variables(analysis).any(|v| v == name) || declared.contains(&name) {
            continue;
        }
        if analysis::is_secret(&name) || analysis.env.iter().any(|v| v.name == name && v.secret) {
            declared.withheld.push(name);
        } else {
            declared.passed.push(name);
        }
    }
    declared
}

/// What [`declared_app_args`] found.
#[derive(Debug, Default)]
pub(super) struct DeclaredArgs {
    pub passed: Vec<String>,
    pub withheld: Vec<String>,
}

impl DeclaredArgs {
    fn contains(&self, name: &str) -> bool {
        self.passed.iter().chain(&self.withheld).any(|n| n == name)
    }

    /// The plan's note on a secret the Dockerfile declares as an `ARG`.
    pub fn withheld_note(name: &str) -> String {
        format!(
            "{name} is a secret the Dockerfile declares with ARG: it is not passed to the build, since a build argument's value stays in the image's history for whoever can pull it. The app gets it when it runs; a build that needs it should read it from a secret mount (RUN --mount=type=secret,id={name})."
        )
    }
}

/// The names a Dockerfile declares with `ARG` (`ARG NAME`, `ARG NAME=default`).
pub fn declared_args(dockerfile: &str) -> Vec<String> {
    dockerfile
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start();
            let keyword = rest.get(..4)?;
            keyword
                .eq_ignore_ascii_case("ARG ")
                .then(|| rest[4..].trim())
        })
        .filter_map(|decl| decl.split(['=', ' ']).next())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The compose `build.args` entries: the app's variables of `names`, with
/// the values (references) compose gives them at run time.
pub(super) fn build_args(env: &[ComposeEnv], names: &[String]) -> Vec<ComposeEnv> {
    env.iter()
        .filter(|e| !e.runtime && names.contains(&e.name))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_variables_are_read_at_build_time() {
        assert!(inlined_at_build("NEXT_PUBLIC_API_URL"));
        assert!(inlined_at_build("VITE_MAPS_KEY"));
        assert!(!inlined_at_build("DATABASE_URL"));
        assert!(!inlined_at_build("NEXT_TELEMETRY_DISABLED"));
    }

    #[test]
    fn arg_declarations_are_read_with_or_without_defaults() {
        let dockerfile = "FROM node:20\nARG NEXT_PUBLIC_API_URL\narg SENTRY_DSN=none\nARG  NODE_ENV production\nRUN echo $ARGV\n";
        assert_eq!(
            declared_args(dockerfile),
            ["NEXT_PUBLIC_API_URL", "SENTRY_DSN", "NODE_ENV"]
        );
    }
}
