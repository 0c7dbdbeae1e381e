//! Java and Kotlin: Spring Boot, Ktor, Quarkus (and Micronaut, Javalin);
//! Android, desktop, CLI and library projects otherwise.

use super::detection::{Confidence, Detection, Kind};
use super::jvm_config::{config_port, ktor_code};
use super::scan::{Spot, find_line};
use super::view::AppView;

const JVM: &[&str] = &[".java", ".kt", ".kts", ".groovy", ".scala"];

struct Build<'s> {
    path: String,
    text: &'s str,
    maven: bool,
}

impl Build<'_> {
    fn spot(&self, needle: &str, detail: impl Into<String>) -> Spot {
        match find_line(self.text, needle) {
            Some(line) => Spot::at(&self.path, line, detail),
            None => Spot::file(&self.path, detail),
        }
    }
}

/// (needle in the build file, framework, default port)
const SERVERS: &[(&str, &str, u16)] = &[
    ("spring-boot-starter-web", "spring-boot", 8080),
    ("spring-boot-starter-jersey", "spring-boot", 8080),
    ("io.quarkus", "quarkus", 8080),
    ("io.ktor", "ktor", 8080),
    ("io.micronaut", "micronaut", 8080),
    ("io.javalin", "javalin", 8080),
    ("com.sparkjava", "spark", 4567),
    ("io.vertx", "vertx", 8080),
];

pub(crate) fn detect(view: &AppView<'_>) -> Option<Detection> {
    let build = ["pom.xml", "build.gradle.kts", "build.gradle"]
        .into_iter()
        .find_map(|name| {
            let file = view.file(name)?;
            Some(Build {
                path: file.path.clone(),
                text: file.content.as_deref().unwrap_or_default(),
                maven: name == "pom.xml",
            })
        })?;
    let kotlin = view.sources(&[".kt"]).next().is_some()
        || build.text.contains("kotlin(\"jvm\")")
        || build.text.contains("org.jetbrains.kotlin");
    let language = if kotlin { "kotlin" } else { "java" };
    let language_at = Spot::file(
        &build.path,
        if build.maven {
            "Maven pom.xml"
        } else {
            "Gradle build"
        },
    );
    if let Some(d) = not_a_server_first(view, &build, language, &language_at) {
        return Some(d);
    }
    let in_build = SERVERS
        .iter()
        .find(|(needle, ..)| build.text.contains(needle))
        .map(|&(needle, framework, port)| {
            let at = build.spot(needle, format!("{needle} in the build"));
            (framework, port, at)
        });
    // Dependencies a `buildSrc` helper names (`ktorDependency("server-netty")`)
    // are not in the build file; the code's imports still say Ktor.
    let Some((framework, default_port, at)) = in_build.or_else(|| {
        let hit = view.find(JVM, re!(r"(?m)^import io\.ktor\.server\."))?;
        Some((
            "ktor",
            8080,
            hit.spot().with_detail("imports Ktor's server"),
        ))
    }) else {
        return Some(not_a_server(view, &build, language, language_at));
    };
    let mut d = Detection::new(language, Kind::Server, Confidence::Manifest, language_at)
        .framework(framework, at);
    d.default_port = Some(default_port);
    if view.has_sources(JVM) {
        d.confidence = Confidence::Code;
    }
    config_port(view, &mut d, framework);
    if framework == "ktor" {
        ktor_code(view, &mut d);
    }
    start(view, &build, &mut d, framework);
    let health = [
        ("spring-boot-starter-actuator", "/actuator/health"),
        ("quarkus-smallrye-health", "/q/health"),
    ]
    .into_iter()
    .find(|(needle, _)| build.text.contains(needle));
    if let Some((needle, path)) = health {
        d.health = Some(super::scan::Found::new(
            path.to_owned(),
            build.spot(needle, format!("{needle} serves {path}")),
        ));
    }
    Some(d)
}

