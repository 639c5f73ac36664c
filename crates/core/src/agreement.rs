//! Agreement between annotators who labelled the same units: Krippendorff's α
//! (nominal level) over all annotators, plus raw agreement and Cohen's κ for every
//! pair of annotators.
//!
//! Conventions follow `shared/reference/metrics/README.md` (krippendorff 0.9.0 and
//! scikit-learn): `None` or a blank cell (after trimming) is missing; other values
//! are compared as given; units with fewer than two values cannot be paired and do
//! not enter α; undefined statistics are `None`.
//!
//! [`alpha_columns`] chooses which columns of a table are annotators, so that a
//! unit id column (`id`, `item`, … or a first column of distinct values) is not
//! counted as one more annotator; use it wherever α is computed from columns.

use serde::Serialize;
use std::collections::BTreeMap;

/// Raw agreement and Cohen's κ between two annotators.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairAgreement {
    /// Index of the first annotator (into [`AlphaReport::annotators`]).
    pub a: usize,
    /// Index of the second annotator, always greater than `a`.
    pub b: usize,
    /// Units where both annotators gave a value.
    pub n: usize,
    /// Share of those units where the two values are equal; 0 when `n` is 0.
    pub agreement: f64,
    /// Cohen's κ over those units (scikit-learn's `cohen_kappa_score`); `None`
    /// when `n` is 0 or chance agreement is 1 (both used one and the same label).
    pub cohen_kappa: Option<f64>,
}

/// Krippendorff's α and pairwise agreement for one set of annotations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlphaReport {
    /// Annotator names, one per column. Columns beyond the names the caller gave
    /// are named by their 1-based position, e.g. `#5`.
    pub annotators: Vec<String>,
    /// All values that occur anywhere (pairable or not), in code-point order.
    pub labels: Vec<String>,
    /// Units (rows) given.
    pub n_units: usize,
    /// Units with at least two values.
    pub n_units_pairable: usize,
    /// Values in pairable units (the `n` of Krippendorff's formulas).
    pub n_values_pairable: usize,
    /// Missing cells over all units and annotators.
    pub n_missing_cells: usize,
    /// Krippendorff's α at the nominal level; `None` when expected disagreement
    /// is 0 (no pairable units, or a single value throughout).
    pub krippendorff_alpha_nominal: Option<f64>,
    /// Every annotator pair `a < b`, ordered by `a`, then `b`.
    pub pairwise: Vec<PairAgreement>,
}

impl AlphaReport {
    /// The pair's key as in the reference files: `"A|B"` from the annotator names.
    pub fn pair_key(&self, p: &PairAgreement) -> String {
        format!("{}|{}", self.name(p.a), self.name(p.b))
    }

    fn name(&self, i: usize) -> String {
        self.annotators
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("#{}", i + 1))
    }
}

fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}

