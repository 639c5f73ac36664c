//! Review: one item at a time, keyboard first. Keys 1–9 pick a category, Enter
//! accepts the model's suggestion, → / J and ← / K move, U undoes, / searches.
//! Human labels are stored apart from the model's (source `human`) and a run
//! never overwrites them.

mod reviewer;
mod validation;

use crate::actions::review::{save_label, LabelChange};
use crate::components::when_loaded;
use crate::error::AppError;
use crate::state::AppState;
use fannotate_core::records::{
    run_source, Annotation, AnnotationStatus, DatasetMeta, RowRecord, ValidationSet, HUMAN_SOURCE,
};
use fannotate_core::{Attribute, AttributeKind};
use leptos::prelude::*;
use reviewer::Reviewer;
use std::collections::HashMap;
use std::sync::Arc;
use validation::ValidationPanel;

/// Below this confidence an item is in the "low confidence" queue.
const LOW_CONFIDENCE: f64 = 0.7;

/// Which items to step through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Every row.
    All,
    /// Rows without a human label.
    Unreviewed,
    /// Rows where the model's label and the human's differ.
    Disagreements,
    /// Rows whose model label has a confidence below [`LOW_CONFIDENCE`].
    LowConfidence,
    /// Rows whose model answer was invalid or failed.
    Invalid,
    /// Rows of the validation set.
    Validation,
}

impl Queue {
    /// Every queue, for the picker.
    pub const ALL: [Queue; 6] = [
        Queue::All,
        Queue::Validation,
        Queue::Unreviewed,
        Queue::Disagreements,
        Queue::LowConfidence,
        Queue::Invalid,
    ];

    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::All => "all",
            Queue::Unreviewed => "unreviewed",
            Queue::Disagreements => "disagreements",
            Queue::LowConfidence => "low-confidence",
            Queue::Invalid => "invalid",
            Queue::Validation => "validation",
        }
    }

    /// Inverse of [`Queue::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str() == s)
    }

    /// Name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Queue::All => "All rows",
            Queue::Unreviewed => "Unreviewed",
            Queue::Disagreements => "Disagreements (model ≠ human)",
            Queue::LowConfidence => "Low confidence (< 70 %)",
            Queue::Invalid => "Invalid or failed answers",
            Queue::Validation => "Validation set",
        }
    }

    /// Whether a row belongs to this queue (the validation set is checked by
    /// the caller, which knows the rows).
    pub fn admits(self, llm: Option<&Annotation>, human: Option<&str>) -> bool {
        match self {
            Queue::All | Queue::Validation => true,
            Queue::Unreviewed => human.is_none(),
            Queue::Disagreements => match (llm.and_then(|a| a.value.as_deref()), human) {
                (Some(m), Some(h)) => m != h,
                _ => false,
            },
            Queue::LowConfidence => llm
                .and_then(|a| a.confidence)
                .is_some_and(|c| c < LOW_CONFIDENCE),
            Queue::Invalid => llm.is_some_and(|a| a.status != AnnotationStatus::Valid),
        }
    }
}

/// What review needs, loaded once per visit.
#[derive(Clone)]
struct Loaded {
    meta: DatasetMeta,
    dataset_id: String,
    rows: Arc<Vec<RowRecord>>,
    text_col: usize,
    attributes: Vec<Attribute>,
    /// Per attribute: the latest run's answers by row.
    llm: Arc<HashMap<String, HashMap<u32, Annotation>>>,
    /// Human labels as stored when the view opened: (attribute, row) → value.
    human: HashMap<(String, u32), String>,
}

async fn load(state: AppState) -> Result<Option<Loaded>, AppError> {
    let storage = state.storage();
    let pid = state.project_id().unwrap_or_default();
    let Some(meta) = storage.dataset(pid.clone()).await? else {
        return Ok(None);
    };
    let Some(cb) = storage.latest_codebook(pid.clone()).await? else {
        return Ok(None);
    };
    let attributes = cb.codebook()?.attributes;
    let rows = state.rows(&meta).await?;
    let runs = storage.runs(pid).await?;
    // Runs are newest first: the first run of an attribute gives its suggestions.
    let suggesting: HashMap<String, String> = attributes
        .iter()
        .filter_map(|attr| {
            let run = runs
                .iter()
                .find(|r| r.dataset_id == meta.id && r.attribute == attr.name)?;
            Some((run_source(&run.id), attr.name.clone()))
        })
        .collect();
    // One read serves both the human labels and the suggestions.
    let mut llm: HashMap<String, HashMap<u32, Annotation>> = HashMap::new();
    let mut human = HashMap::new();
    for a in storage.all_annotations(meta.id.clone()).await? {
        if a.source == HUMAN_SOURCE {
            if let Some(v) = a.value {
                human.insert((a.attribute, a.row), v);
            }
        } else if suggesting.get(&a.source) == Some(&a.attribute) {
            llm.entry(a.attribute.clone()).or_default().insert(a.row, a);
        }
    }
    Ok(Some(Loaded {
        meta: meta.clone(),
        dataset_id: meta.id,
        rows,
        text_col: meta.text_col,
        attributes,
        llm: Arc::new(llm),
        human,
    }))
}

/// The review step.
#[component]
pub fn ReviewView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let loaded = LocalResource::new(move || load(state));
    view! {
        <section class="fa-view" data-testid="review-view">
            <h2>"Review"</h2>
            {when_loaded(loaded, "Loading…", move |value| match value {
                None => view! { <p class="fa-empty">"Import data and save a codebook first; then label items here, with or without a model's suggestions."</p> }.into_any(),
                Some(l) => view! { <Reviewer loaded=l /> }.into_any(),
                        })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_admit_the_right_items() {
        let llm = |v: Option<&str>, status, conf| Annotation {
            value: v.map(str::to_string),
            status,
            confidence: conf,
            ..Annotation::pending("d", 0, "a", "run:x", 0.0)
        };
        let ok = llm(Some("spam"), AnnotationStatus::Valid, Some(0.9));
        let unsure = llm(Some("ham"), AnnotationStatus::Valid, Some(0.5));
        let bad = llm(None, AnnotationStatus::Invalid, None);
        assert!(Queue::All.admits(None, None));
        assert!(Queue::Unreviewed.admits(Some(&ok), None));
        assert!(!Queue::Unreviewed.admits(Some(&ok), Some("spam")));
        assert!(Queue::Disagreements.admits(Some(&ok), Some("ham")));
        assert!(!Queue::Disagreements.admits(Some(&ok), Some("spam")));
        assert!(!Queue::Disagreements.admits(None, Some("ham")));
        assert!(Queue::LowConfidence.admits(Some(&unsure), None));
        assert!(!Queue::LowConfidence.admits(Some(&ok), None));
        assert!(Queue::Invalid.admits(Some(&bad), None));
        assert!(!Queue::Invalid.admits(Some(&ok), None));
        for q in Queue::ALL {
            assert_eq!(Queue::parse(q.as_str()), Some(q));
        }
    }
}
