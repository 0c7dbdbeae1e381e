//! Which Node image an app gets: the major version it pins (`.nvmrc`,
//! `.node-version`, Volta's `volta.node`), else the default when
//! package.json's `engines.node` admits it, else the newest version with an
//! image that does. Yarn 1 refuses to install a package whose `engines`
//! leaves out the Node it runs on, and native add-ons built for one major
//! version do not load in another.

use nodejs_semver::{Range, Version};

use crate::bundle::app_files::{AppFiles, join, parent};
use crate::bundle::images::{NODE, NODE_16, NODE_18, NODE_20};

/// The Node version of each image, newest first; the first is the default.
const IMAGES: &[(&str, &str)] = &[
    ("22.12.0", NODE),
    ("20.18.1", NODE_20),
    ("18.20.5", NODE_18),
    ("16.20.2", NODE_16),
];

/// nvm's names for the long-term-support lines.
const LTS_NAMES: &[(&str, u64)] = &[
    ("jod", 22),
    ("iron", 20),
    ("hydrogen", 18),
    ("gallium", 16),
    ("fermium", 14),
];

/// The image, and a note for the plan when the choice was not the default.
pub(super) fn node_image(files: &AppFiles) -> (&'static str, Option<String>) {
    let default_major = major_of(IMAGES[0].0);
    if let Some((source, major)) = pinned(files) {
        let (image_major, image) = nearest(major);
        let note = if image_major != major {
            Some(format!(
                "{source} pins Node {major}, which has no image here; the app gets Node {image_major}, the nearest ({image})."
            ))
        } else {
            (major != default_major)
                .then(|| format!("Node {major}, as {source} pins it (image {image})."))
        };
        return (image, note);
    }
    let Some(engines) = files
        .package_json()
        .and_then(|p| p.get("engines")?.get("node")?.as_str().map(str::to_owned))
    else {
        return (NODE, None);
    };
    let Ok(range) = Range::parse(&engines) else {
        return (
            NODE,
            Some(format!(
                "package.json's engines.node {engines:?} is no version range Node's tools read; the app gets {NODE}."
            )),
        );
    };
    let admitted = IMAGES
        .iter()
        .find(|(version, _)| Version::parse(version).is_ok_and(|v| range.satisfies(&v)));
    match admitted {
        Some((version, _)) if *version == IMAGES[0].0 => (NODE, None),
        Some((version, image)) => (
            image,
            Some(format!(
                "Node {}: package.json's engines.node asks for {engines:?}, which the default Node {default_major} does not meet (image {image}).",
                major_of(version)
            )),
        ),
        None => match lowest_major(&range) {
            // An old line (`14.x`): the oldest image is nearer than the newest.
            Some(major) if major < default_major => {
                let (image_major, image) = nearest(major);
                (
                    image,
                    Some(format!(
                        "package.json's engines.node asks for {engines:?}, which no image here meets; the app gets Node {image_major}, the nearest ({image})."
                    )),
                )
            }
            _ => (
                NODE,
                Some(format!(
                    "package.json's engines.node asks for {engines:?}, which no image here meets; the app gets {NODE} and may not install."
                )),
            ),
        },
    }
}

/// The image whose major version is nearest `major`, the newer on a tie.
fn nearest(major: u64) -> (u64, &'static str) {
    IMAGES
        .iter()
        .map(|(version, image)| (major_of(version), *image))
        .min_by_key(|(m, _)| m.abs_diff(major))
        .unwrap_or((major_of(IMAGES[0].0), NODE))
}

fn major_of(version: &str) -> u64 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or_default()
}

/// The lowest major version the range admits any release of.
fn lowest_major(range: &Range) -> Option<u64> {
    range.min_version().map(|version| version.major())
}

