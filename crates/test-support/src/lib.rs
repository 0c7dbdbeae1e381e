//! Helpers every crate's integration tests share, so no test copies its own.

pub mod database;
pub mod worker_process;
