//! Side effects, each behind a small interface: storage, the LLM client and the
//! job runner, files, and browser timing.

pub mod backup;
pub mod browser;
pub mod export;
pub mod files;
pub mod idb;
pub mod importer;
pub mod llm;
pub mod memory;
pub mod netpolicy;
pub mod place;
pub mod runner;
pub mod sample;
pub mod storage;
pub mod worker;
