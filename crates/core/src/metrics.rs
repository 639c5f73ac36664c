//! Agreement between gold labels and predictions, following scikit-learn's
//! conventions (see `shared/reference/metrics/README.md`):
//! a blank value is missing and its row is dropped; labels are the sorted union of
//! gold and predicted labels over complete rows (code-point order); the confusion
//! matrix has gold rows and predicted columns; precision/recall with no
//! denominator are 0; Cohen's κ is `None` when undefined; MCC is 0 when undefined.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

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

/// Macro averages under one zero-division convention.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MacroAverages {
    /// Mean precision.
    pub macro_precision: f64,
    /// Mean recall.
    pub macro_recall: f64,
    /// Mean F1.
    pub macro_f1: f64,
}

/// What a ratio with a zero denominator counts as (scikit-learn's `zero_division`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroDivision {
    /// Counts as 0 (the default here and in scikit-learn).
    Zero,
    /// Counts as 1.
    One,
    /// Left out of averages.
    Nan,
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
    /// Macro averages with `zero_division` 1 and NaN, for comparison.
    pub macro_alt_zero_division: [(ZeroDivisionKey, MacroAverages); 2],
    /// Micro precision (equal to accuracy for single-label data).
    pub micro_precision: f64,
    /// Micro recall (equal to accuracy for single-label data).
    pub micro_recall: f64,
    /// Micro F1 (equal to accuracy for single-label data).
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

/// Name of an alternative zero-division convention, as in the reference files.
pub type ZeroDivisionKey = &'static str;

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

/// Labels interned to integer codes, the code of a label being its rank in
/// code-point order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Interned {
    /// Labels in code order.
    pub labels: Vec<String>,
    /// Gold code of each complete row.
    pub gold: Vec<u32>,
    /// Predicted code of each complete row.
    pub pred: Vec<u32>,
}

/// Assigns codes in first-seen order; a linear scan beats hashing for the handful
/// of labels an attribute has, a map takes over for large label sets.
#[derive(Default)]
struct Interner<'a> {
    labels: Vec<&'a str>,
    map: HashMap<&'a str, u32>,
}

impl<'a> Interner<'a> {
    const SCAN_LIMIT: usize = 16;

    fn code(&mut self, s: &'a str) -> u32 {
        if self.labels.len() <= Self::SCAN_LIMIT {
            if let Some(i) = self.labels.iter().position(|l| *l == s) {
                return i as u32;
            }
        } else if let Some(&i) = self.map.get(s) {
            return i;
        }
        let code = self.labels.len() as u32;
        self.labels.push(s);
        if self.labels.len() > Self::SCAN_LIMIT {
            if self.map.is_empty() {
                self.map = self
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (*l, i as u32))
                    .collect();
            } else {
                self.map.insert(s, code);
            }
        }
        code
    }

    /// Re-number codes in sorted label order.
    fn finish(self, gold: &mut [u32], pred: &mut [u32]) -> Vec<String> {
        let mut order: Vec<u32> = (0..self.labels.len() as u32).collect();
        order.sort_unstable_by_key(|&i| self.labels[i as usize]);
        let mut rank = vec![0u32; order.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        for c in gold.iter_mut().chain(pred.iter_mut()) {
            *c = rank[*c as usize];
        }
        order
            .iter()
            .map(|&i| self.labels[i as usize].to_string())
            .collect()
    }
}

/// Missing-value counts and interned complete cases of a gold/pred pairing.
struct Prepared {
    n_rows: usize,
    miss_gold: usize,
    miss_pred: usize,
    miss_both: usize,
    gold_present: usize,
    interned: Interned,
}

