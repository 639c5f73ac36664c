//! The student classifier of the distillation feature: hashed word n-gram features
//! and L2-regularised logistic regression, trained on labels or soft targets (for
//! example Dawid–Skene posteriors from [`crate::aggregate`]) and scored without the
//! LLM. Both halves match scikit-learn; see `shared/reference/student/README.md`.

pub mod distil;
mod hashing;
mod logreg;
mod word_chars;

pub use hashing::{is_word_char, murmur3_x86_32, tokens, HashingSpec, SparseVec};
pub use logreg::{fit_labels, fit_soft, Fit, FitOptions, FitReport, Objective, StudentModel};

/// Why a student could not be trained or loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudentError {
    /// Vectorizer settings that cannot work.
    #[error("bad hashing settings {0:?}: need 1 ≤ n_features ≤ 2^31 and 1 ≤ min n ≤ max n")]
    BadSpec(HashingSpec),
    /// A fit option out of range.
    #[error("bad fit option: {0}")]
    BadOption(&'static str),
    /// Two inputs that should have one entry per row differ in length.
    #[error("{what}: expected {expected} entries (one per row), got {got}")]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// Rows.
        expected: usize,
        /// Entries given.
        got: usize,
    },
    /// Training needs at least two classes.
    #[error("need at least 2 classes to train, got {0}")]
    TooFewClasses(usize),
    /// The same class was listed twice.
    #[error("a class is listed twice")]
    DuplicateClass,
    /// A class with no (weighted) target mass has no finite optimum.
    #[error("class {0:?} has no training weight")]
    EmptyClass(String),
    /// A soft target row that is not a probability distribution.
    #[error("row {row}: bad target: {reason}")]
    BadTarget {
        /// Row number (0-based).
        row: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A negative or non-finite sample weight.
    #[error("row {row}: sample weight must be finite and ≥ 0")]
    BadWeight {
        /// Row number (0-based).
        row: usize,
    },
    /// All sample weights are 0.
    #[error("all sample weights are 0")]
    NoWeight,
    /// A feature vector with unsorted, out-of-range or non-finite entries.
    #[error("row {row}: feature indices must be ascending and below n_features, values finite")]
    BadFeatures {
        /// Row number (0-based).
        row: usize,
    },
    /// A saved model that does not parse or is inconsistent.
    #[error("bad model: {0}")]
    BadModel(String),
}
