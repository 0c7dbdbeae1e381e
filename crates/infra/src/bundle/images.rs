//! Base images, pinned to exact version tags so a rebuild gives the same
//! image; bump them deliberately, together with the tests.

/// The default Python; the others serve apps that pin or require them.
pub const PYTHON: &str = "python:3.12.8-slim-bookworm";
pub const PYTHON_3_9: &str = "python:3.9.21-slim-bookworm";
pub const PYTHON_3_10: &str = "python:3.10.16-slim-bookworm";
pub const PYTHON_3_11: &str = "python:3.11.11-slim-bookworm";
pub const PYTHON_3_13: &str = "python:3.13.1-slim-bookworm";
pub const PYTHON_3_14: &str = "python:3.14.0-slim-bookworm";
pub const NODE: &str = "node:22.12.0-bookworm-slim";
/// Older Node, for apps whose `engines` or `.nvmrc` ask for it.
pub const NODE_20: &str = "node:20.18.1-bookworm-slim";
pub const NODE_18: &str = "node:18.20.5-bookworm-slim";
pub const NODE_16: &str = "node:16.20.2-bullseye-slim";
pub const GO_BUILD: &str = "golang:1.23.4-bookworm";
pub const ALPINE: &str = "alpine:3.20.3";
pub const RUST_BUILD: &str = "rust:1.85.0-slim-bookworm";
/// The last Rust before 1.80, which `time` below 0.3.35 does not compile on.
pub const RUST_1_79_BUILD: &str = "rust:1.79.0-slim-bookworm";
pub const DEBIAN_SLIM: &str = "debian:12.8-slim";
pub const MAVEN: &str = "maven:3.9.9-eclipse-temurin-21";
pub const GRADLE: &str = "gradle:8.11.1-jdk21";
pub const JRE: &str = "eclipse-temurin:21.0.5_11-jre-alpine";
/// Java 17 and 11, for builds that cannot run on 21 (older Gradle
/// wrappers, Spring Boot 2) or ask for them.
pub const MAVEN_17: &str = "maven:3.9.9-eclipse-temurin-17";
pub const GRADLE_17: &str = "gradle:8.11.1-jdk17";
pub const JRE_17: &str = "eclipse-temurin:17.0.13_11-jre-alpine";
pub const MAVEN_11: &str = "maven:3.9.9-eclipse-temurin-11";
pub const GRADLE_11: &str = "gradle:8.11.1-jdk11";
pub const JRE_11: &str = "eclipse-temurin:11.0.25_9-jre-alpine";
pub const RUBY: &str = "ruby:3.3.6-slim-bookworm";
pub const COMPOSER: &str = "composer:2.8.3";
pub const PHP: &str = "php:8.3.14-cli-bookworm";
/// For apps whose composer.lock holds packages that need PHP 8.4.
pub const PHP_8_4: &str = "php:8.4.1-cli-bookworm";
/// Older PHP, for apps whose composer.json does not allow 8.3.
pub const PHP_8_2: &str = "php:8.2.26-cli-bookworm";
pub const PHP_8_1: &str = "php:8.1.31-cli-bookworm";
pub const PHP_8_0: &str = "php:8.0.30-cli-bullseye";
pub const PHP_7_4: &str = "php:7.4.33-cli-bullseye";
pub const DOTNET_8_SDK: &str = "mcr.microsoft.com/dotnet/sdk:8.0.404";
pub const DOTNET_8_ASPNET: &str = "mcr.microsoft.com/dotnet/aspnet:8.0.11-alpine3.20";
pub const DOTNET_9_SDK: &str = "mcr.microsoft.com/dotnet/sdk:9.0.101";
pub const DOTNET_9_ASPNET: &str = "mcr.microsoft.com/dotnet/aspnet:9.0.0-alpine3.20";
pub const DOTNET_10_SDK: &str = "mcr.microsoft.com/dotnet/sdk:10.0.100";
pub const DOTNET_10_ASPNET: &str = "mcr.microsoft.com/dotnet/aspnet:10.0.0-alpine3.22";
pub const NGINX: &str = "nginxinc/nginx-unprivileged:1.27.3-alpine";
pub const DENO: &str = "denoland/deno:2.1.4";
pub const BUN: &str = "oven/bun:1.1.38-slim";
pub const UV: &str = "ghcr.io/astral-sh/uv:0.5.11";
pub const DIND: &str = "docker:27.4.1-dind";
/// The stores a deployment can run beside the app.
pub const POSTGRES: &str = "postgres:17.6-bookworm";
pub const MYSQL: &str = "mysql:8.4.6";
/// For MySQL clients that log in only with `mysql_native_password`.
pub const MARIADB: &str = "mariadb:11.4.7";
pub const REDIS: &str = "redis:7.4.5-bookworm";
/// Lets Lambda run an ordinary HTTP server image (serverless target only).
pub const LAMBDA_ADAPTER: &str = "public.ecr.aws/awsguru/aws-lambda-adapter:0.8.4";