/// Krippendorff's α (nominal) plus pairwise agreement and Cohen's κ.
///
/// `units` has one row per unit and one cell per annotator (`None` or blank =
/// missing). Rows may be shorter than `annotators` (the rest counts as missing);
/// if a row is longer, the extra columns are treated as further annotators rather
/// than silently dropped.
///
/// α uses the coincidence matrix: for a unit with `m_u ≥ 2` values, every ordered
/// pair of values from different annotators adds `1 / (m_u − 1)` to `o[c][k]`.
/// With `n_c` the pairable values of label `c` and `n = Σ n_c`,
/// `D_o = Σ_{c≠k} o[c][k] / n` and `D_e = Σ_{c≠k} n_c·n_k / (n(n − 1))`, so
/// `α = 1 − D_o/D_e = 1 − (n − 1)·Σ_{c≠k} o[c][k] / Σ_{c≠k} n_c·n_k`.
pub fn krippendorff_alpha_nominal(
    annotators: &[String],
    units: &[Vec<Option<&str>>],
) -> AlphaReport {
    let width = units
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(annotators.len());
    let names: Vec<String> = (0..width)
        .map(|i| {
            annotators
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("#{}", i + 1))
        })
        .collect();

    // Intern labels to codes in sorted order; `str` order is code-point order.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for u in units {
        for v in u.iter().filter_map(|v| present(*v)) {
            index.insert(v, 0);
        }
    }
    for (i, code) in index.values_mut().enumerate() {
        *code = i;
    }
    let labels: Vec<String> = index.keys().map(|s| s.to_string()).collect();
    let k = labels.len();
    // Cells as codes, padded to `width` so that pairs can index any column.
    let coded: Vec<Vec<Option<usize>>> = units
        .iter()
        .map(|u| {
            (0..width)
                .map(|i| {
                    u.get(i)
                        .and_then(|v| present(*v))
                        .and_then(|v| index.get(v).copied())
                })
                .collect()
        })
        .collect();

    let mut coincidence = vec![vec![0.0f64; k]; k];
    // n_c equals the row sums of `coincidence`, but integer counts keep D_e exact.
    let mut n_c = vec![0u64; k];
    let (mut n_units_pairable, mut n_values_pairable, mut n_present) = (0, 0, 0);
    let mut unit_counts = vec![0u64; k];
    for u in &coded {
        unit_counts.iter_mut().for_each(|c| *c = 0);
        let mut m_u = 0u64;
        for code in u.iter().flatten() {
            unit_counts[*code] += 1;
            m_u += 1;
        }
        n_present += m_u as usize;
        if m_u < 2 {
            continue;
        }
        n_units_pairable += 1;
        n_values_pairable += m_u as usize;
        let used: Vec<usize> = (0..k).filter(|&c| unit_counts[c] > 0).collect();
        let w = (m_u - 1) as f64;
        for &c in &used {
            n_c[c] += unit_counts[c];
            for &d in &used {
                // A value is never paired with itself, hence n_uc·(n_uc − 1) on the diagonal.
                let pairs = if c == d {
                    unit_counts[c] * (unit_counts[c] - 1)
                } else {
                    unit_counts[c] * unit_counts[d]
                };
                coincidence[c][d] += pairs as f64 / w;
            }
        }
    }
    let observed: f64 = (0..k)
        .flat_map(|c| (0..k).filter(move |&d| d != c).map(move |d| (c, d)))
        .map(|(c, d)| coincidence[c][d])
        .sum();
    // Σ_{c≠k} n_c·n_k = n² − Σ n_c², exact in integers.
    let n = n_values_pairable as u128;
    let expected = n * n - n_c.iter().map(|&c| c as u128 * c as u128).sum::<u128>();
    let alpha =
        (expected > 0).then(|| 1.0 - (n_values_pairable as f64 - 1.0) * observed / expected as f64);

    let mut pairwise = Vec::with_capacity(width * width.saturating_sub(1) / 2);
    for a in 0..width {
        for b in a + 1..width {
            pairwise.push(pair(&coded, k, a, b));
        }
    }

    AlphaReport {
        annotators: names,
        labels,
        n_units: units.len(),
        n_units_pairable,
        n_values_pairable,
        n_missing_cells: units.len() * width - n_present,
        krippendorff_alpha_nominal: alpha,
        pairwise,
    }
}

/// Agreement of annotators `a` and `b` over the units both labelled.
fn pair(coded: &[Vec<Option<usize>>], k: usize, a: usize, b: usize) -> PairAgreement {
    let (mut n, mut same) = (0u64, 0u64);
    let (mut rows, mut cols) = (vec![0u64; k], vec![0u64; k]);
    for u in coded {
        if let (Some(Some(x)), Some(Some(y))) = (u.get(a), u.get(b)) {
            n += 1;
            same += u64::from(x == y);
            rows[*x] += 1;
            cols[*y] += 1;
        }
    }
    // scikit-learn computes κ = 1 − Σ_off observed / Σ_off expected with
    // expected = rows ⊗ cols / n, i.e. 1 − n(n − same) / (n² − Σ rows·cols);
    // the same form keeps results bit-close and the integer parts exact.
    let n2 = n as u128 * n as u128;
    let chance: u128 = rows
        .iter()
        .zip(&cols)
        .map(|(r, c)| *r as u128 * *c as u128)
        .sum();
    let cohen_kappa = (n > 0 && n2 > chance)
        .then(|| 1.0 - (n as u128 * (n - same) as u128) as f64 / (n2 - chance) as f64);
    PairAgreement {
        a,
        b,
        n: n as usize,
        agreement: if n == 0 { 0.0 } else { same as f64 / n as f64 },
        cohen_kappa,
    }
}

/// First-column header names that mark the unit id column, compared after
/// trimming and ignoring ASCII case (`ID`, `Item`, `unit_id` …).
pub const UNIT_COLUMN_NAMES: [&str; 5] = ["id", "item", "unit", "item_id", "unit_id"];

