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

/// Placeholders for the secrets a Next.js build must find set but must not
/// see: `next build` imports every route's module to collect its page
/// data, and a client made at module scope (`new OpenAI()`, `new
/// Resend(key)`, Supabase's `createClient(url, key)`) throws when its key
/// is unset. Each required secret without a default gets a value of its
/// shape for the build step alone; the real one reaches the app when it
/// runs and stays out of the image.
pub(super) fn build_placeholders(
    analysis: &Analysis,
    build_args: &[String],
) -> Vec<(String, String)> {
    if analysis.framework.as_deref() != Some("nextjs") {
        return Vec::new();
    }
    analysis
        .env
        .iter()
        // One a bundler's configuration reads is written into the pages:
        // a placeholder there would replace the real value for good.
        .filter(|v| v.required && v.secret && v.default.is_none() && !v.read_at_build)
        .filter(|v| !build_args.contains(&v.name) && !inlined_at_build(&v.name))
        .map(|v| {
            let scheme = v
                .url_scheme
                .as_deref()
                .or_else(|| only_store_scheme(analysis, &v.name));
            (v.name.clone(), placeholder(&v.name, scheme))
        })
        .collect()
}

/// The scheme of a database URL named generically (`DATABASE_URL`) when the
/// app uses one kind of database only: Prisma on MongoDB reads its
/// `mongodb://` URL from `DATABASE_URL` too.
fn only_store_scheme(analysis: &Analysis, name: &str) -> Option<&'static str> {
    if !name.to_ascii_uppercase().contains("DATABASE") {
        return None;
    }
    let databases: Vec<&str> = analysis
        .datastores
        .iter()
        .map(String::as_str)
        .filter(|kind| *kind != "redis")
        .collect();
    match databases.as_slice() {
        ["mongodb"] => Some("mongodb"),
        ["mysql"] => Some("mysql"),
        _ => None,
    }
}

/// Placeholders for `names`, which a build tool's configuration reads
/// (Prisma's `env("DATABASE_URL")`): of the scheme the app's own reads give.
pub(super) fn named_placeholders(analysis: &Analysis, names: &[String]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| {
            let scheme = analysis
                .env
                .iter()
                .find(|v| v.name == *name)
                .and_then(|v| v.url_scheme.as_deref())
                .or_else(|| only_store_scheme(analysis, name));
            (name.clone(), placeholder(name, scheme))
        })
        .collect()
}

/// A value of the variable's shape that names nothing real: `.invalid`
/// never resolves.
fn placeholder(name: &str, scheme: Option<&str>) -> String {
    let upper = name.to_ascii_uppercase();
    let url = ["_URL", "_URI", "_DSN", "_ENDPOINT"]
        .iter()
        .any(|suffix| upper.ends_with(suffix));
    if !url {
        return "deployflow-build-placeholder".to_owned();
    }
    let scheme = scheme.map(str::to_owned).unwrap_or_else(|| {
        let by_name = [
            ("REDIS", "redis"),
            ("MONGO", "mongodb"),
            ("MYSQL", "mysql"),
            ("DATABASE", "postgresql"),
            ("POSTGRES", "postgresql"),
            ("PG", "postgresql"),
        ];
        by_name
            .iter()
            .find(|(part, _)| upper.contains(part))
            .map_or("https", |(_, scheme)| scheme)
            .to_owned()
    });
    if scheme.starts_with("http") {
        format!("{scheme}://build-placeholder.invalid")
    } else {
        format!("{scheme}://placeholder:placeholder@build-placeholder.invalid/placeholder")
    }
}

/// What the plan says of [`build_placeholders`].
pub(super) fn placeholders_note(placeholders: &[(String, String)]) -> Option<String> {
    let names: Vec<&str> = placeholders.iter().map(|(name, _)| name.as_str()).collect();
    (!names.is_empty()).then(|| format!(
        "`next build` loads every route's module, and a client made when one loads throws without its key: the build step gets placeholders for {} (never their values, which stay out of the image); the app gets the real ones when it runs.",
        names.join(", ")
    ))
}

/// The app's variables that `dockerfile` declares with `ARG`: those passed
/// as build arguments, and the secrets among them, which are not: a build
/// argument's value stays in the image's history (`docker history`), for
/// whoever can pull the image. A public variable is passed whatever its
/// name says (`NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`): the bundler writes its
/// value into the pages every visitor loads, and the build fails without it.
pub(super) fn declared_app_args(analysis: &Analysis, dockerfile: &str) -> DeclaredArgs {
    let mut declared = DeclaredArgs::default();
    for name in declared_args(dockerfile) {
        if !app_variables(analysis).any(|v| v == name) || declared.contains(&name) {
            continue;
        }
        let secret =
            analysis::is_secret(&name) || analysis.env.iter().any(|v| v.name == name && v.secret);
        if secret && !inlined_at_build(&name) {
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
    fn a_public_key_is_passed_to_the_build_and_a_secret_is_not() {
        let analysis: Analysis = serde_json::from_value(serde_json::json!({
            "http": true, "subdir": ".", "bind": {"loopback_only": false},
            "required_env": ["NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", "CLERK_SECRET_KEY", "API_BASE"],
            "env": [], "dockerized": false, "docker_files": [], "evidence": [],
        }))
        .expect("an analysis");
        let declared = declared_app_args(
            &analysis,
            "FROM node\nARG NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY\nARG CLERK_SECRET_KEY\nARG API_BASE=/api\n",
        );
        assert_eq!(
            declared.passed,
            ["NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", "API_BASE"]
        );
        assert_eq!(declared.withheld, ["CLERK_SECRET_KEY"]);
    }

    #[test]
    fn placeholders_take_the_shape_of_the_variable() {
        assert_eq!(
            placeholder("OPENAI_API_KEY", None),
            "deployflow-build-placeholder"
        );
        assert_eq!(
            placeholder("SUPABASE_URL", None),
            "https://build-placeholder.invalid"
        );
        assert_eq!(
            placeholder("DATABASE_URL", None),
            "postgresql://placeholder:placeholder@build-placeholder.invalid/placeholder"
        );
        assert!(placeholder("REDIS_URL", None).starts_with("redis://"));
        assert!(placeholder("DB_URL", Some("mysql")).starts_with("mysql://"));
    }

    #[test]
    fn a_generic_database_url_takes_the_scheme_of_the_apps_only_database() {
        let repo = analysis::Snapshot::from_texts([(
            "package.json",
            r#"{"dependencies": {"express": "4", "mongoose": "8"}}"#,
        )]);
        let mut analysis = analysis::analyse(&repo, &analysis::parse_requirements("an API"));
        assert_eq!(analysis.datastores, ["mongodb"]);
        let placeholders = named_placeholders(&analysis, &["DATABASE_URL".to_owned()]);
        assert!(
            placeholders[0].1.starts_with("mongodb://"),
            "{placeholders:?}"
        );
        analysis.datastores = vec!["postgres".into(), "mongodb".into()];
        let placeholders = named_placeholders(&analysis, &["DATABASE_URL".to_owned()]);
        assert!(
            placeholders[0].1.starts_with("postgresql://"),
            "{placeholders:?}"
        );
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
