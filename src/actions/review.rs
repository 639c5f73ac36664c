//! A human label: stored first, then told to the host page.

use crate::error::AppError;
use crate::services::browser::now_ms;
use crate::services::export::status_word;
use crate::state::AppState;
use fannotate_core::records::{Annotation, AnnotationStatus, HUMAN_SOURCE};

/// One item's human label for an attribute, given or cleared.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelChange {
    /// The dataset.
    pub dataset: String,
    /// The row's index.
    pub row: u32,
    /// The row's id, for the host event.
    pub row_id: String,
    /// The attribute.
    pub attribute: String,
    /// The label, or `None` to clear it.
    pub value: Option<String>,
}

/// Store `change`; only once it is stored does the host hear of it (issue #15:
/// the `fannotate:annotation` event fired before the write, and stood when the
/// write failed).
pub async fn save_label(state: AppState, change: &LabelChange) -> Result<(), AppError> {
    let storage = state.storage();
    let c = change;
    match &c.value {
        Some(v) => {
            let a = Annotation {
                status: AnnotationStatus::Valid,
                value: Some(v.clone()),
                ..Annotation::pending(&c.dataset, c.row, &c.attribute, HUMAN_SOURCE, now_ms())
            };
            storage.put_annotations(vec![a], None).await?;
            state.emit(
                "annotation",
                &serde_json::json!({
                    "row": c.row, "id": c.row_id, "attribute": c.attribute, "source": HUMAN_SOURCE,
                    "value": v, "status": status_word(AnnotationStatus::Valid),
                }),
            );
        }
        None => {
            storage
                .delete_annotation(
                    c.dataset.clone(),
                    HUMAN_SOURCE.into(),
                    c.row,
                    c.attribute.clone(),
                )
                .await?
        }
    }
    Ok(())
}
