//! The annotated-data export: every row with its original columns, the human
//! label and each run's answer with provenance, in the format the user picks.

use super::browser::TimeSlice;
use super::storage::Storage;
use super::storage::StorageError;
use fannotate_core::export::{
    write_csv_rows, write_csv_with, write_jsonl, write_xlsx, ExportOptions,
};
use fannotate_core::records::{
    run_source, Annotation, AnnotationStatus, DatasetMeta, RowRecord, RunRecord, HUMAN_SOURCE,
};
use fannotate_core::CodebookError;
use std::collections::HashMap;

/// Rows made or encoded between checks of the clock.
const ENCODE_CHUNK: usize = 2_000;
/// Making and encoding rows yields to the browser at least this often (milliseconds).
const ENCODE_SLICE_MS: f64 = 40.0;

/// File formats of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// UTF-8 CSV.
    Csv,
    /// UTF-8 CSV with a byte-order mark, so Excel reads æøå right.
    CsvExcel,
    /// An Excel workbook.
    Xlsx,
    /// One JSON object per line.
    Jsonl,
}

impl ExportFormat {
    /// Every format, for pickers.
    pub const ALL: [ExportFormat; 4] = [
        ExportFormat::Csv,
        ExportFormat::CsvExcel,
        ExportFormat::Xlsx,
        ExportFormat::Jsonl,
    ];

    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::CsvExcel => "csv-excel",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Jsonl => "jsonl",
        }
    }

    /// Inverse of [`ExportFormat::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Csv => "CSV (UTF-8)",
            ExportFormat::CsvExcel => "CSV for Excel (UTF-8 with BOM)",
            ExportFormat::Xlsx => "Excel workbook (.xlsx)",
            ExportFormat::Jsonl => "JSON Lines",
        }
    }

    /// File name extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::CsvExcel => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Jsonl => "jsonl",
        }
    }

    /// MIME type of the file.
    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::CsvExcel => "text/csv;charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ExportFormat::Jsonl => "application/x-ndjson",
        }
    }

    /// [`ExportFormat::encode`] a slice of rows at a time, yielding to the browser
    /// whenever a slice has held the page's thread for [`ENCODE_SLICE_MS`]: the
    /// parts, one after another, are the whole file. A workbook is one zip,
    /// written at once.
    pub async fn encode_sliced(
        self,
        sheet: &str,
        header: &[String],
        rows: &[Vec<String>],
    ) -> Vec<Vec<u8>> {
        if self == ExportFormat::Xlsx || rows.is_empty() {
            return vec![self.encode(sheet, header, rows)];
        }
        let mut parts = Vec::new();
        let mut slice = TimeSlice::new(ENCODE_SLICE_MS);
        for (i, chunk) in rows.chunks(ENCODE_CHUNK).enumerate() {
            parts.push(match self {
                // The CSV header (and BOM) lead the first part only.
                ExportFormat::Csv | ExportFormat::CsvExcel if i > 0 => {
                    write_csv_rows(chunk).into_bytes()
                }
                _ => self.encode(sheet, header, chunk),
            });
            slice.pause_if_due().await;
        }
        parts
    }

    /// Encode a table in this format.
    pub fn encode(self, sheet: &str, header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
        match self {
            ExportFormat::Csv => {
                write_csv_with(header, rows, &ExportOptions { bom: false }).into_bytes()
            }
            ExportFormat::CsvExcel => {
                write_csv_with(header, rows, &ExportOptions { bom: true }).into_bytes()
            }
            ExportFormat::Xlsx => write_xlsx(sheet, header, rows),
            ExportFormat::Jsonl => write_jsonl(header, rows).into_bytes(),
        }
    }
}

/// Why the export table could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExportError {
    /// Reading storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The saved codebook does not parse.
    #[error(transparent)]
    Codebook(#[from] CodebookError),
}

/// The export table of a project's dataset, read from storage (`None` when the
/// project has no dataset yet).
pub async fn project_table(
    storage: &dyn Storage,
    project_id: &str,
) -> Result<Option<(DatasetMeta, Vec<String>, Vec<Vec<String>>)>, ExportError> {
    let Some(meta) = storage.dataset(project_id.to_string()).await? else {
        return Ok(None);
    };
    // Independent reads: let IndexedDB serve them at the same time.
    let (rows, annotations, runs) = futures::join!(
        storage.rows(meta.id.clone(), 0, meta.row_count),
        storage.all_annotations(meta.id.clone()),
        storage.runs(project_id.to_string()),
    );
    let (rows, annotations, runs) = (rows?, annotations?, runs?);
    let attributes = match storage.latest_codebook(project_id.to_string()).await? {
        Some(v) => v.attribute_names()?,
        None => Vec::new(),
    };
    let table = ExportTable::new(&meta, &attributes, &runs, &annotations);
    let mut body = Vec::with_capacity(rows.len());
    let mut slice = TimeSlice::new(ENCODE_SLICE_MS);
    for chunk in rows.chunks(ENCODE_CHUNK) {
        body.extend(chunk.iter().map(|r| table.row(r)));
        slice.pause_if_due().await;
    }
    let header = table.header;
    Ok(Some((meta, header, body)))
}