/// Fewest rows for which a first column with all-distinct values is taken as the
/// unit id column (see [`alpha_columns`]). With one or two rows an annotator who
/// happened to use different labels would look exactly like an id column.
pub const MIN_ROWS_ALL_DISTINCT: usize = 3;

/// Which column holds the unit ids, as the caller asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnitChoice<'a> {
    /// Let [`alpha_columns`] decide by its rule.
    #[default]
    Detect,
    /// There is no unit column: every column may be an annotator.
    NoUnit,
    /// This column (exact header name) holds the unit ids.
    Column(&'a str),
}

/// Why [`AlphaColumns::unit`] is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitReason {
    /// The first column's header is one of [`UNIT_COLUMN_NAMES`].
    Named,
    /// The first column's values are non-blank and all distinct, over at least
    /// [`MIN_ROWS_ALL_DISTINCT`] rows, and it has more distinct values than the
    /// annotator columns have together.
    AllDistinct,
    /// The caller named the unit column ([`UnitChoice::Column`]).
    Given,
    /// No unit column: none was detected, the caller asked for none, or the
    /// detected column is one of the annotators the caller listed.
    None,
}

impl UnitReason {
    /// Stable key as in the JSON: `named`, `all_distinct`, `given` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitReason::Named => "named",
            UnitReason::AllDistinct => "all_distinct",
            UnitReason::Given => "given",
            UnitReason::None => "none",
        }
    }

    /// Short explanation for people, e.g. `first column, named like a unit id`.
    pub fn explain(self) -> &'static str {
        match self {
            UnitReason::Named => "first column, named like a unit id",
            UnitReason::AllDistinct => "first column, values all distinct",
            UnitReason::Given => "given",
            UnitReason::None => "none",
        }
    }
}

/// The columns Krippendorff's α is computed from, chosen by [`alpha_columns`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlphaColumns {
    /// Index of the unit id column, if any; it is never an annotator.
    pub unit: Option<usize>,
    /// Header of the unit id column, if any.
    pub unit_name: Option<String>,
    /// Why `unit` was chosen.
    pub reason: UnitReason,
    /// Indices of the annotator columns, in the order given (or in table order).
    pub annotators: Vec<usize>,
    /// Headers of the annotator columns, parallel to `annotators`.
    pub annotator_names: Vec<String>,
}

impl AlphaColumns {
    /// The annotator cells of every row, ready for [`krippendorff_alpha_nominal`]:
    /// one inner vector per row with one cell per annotator; a row too short for
    /// a column gives `None` (missing) there.
    pub fn units<'a>(&self, rows: &'a [Vec<String>]) -> Vec<Vec<Option<&'a str>>> {
        rows.iter()
            .map(|r| {
                self.annotators
                    .iter()
                    .map(|&i| r.get(i).map(String::as_str))
                    .collect()
            })
            .collect()
    }

    /// Krippendorff's α and pairwise agreement over the chosen annotator columns.
    pub fn report(&self, rows: &[Vec<String>]) -> AlphaReport {
        krippendorff_alpha_nominal(&self.annotator_names, &self.units(rows))
    }

    /// One line saying which columns are used, e.g.
    /// `unit column "id" (first column, named like a unit id); annotators "A", "B"`
    /// or `no unit column; annotators "A", "B", "C"`.
    pub fn describe(&self) -> String {
        let unit = match &self.unit_name {
            Some(name) => format!("unit column \"{name}\" ({})", self.reason.explain()),
            None => "no unit column".to_string(),
        };
        format!("{unit}; annotators {}", quoted(&self.annotator_names))
    }
}

/// Why [`alpha_columns`] could not choose the columns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlphaColumnsError {
    /// A column named by the caller is not in the table.
    #[error("no column \"{name}\" (columns: {})", quoted(.columns))]
    UnknownColumn {
        /// The name asked for.
        name: String,
        /// The table's columns.
        columns: Vec<String>,
    },
    /// The unit column is also listed as an annotator.
    #[error("column \"{0}\" cannot be both the unit column and an annotator")]
    UnitIsAnnotator(String),
    /// An annotator column is listed twice.
    #[error("annotator column \"{0}\" is listed twice")]
    DuplicateAnnotator(String),
    /// Fewer than two annotator columns remain.
    #[error(
        "Krippendorff's α needs at least two annotator columns, got {}{}",
        count_and_names(.annotators),
        unit_note(.unit.as_ref())
    )]
    TooFewAnnotators {
        /// The annotator columns there are (zero or one).
        annotators: Vec<String>,
        /// The unit column, if one was chosen, and why.
        unit: Option<(String, UnitReason)>,
    },
}

fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn count_and_names(names: &[String]) -> String {
    match names.len() {
        0 => "none".to_string(),
        n => format!("{n} ({})", quoted(names)),
    }
}

fn unit_note(unit: Option<&(String, UnitReason)>) -> String {
    match unit {
        Some((name, reason)) => {
            format!(" besides the unit column \"{name}\" ({})", reason.explain())
        }
        None => String::new(),
    }
}

/// True when `name` is one of [`UNIT_COLUMN_NAMES`] (trimmed, ASCII case ignored).
pub fn is_unit_column_name(name: &str) -> bool {
    let name = name.trim();
    UNIT_COLUMN_NAMES
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether column 0 looks like unit ids by its values: at least
/// [`MIN_ROWS_ALL_DISTINCT`] rows, every value non-blank and distinct (after
/// trimming), and more distinct values than the columns in `others` have
/// together. The last condition keeps an annotator who used many labels from
/// being mistaken for ids: one more annotator draws on the same labels as the
/// others, unit ids need not.
fn first_column_all_distinct(rows: &[Vec<String>], others: &[usize]) -> bool {
    if rows.len() < MIN_ROWS_ALL_DISTINCT {
        return false;
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in rows {
        match r.first().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            Some(v) if seen.insert(v) => {}
            _ => return false,
        }
    }
    let mut labels = std::collections::BTreeSet::new();
    for r in rows {
        for &i in others {
            if let Some(v) = r.get(i).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                labels.insert(v);
                if labels.len() >= seen.len() {
                    return false;
                }
            }
        }
    }
    true
}