fn prepare(gold: &[Option<&str>], pred: &[Option<&str>]) -> Prepared {
    assert_eq!(gold.len(), pred.len(), "gold and pred must pair up");
    let mut p = Prepared {
        n_rows: gold.len(),
        miss_gold: 0,
        miss_pred: 0,
        miss_both: 0,
        gold_present: 0,
        interned: Interned::default(),
    };
    let mut interner = Interner::default();
    let (mut gc, mut pc) = (
        Vec::with_capacity(gold.len()),
        Vec::with_capacity(gold.len()),
    );
    for (g, q) in gold.iter().zip(pred) {
        let (g, q) = (present(*g), present(*q));
        p.miss_gold += usize::from(g.is_none());
        p.miss_pred += usize::from(q.is_none());
        p.miss_both += usize::from(g.is_none() && q.is_none());
        if let Some(g) = g {
            p.gold_present += 1;
            if let Some(q) = q {
                gc.push(interner.code(g));
                pc.push(interner.code(q));
            }
        }
    }
    p.interned.labels = interner.finish(&mut gc, &mut pc);
    p.interned.gold = gc;
    p.interned.pred = pc;
    p
}

/// A k×k confusion matrix, rows = gold, columns = prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    k: usize,
    cells: Vec<u64>,
}

impl Confusion {
    /// Count code pairs; every code must be below `k`.
    pub fn from_codes(k: usize, gold: &[u32], pred: &[u32]) -> Self {
        let mut cells = vec![0u64; k * k];
        for (g, p) in gold.iter().zip(pred) {
            cells[*g as usize * k + *p as usize] += 1;
        }
        Confusion { k, cells }
    }

    /// Count the pairs at `idx` (a bootstrap resample).
    pub(crate) fn from_indices(
        k: usize,
        gold: &[u32],
        pred: &[u32],
        idx: impl Iterator<Item = usize>,
    ) -> Self {
        let mut cells = vec![0u64; k * k];
        for i in idx {
            cells[gold[i] as usize * k + pred[i] as usize] += 1;
        }
        Confusion { k, cells }
    }

    fn at(&self, g: usize, p: usize) -> u64 {
        self.cells[g * self.k + p]
    }

    fn n(&self) -> f64 {
        self.cells.iter().sum::<u64>() as f64
    }

    fn row_sums(&self) -> Vec<u64> {
        self.cells
            .chunks(self.k.max(1))
            .map(|r| r.iter().sum())
            .collect()
    }

    fn col_sums(&self) -> Vec<u64> {
        (0..self.k)
            .map(|j| (0..self.k).map(|i| self.at(i, j)).sum())
            .collect()
    }

    fn trace(&self) -> f64 {
        (0..self.k).map(|i| self.at(i, i) as f64).sum()
    }

    /// Share of the diagonal.
    pub fn accuracy(&self) -> f64 {
        ratio(self.trace(), self.n())
    }

    /// Cohen's κ, `None` when chance agreement is 1 (or there are no rows).
    pub fn cohen_kappa(&self) -> Option<f64> {
        let n = self.n();
        let dot: f64 = self
            .row_sums()
            .iter()
            .zip(self.col_sums())
            .map(|(r, c)| *r as f64 * c as f64)
            .sum();
        let pe = ratio(dot, n * n);
        (n > 0.0 && pe < 1.0).then(|| (self.accuracy() - pe) / (1.0 - pe))
    }

    /// Per-label precision/recall under a zero-division convention (`None` = NaN).
    fn per_label(&self, zd: ZeroDivision) -> Vec<(Option<f64>, Option<f64>, f64)> {
        let (rows, cols) = (self.row_sums(), self.col_sums());
        let div = |num: f64, den: u64| -> Option<f64> {
            if den > 0 {
                Some(num / den as f64)
            } else {
                match zd {
                    ZeroDivision::Zero => Some(0.0),
                    ZeroDivision::One => Some(1.0),
                    ZeroDivision::Nan => None,
                }
            }
        };
        (0..self.k)
            .map(|i| {
                let tp = self.at(i, i) as f64;
                // F1 = 2tp / (2tp + fp + fn): defined unless the label never occurs.
                let den = rows[i] + cols[i];
                let f1 = if den > 0 {
                    2.0 * tp / den as f64
                } else {
                    div(0.0, 0).unwrap_or(f64::NAN)
                };
                (div(tp, cols[i]), div(tp, rows[i]), f1)
            })
            .collect()
    }

