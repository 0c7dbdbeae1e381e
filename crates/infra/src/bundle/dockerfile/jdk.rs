//! Which Java the build and the app run on: the newest of 11, 17 and 21
//! the project can take. A Gradle wrapper runs only on the Java versions
//! its Gradle knows (7.4 stops at "Unsupported class file major version
//! 65" on 21), Spring Boot 2's Lombok and bytecode tools break on 21, and
//! a toolchain the build names must be the one installed.

use std::sync::LazyLock;

use regex::Regex;

use crate::bundle::app_files::AppFiles;
use crate::bundle::images::{
    GRADLE, GRADLE_11, GRADLE_17, JRE, JRE_11, JRE_17, MAVEN, MAVEN_11, MAVEN_17,
};

/// A Java version there are images for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Jdk {
    J11,
    J17,
    J21,
}

impl Jdk {
    pub fn number(self) -> u32 {
        match self {
            Jdk::J11 => 11,
            Jdk::J17 => 17,
            Jdk::J21 => 21,
        }
    }

    /// The least of these images that runs `version`.
    fn at_least(version: u32) -> Jdk {
        match version {
            0..=11 => Jdk::J11,
            12..=17 => Jdk::J17,
            _ => Jdk::J21,
        }
    }

    pub fn maven(self) -> &'static str {
        match self {
            Jdk::J11 => MAVEN_11,
            Jdk::J17 => MAVEN_17,
            Jdk::J21 => MAVEN,
        }
    }

    pub fn gradle(self) -> &'static str {
        match self {
            Jdk::J11 => GRADLE_11,
            Jdk::J17 => GRADLE_17,
            Jdk::J21 => GRADLE,
        }
    }

    pub fn jre(self) -> &'static str {
        match self {
            Jdk::J11 => JRE_11,
            Jdk::J17 => JRE_17,
            Jdk::J21 => JRE,
        }
    }
}

macro_rules! re {
    ($name:ident, $pattern:expr) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pattern).expect("valid pattern"));
    };
}

re!(WRAPPER, r"gradle-(\d+)\.(\d+)");
re!(
    BOOT_PARENT,
    r"<artifactId>spring-boot-(?:starter-parent|dependencies)</artifactId>\s*<version>(\d+)\."
);
re!(
    BOOT_PLUGIN,
    r#"org\.springframework\.boot["']\)?\s+version\s+["'](\d+)\."#
);
re!(
    DECLARED,
    r#"<(?:java\.version|maven\.compiler\.release|maven\.compiler\.source|release)>\s*(?:1\.)?(\d+)\s*<|(?:sourceCompatibility|targetCompatibility)\s*=\s*(?:JavaVersion\.VERSION_(?:1_)?(\d+)|["']?(?:1\.)?(\d+))|JavaLanguageVersion\.of\(\s*(\d+)\s*\)|jvmToolchain\(\s*(\d+)\s*\)|jvmTarget\s*=\s*["'](?:1\.)?(\d+)"#
);

/// The Java the project is built and run on, and why when it is not the
/// newest.
pub(super) fn choose(files: &AppFiles, build_file: &str) -> (Jdk, Option<String>) {
    let script = files.text(build_file).unwrap_or_default();
    if let Some(version) = declared(script) {
        let jdk = Jdk::at_least(version);
        let why = (jdk != Jdk::J21).then(|| {
            format!(
                "{build_file} builds for Java {version}: the image is Java {}",
                jdk.number()
            )
        });
        return (jdk, why);
    }
    let mut bound = (Jdk::J21, None);
    let mut lower = |jdk: Jdk, why: String| {
        if jdk < bound.0 {
            bound = (jdk, Some(why));
        }
    };
    let wrapper = files
        .text("gradle/wrapper/gradle-wrapper.properties")
        .and_then(|text| WRAPPER.captures(text))
        .and_then(|c| Some((c[1].parse::<u32>().ok()?, c[2].parse::<u32>().ok()?)));
    if let Some((major, minor)) = wrapper {
        // Gradle runs on Java 17 from 7.3 and on 21 from 8.5.
        let jdk = if (major, minor) < (7, 3) {
            Jdk::J11
        } else if (major, minor) < (8, 5) {
            Jdk::J17
        } else {
            Jdk::J21
        };
        lower(
            jdk,
            format!(
                "the Gradle wrapper is Gradle {major}.{minor}, which runs on Java {} at the newest",
                jdk.number()
            ),
        );
    }
    let boot = BOOT_PARENT
        .captures(script)
        .or_else(|| BOOT_PLUGIN.captures(script))
        .and_then(|c| c[1].parse::<u32>().ok());
    if let Some(major @ 1..=2) = boot {
        let jdk = if major == 1 { Jdk::J11 } else { Jdk::J17 };
        lower(
            jdk,
            format!(
                "Spring Boot {major} (its Lombok and bytecode tools) runs on Java {} at the newest",
                jdk.number()
            ),
        );
    }
    bound
}

/// The Java version the build file asks for (`<java.version>17`,
/// `sourceCompatibility = '11'`, a toolchain's `of(17)`), the highest said.
fn declared(script: &str) -> Option<u32> {
    DECLARED
        .captures_iter(script)
        .filter_map(|c| {
            c.iter()
                .skip(1)
                .flatten()
                .next()
                .and_then(|m| m.as_str().parse::<u32>().ok())
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_versions_in_each_build_file() {
        assert_eq!(
            declared("<properties><java.version>17</java.version>"),
            Some(17)
        );
        assert_eq!(declared("<java.version>1.8</java.version>"), Some(8));
        assert_eq!(declared("sourceCompatibility = '11'"), Some(11));
        assert_eq!(
            declared("sourceCompatibility = JavaVersion.VERSION_1_8"),
            Some(8)
        );
        assert_eq!(
            declared("sourceCompatibility = JavaVersion.VERSION_17"),
            Some(17)
        );
        assert_eq!(
            declared("java { toolchain { languageVersion = JavaLanguageVersion.of(21) } }"),
            Some(21)
        );
        assert_eq!(declared("kotlin { jvmToolchain(17) }"), Some(17));
        assert_eq!(declared("dependencies {}"), None);
    }
}
