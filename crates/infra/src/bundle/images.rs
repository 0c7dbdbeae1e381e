//! Base images, pinned to exact version tags so a rebuild gives the same
//! image; bump them deliberately, together with the tests.

pub(super) const PYTHON: &str = "python:3.12.8-slim-bookworm";
pub(super) const NODE: &str = "node:22.12.0-bookworm-slim";
pub(super) const GO_BUILD: &str = "golang:1.23.4-bookworm";
pub(super) const ALPINE: &str = "alpine:3.20.3";
pub(super) const RUST_BUILD: &str = "rust:1.85.0-slim-bookworm";
pub(super) const DEBIAN_SLIM: &str = "debian:12.8-slim";
pub(super) const MAVEN: &str = "maven:3.9.9-eclipse-temurin-21";
pub(super) const GRADLE: &str = "gradle:8.11.1-jdk21";
pub(super) const JRE: &str = "eclipse-temurin:21.0.5_11-jre-alpine";
pub(super) const RUBY: &str = "ruby:3.3.6-slim-bookworm";
pub(super) const COMPOSER: &str = "composer:2.8.3";
pub(super) const PHP: &str = "php:8.3.14-cli-bookworm";
pub(super) const DOTNET_8_SDK: &str = "mcr.microsoft.com/dotnet/sdk:8.0.404";
pub(super) const DOTNET_8_ASPNET: &str = "mcr.microsoft.com/dotnet/aspnet:8.0.11-alpine3.20";
pub(super) const DOTNET_9_SDK: &str = "mcr.microsoft.com/dotnet/sdk:9.0.101";
pub(super) const DOTNET_9_ASPNET: &str = "mcr.microsoft.com/dotnet/aspnet:9.0.0-alpine3.20";
pub(super) const NGINX: &str = "nginxinc/nginx-unprivileged:1.27.3-alpine";
pub(super) const DENO: &str = "denoland/deno:2.1.4";
pub(super) const BUN: &str = "oven/bun:1.1.38-slim";
pub(super) const UV: &str = "ghcr.io/astral-sh/uv:0.5.11";
pub(super) const DIND: &str = "docker:27.4.1-dind";
/// Lets Lambda run an ordinary HTTP server image (serverless target only).
pub(super) const LAMBDA_ADAPTER: &str = "public.ecr.aws/awsguru/aws-lambda-adapter:0.8.4";

pub(super) const POETRY_VERSION: &str = "1.8.5";
pub(super) const PIPENV_VERSION: &str = "2024.4.0";
pub(super) const PNPM_VERSION: &str = "9.15.0";