    /// Macro precision, recall and F1 under a zero-division convention.
    pub fn macro_averages(&self, zd: ZeroDivision) -> MacroAverages {
        let per = self.per_label(zd);
        let mean = |vals: Vec<Option<f64>>| {
            let v: Vec<f64> = vals.into_iter().flatten().filter(|x| !x.is_nan()).collect();
            ratio(v.iter().sum(), v.len() as f64)
        };
        MacroAverages {
            macro_precision: mean(per.iter().map(|p| p.0).collect()),
            macro_recall: mean(per.iter().map(|p| p.1).collect()),
            macro_f1: mean(per.iter().map(|p| Some(p.2)).collect()),
        }
    }

    /// Macro F1 with zero division counted as 0.
    pub fn macro_f1(&self) -> f64 {
        self.macro_averages(ZeroDivision::Zero).macro_f1
    }

    /// Matthews correlation coefficient (0 when undefined).
    pub fn matthews_corrcoef(&self) -> f64 {
        let n = self.n();
        let (rows, cols) = (self.row_sums(), self.col_sums());
        let dot = |a: &[u64], b: &[u64]| -> f64 {
            a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
        };
        let cov_tp = self.trace() * n - dot(&rows, &cols);
        let cov_pp = n * n - dot(&cols, &cols);
        let cov_tt = n * n - dot(&rows, &rows);
        if cov_pp * cov_tt == 0.0 {
            0.0
        } else {
            cov_tp / (cov_tt * cov_pp).sqrt()
        }
    }

    /// The matrix as rows.
    pub fn rows(&self) -> Vec<Vec<u64>> {
        self.cells
            .chunks(self.k.max(1))
            .map(<[u64]>::to_vec)
            .take(self.k)
            .collect()
    }
}

/// Compare predictions to gold labels. `gold` and `pred` must be equally long;
/// `None` or blank strings are missing.
pub fn classify(gold: &[Option<&str>], pred: &[Option<&str>]) -> ClassificationReport {
    let p = prepare(gold, pred);
    let Interned { labels, gold, pred } = p.interned;
    let k = labels.len();
    let cm = Confusion::from_codes(k, &gold, &pred);
    let n = cm.n();
    let (rows, cols) = (cm.row_sums(), cm.col_sums());
    let per = cm.per_label(ZeroDivision::Zero);
    let per_class: Vec<ClassReport> = (0..k)
        .map(|i| ClassReport {
            label: labels[i].clone(),
            precision: per[i].0.unwrap_or(0.0),
            recall: per[i].1.unwrap_or(0.0),
            f1: per[i].2,
            support: rows[i],
            pred_count: cols[i],
        })
        .collect();
    let weighted = |f: &dyn Fn(&ClassReport) -> f64| {
        ratio(
            per_class
                .iter()
                .map(|c| f(c) * c.support as f64)
                .sum::<f64>(),
            n,
        )
    };
    let macro0 = cm.macro_averages(ZeroDivision::Zero);
    let accuracy = cm.accuracy();
    let in_gold: Vec<&ClassReport> = per_class.iter().filter(|c| c.support > 0).collect();
    ClassificationReport {
        n_rows: p.n_rows,
        n_used: gold.len(),
        n_missing_gold: p.miss_gold,
        n_missing_pred: p.miss_pred,
        n_missing_both: p.miss_both,
        accuracy,
        accuracy_missing_pred_as_wrong: ratio(cm.trace(), p.gold_present as f64),
        macro_precision: macro0.macro_precision,
        macro_recall: macro0.macro_recall,
        macro_f1: macro0.macro_f1,
        macro_alt_zero_division: [
            ("1", cm.macro_averages(ZeroDivision::One)),
            ("nan", cm.macro_averages(ZeroDivision::Nan)),
        ],
        micro_precision: accuracy,
        micro_recall: accuracy,
        micro_f1: accuracy,
        weighted_precision: weighted(&|c| c.precision),
        weighted_recall: weighted(&|c| c.recall),
        weighted_f1: weighted(&|c| c.f1),
        cohen_kappa: cm.cohen_kappa(),
        matthews_corrcoef: cm.matthews_corrcoef(),
        balanced_accuracy: ratio(in_gold.iter().map(|c| c.recall).sum(), in_gold.len() as f64),
        labels,
        confusion_matrix: cm.rows(),
        per_class,
    }
}

