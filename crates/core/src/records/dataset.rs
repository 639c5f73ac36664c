//! Imported datasets: their metadata, rows, validation set and gold columns,
//! and the saved codebook versions they are annotated with.

use super::ranges::{ranges_contain, row_ranges};
use crate::{Attribute, Codebook, CodebookError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An imported table; its rows live in the rows store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    /// Random unique id.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// File name it came from.
    pub name: String,
    /// Header cells in file order.
    pub columns: Vec<String>,
    /// Column holding the text to annotate.
    pub text_col: usize,
    /// Column holding row ids, if any (otherwise ids are generated).
    pub id_col: Option<usize>,
    /// Column holding human gold labels (for every attribute without its own
    /// mapping in `gold_cols`), if any.
    pub gold_col: Option<usize>,
    /// Gold label column per attribute, set after import when the codebook is known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gold_cols: Vec<GoldColumn>,
    /// The rows chosen for validation (labelled by hand, used to measure models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationSet>,
    /// Number of rows.
    pub row_count: u32,
    /// Bytes of cell text stored, for the per-project storage figure.
    #[serde(default)]
    pub bytes: u64,
    /// Detected encoding, for display.
    pub encoding: String,
    /// Detected delimiter, for display.
    pub delimiter: String,
    /// Milliseconds since the epoch.
    pub imported_at: f64,
}

/// Rows set aside to be labelled by hand and to measure models on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationSet {
    /// The rows as sorted `[start, end)` ranges.
    pub rows: Vec<[u32; 2]>,
    /// How many rows.
    pub size: u32,
    /// How they were chosen, for display ("random, seed 1").
    pub method: String,
}

impl ValidationSet {
    /// A set from row numbers.
    pub fn new(rows: impl IntoIterator<Item = u32>, method: String) -> Self {
        let ranges = row_ranges(rows);
        ValidationSet {
            size: ranges.iter().map(|r| r[1] - r[0]).sum(),
            rows: ranges,
            method,
        }
    }

    /// Whether `row` is in the set.
    pub fn contains(&self, row: u32) -> bool {
        ranges_contain(&self.rows, row)
    }
}

/// Which column holds the human labels of one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldColumn {
    /// Attribute name.
    pub attribute: String,
    /// Column index; `None` means the attribute has no gold column.
    pub column: Option<usize>,
}

impl DatasetMeta {
    /// The gold column of an attribute: its own mapping, else the import's.
    pub fn gold_for(&self, attribute: &str) -> Option<usize> {
        match self.gold_cols.iter().find(|g| g.attribute == attribute) {
            Some(g) => g.column,
            None => self.gold_col,
        }
    }

    /// Set (or clear) an attribute's gold column.
    pub fn set_gold(&mut self, attribute: &str, column: Option<usize>) {
        self.gold_cols.retain(|g| g.attribute != attribute);
        self.gold_cols.push(GoldColumn {
            attribute: attribute.to_string(),
            column,
        });
    }
}

/// One row of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowRecord {
    /// Owning dataset.
    pub dataset_id: String,
    /// 0-based position in the file; with `dataset_id` the storage key.
    pub idx: u32,
    /// The row id (from the id column, or `row-N`).
    pub id: String,
    /// All cells in column order.
    pub cells: Vec<String>,
}

impl RowRecord {
    /// The cell of a column, or "" when the row is short.
    pub fn cell(&self, col: usize) -> &str {
        self.cells.get(col).map(String::as_str).unwrap_or("")
    }
}

/// Distinct values tracked per column before counting stops being exact.
pub const DISTINCT_CAP: usize = 10_000;

/// Summary of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStats {
    /// Header.
    pub name: String,
    /// Non-empty cells.
    pub filled: usize,
    /// Distinct non-empty values (at most [`DISTINCT_CAP`], then "more than").
    pub distinct: usize,
    /// Whether `distinct` hit the cap.
    pub distinct_capped: bool,
    /// Mean length in characters of non-empty cells.
    pub mean_chars: f64,
    /// Most frequent values with counts (up to three).
    pub top: Vec<(String, usize)>,
}

