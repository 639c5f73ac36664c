//! Fannotate: a client-side LLM annotation workbench (Leptos CSR, WebAssembly).
//!
//! `services` holds side effects behind interfaces, `state` the app-state context,
//! `components` presentational pieces, `views` one screen per workflow step, and
//! `embed` the JS mount API. Pure logic lives in the `fannotate-core` crate.

pub mod actions;
pub mod app;
pub mod components;
pub mod data;
pub mod embed;
pub mod error;
pub mod format;
pub mod options;
pub mod route;
pub mod services;
pub mod state;
pub mod views;

pub use embed::{mount, MountHandle};
pub use options::MountOptions;
