//! Java and Kotlin: Maven or Gradle builds the jar in a JDK image; a JRE
//! image runs it.

use super::jdk;
use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::health::Probe;

pub(super) fn image(inputs: &Inputs) -> Result<Image, InfraError> {
    let files = inputs.files;
    let quarkus = inputs.framework() == "quarkus";
    let gradle_file = files.first_of(&["build.gradle.kts", "build.gradle"]);
    let build_file = if files.exists("pom.xml") {
        "pom.xml"
    } else {
        gradle_file.unwrap_or("build.gradle")
    };
    let (jdk, why) = jdk::choose(files, build_file);
    let (builder, build, output) = if files.exists("pom.xml") {
        // The wrapper script alone cannot run: it reads the Maven version
        // (and, before wrapper 3.3, its jar) from `.mvn/wrapper/`.
        let mvn = if files.exists("mvnw") && files.exists(".mvn/wrapper/maven-wrapper.properties") {
            "chmod +x mvnw && ./mvnw"
        } else {
            "mvn"
        };
        (
            jdk.maven(),
            format!("{mvn} -B -q -DskipTests package"),
            "target",
        )
    } else if let Some(gradle_file) = gradle_file {
        let gradle = if files.exists("gradlew")
            && files.exists("gradle/wrapper/gradle-wrapper.properties")
            && files.exists("gradle/wrapper/gradle-wrapper.jar")
        {
            "chmod +x gradlew && ./gradlew"
        } else {
            "gradle"
        };
        let script = files.text(gradle_file).unwrap_or_default();
        let task = gradle_task(inputs.framework(), script);
        (
            jdk.gradle(),
            format!("{gradle} {task} --no-daemon -x test"),
            "build",
        )
    } else {
        return Err(InfraError::Bundle(
            "the JVM app has neither pom.xml nor build.gradle, so it cannot be built; add a Dockerfile to the repository".to_owned(),
        ));
    };
    let language = if inputs.runtime() == "kotlin" {
        "Kotlin"
    } else {
        "Java"
    };
    let mut text = Text::new(
        inputs,
        &format!("{} app ({language})", or_http(inputs.framework())),
    );
    text.line(format!("FROM {builder} AS build"))
        .line("WORKDIR /src")
        .line("COPY . .")
        .line(format!("RUN {build}"))
        .line(format!("RUN mkdir -p /out && {}", collect(output, quarkus)))
        .blank()
        .line(format!("FROM {}", jdk.jre()))
        .line("RUN adduser -D -H -u 10001 app")
        .app_dir("app")
        .line("COPY --from=build /out/ ./")
        .line("ENV JAVA_TOOL_OPTIONS=\"-XX:MaxRAMPercentage=75\"");
    let jar = if quarkus {
        "quarkus-run.jar"
    } else {
        "app.jar"
    };
    Ok(Image {
        dockerfile: text.finish(inputs, "app", &exec_form(&format!("java -jar {jar}"))),
        probe: Probe::Wget,
        ignore: &["target", "build", ".gradle", "*.iml", ".idea"],
        extra_files: Vec::new(),
        context: None,
        notes: why
            .map(|why| format!("Java {}: {why}.", jdk.number()))
            .into_iter()
            .collect(),
    })
}

fn or_http(framework: &str) -> &str {
    if framework.is_empty() {
        "a JVM HTTP"
    } else {
        framework
    }
}

/// The Gradle task that produces a runnable jar for this kind of project.
fn gradle_task(framework: &str, script: &str) -> &'static str {
    let war = script.contains("id 'war'")
        || script.contains("id(\"war\")")
        || script.contains("id \"war\"")
        || script.contains("apply plugin: 'war'");
    if (framework == "spring-boot" || script.contains("org.springframework.boot")) && war {
        "bootWar"
    } else if framework == "spring-boot" || script.contains("org.springframework.boot") {
        "bootJar"
    } else if script.contains("io.ktor.plugin") {
        "buildFatJar"
    } else if script.contains("shadow") {
        "shadowJar"
    } else {
        "build"
    }
}

/// Shell that copies the runnable artifact into `/out`: Quarkus' fast-jar
/// directory, else the fat jar (`*-all.jar`), else the one jar that is not a
/// plain, sources or javadoc jar, else an executable war (`<packaging>war`),
/// which `java -jar` runs as it runs a jar.
fn collect(output: &str, quarkus: bool) -> String {
    if quarkus {
        return format!("cp -r {output}/quarkus-app/. /out/");
    }
    let dir = if output == "build" {
        "build/libs"
    } else {
        output
    };
    format!(
        "jar=$(ls {dir}/*-all.jar 2>/dev/null | head -n 1); [ -n \"$jar\" ] || jar=$(ls {dir}/*.jar 2>/dev/null | grep -v -e '-plain.jar$' -e '-sources.jar$' -e '-javadoc.jar$' -e '/original-' | head -n 1); [ -n \"$jar\" ] || jar=$(ls {dir}/*.war | grep -v -e '-plain.war$' | head -n 1); cp \"$jar\" /out/app.jar"
    )
}

#[cfg(test)]
mod tests {
    use super::collect;
    use std::process::Command;

    /// Runs the collecting shell over a made-up `target/` and says which
    /// file became the app.
    fn collected(files: &[&str]) -> String {
        let root = std::env::temp_dir().join(format!(
            "deployflow-collect-{}-{}",
            std::process::id(),
            files.join("+").len()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::create_dir_all(root.join("out")).unwrap();
        for file in files {
            std::fs::write(root.join("target").join(file), file).unwrap();
        }
        let script = collect("target", false).replace("/out/", "out/");
        let status = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .current_dir(&root)
            .status()
            .unwrap();
        assert!(status.success(), "{script}");
        let app = std::fs::read_to_string(root.join("out/app.jar")).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        app
    }

    #[test]
    fn the_runnable_jar_or_else_the_executable_war_is_the_app() {
        assert_eq!(
            collected(&["api-1.0.jar", "api-1.0-sources.jar", "original-api-1.0.jar"]),
            "api-1.0.jar"
        );
        assert_eq!(
            collected(&["books-0.0.1.war", "books-0.0.1.war.original"]),
            "books-0.0.1.war"
        );
    }
}