/// What a run contributes per row, after the attribute name and run number.
const RUN_FIELDS: [&str; 7] = [
    "label",
    "status",
    "raw",
    "confidence",
    "model",
    "prompt_version",
    "temperature",
];

/// The export table: `id`, `text`, the other original columns, then per attribute
/// `<attr>_gold` (the attribute's gold column cell as imported), `<attr>_reviewer`
/// and `<attr>_reviewed_at` (a person's label from Review and when it was given,
/// ISO 8601 UTC), `<attr>_llm` (the latest run's label) and for each run `k`
/// (oldest first) `<attr>_run<k>_<field>` with its label, status, raw answer,
/// confidence and provenance (model, prompt version, temperature).
/// `attributes` gives the order; attributes with runs but not listed come last.
/// Gold and reviewer labels stay apart (issue #14: one `_human` column mixed
/// them with no marker), so either can be told from the other.
pub fn export_table(
    meta: &DatasetMeta,
    rows: &[RowRecord],
    attributes: &[String],
    runs: &[RunRecord],
    annotations: &[Annotation],
) -> (Vec<String>, Vec<Vec<String>>) {
    let table = ExportTable::new(meta, attributes, runs, annotations);
    let body = rows.iter().map(|r| table.row(r)).collect();
    (table.header, body)
}

/// [`export_table`]'s columns, worked out once, so rows can be made a slice at a
/// time (100,000 of them in one go held the page's thread for a third of a second).
pub struct ExportTable<'a> {
    meta: &'a DatasetMeta,
    /// The column names.
    pub header: Vec<String>,
    /// Original columns after `id` and `text`.
    originals: Vec<usize>,
    /// Per attribute, its runs oldest first with their annotation source.
    plan: Vec<(String, Vec<(&'a RunRecord, String)>)>,
    /// (source, attribute, row) → annotation.
    index: HashMap<(&'a str, &'a str, u32), &'a Annotation>,
}

impl<'a> ExportTable<'a> {
    /// The columns for the dataset's attributes and runs.
    pub fn new(
        meta: &'a DatasetMeta,
        attributes: &[String],
        runs: &'a [RunRecord],
        annotations: &'a [Annotation],
    ) -> Self {
        let mut attrs: Vec<String> = attributes.to_vec();
        let mut by_start: Vec<&RunRecord> =
            runs.iter().filter(|r| r.dataset_id == meta.id).collect();
        by_start.sort_by(|a, b| a.started_at.total_cmp(&b.started_at));
        for r in &by_start {
            if !attrs.contains(&r.attribute) {
                attrs.push(r.attribute.clone());
            }
        }
        let index: HashMap<(&str, &str, u32), &Annotation> = annotations
            .iter()
            .map(|a| ((a.source.as_str(), a.attribute.as_str(), a.row), a))
            .collect();

        let originals: Vec<usize> = (0..meta.columns.len())
            .filter(|&c| c != meta.text_col && Some(c) != meta.id_col)
            .collect();
        let mut header = vec!["id".to_string(), "text".to_string()];
        for &c in &originals {
            header.push(meta.columns[c].clone());
        }
        let mut plan: Vec<(String, Vec<(&RunRecord, String)>)> = Vec::new();
        for attr in &attrs {
            for f in ["gold", "reviewer", "reviewed_at", "llm"] {
                header.push(format!("{attr}_{f}"));
            }
            let attr_runs: Vec<(&RunRecord, String)> = by_start
                .iter()
                .filter(|r| &r.attribute == attr)
                .map(|r| (*r, run_source(&r.id)))
                .collect();
            for k in 1..=attr_runs.len() {
                for f in RUN_FIELDS {
                    header.push(format!("{attr}_run{k}_{f}"));
                }
            }
            plan.push((attr.clone(), attr_runs));
        }
        dedupe(&mut header);
        ExportTable {
            meta,
            header,
            originals,
            plan,
            index,
        }
    }

    /// One row's cells, in the header's order.
    pub fn row(&self, r: &RowRecord) -> Vec<String> {
        let (meta, index) = (self.meta, &self.index);
        let mut out = Vec::with_capacity(self.header.len());
        out.push(r.id.clone());
        out.push(r.cell(meta.text_col).to_string());
        out.extend(self.originals.iter().map(|&c| r.cell(c).to_string()));
        for (attr, attr_runs) in &self.plan {
            out.push(
                meta.gold_for(attr)
                    .map(|g| r.cell(g).to_string())
                    .unwrap_or_default(),
            );
            let (reviewer, at) = index
                .get(&(HUMAN_SOURCE, attr.as_str(), r.idx))
                .and_then(|h| Some((h.value.clone()?, fannotate_core::time::iso_utc(h.ts))))
                .unwrap_or_default();
            out.extend([reviewer, at]);
            let latest = attr_runs
                .iter()
                .rev()
                .find_map(|(_, src)| index.get(&(src.as_str(), attr.as_str(), r.idx)));
            out.push(latest.and_then(|a| a.value.clone()).unwrap_or_default());
            for (run, src) in attr_runs {
                match index.get(&(src.as_str(), attr.as_str(), r.idx)) {
                    Some(a) => {
                        out.push(a.value.clone().unwrap_or_default());
                        out.push(status_word(a.status).to_string());
                        out.push(a.raw.clone());
                        out.push(a.confidence.map(|c| format!("{c:.4}")).unwrap_or_default());
                    }
                    None => out.extend(std::iter::repeat_n(String::new(), 4)),
                }
                // A combined run sent nothing: it names its method and runs.
                match run.aggregate {
                    Some(_) => out.extend([
                        run.configuration(),
                        run.codebook_version.to_string(),
                        String::new(),
                    ]),
                    None => out.extend([
                        run.endpoint.model.clone(),
                        run.codebook_version.to_string(),
                        run.endpoint.temperature.to_string(),
                    ]),
                }
            }
        }
        out
    }
}

/// Word for an outcome in exports.
pub fn status_word(s: AnnotationStatus) -> &'static str {
    match s {
        AnnotationStatus::Valid => "valid",
        AnnotationStatus::Invalid => "invalid",
        AnnotationStatus::Error => "error",
    }
}

