//! Agreement between gold labels and predictions, following scikit-learn's
//! conventions (see `shared/reference/metrics/README.md`):
//! a blank value is missing and its row is dropped; labels are the sorted union of
//! gold and predicted labels over complete rows (code-point order); the confusion
//! matrix has gold rows and predicted columns; precision/recall with no
//! denominator are 0; Cohen's κ is `None` when undefined; MCC is 0 when undefined.

use serde::Serialize;
use std::collections::BTreeMap;

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassReport {
    /// The label.
    pub label: String,
    /// tp / (tp + fp), 0 when nothing was predicted as this label.
    pub precision: f64,
    /// tp / (tp + fn), 0 when the label never occurs in gold.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
    /// Gold rows with this label.
    pub support: u64,
    /// Predictions of this label.
    pub pred_count: u64,
}

/// Everything computed from one gold/prediction pairing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationReport {
    /// Rows given.
    pub n_rows: usize,
    /// Rows with both a gold label and a prediction.
    pub n_used: usize,
    /// Rows without a gold label (including those missing both).
    pub n_missing_gold: usize,
    /// Rows without a prediction (including those missing both).
    pub n_missing_pred: usize,
    /// Rows missing both.
    pub n_missing_both: usize,
    /// Label order of the matrix and per-class list.
    pub labels: Vec<String>,
    /// Share correct among rows used.
    pub accuracy: f64,
    /// Share correct among rows with a gold label, a missing prediction counting wrong.
    pub accuracy_missing_pred_as_wrong: f64,
    /// Counts, rows = gold, columns = prediction.
    pub confusion_matrix: Vec<Vec<u64>>,
    /// One entry per label, in `labels` order.
    pub per_class: Vec<ClassReport>,
    /// Unweighted means over all labels.
    pub macro_precision: f64,
    /// Unweighted mean recall.
    pub macro_recall: f64,
    /// Unweighted mean F1.
    pub macro_f1: f64,
    /// Micro averages (equal to accuracy for single-label data).
    pub micro_f1: f64,
    /// Support-weighted means.
    pub weighted_precision: f64,
    /// Support-weighted recall.
    pub weighted_recall: f64,
    /// Support-weighted F1.
    pub weighted_f1: f64,
    /// Cohen's κ; `None` when chance agreement is 1.
    pub cohen_kappa: Option<f64>,
    /// Matthews correlation coefficient; 0 when undefined.
    pub matthews_corrcoef: f64,
    /// Mean recall over labels present in gold.
    pub balanced_accuracy: f64,
}

fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}

fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

