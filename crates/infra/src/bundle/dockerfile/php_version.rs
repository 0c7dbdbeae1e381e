//! The PHP image of an app: the newest of those there are images for that
//! its `composer.json` allows (`"php": "^7.1.3"` runs on 7.4, not on 8.3,
//! where Laravel 5's code stops at its first removed function), and that
//! every package its `composer.lock` installs allows (Symfony 8's need PHP
//! 8.4: on 8.3 Composer's platform check stops the app at its first
//! `require 'vendor/autoload.php'`). PHP 8.3 is preferred; 8.4 runs only an
//! app whose locked packages need it.

use crate::bundle::app_files::AppFiles;
use crate::bundle::images::{PHP, PHP_7_4, PHP_8_0, PHP_8_1, PHP_8_2, PHP_8_4};

/// The images, in the order they are preferred, with the PHP version each
/// runs.
const IMAGES: &[((u32, u32), &str)] = &[
    ((8, 3), PHP),
    ((8, 2), PHP_8_2),
    ((8, 1), PHP_8_1),
    ((8, 0), PHP_8_0),
    ((7, 4), PHP_7_4),
    ((8, 4), PHP_8_4),
];

/// The image, and why when it is not the preferred one.
pub(super) fn choose(files: &AppFiles) -> (&'static str, Option<String>) {
    let constraint = files
        .text("composer.json")
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|json| json.pointer("/require/php")?.as_str().map(str::to_owned));
    let locked = locked_constraints(files);
    let fits = |version: (u32, u32)| {
        constraint.as_deref().is_none_or(|c| allows(c, version))
            && locked.iter().all(|(_, c)| allows(c, version))
    };
    match IMAGES.iter().find(|(version, _)| fits(*version)) {
        Some(((8, 3), image)) => (image, None),
        Some(((major, minor), image)) => {
            let why = match locked.iter().find(|(_, c)| !allows(c, (8, 3))) {
                Some((package, c)) if (*major, *minor) > (8, 3) => {
                    format!("composer.lock installs {package}, which requires php {c}")
                }
                _ => format!(
                    "composer.json requires php {}",
                    constraint.as_deref().unwrap_or("*")
                ),
            };
            (image, Some(format!("PHP {major}.{minor}: {why}")))
        }
        None => (
            PHP,
            Some(format!(
                "composer.json requires php {}, which no PHP image from 7.4 to 8.4 satisfies with the locked packages: the image runs PHP 8.3",
                constraint.as_deref().unwrap_or("*")
            )),
        ),
    }
}

/// The PHP constraint of each package `composer.lock` installs (its
/// `packages`, not the dev ones `--no-dev` leaves out).
fn locked_constraints(files: &AppFiles) -> Vec<(String, String)> {
    let Some(lock) = files
        .text("composer.lock")
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
    else {
        return Vec::new();
    };
    lock.get("packages")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|package| {
            let name = package.get("name")?.as_str()?;
            let php = package.pointer("/require/php")?.as_str()?;
            Some((name.to_owned(), php.to_owned()))
        })
        .collect()
}

/// Whether the newest release of `major.minor` satisfies a Composer
/// constraint (`^7.1.3`, `~7.1`, `>=7.0 <8.0`, `7.4.*`, `^7.3|^8.0`,
/// `8.1 - 8.5`).
fn allows(constraint: &str, (major, minor): (u32, u32)) -> bool {
    let version = (major, minor, 999);
    constraint
        .split('|')
        .map(str::trim)
        .filter(|alternative| !alternative.is_empty())
        .any(|alternative| match alternative.split_once(" - ") {
            // A hyphen range: from the first release, up to and including
            // the whole line the second names (`8.5` takes every 8.5.x).
            Some((low, high)) => {
                let (low, high) = (low.trim(), high.trim());
                satisfies(&format!(">={low}"), version)
                    && (satisfies(high, version) || satisfies(&format!("<={high}"), version))
            }
            None => alternative
                .split([' ', ','])
                .filter(|part| !part.is_empty())
                .all(|part| satisfies(part, version)),
        })
}