/// Make header names unique (an original column may be called `id` or
/// `text` too): later repeats get ` (2)`, ` (3)` …
fn dedupe(header: &mut [String]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for h in header.iter_mut() {
        let n = seen.entry(h.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            *h = format!("{h} ({n})");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fannotate_core::records::{EndpointConfig, Provider, RunStatus, Scope};

    fn run(id: &str, attr: &str, start: f64, model: &str) -> RunRecord {
        let mut endpoint = EndpointConfig::new("p", Provider::Vllm, None, Some(model));
        endpoint.temperature = 0.5;
        RunRecord {
            id: id.into(),
            project_id: "p".into(),
            dataset_id: "d".into(),
            attribute: attr.into(),
            free_text: false,
            codebook_version: 3,
            endpoint,
            status: RunStatus::Completed,
            total: 2,
            valid: 2,
            invalid: 0,
            failed: 0,
            started_at: start,
            finished_at: None,
            error: None,
            scope: Scope::All,
            task_rows: None,
            experiment: None,
            aggregate: None,
            batch: None,
        }
    }

    fn ann(row: u32, source: &str, value: Option<&str>, status: AnnotationStatus) -> Annotation {
        Annotation {
            value: value.map(str::to_string),
            status,
            raw: format!("raw {row}"),
            confidence: Some(0.25),
            ..Annotation::pending("d", row, "spam", source, 0.0)
        }
    }

    #[test]
    fn every_run_with_provenance_and_the_human_label() {
        let meta = DatasetMeta {
            id: "d".into(),
            project_id: "p".into(),
            name: "x.csv".into(),
            columns: vec!["id".into(), "body".into(), "label".into(), "text".into()],
            text_col: 1,
            id_col: Some(0),
            gold_col: Some(2),
            gold_cols: Vec::new(),
            validation: None,
            row_count: 2,
            bytes: 0,
            encoding: "UTF-8".into(),
            delimiter: ",".into(),
            imported_at: 0.0,
        };
        let rows: Vec<RowRecord> = (0..2)
            .map(|i| RowRecord {
                dataset_id: "d".into(),
                idx: i,
                id: format!("r{i}"),
                cells: vec![
                    format!("r{i}"),
                    format!("body {i}"),
                    "spam".into(),
                    "other".into(),
                ],
            })
            .collect();
        let runs = [run("b", "spam", 2.0, "m2"), run("a", "spam", 1.0, "m1")];
        let annotations = [
            ann(0, "run:a", Some("ham"), AnnotationStatus::Valid),
            ann(1, "run:a", None, AnnotationStatus::Invalid),
            ann(0, "run:b", Some("spam"), AnnotationStatus::Valid),
            Annotation {
                ts: 1_764_582_000_123.0,
                ..ann(1, HUMAN_SOURCE, Some("ham"), AnnotationStatus::Valid)
            },
        ];
        let (header, body) = export_table(&meta, &rows, &["spam".into()], &runs, &annotations);
        assert_eq!(
            &header[..8],
            [
                "id",
                "text",
                "label",
                "text (2)",
                "spam_gold",
                "spam_reviewer",
                "spam_reviewed_at",
                "spam_llm"
            ]
        );
        assert_eq!(header.len(), 8 + 2 * RUN_FIELDS.len());
        assert_eq!(header[8], "spam_run1_label");
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        // Row 0: gold from the column, no reviewer; the latest run (b) is the LLM label.
        assert_eq!(body[0][col("spam_gold")], "spam");
        assert_eq!(body[0][col("spam_reviewer")], "");
        assert_eq!(body[0][col("spam_reviewed_at")], "");
        assert_eq!(body[0][col("spam_llm")], "spam");
        assert_eq!(body[0][col("spam_run1_label")], "ham");
        assert_eq!(body[0][col("spam_run1_model")], "m1");
        assert_eq!(body[0][col("spam_run2_model")], "m2");
        assert_eq!(body[0][col("spam_run1_prompt_version")], "3");
        assert_eq!(body[0][col("spam_run1_temperature")], "0.5");
        assert_eq!(body[0][col("spam_run1_confidence")], "0.2500");
        // Row 1: the reviewer's label and its time stand apart from the gold cell
        // (issue #14); run b has no answer.
        assert_eq!(body[1][col("spam_gold")], "spam");
        assert_eq!(body[1][col("spam_reviewer")], "ham");
        assert_eq!(body[1][col("spam_reviewed_at")], "2025-12-01T09:40:00Z");
        assert_eq!(body[1][col("spam_llm")], "");
        assert_eq!(body[1][col("spam_run1_status")], "invalid");
        assert_eq!(body[1][col("spam_run1_raw")], "raw 1");
        assert_eq!(body[1][col("spam_run2_status")], "");
        assert!(body.iter().all(|r| r.len() == header.len()));
    }

    #[test]
    fn a_combined_run_names_its_method_and_runs_not_a_model() {
        let meta = DatasetMeta {
            id: "d".into(),
            project_id: "p".into(),
            name: "x.csv".into(),
            columns: vec!["id".into(), "text".into()],
            text_col: 1,
            id_col: Some(0),
            gold_col: None,
            gold_cols: Vec::new(),
            validation: None,
            row_count: 1,
            bytes: 0,
            encoding: "UTF-8".into(),
            delimiter: ",".into(),
            imported_at: 0.0,
        };
        let rows = vec![RowRecord {
            dataset_id: "d".into(),
            idx: 0,
            id: "r1".into(),
            cells: vec!["r1".into(), "hello".into()],
        }];
        let mut combined = run("c", "spam", 3.0, "m1");
        combined.aggregate = Some(fannotate_core::records::AggregateOf {
            method: fannotate_core::aggregate::AggregateMethod::DawidSkene,
            runs: vec!["a".into(), "b".into(), "x".into()],
        });
        let annotations = vec![ann(0, "run:c", Some("spam"), AnnotationStatus::Valid)];
        let (header, body) =
            export_table(&meta, &rows, &["spam".into()], &[combined], &annotations);
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(body[0][col("spam_run1_model")], "Dawid–Skene of 3 runs");
        assert_eq!(body[0][col("spam_run1_temperature")], "");
        assert_eq!(body[0][col("spam_run1_confidence")], "0.2500");
    }

    #[test]
    fn formats_round_trip_and_make_formulas_inert() {
        let header = vec!["id".to_string(), "text".to_string()];
        let rows = vec![vec!["1".to_string(), "=HYPERLINK(\"x\")".to_string()]];
        let csv = String::from_utf8(ExportFormat::CsvExcel.encode("s", &header, &rows)).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("'=HYPERLINK"));
        let xlsx = ExportFormat::Xlsx.encode("s", &header, &rows);
        let back =
            fannotate_core::import::import_file("x.xlsx", &xlsx, &Default::default()).unwrap();
        assert_eq!(back.table.rows, rows);
        let jsonl = String::from_utf8(ExportFormat::Jsonl.encode("s", &header, &rows)).unwrap();
        assert_eq!(jsonl.trim(), r#"{"id":"1","text":"=HYPERLINK(\"x\")"}"#);
        for f in ExportFormat::ALL {
            assert_eq!(ExportFormat::parse(f.as_str()), Some(f));
        }
    }
}