/// Compare predictions to gold labels. `gold` and `pred` must be equally long;
/// `None` or blank strings are missing.
pub fn classify(gold: &[Option<&str>], pred: &[Option<&str>]) -> ClassificationReport {
    assert_eq!(gold.len(), pred.len(), "gold and pred must pair up");
    let n_rows = gold.len();
    let (mut miss_g, mut miss_p, mut miss_both, mut gold_present, mut correct) = (0, 0, 0, 0, 0);
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(n_rows);
    for (g, p) in gold.iter().zip(pred) {
        let (g, p) = (present(*g), present(*p));
        miss_g += usize::from(g.is_none());
        miss_p += usize::from(p.is_none());
        miss_both += usize::from(g.is_none() && p.is_none());
        if let Some(g) = g {
            gold_present += 1;
            if let Some(p) = p {
                correct += usize::from(g == p);
                pairs.push((g, p));
            }
        }
    }
    // Intern labels to integer codes in sorted order.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (g, p) in &pairs {
        index.insert(g, 0);
        index.insert(p, 0);
    }
    for (i, v) in index.values_mut().enumerate() {
        *v = i;
    }
    let labels: Vec<String> = index.keys().map(|s| s.to_string()).collect();
    let k = labels.len();
    let mut cm = vec![vec![0u64; k]; k];
    for (g, p) in &pairs {
        cm[index[g]][index[p]] += 1;
    }
    let n = pairs.len() as f64;
    let row_sum: Vec<u64> = cm.iter().map(|r| r.iter().sum()).collect();
    let col_sum: Vec<u64> = (0..k).map(|j| cm.iter().map(|r| r[j]).sum()).collect();
    let per_class: Vec<ClassReport> = (0..k)
        .map(|i| {
            let tp = cm[i][i] as f64;
            let precision = ratio(tp, col_sum[i] as f64);
            let recall = ratio(tp, row_sum[i] as f64);
            ClassReport {
                label: labels[i].clone(),
                precision,
                recall,
                f1: ratio(2.0 * tp, (row_sum[i] + col_sum[i]) as f64),
                support: row_sum[i],
                pred_count: col_sum[i],
            }
        })
        .collect();
    let mean =
        |f: &dyn Fn(&ClassReport) -> f64| ratio(per_class.iter().map(f).sum::<f64>(), k as f64);
    let weighted = |f: &dyn Fn(&ClassReport) -> f64| {
        ratio(
            per_class
                .iter()
                .map(|c| f(c) * c.support as f64)
                .sum::<f64>(),
            n,
        )
    };
    let accuracy = ratio(correct as f64, n);
    let trace: f64 = (0..k).map(|i| cm[i][i] as f64).sum();
    let dot =
        |a: &[u64], b: &[u64]| -> f64 { a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum() };
    let pe = ratio(dot(&row_sum, &col_sum), n * n);
    let cohen_kappa = (n > 0.0 && pe < 1.0).then(|| (accuracy - pe) / (1.0 - pe));
    let cov_tp = trace * n - dot(&row_sum, &col_sum);
    let cov_pp = n * n - dot(&col_sum, &col_sum);
    let cov_tt = n * n - dot(&row_sum, &row_sum);
    let matthews_corrcoef = if cov_pp * cov_tt == 0.0 {
        0.0
    } else {
        cov_tp / (cov_tt * cov_pp).sqrt()
    };
    let in_gold: Vec<&ClassReport> = per_class.iter().filter(|c| c.support > 0).collect();
    let balanced_accuracy = ratio(in_gold.iter().map(|c| c.recall).sum(), in_gold.len() as f64);
    ClassificationReport {
        n_rows,
        n_used: pairs.len(),
        n_missing_gold: miss_g,
        n_missing_pred: miss_p,
        n_missing_both: miss_both,
        accuracy,
        accuracy_missing_pred_as_wrong: ratio(correct as f64, gold_present as f64),
        macro_precision: mean(&|c| c.precision),
        macro_recall: mean(&|c| c.recall),
        macro_f1: mean(&|c| c.f1),
        micro_f1: accuracy,
        weighted_precision: weighted(&|c| c.precision),
        weighted_recall: weighted(&|c| c.recall),
        weighted_f1: weighted(&|c| c.f1),
        cohen_kappa,
        matthews_corrcoef,
        balanced_accuracy,
        labels,
        confusion_matrix: cm,
        per_class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::parse_table;
    use serde_json::Value;

    fn reference(case: &str) -> (ClassificationReport, Value) {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/metrics/"
        );
        let csv = std::fs::read(format!("{dir}{case}.csv")).unwrap();
        let t = parse_table(&csv).unwrap();
        let gold: Vec<Option<&str>> = t.rows.iter().map(|r| Some(r[0].as_str())).collect();
        let pred: Vec<Option<&str>> = t.rows.iter().map(|r| Some(r[1].as_str())).collect();
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}{case}.expected.json")).unwrap(),
        )
        .unwrap();
        (classify(&gold, &pred), want)
    }

    fn close(a: f64, b: &Value, what: &str) {
        let b = b.as_f64().unwrap_or_else(|| panic!("{what} missing"));
        assert!((a - b).abs() < 1e-9, "{what}: ours {a}, reference {b}");
    }

    fn check(case: &str) {
        let (r, w) = reference(case);
        assert_eq!(r.n_rows as u64, w["n_rows"].as_u64().unwrap());
        assert_eq!(r.n_used as u64, w["n_used"].as_u64().unwrap());
        assert_eq!(
            r.n_missing_gold as u64,
            w["n_missing_gold"].as_u64().unwrap()
        );
        assert_eq!(
            r.n_missing_pred as u64,
            w["n_missing_pred"].as_u64().unwrap()
        );
        assert_eq!(
            r.n_missing_both as u64,
            w["n_missing_both"].as_u64().unwrap()
        );
        assert_eq!(serde_json::to_value(&r.labels).unwrap(), w["labels"]);
        assert_eq!(
            serde_json::to_value(&r.confusion_matrix).unwrap(),
            w["confusion_matrix"]
        );
        for (name, v) in [
            ("accuracy", r.accuracy),
            (
                "accuracy_missing_pred_as_wrong",
                r.accuracy_missing_pred_as_wrong,
            ),
            ("macro_precision", r.macro_precision),
            ("macro_recall", r.macro_recall),
            ("macro_f1", r.macro_f1),
            ("micro_f1", r.micro_f1),
            ("weighted_precision", r.weighted_precision),
            ("weighted_recall", r.weighted_recall),
            ("weighted_f1", r.weighted_f1),
            ("matthews_corrcoef", r.matthews_corrcoef),
            ("balanced_accuracy", r.balanced_accuracy),
        ] {
            close(v, &w[name], name);
        }
        match r.cohen_kappa {
            Some(k) => close(k, &w["cohen_kappa"], "cohen_kappa"),
            None => assert!(w["cohen_kappa"].is_null()),
        }
        for c in &r.per_class {
            let wc = &w["per_class"][&c.label];
            close(c.precision, &wc["precision"], "precision");
            close(c.recall, &wc["recall"], "recall");
            close(c.f1, &wc["f1"], "f1");
            assert_eq!(c.support, wc["support"].as_u64().unwrap());
            assert_eq!(c.pred_count, wc["pred_count"].as_u64().unwrap());
        }
    }

    #[test]
    fn matches_sklearn_on_10k_random_rows() {
        check("case1_random10k_gold_pred");
    }

    #[test]
    fn matches_sklearn_on_edge_cases() {
        check("case2_edge_gold_pred");
    }

    #[test]
    fn empty_and_degenerate_inputs() {
        let r = classify(&[], &[]);
        assert_eq!(r.n_used, 0);
        assert_eq!(r.accuracy, 0.0);
        assert_eq!(r.cohen_kappa, None);
        let r = classify(&[Some("a"), Some("a")], &[Some("a"), Some("a")]);
        assert_eq!(r.accuracy, 1.0);
        assert_eq!(r.cohen_kappa, None);
        assert_eq!(r.matthews_corrcoef, 0.0);
    }
}