fn start(view: &AppView<'_>, build: &Build<'_>, d: &mut Detection, framework: &str) {
    let (tool, wrapper) = if build.maven {
        ("mvn", "./mvnw")
    } else {
        ("gradle", "./gradlew")
    };
    let tool = if view.has(wrapper.trim_start_matches("./")) {
        wrapper
    } else {
        tool
    };
    let (build_cmd, jar) = match (build.maven, framework) {
        (true, "quarkus") => (
            format!("{tool} -B package -DskipTests"),
            "target/quarkus-app/quarkus-run.jar",
        ),
        (true, _) => (format!("{tool} -B package -DskipTests"), "target/*.jar"),
        (false, "spring-boot") => (format!("{tool} bootJar"), "build/libs/*.jar"),
        (false, "quarkus") => (
            format!("{tool} build -x test"),
            "build/quarkus-app/quarkus-run.jar",
        ),
        (false, "ktor") if build.text.contains("io.ktor.plugin") => {
            (format!("{tool} buildFatJar"), "build/libs/*-all.jar")
        }
        (false, _) => (format!("{tool} installDist"), ""),
    };
    d.build = Some(build_cmd);
    d.start_derived = Some(if jar.is_empty() {
        let name = view
            .text("settings.gradle.kts")
            .or_else(|| view.text("settings.gradle"))
            .and_then(|t| re!(r#"rootProject\.name\s*=\s*["']([^"']+)["']"#).captures(t))
            .and_then(|c| c.get(1))
            .map_or("app", |m| m.as_str());
        format!("build/install/{name}/bin/{name}")
    } else {
        format!("java -jar {jar}")
    });
}

/// Android and desktop projects can carry web libraries too; they are still
/// not servers.
fn not_a_server_first(
    view: &AppView<'_>,
    build: &Build<'_>,
    language: &'static str,
    at: &Spot,
) -> Option<Detection> {
    let new = |kind, why: Spot| {
        Detection::new(language, kind, Confidence::Manifest, at.clone()).framework_less(why)
    };
    if build.text.contains("com.android.application") {
        return Some(new(
            Kind::Mobile,
            build.spot("com.android.application", "Android application plugin"),
        ));
    }
    if let Some(manifest) = view.named("AndroidManifest.xml").next() {
        return Some(new(
            Kind::Mobile,
            Spot::file(&manifest.path, "Android manifest"),
        ));
    }
    for (needle, what) in [
        ("org.openjfx", "JavaFX desktop GUI"),
        ("org.jetbrains.compose", "Compose desktop GUI"),
    ] {
        if build.text.contains(needle) && !SERVERS.iter().any(|(s, ..)| build.text.contains(s)) {
            return Some(new(Kind::Desktop, build.spot(needle, what)));
        }
    }
    None
}

fn not_a_server(
    view: &AppView<'_>,
    build: &Build<'_>,
    language: &'static str,
    at: Spot,
) -> Detection {
    let new = |kind, why: Spot| {
        Detection::new(language, kind, Confidence::Manifest, at.clone()).framework_less(why)
    };
    if build.text.contains("spring-boot") {
        let batch = build.text.contains("spring-boot-starter-batch");
        let what = if batch {
            "Spring Batch job"
        } else {
            "Spring Boot app without a web starter"
        };
        return new(
            if batch { Kind::Batch } else { Kind::Unknown },
            build.spot("spring-boot", what),
        );
    }
    if build.text.contains("picocli") {
        return new(Kind::Cli, build.spot("picocli", "picocli command-line app"));
    }
    if let Some(hit) = view.find(
        JVM,
        re!(r"\bnew\s+JFrame\s*\(|import\s+javax\.swing\b|import\s+javafx\b"),
    ) {
        return new(Kind::Desktop, hit.spot().with_detail("desktop GUI"));
    }
    let has_main = view
        .find(
            JVM,
            re!(r"(?m)\bstatic\s+void\s+main\s*\(|^fun\s+main\s*\("),
        )
        .is_some();
    if build.text.contains("java-library") || !has_main {
        return new(Kind::Library, build.spot("java-library", "a library build"));
    }
    new(
        Kind::Unknown,
        at.with_detail("no web framework in the build"),
    )
}