impl ClassificationReport {
    /// JSON shaped like `shared/reference/metrics/*.expected.json` (`per_class` keyed
    /// by label, `macro_alt_zero_division` keyed by convention).
    pub fn to_reference_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(obj) = &mut v {
            let per: Map<String, Value> = self
                .per_class
                .iter()
                .map(|c| {
                    (
                        c.label.clone(),
                        json!({"precision": c.precision, "recall": c.recall, "f1": c.f1, "support": c.support, "pred_count": c.pred_count}),
                    )
                })
                .collect();
            obj.insert("per_class".into(), Value::Object(per));
            let alt: Map<String, Value> = self
                .macro_alt_zero_division
                .iter()
                .map(|(k, m)| {
                    (
                        k.to_string(),
                        serde_json::to_value(m).unwrap_or(Value::Null),
                    )
                })
                .collect();
            obj.insert("macro_alt_zero_division".into(), Value::Object(alt));
            obj.insert("mode".into(), json!("classify"));
        }
        v
    }
}

/// A small, fast, seedable generator (SplitMix64) so resampling is reproducible
/// without a dependency.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), without modulo bias worth speaking of for n ≪ 2^64.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// A two-sided percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Bootstrap confidence intervals of the headline metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapCis {
    /// Resamples drawn.
    pub resamples: usize,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// Accuracy interval.
    pub accuracy: Option<Interval>,
    /// Macro-F1 interval.
    pub macro_f1: Option<Interval>,
    /// Cohen's κ interval (resamples where κ is undefined are left out).
    pub cohen_kappa: Option<Interval>,
}

/// numpy's default (linear) percentile of sorted values, `p` in 0..=1; `None`
/// when there are none.
pub(crate) fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = p.clamp(0.0, 1.0) * last as f64;
    let i = (pos.floor() as usize).min(last);
    let next = sorted[(i + 1).min(last)];
    Some(sorted[i] + (next - sorted[i]) * (pos - i as f64))
}

/// The two-sided percentile interval of `v` at `level` (e.g. 0.95).
fn percentile_interval(mut v: Vec<f64>, level: f64) -> Option<Interval> {
    v.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some(Interval {
        lo: quantile(&v, tail)?,
        hi: quantile(&v, 1.0 - tail)?,
    })
}

/// Percentile bootstrap over `n` items: each of `resamples` draws `n` item
/// indices with replacement (seeded), and `stats` turns a draw into accuracy,
/// macro-F1 and κ (draws where κ is undefined are left out of its interval).
pub(crate) fn bootstrap_with(
    n: usize,
    resamples: usize,
    level: f64,
    seed: u64,
    stats: impl FnMut(&[usize]) -> (f64, f64, Option<f64>),
) -> BootstrapCis {
    bootstrap_watched(n, resamples, level, seed, stats, &mut |_| {})
}

/// [`bootstrap_with`], telling `done` how many resamples are drawn after each.
fn bootstrap_watched(
    n: usize,
    resamples: usize,
    level: f64,
    seed: u64,
    mut stats: impl FnMut(&[usize]) -> (f64, f64, Option<f64>),
    done: &mut dyn FnMut(usize),
) -> BootstrapCis {
    let mut rng = SplitMix64::new(seed);
    let (mut acc, mut f1, mut kappa) = (Vec::new(), Vec::new(), Vec::new());
    let mut idx = Vec::with_capacity(n);
    if n > 0 {
        for r in 0..resamples {
            draw(&mut rng, n, &mut idx);
            let (a, f, k) = stats(&idx);
            acc.push(a);
            f1.push(f);
            kappa.extend(k);
            done(r + 1);
        }
    }
    BootstrapCis {
        resamples,
        level,
        accuracy: percentile_interval(acc, level),
        macro_f1: percentile_interval(f1, level),
        cohen_kappa: percentile_interval(kappa, level),
    }
}

/// One resample: `n` indices in `0..n`, drawn with replacement. A function of
/// its own, called once per resample, so the browser's engine optimises it
/// after a few calls (it does not replace code that is already running, so a
/// hot loop inside one long call would stay in its first, slow form).
#[inline(never)]
fn draw(rng: &mut SplitMix64, n: usize, idx: &mut Vec<usize>) {
    idx.clear();
    idx.extend((0..n).map(|_| rng.below(n)));
}