fn satisfies(part: &str, version: (u32, u32, u32)) -> bool {
    let (op, rest) = match part.find(|c: char| c.is_ascii_digit()) {
        Some(at) => part.split_at(at),
        None => return part == "*",
    };
    let numbers: Vec<Option<u32>> = rest
        .trim_start_matches('v')
        .split('.')
        .map(|n| n.parse().ok())
        .collect();
    let number = |i: usize| numbers.get(i).copied().flatten().unwrap_or(0);
    let given = numbers.iter().take_while(|n| n.is_some()).count();
    let low = (number(0), number(1), number(2));
    let next = |level: usize| match level {
        0 => (low.0 + 1, 0, 0),
        1 => (low.0, low.1 + 1, 0),
        _ => (low.0, low.1, low.2 + 1),
    };
    match op.trim() {
        "^" => version >= low && version < next(0),
        "~" => version >= low && version < next(if given >= 3 { 1 } else { 0 }),
        ">=" => version >= low,
        ">" => version > low,
        "<=" => version <= low,
        "<" => version < low,
        "!=" => version != low,
        // `7.*`, `7.4.*`, `7.4`, `7.4.3`: that release line (an image
        // holds one patch release of it).
        "" | "=" | "==" => {
            let line = (low.0, if given >= 2 { low.1 } else { 0 }, 0);
            version >= line && version < next(given.min(2).saturating_sub(1))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::allows;

    #[test]
    fn the_locked_packages_needs_raise_the_version() {
        use super::choose;
        use crate::bundle::app_files::AppFiles;
        use analysis::Snapshot;
        let lock = r#"{"packages": [{"name": "laravel/framework", "version": "v12.47.0", "require": {"php": "^8.2"}}, {"name": "symfony/clock", "version": "v8.0.0", "require": {"php": ">=8.4"}}], "packages-dev": [{"name": "pestphp/pest", "require": {"php": "^8.5"}}]}"#;
        let repo = Snapshot::from_texts([
            ("composer.json", r#"{"require": {"php": "^8.2"}}"#),
            ("composer.lock", lock),
        ]);
        let (image, why) = choose(&AppFiles::new(&repo, ""));
        assert_eq!(image, crate::bundle::images::PHP_8_4);
        assert!(
            why.as_deref().is_some_and(|w| w.contains("symfony/clock")),
            "{why:?}"
        );
        // What every locked package allows stays on 8.3.
        let repo = Snapshot::from_texts([
            ("composer.json", r#"{"require": {"php": "^8.2"}}"#),
            ("composer.lock", &lock.replace(">=8.4", ">=8.1")),
        ]);
        assert_eq!(
            choose(&AppFiles::new(&repo, "")),
            (crate::bundle::images::PHP, None)
        );
        // composer.json that stops below 8.4 wins over nothing: 8.3 is said.
        let repo = Snapshot::from_texts([
            ("composer.json", r#"{"require": {"php": "~8.2.0"}}"#),
            ("composer.lock", lock),
        ]);
        let (image, why) = choose(&AppFiles::new(&repo, ""));
        assert_eq!(image, crate::bundle::images::PHP);
        assert!(why.is_some());
    }

    #[test]
    fn composer_constraints() {
        assert!(allows("^7.1.3", (7, 4)));
        assert!(!allows("^7.1.3", (8, 3)));
        assert!(allows(">=7.0.0", (8, 3)));
        assert!(allows("~7.1", (7, 4)));
        assert!(!allows("~7.1", (8, 0)));
        assert!(allows(">=7.2 <8.0", (7, 4)));
        assert!(!allows(">=7.2 <8.0", (8, 0)));
        assert!(allows("^7.3|^8.0", (8, 3)));
        assert!(allows("^8.1", (8, 3)));
        assert!(!allows("^8.2", (8, 1)));
        assert!(allows("7.4.*", (7, 4)));
        assert!(!allows("7.4.*", (8, 0)));
        assert!(allows(">=7.1.3", (8, 3)));
        assert!(allows("^7.2.5|^8.0", (8, 3)));
        assert!(allows("8.1 - 8.5", (8, 4)));
        assert!(allows("8.2 - 8.5", (8, 5)));
        assert!(!allows("8.2 - 8.5", (8, 6)));
        assert!(!allows("8.2 - 8.5", (8, 1)));
        assert!(allows("^7.2 || ^8.0", (8, 4)));
    }
}
