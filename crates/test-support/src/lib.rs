//! Helpers every crate's integration tests share, so no test copies its own.

pub mod database;
pub mod docker_engine;
pub mod docker_tls;
pub mod fake_container_tools;
pub mod fake_openai;
pub mod fake_terraform;
pub mod git_fixture;
pub mod git_server;
pub mod worker_process;