/// Percentile bootstrap CIs for accuracy, macro-F1 and κ over the complete rows
/// of a gold/prediction pairing. Seeded: the same inputs give the same intervals.
pub fn bootstrap_cis(
    gold: &[Option<&str>],
    pred: &[Option<&str>],
    resamples: usize,
    level: f64,
    seed: u64,
) -> BootstrapCis {
    let coded = intern(gold, pred);
    bootstrap_coded(&coded, resamples, level, seed, &mut |_| {})
}

/// The complete rows of a gold/prediction pairing as label codes: what
/// [`bootstrap_coded`] needs, small enough to hand to a worker.
pub fn intern(gold: &[Option<&str>], pred: &[Option<&str>]) -> Interned {
    prepare(gold, pred).interned
}

/// [`bootstrap_cis`] of rows already interned, telling `done` how many of the
/// resamples are drawn as it goes (a worker reports progress with it).
pub fn bootstrap_coded(
    coded: &Interned,
    resamples: usize,
    level: f64,
    seed: u64,
    done: &mut dyn FnMut(usize),
) -> BootstrapCis {
    let Interned { labels, gold, pred } = coded;
    let stats = |idx: &[usize]| {
        let cm = Confusion::from_indices(labels.len(), gold, pred, idx.iter().copied());
        (cm.accuracy(), cm.macro_f1(), cm.cohen_kappa())
    };
    bootstrap_watched(gold.len(), resamples, level, seed, stats, done)
}

/// McNemar's test of two classifiers on the same items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McNemar {
    /// Items the first got right and the second wrong.
    pub b: u64,
    /// Items the second got right and the first wrong.
    pub c: u64,
    /// χ² with continuity correction (reported also when the exact test is used).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Whether the exact binomial test was used (b + c < 25).
    pub exact: bool,
}

