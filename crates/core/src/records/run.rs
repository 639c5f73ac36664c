//! Runs: one auto-annotation of one attribute over a dataset, the rows it
//! covers (as compact ranges) and the scopes a run can be started on.

use super::annotation::{Annotation, AnnotationStatus, HUMAN_SOURCE};
use super::batch::BatchRun;
use super::dataset::{DatasetMeta, RowRecord, ValidationSet};
use super::endpoint::EndpointConfig;
use super::gold::in_validation;
use super::ranges::ranges_contain;
use crate::aggregate::AggregateMethod;
use crate::prompt::Constraint;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Lifecycle of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunStatus {
    /// Requests are being sent.
    Running,
    /// Every task finished (some may have failed).
    Completed,
    /// The user cancelled.
    Cancelled,
    /// Stopped by an error that makes further requests pointless (e.g. auth).
    Failed,
    /// The page closed while it was running.
    Interrupted,
    /// Handed to a batch engine; its answers are imported from output files.
    WaitingForBatch,
}

impl RunStatus {
    /// Word shown to users.
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::WaitingForBatch => "waiting for batch results",
        }
    }
}

/// One auto-annotation run of one attribute over a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Random unique id.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Dataset annotated.
    pub dataset_id: String,
    /// Attribute annotated.
    pub attribute: String,
    /// Whether the attribute is free text (compared by ROUGE, not as labels).
    #[serde(default)]
    pub free_text: bool,
    /// Codebook version used.
    pub codebook_version: u32,
    /// Endpoint settings used (never with the key).
    pub endpoint: EndpointConfig,
    /// Current state.
    pub status: RunStatus,
    /// Tasks in the run.
    pub total: u32,
    /// Tasks answered with a valid label.
    pub valid: u32,
    /// Tasks answered outside the label set.
    pub invalid: u32,
    /// Tasks whose request failed.
    pub failed: u32,
    /// Milliseconds since the epoch.
    pub started_at: f64,
    /// Milliseconds since the epoch.
    pub finished_at: Option<f64>,
    /// Why the run stopped, when it failed.
    pub error: Option<String>,
    /// Which rows the run was started on.
    #[serde(default)]
    pub scope: Scope,
    /// The rows of the run as `[start, end)` ranges; `None` means every row.
    #[serde(default)]
    pub task_rows: Option<Vec<[u32; 2]>>,
    /// The experiment this run is a cell of, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// For a run made by combining other runs' labels: how, and which runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<AggregateOf>,
    /// For a run handed to a batch engine: its files and imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchRun>,
}

/// The provenance of an aggregated run: no request was sent, its labels come
/// from these runs by this method (confidence is the vote share or posterior).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateOf {
    /// How the labels were combined.
    pub method: AggregateMethod,
    /// The runs combined, by id.
    pub runs: Vec<String>,
}

impl RunRecord {
    /// What the run asked, for people: "mock-model · prompt v2 · T 0.7 ·
    /// constrained · ×3", so runs of an experiment's cells can be told apart.
    pub fn configuration(&self) -> String {
        if let Some(a) = &self.aggregate {
            return format!("{} of {} runs", a.method.label(), a.runs.len());
        }
        let e = &self.endpoint;
        let model = if e.model.is_empty() {
            "(server default)"
        } else {
            &e.model
        };
        let mut s = format!(
            "{model} · prompt v{} · T {}",
            self.codebook_version, e.temperature
        );
        if !self.free_text {
            s.push_str(if e.constraint == Constraint::None {
                " · free"
            } else {
                " · constrained"
            });
            if e.replications > 1 {
                s.push_str(&format!(" · ×{}", e.replications));
            }
        }
        s
    }

    /// The status to show in a page that is running `live` (if any): a run
    /// stored as running that is not that one was left by a page that closed.
    pub fn shown_status(&self, live: Option<&str>) -> RunStatus {
        if self.status == RunStatus::Running && live != Some(self.id.as_str()) {
            RunStatus::Interrupted
        } else {
            self.status
        }
    }

    /// Whether row `row` is one of the run's tasks.
    pub fn has_row(&self, row: u32) -> bool {
        self.task_rows
            .as_ref()
            .is_none_or(|ranges| ranges_contain(ranges, row))
    }
}

#[cfg(test)]
impl RunRecord {
    /// A running run of `attribute` on dataset `d` of project `p`, for tests.
    pub(crate) fn for_test(id: &str, attribute: &str) -> Self {
        RunRecord {
            id: id.into(),
            project_id: "p".into(),
            dataset_id: "d".into(),
            attribute: attribute.into(),
            free_text: false,
            codebook_version: 1,
            endpoint: EndpointConfig::new("p", super::endpoint::Provider::Vllm, None, None),
            status: RunStatus::Running,
            total: 0,
            valid: 0,
            invalid: 0,
            failed: 0,
            started_at: 0.0,
            finished_at: None,
            error: None,
            scope: Scope::All,
            task_rows: None,
            experiment: None,
            aggregate: None,
            batch: None,
        }
    }
}

