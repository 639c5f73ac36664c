//! Presentational pieces: they take signals and callbacks and know nothing of storage.

pub mod bar_chart;
pub mod button;
pub mod class_bars;
pub mod combine_runs;
pub mod confusion;
pub mod histogram;
pub mod learning_curve;
pub mod loaded;
pub mod progress;
pub mod run_panel;
pub mod select_field;
pub mod toasts;

pub use bar_chart::{Bar, BarChart, RefLine};
pub use button::{Button, Tone};
pub use class_bars::ClassBars;
pub use combine_runs::{CombineChoice, CombineRuns};
pub use confusion::ConfusionMatrix;
pub use histogram::Histogram;
pub use learning_curve::{CurvePoint, LearningCurve};
pub use loaded::when_loaded;
pub use progress::ProgressBar;
pub use run_panel::{RunControls, RunProgressPanel};
pub use select_field::SelectField;
pub use toasts::Toasts;