/// Complementary error function (Numerical Recipes' `erfcc` Chebyshev fit:
/// fractional error below 1.2e-7 everywhere, ample for p-values).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Compare two classifiers' correctness per item (`a[i]`, `b[i]`: was item i right?).
pub fn mcnemar(a_correct: &[bool], b_correct: &[bool]) -> McNemar {
    let (mut b, mut c) = (0u64, 0u64);
    for (x, y) in a_correct.iter().zip(b_correct) {
        match (x, y) {
            (true, false) => b += 1,
            (false, true) => c += 1,
            _ => {}
        }
    }
    let nd = b + c;
    let statistic = if nd == 0 {
        0.0
    } else {
        let d = (b as f64 - c as f64).abs() - 1.0;
        d.max(0.0).powi(2) / nd as f64
    };
    if nd < 25 {
        // Exact two-sided binomial test with p = 1/2.
        let k = b.min(c);
        let mut coef = 1.0f64; // C(nd, 0)
        let mut tail = 0.0;
        for i in 0..=k {
            if i > 0 {
                coef = coef * (nd - i + 1) as f64 / i as f64;
            }
            tail += coef;
        }
        let p = (2.0 * tail * 0.5f64.powi(nd as i32)).min(1.0);
        McNemar {
            b,
            c,
            statistic,
            p_value: p,
            exact: true,
        }
    } else {
        McNemar {
            b,
            c,
            statistic,
            p_value: erfc((statistic / 2.0).sqrt()),
            exact: false,
        }
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
            ("micro_precision", r.micro_precision),
            ("micro_recall", r.micro_recall),
            ("weighted_precision", r.weighted_precision),
            ("weighted_recall", r.weighted_recall),
            ("weighted_f1", r.weighted_f1),
            ("matthews_corrcoef", r.matthews_corrcoef),
            ("balanced_accuracy", r.balanced_accuracy),
        ] {
            close(v, &w[name], name);
        }
        for (key, m) in &r.macro_alt_zero_division {
            let alt = &w["macro_alt_zero_division"][*key];
            close(
                m.macro_precision,
                &alt["macro_precision"],
                "alt macro_precision",
            );
            close(m.macro_recall, &alt["macro_recall"], "alt macro_recall");
            close(m.macro_f1, &alt["macro_f1"], "alt macro_f1");
        }
        // The reference-shaped JSON carries the same keys.
        let j = r.to_reference_json();
        for key in [
            "accuracy",
            "labels",
            "confusion_matrix",
            "macro_f1",
            "cohen_kappa",
            "n_used",
        ] {
            assert_eq!(j[key], w[key], "{key}");
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

    fn labels(n: usize, wrong_every: usize) -> (Vec<String>, Vec<String>) {
        let gold: Vec<String> = (0..n).map(|i| ["a", "b", "c"][i % 3].to_string()).collect();
        let pred = gold
            .iter()
            .enumerate()
            .map(|(i, g)| {
                if i % wrong_every == 0 {
                    "a".to_string()
                } else {
                    g.clone()
                }
            })
            .collect();
        (gold, pred)
    }

    fn opt(v: &[String]) -> Vec<Option<&str>> {
        v.iter().map(|s| Some(s.as_str())).collect()
    }

    #[test]
    fn bootstrap_intervals_cover_the_estimate_shrink_with_n_and_are_seeded() {
        let (g, p) = labels(300, 4);
        let r = classify(&opt(&g), &opt(&p));
        let ci = bootstrap_cis(&opt(&g), &opt(&p), 2000, 0.95, 7);
        let acc = ci.accuracy.unwrap();
        assert!(
            acc.lo < r.accuracy && r.accuracy < acc.hi,
            "{acc:?} vs {}",
            r.accuracy
        );
        let f1 = ci.macro_f1.unwrap();
        assert!(f1.lo <= r.macro_f1 && r.macro_f1 <= f1.hi);
        let k = ci.cohen_kappa.unwrap();
        assert!(k.lo <= r.cohen_kappa.unwrap() && r.cohen_kappa.unwrap() <= k.hi);
        assert_eq!(ci, bootstrap_cis(&opt(&g), &opt(&p), 2000, 0.95, 7));
        let (g4, p4) = labels(1200, 4);
        let wide = acc.hi - acc.lo;
        let narrow = bootstrap_cis(&opt(&g4), &opt(&p4), 2000, 0.95, 7)
            .accuracy
            .unwrap();
        assert!(narrow.hi - narrow.lo < wide * 0.7, "{narrow:?} vs {acc:?}");
        assert_eq!(bootstrap_cis(&[], &[], 100, 0.95, 1).accuracy, None);
    }

    #[test]
    fn mcnemar_exact_and_asymptotic() {
        // b = 10, c = 25: chi2 with continuity correction = (15 - 1)^2 / 35 = 5.6,
        // p = P(chi2_1 > 5.6) = 0.017960 (scipy.stats.chi2.sf).
        let mut a = vec![true; 10];
        a.extend(vec![false; 25]);
        let b: Vec<bool> = a.iter().map(|x| !x).collect();
        let m = mcnemar(&a, &b);
        assert_eq!((m.b, m.c, m.exact), (10, 25, false));
        assert!((m.statistic - 5.6).abs() < 1e-12);
        assert!((m.p_value - 0.017_960_3).abs() < 1e-6, "{}", m.p_value);
        // b = 1, c = 5: exact two-sided p = 2 * (1 + 6) / 64 = 0.21875.
        let a = [true, false, false, false, false, false, true];
        let b = [false, true, true, true, true, true, true];
        let m = mcnemar(&a, &b);
        assert!(m.exact);
        assert!((m.p_value - 0.21875).abs() < 1e-12);
        assert_eq!(mcnemar(&[true], &[true]).p_value, 1.0);
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-7);
    }

    #[test]
    fn interning_many_labels_switches_to_a_map_and_keeps_sorted_codes() {
        let g: Vec<String> = (0..100).map(|i| format!("l{:03}", (i * 37) % 40)).collect();
        let r = classify(&opt(&g), &opt(&g));
        assert_eq!(r.labels.len(), 40);
        assert!(r.labels.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(r.accuracy, 1.0);
        assert_eq!(
            r.confusion_matrix
                .iter()
                .map(|row| row.iter().sum::<u64>())
                .sum::<u64>(),
            100
        );
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
