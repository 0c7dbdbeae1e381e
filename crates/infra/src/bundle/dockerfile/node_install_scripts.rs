//! The app's own install scripts (`preinstall`, `install`, `postinstall`,
//! `prepare`), which npm, Yarn and pnpm run at the end of the install: what
//! they need in place before it. The build stage installs from the
//! manifests alone, so a script that builds or reads the sources fails
//! there, and one that runs a dev dependency (`husky`) fails in an install
//! that leaves the dev dependencies out.

use super::node_start::{StartProgram, start_program};
use crate::bundle::app_files::AppFiles;

const SCRIPTS: &[&str] = &["preinstall", "install", "postinstall", "prepare"];

/// Programs that read nothing of the repository but what is listed here.
const SELF_CONTAINED: &[(&str, Option<&str>)] = &[
    ("husky", None),
    ("is-ci", None),
    ("only-allow", None),
    ("echo", None),
    ("true", None),
    ("exit", None),
    ("patch-package", Some("patches")),
];

#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct InstallScripts {
    /// A script that reads the sources: the install runs after they are
    /// copied.
    pub needs_sources: Option<String>,
    /// Folders a self-contained script reads, copied before the install.
    pub folders: Vec<&'static str>,
    /// A script that runs a dev dependency: `(script, package)`.
    pub dev_program: Option<(String, String)>,
}

pub(super) fn install_scripts(files: &AppFiles) -> InstallScripts {
    let mut found = InstallScripts::default();
    for script in SCRIPTS {
        let Some(command) = files.npm_script(script) else {
            continue;
        };
        for part in command.split(['&', '|', ';']).map(str::trim) {
            let Some(program) = part
                .split_whitespace()
                .find(|w| !w.contains('=') && !["npx", "pnpx", "exec"].contains(w))
            else {
                continue;
            };
            match SELF_CONTAINED.iter().find(|(name, _)| *name == program) {
                Some((_, Some(folder))) if files.dir_exists(folder) => {
                    if !found.folders.contains(folder) {
                        found.folders.push(folder);
                    }
                }
                Some(_) => {}
                None => {
                    found
                        .needs_sources
                        .get_or_insert_with(|| format!("{script} (`{command}`)"));
                }
            }
            if let StartProgram::DevDependency { package, .. } = start_program(part, files) {
                found
                    .dev_program
                    .get_or_insert_with(|| (format!("{script} (`{command}`)"), package));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::Snapshot;

    fn scripts(files: &[(&str, &str)]) -> InstallScripts {
        let repo = Snapshot::from_texts(files.iter().copied());
        install_scripts(&AppFiles::new(&repo, ""))
    }

    #[test]
    fn a_git_hook_installer_needs_its_dev_dependency_and_no_sources() {
        let found = scripts(&[(
            "package.json",
            r#"{"scripts": {"prepare": "is-ci || husky install"}, "devDependencies": {"husky": "8", "is-ci": "3"}}"#,
        )]);
        assert_eq!(found.needs_sources, None);
        assert_eq!(
            found.dev_program,
            Some((
                "prepare (`is-ci || husky install`)".to_owned(),
                "is-ci".to_owned()
            ))
        );
    }

    #[test]
    fn a_script_that_builds_needs_the_sources() {
        let found = scripts(&[(
            "package.json",
            r#"{"scripts": {"postinstall": "npm run build", "build": "tsc"}, "dependencies": {"typescript": "5"}}"#,
        )]);
        assert_eq!(
            found.needs_sources.as_deref(),
            Some("postinstall (`npm run build`)")
        );
        assert_eq!(found.dev_program, None);
    }

    #[test]
    fn patches_are_copied_for_patch_package() {
        let found = scripts(&[
            (
                "package.json",
                r#"{"scripts": {"postinstall": "patch-package"}, "dependencies": {"patch-package": "8"}}"#,
            ),
            ("patches/express+4.18.2.patch", "diff"),
        ]);
        assert_eq!(found.folders, ["patches"]);
        assert_eq!(found.needs_sources, None);
        assert_eq!(
            scripts(&[("package.json", "{}")]),
            InstallScripts::default()
        );
    }
}
