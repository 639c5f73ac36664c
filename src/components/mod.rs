//! Presentational pieces: they take signals and callbacks and know nothing of storage.

pub mod confusion;
pub mod progress;
pub mod toasts;

pub use confusion::ConfusionMatrix;
pub use progress::ProgressBar;
pub use toasts::Toasts;
