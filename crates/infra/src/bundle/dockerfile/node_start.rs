//! Whether the program a Node start command runs will be in the image: the
//! base image's own tools, a package of `dependencies`, a package of
//! `devDependencies` (which the install or the prune would drop), or nothing
//! the repository lists.

use super::is_assignment;
use crate::bundle::app_files::AppFiles;

/// Programs the Node base image provides.
const BASE_PROGRAMS: &[&str] = &[
    "node", "npm", "npx", "yarn", "corepack", "sh", "bash", "exec", "env",
];

/// Programs start commands run whose package has another name, or that a
/// missing dependency can be supplied for: (program, package).
const PROGRAMS: &[(&str, &str)] = &[
    ("next", "next"),
    ("nuxt", "nuxt"),
    ("nuxi", "nuxt"),
    ("react-scripts", "react-scripts"),
    ("vite", "vite"),
    ("ts-node", "ts-node"),
    ("ts-node-esm", "ts-node"),
    ("ts-node-dev", "ts-node-dev"),
    ("tsnd", "ts-node-dev"),
    ("babel-node", "@babel/node"),
    ("tsx", "tsx"),
    ("nodemon", "nodemon"),
    ("pm2-runtime", "pm2"),
    ("pm2", "pm2"),
    ("serve", "serve"),
    ("http-server", "http-server"),
    ("nest", "@nestjs/cli"),
    ("remix-serve", "@remix-run/serve"),
    ("react-router-serve", "@react-router/serve"),
    ("vinxi", "vinxi"),
    ("astro", "astro"),
    ("gatsby", "gatsby"),
    ("ng", "@angular/cli"),
    ("cross-env", "cross-env"),
    ("concurrently", "concurrently"),
    // Not in the final stage's base image, unlike npm and Yarn 1.
    ("pnpm", "pnpm"),
];

/// Where the start command's program comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StartProgram {
    /// The base image, a file of the repository, or a package the image keeps.
    Provided,
    /// A package of `devDependencies` only: the image must keep them.
    DevDependency { program: String, package: String },
    /// A known package the repository does not list: the image installs it.
    Missing { program: String, package: String },
    /// A program of no known package that the repository does not list.
    Unknown { program: String },
}

pub(super) fn start_program(command: &str, files: &AppFiles) -> StartProgram {
    let Some(program) = program(command) else {
        return StartProgram::Provided;
    };
    if BASE_PROGRAMS.contains(&program) || program.contains(['/', '.', '$']) {
        return StartProgram::Provided;
    }
    let package = PROGRAMS
        .iter()
        .find(|(p, _)| *p == program)
        .map(|(_, package)| *package);
    let listed_in = |field: &str| {
        let manifest = files.package_json();
        let deps = manifest.as_ref().and_then(|p| p.get(field));
        deps.and_then(|d| d.as_object()).is_some_and(|deps| {
            deps.contains_key(package.unwrap_or(program)) || deps.contains_key(program)
        })
    };
    let program_owned = program.to_owned();
    if listed_in("dependencies") {
        StartProgram::Provided
    } else if listed_in("devDependencies") {
        StartProgram::DevDependency {
            program: program_owned,
            package: package.unwrap_or(program).to_owned(),
        }
    } else if let Some(package) = package {
        StartProgram::Missing {
            program: program_owned,
            package: package.to_owned(),
        }
    } else {
        StartProgram::Unknown {
            program: program_owned,
        }
    }
}

/// The program a command runs: past `exec`, `NAME=value` assignments and
/// `npx`/`yarn`/`pnpm exec` launchers.
fn program(command: &str) -> Option<&str> {
    let mut words = command
        .split_whitespace()
        .skip_while(|w| *w == "exec" || is_assignment(w));
    let first = words.next()?;
    match first {
        "npx" | "pnpx" => words.find(|w| !w.starts_with('-')),
        "yarn" | "pnpm" => match words.next() {
            Some("exec" | "dlx") => words.find(|w| !w.starts_with('-')),
            _ => Some(first),
        },
        _ => Some(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::Snapshot;

    fn check(command: &str, manifest: &str) -> StartProgram {
        let repo = Snapshot::from_texts([("package.json", manifest)]);
        start_program(command, &AppFiles::new(&repo, ""))
    }

    #[test]
    fn a_dependency_or_the_base_image_provides_the_program() {
        let deps = r#"{"dependencies": {"next": "15.0.0"}}"#;
        assert_eq!(check("next start -p 3000", deps), StartProgram::Provided);
        assert_eq!(check("node server.js", "{}"), StartProgram::Provided);
        assert_eq!(check("./start.sh", "{}"), StartProgram::Provided);
        assert_eq!(
            check("NODE_ENV=production exec node dist/main.js", "{}"),
            StartProgram::Provided
        );
    }

    #[test]
    fn a_dev_dependency_is_named_with_its_package() {
        let manifest = r#"{"devDependencies": {"@nestjs/cli": "10"}}"#;
        assert_eq!(
            check("nest start", manifest),
            StartProgram::DevDependency {
                program: "nest".into(),
                package: "@nestjs/cli".into()
            }
        );
        assert_eq!(
            check(
                "npx ts-node src/main.ts",
                r#"{"devDependencies": {"ts-node": "10"}}"#
            ),
            StartProgram::DevDependency {
                program: "ts-node".into(),
                package: "ts-node".into()
            }
        );
        // ts-node-dev's short name.
        assert_eq!(
            check(
                "tsnd --transpile-only --respawn src/server.ts",
                r#"{"devDependencies": {"ts-node-dev": "1"}}"#
            ),
            StartProgram::DevDependency {
                program: "tsnd".into(),
                package: "ts-node-dev".into()
            }
        );
    }

    #[test]
    fn a_known_program_nobody_lists_is_missing_and_others_unknown() {
        assert_eq!(
            check("serve -s build", "{}"),
            StartProgram::Missing {
                program: "serve".into(),
                package: "serve".into()
            }
        );
        assert_eq!(
            check("frobnicate --port 80", "{}"),
            StartProgram::Unknown {
                program: "frobnicate".into()
            }
        );
    }
}
