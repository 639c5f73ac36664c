//! Where an open project is in the workflow: the steps, in order.

/// Workflow steps of an open project, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Import the dataset.
    Data,
    /// Define attributes and categories.
    Codebook,
    /// Configure and test the model endpoint.
    Endpoint,
    /// Compare models, prompts and temperatures on the validation set.
    Experiments,
    /// Auto-annotate.
    Run,
    /// Label and correct items one at a time.
    Review,
    /// Labels, metrics and export.
    Results,
    /// Train a fast classifier on the LLM's labels and compare it with the LLM.
    Distil,
}

impl Step {
    /// Every step, in workflow order.
    pub const ALL: [Step; 8] = [
        Step::Data,
        Step::Codebook,
        Step::Endpoint,
        Step::Experiments,
        Step::Run,
        Step::Review,
        Step::Results,
        Step::Distil,
    ];

    /// Name shown in the stepper.
    pub fn label(self) -> &'static str {
        match self {
            Step::Data => "Data",
            Step::Codebook => "Codebook",
            Step::Endpoint => "Endpoint",
            Step::Experiments => "Experiments",
            Step::Run => "Run",
            Step::Review => "Review",
            Step::Results => "Results",
            Step::Distil => "Distil",
        }
    }

    /// Inverse of [`Step::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Stable identifier (for `data-testid` and the embed's `start-view`).
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Data => "data",
            Step::Codebook => "codebook",
            Step::Endpoint => "endpoint",
            Step::Experiments => "experiments",
            Step::Run => "run",
            Step::Review => "review",
            Step::Results => "results",
            Step::Distil => "distil",
        }
    }
}
