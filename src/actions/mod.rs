//! The user's workflows: each an action with a pending state, so no button
//! runs one twice; views call them and render.

pub mod aggregate;
pub mod batch;
pub mod codebook;
pub mod endpoint;
pub mod experiment;
pub mod export;
pub mod import;
pub mod project;
pub mod review;
pub mod run;