/// A major version the repository pins, with the file that pins it: the
/// app's folder first, then each folder above it up to the root (nvm reads
/// the nearest `.nvmrc`).
fn pinned(files: &AppFiles) -> Option<(String, u64)> {
    let volta = files
        .package_json()
        .and_then(|p| p.get("volta")?.get("node")?.as_str().map(str::to_owned));
    if let Some(major) = volta.as_deref().and_then(pin_major) {
        return Some(("package.json's volta.node".to_owned(), major));
    }
    let repo = files.repo();
    let mut dir = files.subdir().to_owned();
    loop {
        for name in [".nvmrc", ".node-version"] {
            let path = join(&dir, name);
            // The first line that names a version: some files hold blank
            // lines, comments or shell around it.
            let major = repo.text(&path).and_then(|text| {
                text.lines()
                    .map(|line| line.split('#').next().unwrap_or_default().trim())
                    .filter(|line| !line.is_empty())
                    .find_map(pin_major)
            });
            if let Some(major) = major {
                return Some((path, major));
            }
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent(&dir).to_owned();
    }
}

/// `v18.17.0`, `18`, `lts/hydrogen` → 18; `lts/*`, `node` and `stable`
/// name no version.
fn pin_major(text: &str) -> Option<u64> {
    let text = text
        .trim()
        .trim_matches(['"', '\''])
        .trim()
        .to_ascii_lowercase();
    if let Some(name) = text.strip_prefix("lts/") {
        return LTS_NAMES
            .iter()
            .find(|(lts, _)| *lts == name)
            .map(|(_, major)| *major);
    }
    let digits = text.trim_start_matches('v');
    let major = digits.split('.').next()?;
    major.parse().ok().filter(|m| *m > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::Snapshot;

    fn image_of(files: &[(&str, &str)], subdir: &str) -> (&'static str, Option<String>) {
        let repo = Snapshot::from_texts(files.iter().copied());
        node_image(&AppFiles::new(&repo, subdir))
    }

    fn engines(range: &str) -> String {
        format!(r#"{{"name": "app", "engines": {{"node": "{range}"}}}}"#)
    }

    #[test]
    fn engines_that_admit_the_default_keep_it() {
        for range in [">=18", "^22", ">=16.0.0", "*", "22.x", ">= 20 < 23"] {
            assert_eq!(
                image_of(&[("package.json", &engines(range))], ""),
                (NODE, None),
                "{range}"
            );
        }
        assert_eq!(image_of(&[("package.json", "{}")], ""), (NODE, None));
    }

    #[test]
    fn engines_that_leave_out_the_default_get_the_newest_they_admit() {
        for (range, image) in [
            ("^20", NODE_20),
            (">=18 <21", NODE_20),
            ("18.x", NODE_18),
            ("^18.17.0", NODE_18),
            ("^16 || ^18", NODE_18),
            ("16.x", NODE_16),
        ] {
            let (chosen, note) = image_of(&[("package.json", &engines(range))], "");
            assert_eq!(chosen, image, "{range}");
            assert!(note.is_some_and(|n| n.contains(range)), "{range}");
        }
    }

    #[test]
    fn engines_no_image_meets_get_the_nearest_line_and_say_so() {
        let (image, note) = image_of(&[("package.json", &engines("14.x"))], "");
        assert_eq!(image, NODE_16);
        assert!(note.unwrap().contains("no image here meets"));
        // An older release of a line that has an image: that line.
        let (image, note) = image_of(&[("package.json", &engines("~18.17.0"))], "");
        assert_eq!(image, NODE_18);
        assert!(note.unwrap().contains("nearest"));
        let (image, note) = image_of(&[("package.json", &engines(">=30"))], "");
        assert_eq!(image, NODE);
        assert!(note.unwrap().contains("may not install"));
        let (image, note) = image_of(&[("package.json", &engines("not a range!"))], "");
        assert_eq!(image, NODE);
        assert!(note.is_some());
    }

    #[test]
    fn a_pin_wins_over_engines_and_is_read_from_the_nearest_folder() {
        let package = engines(">=16");
        let (image, note) = image_of(&[("package.json", &package), (".nvmrc", "v18.17.1\n")], "");
        assert_eq!(image, NODE_18);
        assert!(note.unwrap().contains(".nvmrc"));
        // Under a folder, the repository root's `.nvmrc` still applies.
        let (image, _) = image_of(
            &[("api/package.json", &package), (".nvmrc", "lts/iron")],
            "api",
        );
        assert_eq!(image, NODE_20);
        let (image, note) = image_of(&[("package.json", &package), (".node-version", "22")], "");
        assert_eq!((image, note), (NODE, None));
        let volta = r#"{"volta": {"node": "20.11.0"}}"#;
        assert_eq!(
            image_of(&[("package.json", volta), (".nvmrc", "18")], "").0,
            NODE_20
        );
        // Names for no particular version leave the choice to `engines`.
        for pin in ["lts/*", "node", "stable"] {
            assert_eq!(
                image_of(&[("package.json", &engines("^20")), (".nvmrc", pin)], "").0,
                NODE_20,
                "{pin}"
            );
        }
        // Quoted, after a blank line, or beside shell lines.
        for pin in [
            "\"18.20.3\" ",
            "\nv18.19.0\n",
            "source ~/.nvm/nvm.sh\nv18.16.0\nnvm use\n",
        ] {
            assert_eq!(
                image_of(&[("package.json", "{}"), (".nvmrc", pin)], "").0,
                NODE_18,
                "{pin:?}"
            );
        }
        let (image, note) = image_of(&[("package.json", "{}"), (".nvmrc", "12")], "");
        assert_eq!(image, NODE_16);
        assert!(note.unwrap().contains("nearest"));
    }
}
