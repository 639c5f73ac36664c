//! The records the app keeps in browser storage (IndexedDB), and the pure
//! rules that go with them. Field names, serde attributes, defaults and enum
//! representations are part of the stored schema: changing one needs a
//! migration in the app's `services::idb`.
//!
//! Everything is re-exported here, so callers write `records::RunRecord`.

pub mod annotation;
pub mod batch;
pub mod dataset;
pub mod endpoint;
pub mod experiment;
pub mod gold;
pub mod pacing;
pub mod project;
pub mod ranges;
pub mod run;

pub use annotation::{run_source, Annotation, AnnotationStatus, ChatAnswer, Failure, HUMAN_SOURCE};
pub use batch::{
    BatchEngine, BatchImport, BatchPart, BatchRun, PartialAnswer, PartialRow, RemoteBatch,
};
pub use dataset::{
    column_stats, version_attribute, CodebookVersion, ColumnStats, DatasetMeta, GoldColumn,
    RowRecord, ValidationSet, DISTINCT_CAP,
};
pub use endpoint::{
    constrained_decoding, Capabilities, ConstraintMode, EndpointConfig, Provider,
    AZURE_API_VERSION, HTTP1_CONNECTIONS_PER_HOST,
};
pub use experiment::{
    model_label, other_endpoint, outcome_of, set_model_price, span_s, Experiment, ExperimentCell,
    ModelPrice,
};
pub use gold::{add_human_labels, column_gold, in_validation};
pub use pacing::{Pool, TokenBucket, REPLICA_MAX_FAILURES, REPLICA_TIMEOUT_MS};
pub use project::{ImportMarker, Project, StudentMeasure};
pub use ranges::{ranges_contain, row_ranges};
pub use run::{AggregateOf, RunRecord, RunStatus, Scope};