/// Which rows a run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Scope {
    /// Every row of the dataset.
    #[default]
    All,
    /// The dataset's validation set, or rows with a human label when none was chosen.
    Validation,
    /// Rows with neither a human label nor a valid model label for the attribute.
    Unlabelled,
    /// Rows whose latest model answer for the attribute failed or was invalid.
    Failed,
}

impl Scope {
    /// Every scope, for pickers.
    pub const ALL: [Scope; 4] = [
        Scope::All,
        Scope::Validation,
        Scope::Unlabelled,
        Scope::Failed,
    ];

    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Validation => "validation",
            Scope::Unlabelled => "unlabelled",
            Scope::Failed => "failed",
        }
    }

    /// Inverse of [`Scope::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The rows of a dataset of `row_count` rows in this scope, in order.
    /// `validation`: the chosen validation set, if any; `human`: rows with a human
    /// label for the attribute; `model_valid`: rows with a valid model label from
    /// any run; `latest`: each row's most recent model outcome.
    pub fn rows(
        self,
        row_count: u32,
        validation: Option<&ValidationSet>,
        human: &HashSet<u32>,
        model_valid: &HashSet<u32>,
        latest: &HashMap<u32, AnnotationStatus>,
    ) -> Vec<u32> {
        (0..row_count)
            .filter(|r| match self {
                Scope::All => true,
                Scope::Validation => in_validation(validation, *r, human.contains(r)),
                Scope::Unlabelled => !human.contains(r) && !model_valid.contains(r),
                Scope::Failed => matches!(
                    latest.get(r),
                    Some(AnnotationStatus::Error | AnnotationStatus::Invalid)
                ),
            })
            .collect()
    }

    /// The rows of dataset `ds` in this scope for `attribute`, given its rows
    /// and every stored annotation of the dataset. A row has a human label when
    /// its gold column cell is filled or a person labelled it; each row's latest
    /// model outcome is the one with the newest timestamp (the last stored of
    /// equal ones).
    pub fn select(
        self,
        ds: &DatasetMeta,
        attribute: &str,
        rows: &[RowRecord],
        annotations: &[Annotation],
    ) -> Vec<u32> {
        let gold_col = ds.gold_for(attribute);
        let mut human: HashSet<u32> = rows
            .iter()
            .filter(|r| gold_col.is_some_and(|c| !r.cell(c).trim().is_empty()))
            .map(|r| r.idx)
            .collect();
        let mut model_valid = HashSet::new();
        let mut latest: HashMap<u32, (f64, AnnotationStatus)> = HashMap::new();
        for a in annotations.iter().filter(|a| a.attribute == attribute) {
            if a.source == HUMAN_SOURCE {
                if a.value.is_some() {
                    human.insert(a.row);
                }
                continue;
            }
            if a.status == AnnotationStatus::Valid {
                model_valid.insert(a.row);
            }
            let e = latest.entry(a.row).or_insert((a.ts, a.status));
            if a.ts >= e.0 {
                *e = (a.ts, a.status);
            }
        }
        let latest: HashMap<u32, AnnotationStatus> =
            latest.into_iter().map(|(r, (_, s))| (r, s)).collect();
        self.rows(
            ds.row_count,
            ds.validation.as_ref(),
            &human,
            &model_valid,
            &latest,
        )
    }

    /// Name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Scope::All => "All rows",
            Scope::Validation => "Validation set",
            Scope::Unlabelled => "Unlabelled rows",
            Scope::Failed => "Failed or invalid answers",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::row_ranges;

    #[test]
    fn a_run_stored_as_running_is_interrupted_unless_this_page_runs_it() {
        let r = RunRecord::for_test("r", "spam");
        assert_eq!(r.shown_status(Some("r")), RunStatus::Running);
        assert_eq!(r.shown_status(Some("other")), RunStatus::Interrupted);
        assert_eq!(r.shown_status(None), RunStatus::Interrupted);
        let done = RunRecord {
            status: RunStatus::Completed,
            ..r
        };
        assert_eq!(done.shown_status(None), RunStatus::Completed);
    }

    #[test]
    fn a_runs_configuration_names_model_prompt_temperature_decoding_and_replications() {
        let mut r = RunRecord::for_test("r", "spam");
        r.endpoint.model = "m".into();
        r.endpoint.temperature = 0.7;
        r.codebook_version = 2;
        r.endpoint.constraint = Constraint::None;
        assert_eq!(r.configuration(), "m · prompt v2 · T 0.7 · free");
        r.endpoint.constraint = Constraint::JsonSchema;
        r.endpoint.replications = 3;
        assert_eq!(
            r.configuration(),
            "m · prompt v2 · T 0.7 · constrained · ×3"
        );
        r.free_text = true;
        r.endpoint.model.clear();
        assert_eq!(r.configuration(), "(server default) · prompt v2 · T 0.7");
    }

    #[test]
    fn row_ranges_are_compact_and_searchable() {
        let ranges = row_ranges([5, 1, 2, 3, 9, 3, 10]);
        assert_eq!(ranges, vec![[1, 4], [5, 6], [9, 11]]);
        let run = RunRecord {
            task_rows: Some(ranges),
            ..sample_run()
        };
        let hits: Vec<u32> = (0..12).filter(|r| run.has_row(*r)).collect();
        assert_eq!(hits, vec![1, 2, 3, 5, 9, 10]);
        assert!(sample_run().has_row(123_456));
    }

    #[test]
    fn scopes_pick_their_rows() {
        let human: HashSet<u32> = [0, 1].into();
        let valid: HashSet<u32> = [1, 2].into();
        let latest: HashMap<u32, AnnotationStatus> = [
            (2, AnnotationStatus::Valid),
            (3, AnnotationStatus::Error),
            (4, AnnotationStatus::Invalid),
        ]
        .into();
        let rows = |s: Scope| s.rows(6, None, &human, &valid, &latest);
        assert_eq!(rows(Scope::All), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(rows(Scope::Validation), vec![0, 1]);
        assert_eq!(rows(Scope::Unlabelled), vec![3, 4, 5]);
        assert_eq!(rows(Scope::Failed), vec![3, 4]);
        let v = ValidationSet::new([5, 2, 3], "random, seed 1".into());
        assert_eq!((v.size, v.contains(4), v.contains(5)), (3, false, true));
        assert_eq!(
            Scope::Validation.rows(6, Some(&v), &human, &valid, &latest),
            vec![2, 3, 5]
        );
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_scope_selects_from_the_gold_column_human_labels_and_latest_answers() {
        // Rows 0..5; the gold column (1) is filled on row 0 only.
        let ds: DatasetMeta = serde_json::from_value(serde_json::json!({
            "id": "d", "project_id": "p", "name": "x", "columns": ["text", "gold"],
            "text_col": 0, "id_col": null, "gold_col": 1, "row_count": 5,
            "encoding": "UTF-8", "delimiter": ",", "imported_at": 0.0
        }))
        .unwrap();
        let rows: Vec<RowRecord> = (0..5)
            .map(|i| RowRecord {
                dataset_id: "d".into(),
                idx: i,
                id: format!("row-{i}"),
                cells: vec!["t".into(), if i == 0 { "spam" } else { " " }.into()],
            })
            .collect();
        let ann = |row, source: &str, status, value: Option<&str>, ts| Annotation {
            status,
            value: value.map(str::to_string),
            ..Annotation::pending("d", row, "spam", source, ts)
        };
        let annotations = [
            // A person labelled row 1; a label without a value does not count.
            ann(1, HUMAN_SOURCE, AnnotationStatus::Valid, Some("ham"), 1.0),
            ann(4, HUMAN_SOURCE, AnnotationStatus::Valid, None, 1.0),
            // Row 2 failed, then was answered: its latest outcome is valid.
            ann(2, "run:a", AnnotationStatus::Error, None, 1.0),
            ann(2, "run:b", AnnotationStatus::Valid, Some("ham"), 2.0),
            // Row 3 was answered, then failed on a retry.
            ann(3, "run:a", AnnotationStatus::Valid, Some("ham"), 1.0),
            ann(3, "run:b", AnnotationStatus::Invalid, None, 2.0),
            // Another attribute's answers are not looked at.
            Annotation {
                attribute: "mood".into(),
                ..ann(4, "run:a", AnnotationStatus::Error, None, 3.0)
            },
        ];
        let select = |s: Scope| s.select(&ds, "spam", &rows, &annotations);
        assert_eq!(select(Scope::All), vec![0, 1, 2, 3, 4]);
        assert_eq!(select(Scope::Validation), vec![0, 1]);
        assert_eq!(select(Scope::Unlabelled), vec![4]);
        assert_eq!(select(Scope::Failed), vec![3]);
        // An attribute with its own gold mapping (none) looks at no column.
        let mut ds = ds;
        ds.set_gold("spam", None);
        assert_eq!(
            Scope::Validation.select(&ds, "spam", &rows, &annotations),
            vec![1]
        );
    }

    #[test]
    fn old_runs_read_with_defaults() {
        let mut r = serde_json::to_value(sample_run()).unwrap();
        r.as_object_mut().unwrap().remove("scope");
        r.as_object_mut().unwrap().remove("task_rows");
        let r: RunRecord = serde_json::from_value(r).unwrap();
        assert_eq!((r.scope, r.task_rows), (Scope::All, None));
    }

    fn sample_run() -> RunRecord {
        RunRecord::for_test("r", "a")
    }
}
