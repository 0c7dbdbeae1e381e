//! Deciding where an analysed app runs and generating what runs it: the
//! Docker bundle, the Terraform, and the policy gate every Terraform file
//! passes before it may be applied.

pub mod bundle;
pub mod choose;
mod error;
pub mod own_address;
pub mod policy;
pub mod terraform;

pub use error::InfraError;
