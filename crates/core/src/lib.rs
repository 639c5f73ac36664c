//! Pure logic for Fannotate: everything that can be computed without a browser.
//!
//! No leptos, web-sys, js-sys or wasm-bindgen here: this crate is host-tested with
//! `cargo test`, and the app calls it from WASM.

pub mod aggregate;
pub mod agreement;
pub mod answer;
pub mod batch;
pub mod chat;
pub mod codebook;
pub mod diff;
pub mod experiment;
pub mod export;
mod fastcsv;
pub mod import;
pub mod jobs;
pub mod metrics;
pub mod projection;
pub mod prompt;
pub mod records;
pub mod rouge;
pub mod sample;
pub mod student;
pub mod table;
pub mod time;
pub mod url;
pub mod xlsx;

pub use answer::{parse_answer, Parsed};
pub use codebook::{Attribute, AttributeKind, Category, Codebook, CodebookError};
pub use metrics::{classify, ClassReport, ClassificationReport};
pub use prompt::{render_prompt, Constraint, PromptOptions};
pub use table::{parse_table, Table, TableError, TextEncoding};