/// Every base image a generated Dockerfile or compose file names: what a
/// registry mirror must carry.
pub const ALL: &[&str] = &[
    PYTHON,
    PYTHON_3_9,
    PYTHON_3_10,
    PYTHON_3_11,
    PYTHON_3_13,
    PYTHON_3_14,
    NODE,
    NODE_20,
    NODE_18,
    NODE_16,
    GO_BUILD,
    ALPINE,
    RUST_BUILD,
    RUST_1_79_BUILD,
    DEBIAN_SLIM,
    MAVEN,
    GRADLE,
    JRE,
    MAVEN_17,
    GRADLE_17,
    JRE_17,
    MAVEN_11,
    GRADLE_11,
    JRE_11,
    RUBY,
    COMPOSER,
    PHP,
    PHP_8_4,
    PHP_8_2,
    PHP_8_1,
    PHP_8_0,
    PHP_7_4,
    DOTNET_8_SDK,
    DOTNET_8_ASPNET,
    DOTNET_9_SDK,
    DOTNET_9_ASPNET,
    DOTNET_10_SDK,
    DOTNET_10_ASPNET,
    NGINX,
    DENO,
    BUN,
    UV,
    DIND,
    POSTGRES,
    MYSQL,
    MARIADB,
    REDIS,
    LAMBDA_ADAPTER,
];

/// `image` pulled through `registry` (`registry.internal/dockerhub/`), for
/// users behind a mirror or in an air-gapped network; as it is without one.
pub(super) fn through(registry: &str, image: &str) -> String {
    format!("{registry}{image}")
}

/// A generated Dockerfile whose base images (`FROM`, `COPY --from=`) are
/// pulled through `registry`. Stage names and images deployflow did not
/// choose are left alone.
pub(super) fn rewrite_dockerfile(dockerfile: &str, registry: &str) -> String {
    if registry.is_empty() {
        return dockerfile.to_owned();
    }
    let mut out = String::with_capacity(dockerfile.len() + 64);
    for line in dockerfile.lines() {
        let mut line = line.to_owned();
        for image in ALL {
            for (before, after) in [("FROM ", " "), ("--from=", " ")] {
                let needle = format!("{before}{image}{after}");
                let at_end = format!("{before}{image}");
                if line.contains(&needle) {
                    line = line.replace(
                        &needle,
                        &format!("{before}{}{after}", through(registry, image)),
                    );
                } else if line.ends_with(&at_end) {
                    let start = line.len() - at_end.len();
                    line.replace_range(start.., &format!("{before}{}", through(registry, image)));
                }
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

pub const POETRY_VERSION: &str = "2.2.1";
pub const PIPENV_VERSION: &str = "2024.4.0";
pub const PNPM_VERSION: &str = "9.15.0";
/// Yarn 2+ for a repository that uses it without naming a version in
/// `packageManager`.
pub const YARN_BERRY_VERSION: &str = "4.5.3";

/// Points apt at archive.debian.org on a Debian release its mirrors no
/// longer carry (the archive's release files have expired, so their dates
/// are not checked); does nothing on a supported one.
pub const ARCHIVED_DEBIAN: &str = "if grep -qsE 'jessie|stretch|buster' /etc/os-release; then sed -i -e 's|//deb.debian.org|//archive.debian.org|; s|//security.debian.org|//archive.debian.org|; s|//httpredir.debian.org|//archive.debian.org|; /-updates/d' /etc/apt/sources.list && echo 'Acquire::Check-Valid-Until \"false\";' > /etc/apt/apt.conf.d/99archive; fi && ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_images_go_through_the_registry_and_stages_do_not() {
        let dockerfile = format!(
            "FROM {PYTHON} AS build\nCOPY --from={UV} /uv /usr/local/bin/uv\nFROM {PYTHON}\nCOPY --from=build /opt/venv /opt/venv\nFROM python:3.9\n"
        );
        let rewritten = rewrite_dockerfile(&dockerfile, "mirror.local/hub/");
        assert_eq!(
            rewritten,
            format!(
                "FROM mirror.local/hub/{PYTHON} AS build\nCOPY --from=mirror.local/hub/{UV} /uv /usr/local/bin/uv\nFROM mirror.local/hub/{PYTHON}\nCOPY --from=build /opt/venv /opt/venv\nFROM python:3.9\n"
            )
        );
        assert_eq!(rewrite_dockerfile(&dockerfile, ""), dockerfile);
    }
}
