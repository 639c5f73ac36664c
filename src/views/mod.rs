//! One screen per workflow step.

pub mod codebook;
pub mod data;
pub mod distil;
pub mod endpoint;
pub mod experiments;
pub mod locality;
pub mod projects;
pub mod results;
pub mod review;
pub mod run;
