//! Reads the views share: what a project's stored records amount to.

pub mod endpoint;
pub mod rows;