/// Statistics of every column.
pub fn column_stats(columns: &[String], rows: &[RowRecord]) -> Vec<ColumnStats> {
    columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            let (mut filled, mut chars, mut capped) = (0usize, 0usize, false);
            for r in rows {
                let v = r.cell(c).trim();
                if v.is_empty() {
                    continue;
                }
                filled += 1;
                chars += v.chars().count();
                if let Some(n) = counts.get_mut(v) {
                    *n += 1;
                } else if counts.len() < DISTINCT_CAP {
                    counts.insert(v, 1);
                } else {
                    capped = true;
                }
            }
            let mut top: Vec<(String, usize)> =
                counts.iter().map(|(v, n)| (v.to_string(), *n)).collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(3);
            ColumnStats {
                name: name.clone(),
                filled,
                distinct: counts.len(),
                distinct_capped: capped,
                mean_chars: if filled == 0 {
                    0.0
                } else {
                    chars as f64 / filled as f64
                },
                top,
            }
        })
        .collect()
}

/// A saved codebook version; each save of a project's codebook adds one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodebookVersion {
    /// Owning project.
    pub project_id: String,
    /// 1, 2, 3 … within the project.
    pub version: u32,
    /// Milliseconds since the epoch.
    pub saved_at: f64,
    /// The codebook in the original tool's JSON format.
    pub json: String,
}

impl CodebookVersion {
    /// Parse the stored JSON.
    pub fn codebook(&self) -> Result<Codebook, CodebookError> {
        Codebook::from_json(&self.json)
    }

    /// The names of its attributes, in order.
    pub fn attribute_names(&self) -> Result<Vec<String>, CodebookError> {
        Ok(self
            .codebook()?
            .attributes
            .into_iter()
            .map(|a| a.name)
            .collect())
    }
}

/// Attribute `name` as codebook version `version` among `versions` defines it.
pub fn version_attribute(
    versions: &[CodebookVersion],
    version: u32,
    name: &str,
) -> Option<Attribute> {
    versions
        .iter()
        .find(|v| v.version == version)
        .and_then(|v| v.codebook().ok())
        .and_then(|cb| cb.attribute(name).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gold_columns_per_attribute_fall_back_to_the_import_choice() {
        let mut m: DatasetMeta = serde_json::from_value(serde_json::json!({
            "id": "d", "project_id": "p", "name": "x", "columns": ["a", "b", "c"],
            "text_col": 0, "id_col": null, "gold_col": 1, "row_count": 0,
            "encoding": "UTF-8", "delimiter": ",", "imported_at": 0.0
        }))
        .unwrap();
        assert_eq!(m.gold_for("topic"), Some(1));
        m.set_gold("topic", Some(2));
        m.set_gold("mood", None);
        m.set_gold("topic", Some(2));
        assert_eq!(
            (m.gold_for("topic"), m.gold_for("mood"), m.gold_for("x")),
            (Some(2), None, Some(1))
        );
        assert_eq!(m.gold_cols.len(), 2);
    }

    #[test]
    fn column_statistics() {
        let rows: Vec<RowRecord> = [("a", "ham"), ("bb", "spam"), ("", "ham"), ("cccc", "ham")]
            .iter()
            .enumerate()
            .map(|(i, (t, l))| RowRecord {
                dataset_id: "d".into(),
                idx: i as u32,
                id: i.to_string(),
                cells: vec![t.to_string(), l.to_string()],
            })
            .collect();
        let s = column_stats(&["text".into(), "label".into()], &rows);
        assert_eq!((s[0].filled, s[0].distinct), (3, 3));
        assert!((s[0].mean_chars - 7.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            s[1].top,
            vec![("ham".to_string(), 3), ("spam".to_string(), 1)]
        );
        assert!(!s[1].distinct_capped);
    }

    #[test]
    fn a_codebook_version_names_its_attributes_and_finds_one() {
        let cb = Codebook {
            attributes: vec![crate::Attribute::categorical(
                "spam",
                "<<text>>",
                vec![
                    crate::Category::new("ham", ""),
                    crate::Category::new("spam", ""),
                ],
            )],
            ..Default::default()
        };
        let v = CodebookVersion {
            project_id: "p".into(),
            version: 2,
            saved_at: 0.0,
            json: cb.to_json(),
        };
        assert_eq!(v.attribute_names().unwrap(), vec!["spam".to_string()]);
        let versions = [v];
        assert!(version_attribute(&versions, 2, "spam").is_some());
        assert!(version_attribute(&versions, 1, "spam").is_none());
        assert!(version_attribute(&versions, 2, "mood").is_none());
    }
}
