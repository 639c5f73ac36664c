//! Agreement between annotators who labelled the same units: Krippendorff's α
//! (nominal level) over all annotators, plus raw agreement and Cohen's κ for every
//! pair of annotators.
//!
//! Conventions follow `shared/reference/metrics/README.md` (krippendorff 0.9.0 and
//! scikit-learn): `None` or a blank cell (after trimming) is missing; other values
//! are compared as given; units with fewer than two values cannot be paired and do
//! not enter α; undefined statistics are `None`.

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
}
