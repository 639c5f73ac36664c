//! Reads the views share: what a project's stored records amount to.

pub mod codebook;
pub mod endpoint;
pub mod gold;
pub mod job;
pub mod rows;