/// Choose the unit id column and the annotator columns of a table for
/// Krippendorff's α, so that a unit id column is never counted as one more
/// annotator. Pure; never panics.
///
/// `columns` are the header cells and `rows` the data rows (only read to detect
/// the unit column; short rows are fine).
///
/// The unit column is, by `unit`:
/// - [`UnitChoice::Column`] gives that column ([`UnitReason::Given`]).
/// - [`UnitChoice::NoUnit`] gives none.
/// - [`UnitChoice::Detect`] gives the first column if its header is one of
///   [`UNIT_COLUMN_NAMES`] ([`UnitReason::Named`]), or else if its values are
///   non-blank and all distinct over at least [`MIN_ROWS_ALL_DISTINCT`] rows and
///   it has more distinct values than the annotator columns have together
///   ([`UnitReason::AllDistinct`]); otherwise none. When the caller lists the
///   annotators and the detected column is one of them, the list wins and
///   there is no unit column.
///
/// The annotators are `annotators` in the order given (exact header names), or
/// else every column but the unit column, in table order.
///
/// # Errors
/// A name in `unit` or `annotators` that is not a column; the unit column listed
/// as an annotator (only when the caller named both); an annotator listed twice;
/// fewer than two annotator columns.
pub fn alpha_columns(
    columns: &[String],
    rows: &[Vec<String>],
    unit: UnitChoice<'_>,
    annotators: Option<&[String]>,
) -> Result<AlphaColumns, AlphaColumnsError> {
    let find = |name: &str| {
        columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| AlphaColumnsError::UnknownColumn {
                name: name.to_string(),
                columns: columns.to_vec(),
            })
    };
    let given: Option<Vec<usize>> = match annotators {
        Some(names) => {
            let mut idx = Vec::with_capacity(names.len());
            for name in names {
                let i = find(name)?;
                if idx.contains(&i) {
                    return Err(AlphaColumnsError::DuplicateAnnotator(name.clone()));
                }
                idx.push(i);
            }
            Some(idx)
        }
        None => None,
    };

    let (unit, reason) = match unit {
        UnitChoice::Column(name) => {
            let i = find(name)?;
            if given.as_ref().is_some_and(|g| g.contains(&i)) {
                return Err(AlphaColumnsError::UnitIsAnnotator(name.to_string()));
            }
            (Some(i), UnitReason::Given)
        }
        UnitChoice::NoUnit => (None, UnitReason::None),
        UnitChoice::Detect if columns.is_empty() => (None, UnitReason::None),
        UnitChoice::Detect => {
            let others: Vec<usize> = match &given {
                Some(g) => g.iter().copied().filter(|&i| i != 0).collect(),
                None => (1..columns.len()).collect(),
            };
            let detected = if is_unit_column_name(&columns[0]) {
                Some(UnitReason::Named)
            } else if first_column_all_distinct(rows, &others) {
                Some(UnitReason::AllDistinct)
            } else {
                None
            };
            match detected {
                Some(_) if given.as_ref().is_some_and(|g| g.contains(&0)) => {
                    (None, UnitReason::None)
                }
                Some(r) => (Some(0), r),
                None => (None, UnitReason::None),
            }
        }
    };

    let annotators: Vec<usize> =
        given.unwrap_or_else(|| (0..columns.len()).filter(|&i| Some(i) != unit).collect());
    let annotator_names: Vec<String> = annotators.iter().map(|&i| columns[i].clone()).collect();
    let unit_name = unit.map(|i| columns[i].clone());
    if annotators.len() < 2 {
        return Err(AlphaColumnsError::TooFewAnnotators {
            annotators: annotator_names,
            unit: unit_name.map(|n| (n, reason)),
        });
    }
    Ok(AlphaColumns {
        unit,
        unit_name,
        reason,
        annotators,
        annotator_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::parse_table;
    use serde_json::Value;

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/metrics/"
    );

    fn close(a: f64, b: &Value, what: &str) {
        let b = b.as_f64().unwrap_or_else(|| panic!("{what} missing"));
        assert!((a - b).abs() < 1e-9, "{what}: ours {a}, reference {b}");
    }

    fn names(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| ((b'A' + i as u8) as char).to_string())
            .collect()
    }

    fn alpha(rows: &[&[&str]]) -> AlphaReport {
        let units: Vec<Vec<Option<&str>>> = rows
            .iter()
            .map(|r| r.iter().map(|v| Some(*v)).collect())
            .collect();
        krippendorff_alpha_nominal(&names(rows.first().map_or(0, |r| r.len())), &units)
    }

    #[test]
    fn matches_krippendorff_2011_example() {
        let t =
            parse_table(&std::fs::read(format!("{DIR}case3b_alpha_krippendorff2011.csv")).unwrap())
                .unwrap();
        let w: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{DIR}case3b_alpha_krippendorff2011.expected.json"))
                .unwrap(),
        )
        .unwrap();
        let units: Vec<Vec<Option<&str>>> = t
            .rows
            .iter()
            .map(|r| r.iter().map(|c| Some(c.as_str())).collect())
            .collect();
        let r = krippendorff_alpha_nominal(&t.columns, &units);
        assert_eq!(
            serde_json::to_value(&r.annotators).unwrap(),
            w["annotators"]
        );
        assert_eq!(serde_json::to_value(&r.labels).unwrap(), w["labels"]);
        for (name, v) in [
            ("n_units", r.n_units),
            ("n_units_pairable", r.n_units_pairable),
            ("n_values_pairable", r.n_values_pairable),
            ("n_missing_cells", r.n_missing_cells),
        ] {
            assert_eq!(Some(v as u64), w[name].as_u64(), "{name}");
        }
        close(
            r.krippendorff_alpha_nominal.unwrap(),
            &w["krippendorff_alpha_nominal"],
            "alpha",
        );
        let want = w["pairwise"].as_object().unwrap();
        assert_eq!(r.pairwise.len(), want.len());
        for p in &r.pairwise {
            let key = r.pair_key(p);
            let wp = &want[&key];
            assert_eq!(Some(p.n as u64), wp["n"].as_u64(), "{key} n");
            close(p.agreement, &wp["agreement"], &format!("{key} agreement"));
            match p.cohen_kappa {
                Some(k) => close(k, &wp["cohen_kappa"], &format!("{key} kappa")),
                None => assert!(wp["cohen_kappa"].is_null(), "{key} kappa"),
            }
        }
    }

    #[test]
    fn identical_annotators_agree_perfectly() {
        let r = alpha(&[&["a", "a", "a"], &["b", "b", "b"], &["c", "c", "c"]]);
        assert_eq!(r.krippendorff_alpha_nominal, Some(1.0));
        assert!(r.pairwise.iter().all(|p| p.agreement == 1.0));
        assert!(r.pairwise.iter().all(|p| p.cohen_kappa == Some(1.0)));
    }

    #[test]
    fn undefined_cases() {
        // One value throughout: no expected disagreement.
        let r = alpha(&[&["x", "x"], &["x", "x"]]);
        assert_eq!(r.krippendorff_alpha_nominal, None);
        assert_eq!(r.pairwise[0].cohen_kappa, None);
        assert_eq!(r.pairwise[0].agreement, 1.0);
        // No unit with two values.
        let r = alpha(&[&["x", ""], &["", "y"], &[" ", "  "]]);
        assert_eq!(r.n_units_pairable, 0);
        assert_eq!(r.n_missing_cells, 4);
        assert_eq!(r.krippendorff_alpha_nominal, None);
        assert_eq!(r.pairwise[0].n, 0);
        assert_eq!(r.pairwise[0].agreement, 0.0);
        assert_eq!(r.pairwise[0].cohen_kappa, None);
        // Nothing at all.
        let r = krippendorff_alpha_nominal(&[], &[]);
        assert_eq!(r.krippendorff_alpha_nominal, None);
        assert!(r.pairwise.is_empty());
        let r = krippendorff_alpha_nominal(&names(3), &[vec![], vec![None]]);
        assert_eq!(r.n_missing_cells, 6);
        assert_eq!(r.pairwise.len(), 3);
    }

    #[test]
    fn two_annotators_two_values() {
        // One disagreeing unit: o_ab = o_ba = 1, n = 2, Σ n_c·n_k = 2 → α = 1 − 1·2/2 = 0.
        let r = alpha(&[&["a", "b"]]);
        assert_eq!(r.krippendorff_alpha_nominal, Some(0.0));
        // Agreeing units only, two labels: α = 1.
        let r = alpha(&[&["a", "a"], &["b", "b"]]);
        assert_eq!(r.krippendorff_alpha_nominal, Some(1.0));
        // n_a = 3, n_b = 5, n = 8, Σ_{c≠k} o = 2, Σ n_c·n_k = 64 − 9 − 25 = 30:
        // α = 1 − 7·2/30 = 8/15.
        let r = alpha(&[&["a", "a"], &["a", "b"], &["b", "b"], &["b", "b"]]);
        let got = r.krippendorff_alpha_nominal.unwrap();
        assert!((got - 8.0 / 15.0).abs() < 1e-12, "{got}");
        // κ: po = 3/4, pe = (2·1 + 2·3)/16 = 1/2 → κ = 1/2.
        let k = r.pairwise[0].cohen_kappa.unwrap();
        assert!((k - 0.5).abs() < 1e-12, "{k}");
    }

    #[test]
    fn pairwise_agreement_is_share_of_equal_values() {
        let a = ["x", "y", "z", "x", "y", "y", "z", "x"];
        let b = ["x", "z", "z", "y", "y", "x", "z", "x"];
        let rows: Vec<[&str; 2]> = a.iter().zip(&b).map(|(x, y)| [*x, *y]).collect();
        let rows: Vec<&[&str]> = rows.iter().map(|r| r.as_slice()).collect();
        let r = alpha(&rows);
        let equal = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert_eq!(r.pairwise.len(), 1);
        assert_eq!(r.pairwise[0].n, a.len());
        assert_eq!(r.pairwise[0].agreement, equal as f64 / a.len() as f64);
        assert_eq!(r.pair_key(&r.pairwise[0]), "A|B");
    }

    #[test]
    fn ragged_rows_do_not_panic() {
        let units = vec![vec![Some("a"), Some("b"), Some("a")], vec![Some("a")]];
        let r = krippendorff_alpha_nominal(&names(2), &units);
        assert_eq!(r.annotators, vec!["A", "B", "#3"]);
        assert_eq!(r.n_missing_cells, 2);
        assert_eq!(r.pairwise.len(), 3);
        assert_eq!(r.pair_key(&r.pairwise[2]), "B|#3");
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn table(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter().map(|r| strings(r)).collect()
    }

    /// Three annotators with repeated labels, one unit per row.
    const LABELS: [[&str; 3]; 4] = [
        ["a", "a", "b"],
        ["b", "b", "b"],
        ["a", "b", "a"],
        ["c", "c", "c"],
    ];

    fn with_first(first: &[&str]) -> Vec<Vec<String>> {
        first
            .iter()
            .zip(LABELS.iter())
            .map(|(f, r)| {
                std::iter::once(*f)
                    .chain(r.iter().copied())
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn named_first_column_is_the_unit() {
        for name in ["id", "ID", " Item ", "unit", "Unit_ID", "item_id"] {
            let cols = strings(&[name, "A", "B", "C"]);
            // Values repeat: the name alone decides.
            let rows = with_first(&["1", "1", "2", "2"]);
            let c = alpha_columns(&cols, &rows, UnitChoice::Detect, None).unwrap();
            assert_eq!(c.unit, Some(0), "{name}");
            assert_eq!(c.unit_name.as_deref(), Some(name));
            assert_eq!(c.reason, UnitReason::Named);
            assert_eq!(c.annotators, vec![1, 2, 3]);
            assert_eq!(c.annotator_names, strings(&["A", "B", "C"]));
        }
        // Only the first column counts.
        let cols = strings(&["A", "id", "B"]);
        let rows = table(&[&["a", "1", "a"], &["a", "2", "b"], &["b", "3", "b"]]);
        let c = alpha_columns(&cols, &rows, UnitChoice::Detect, None).unwrap();
        assert_eq!((c.unit, c.reason), (None, UnitReason::None));
        assert_eq!(c.annotators, vec![0, 1, 2]);
        // Named but no rows at all.
        let c = alpha_columns(&strings(&["id", "A", "B"]), &[], UnitChoice::Detect, None).unwrap();
        assert_eq!((c.unit, c.reason), (Some(0), UnitReason::Named));
    }

    #[test]
    fn all_distinct_first_column_is_the_unit() {
        let cols = strings(&["n", "A", "B", "C"]);
        let c = alpha_columns(
            &cols,
            &with_first(&["u1", "u2", "u3", "u4"]),
            UnitChoice::Detect,
            None,
        )
        .unwrap();
        assert_eq!((c.unit, c.reason), (Some(0), UnitReason::AllDistinct));
        assert_eq!(c.annotator_names, strings(&["A", "B", "C"]));
        assert_eq!(
            c.describe(),
            "unit column \"n\" (first column, values all distinct); annotators \"A\", \"B\", \"C\""
        );
        // Ids may look like labels, as long as there are more of them.
        let c = alpha_columns(
            &cols,
            &with_first(&["a", "b", "c", "d"]),
            UnitChoice::Detect,
            None,
        )
        .unwrap();
        assert_eq!(c.reason, UnitReason::AllDistinct);
    }

    #[test]
    fn all_distinct_rule_does_not_misfire_on_annotators() {
        let cols = strings(&["A", "B", "C"]);
        let no_unit = |rows: &[Vec<String>]| {
            let c = alpha_columns(&cols, rows, UnitChoice::Detect, None).unwrap();
            assert_eq!((c.unit, c.reason), (None, UnitReason::None), "{rows:?}");
            assert_eq!(c.annotators, vec![0, 1, 2]);
        };
        // Two rows: too few to tell ids from labels.
        no_unit(&table(&[&["x", "x", "x"], &["y", "x", "x"]]));
        // Distinct, but no more distinct values than the others use: an annotator.
        no_unit(&table(&[
            &["a", "a", "b"],
            &["b", "b", "c"],
            &["c", "c", "a"],
        ]));
        // Repeated, blank or missing first values.
        no_unit(&table(&[
            &["a", "a", "a"],
            &["a", "b", "b"],
            &["c", "c", "c"],
        ]));
        no_unit(&table(&[
            &["1", "a", "a"],
            &[" ", "b", "b"],
            &["3", "c", "c"],
            &["4", "a", "a"],
        ]));
        no_unit(&table(&[
            &["1", "a", "a"],
            &[],
            &["3", "c", "c"],
            &["4", "a", "a"],
        ]));
        // Trimmed before comparing: "1" and " 1" are the same.
        no_unit(&table(&[
            &["1", "a", "a"],
            &[" 1", "b", "b"],
            &["3", "c", "c"],
            &["4", "a", "a"],
        ]));
        // Empty table.
        assert!(matches!(
            alpha_columns(&[], &[], UnitChoice::Detect, None),
            Err(AlphaColumnsError::TooFewAnnotators { .. })
        ));
    }

    #[test]
    fn explicit_unit_and_annotators() {
        let cols = strings(&["id", "A", "B", "C", "note"]);
        let rows = table(&[&["1", "a", "a", "b", "x"], &["2", "b", "b", "b", "y"]]);
        // --unit none: the id column is an annotator.
        let c = alpha_columns(&cols, &rows, UnitChoice::NoUnit, None).unwrap();
        assert_eq!((c.unit, c.reason), (None, UnitReason::None));
        assert_eq!(c.annotators, vec![0, 1, 2, 3, 4]);
        assert_eq!(c.describe().split(';').next(), Some("no unit column"));
        // --unit note: everything else is an annotator.
        let c = alpha_columns(&cols, &rows, UnitChoice::Column("note"), None).unwrap();
        assert_eq!((c.unit, c.reason), (Some(4), UnitReason::Given));
        assert_eq!(c.annotators, vec![0, 1, 2, 3]);
        // --annotators C,A: in the order given, the id column still detected.
        let ann = strings(&["C", "A"]);
        let c = alpha_columns(&cols, &rows, UnitChoice::Detect, Some(&ann)).unwrap();
        assert_eq!((c.unit, c.reason), (Some(0), UnitReason::Named));
        assert_eq!(c.annotators, vec![3, 1]);
        assert_eq!(c.annotator_names, ann);
        // Listing the detected column as an annotator overrides detection.
        let ann = strings(&["id", "A"]);
        let c = alpha_columns(&cols, &rows, UnitChoice::Detect, Some(&ann)).unwrap();
        assert_eq!((c.unit, c.reason), (None, UnitReason::None));
        assert_eq!(c.annotators, vec![0, 1]);
        // Both given.
        let ann = strings(&["A", "B"]);
        let c = alpha_columns(&cols, &rows, UnitChoice::Column("note"), Some(&ann)).unwrap();
        assert_eq!((c.unit, c.reason), (Some(4), UnitReason::Given));
        assert_eq!(c.annotators, vec![1, 2]);
        // The chosen columns feed α; rows shorter than a column count as missing.
        let rows = table(&[&["1", "a", "a"], &["2", "b", "b"], &["3"]]);
        let c = alpha_columns(&cols, &rows, UnitChoice::Detect, Some(&ann)).unwrap();
        assert_eq!(c.units(&rows)[2], vec![None, None]);
        let r = c.report(&rows);
        assert_eq!(r.annotators, ann);
        assert_eq!(r.n_units, 3);
        assert_eq!(r.n_missing_cells, 2);
        assert_eq!(r.krippendorff_alpha_nominal, Some(1.0));
    }

    #[test]
    fn errors() {
        let cols = strings(&["id", "A", "B"]);
        let rows = table(&[&["1", "a", "a"]]);
        let err = |unit, ann: Option<&[&str]>| {
            let ann = ann.map(strings);
            alpha_columns(&cols, &rows, unit, ann.as_deref()).unwrap_err()
        };
        let e = err(UnitChoice::Column("ID"), None);
        assert_eq!(
            e,
            AlphaColumnsError::UnknownColumn {
                name: "ID".into(),
                columns: cols.clone()
            }
        );
        assert_eq!(
            e.to_string(),
            "no column \"ID\" (columns: \"id\", \"A\", \"B\")"
        );
        let e = err(UnitChoice::Detect, Some(&["A", "X"]));
        assert!(matches!(&e, AlphaColumnsError::UnknownColumn { name, .. } if name == "X"));
        let e = err(UnitChoice::Column("A"), Some(&["A", "B"]));
        assert_eq!(e, AlphaColumnsError::UnitIsAnnotator("A".into()));
        assert_eq!(
            e.to_string(),
            "column \"A\" cannot be both the unit column and an annotator"
        );
        let e = err(UnitChoice::Detect, Some(&["A", "B", "A"]));
        assert_eq!(e, AlphaColumnsError::DuplicateAnnotator("A".into()));
        let e = err(UnitChoice::Detect, Some(&["A"]));
        assert_eq!(
            e.to_string(),
            "Krippendorff's α needs at least two annotator columns, got 1 (\"A\") \
             besides the unit column \"id\" (first column, named like a unit id)"
        );
        let e = err(UnitChoice::NoUnit, Some(&[]));
        assert_eq!(
            e,
            AlphaColumnsError::TooFewAnnotators {
                annotators: vec![],
                unit: None
            }
        );
        assert_eq!(
            e.to_string(),
            "Krippendorff's α needs at least two annotator columns, got none"
        );
        // An id column and one annotator: an error, not α over ids and labels.
        let e = alpha_columns(&strings(&["item", "A"]), &rows, UnitChoice::Detect, None);
        assert_eq!(
            e,
            Err(AlphaColumnsError::TooFewAnnotators {
                annotators: strings(&["A"]),
                unit: Some(("item".into(), UnitReason::Named))
            })
        );
    }
}
