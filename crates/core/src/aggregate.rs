//! Combining several annotators' labels per task: majority vote and Dawid–Skene,
//! exactly as crowd-kit 1.4.2 runs them (see `shared/reference/aggregation/README.md`).
//!
//! Conventions, all crowd-kit's:
//! - labels, tasks and workers are numbered in order of first appearance in the
//!   rows; the label set is the labels that occur (a codebook class nobody gave does
//!   not exist here; callers report probability 0 for it);
//! - ties go to the first label in that order (pandas `idxmax`);
//! - Dawid–Skene starts from the vote fractions, clips counts and priors at ε = 1e-10,
//!   gives a worker error rows only for the labels they used, stops when the per-row
//!   ELBO rises by less than `tol` (a fall stops it too), and reports posteriors
//!   clipped at ε without renormalising.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// crowd-kit's `_EPS`: the floor of counts, priors and output probabilities.
pub const EPS: f64 = 1e-10;

/// Responses as indices into the first-appearance orders of tasks, workers and labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Responses {
    /// Task ids, in order of first appearance.
    pub tasks: Vec<String>,
    /// Worker ids, in order of first appearance.
    pub workers: Vec<String>,
    /// Labels, in order of first appearance: the order of every per-label array.
    pub labels: Vec<String>,
    /// One (task, worker, label) per response, in input order.
    pub rows: Vec<(usize, usize, usize)>,
}

fn intern(map: &mut HashMap<String, usize>, names: &mut Vec<String>, s: &str) -> usize {
    if let Some(&i) = map.get(s) {
        return i;
    }
    map.insert(s.to_string(), names.len());
    names.push(s.to_string());
    names.len() - 1
}

impl Responses {
    /// Numbers the (task, worker, label) strings exactly as given (no trimming). A
    /// repeated (task, worker) pair counts twice, as in crowd-kit.
    pub fn new<I, S>(rows: I) -> Self
    where
        I: IntoIterator<Item = (S, S, S)>,
        S: AsRef<str>,
    {
        let mut r = Responses::default();
        let (mut t, mut w, mut l) = (HashMap::new(), HashMap::new(), HashMap::new());
        for (task, worker, label) in rows {
            let ti = intern(&mut t, &mut r.tasks, task.as_ref());
            let wi = intern(&mut w, &mut r.workers, worker.as_ref());
            let li = intern(&mut l, &mut r.labels, label.as_ref());
            r.rows.push((ti, wi, li));
        }
        r
    }

    /// Votes per task and label, `[task][label]`.
    pub fn counts(&self) -> Vec<Vec<usize>> {
        let mut n = vec![vec![0; self.labels.len()]; self.tasks.len()];
        for &(t, _, k) in &self.rows {
            n[t][k] += 1;
        }
        n
    }
}

/// Index of the first maximum (pandas `idxmax`).
fn first_max(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Majority vote per task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MajorityVote {
    /// Winning label per task (index into `labels`): the first in label order with the
    /// most votes.
    pub labels: Vec<usize>,
    /// Vote fractions, `[task][label]`.
    pub probas: Vec<Vec<f64>>,
    /// Tasks whose top count is shared, with the tied labels in label order.
    pub ties: Vec<(usize, Vec<usize>)>,
}

/// Majority vote (crowd-kit `MajorityVote()`).
pub fn majority_vote(r: &Responses) -> MajorityVote {
    let counts = r.counts();
    let mut out = MajorityVote {
        labels: Vec::with_capacity(counts.len()),
        probas: Vec::with_capacity(counts.len()),
        ties: Vec::new(),
    };
    for (t, n) in counts.iter().enumerate() {
        let total: usize = n.iter().sum();
        let top = n.iter().copied().max().unwrap_or(0);
        let tied: Vec<usize> = (0..n.len()).filter(|&k| n[k] == top).collect();
        out.labels.push(tied[0]);
        if tied.len() > 1 {
            out.ties.push((t, tied));
        }
        out.probas
            .push(n.iter().map(|&c| c as f64 / total as f64).collect());
    }
    out
}

/// Dawid–Skene settings (crowd-kit's `n_iter` and `tol`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DsOptions {
    /// Most EM iterations.
    pub n_iter: usize,
    /// Stop when the per-row ELBO rises by less than this.
    pub tol: f64,
}

impl Default for DsOptions {
    fn default() -> Self {
        DsOptions {
            n_iter: 100,
            tol: 1e-5,
        }
    }
}

/// A fitted Dawid–Skene model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DawidSkene {
    /// Label per task (index into `labels`): the first with the largest clipped posterior.
    pub labels: Vec<usize>,
    /// Posteriors `[task][label]`, values below ε raised to ε (rows not renormalised,
    /// so they sum to 1 + O(ε)).
    pub probas: Vec<Vec<f64>>,
    /// Class priors: the mean of the last (unclipped) posteriors.
    pub priors: Vec<f64>,
    /// `errors[worker][k]` = P(worker says k | true label c) for each c, or `None`
    /// where the worker never said k.
    pub errors: ErrorRates,
    /// Per-row ELBO after each iteration; its length is the iteration count.
    pub loss_history: Vec<f64>,
}

impl DawidSkene {
    /// Iterations run.
    pub fn iterations(&self) -> usize {
        self.loss_history.len()
    }

    /// The last per-row ELBO (crowd-kit's `loss_history_[-1]`), `None` before iterating.
    pub fn final_loss(&self) -> Option<f64> {
        self.loss_history.last().copied()
    }

    /// Posteriors with columns in `codebook` order: a class nobody gave gets 0 (it does
    /// not exist for Dawid–Skene). Observed labels missing from `codebook` are dropped,
    /// so such rows no longer sum to 1.
    pub fn probas_over<S: AsRef<str>>(&self, r: &Responses, codebook: &[S]) -> Vec<Vec<f64>> {
        let cols: Vec<Option<usize>> = codebook
            .iter()
            .map(|c| r.labels.iter().position(|l| l == c.as_ref()))
            .collect();
        self.probas
            .iter()
            .map(|row| cols.iter().map(|c| c.map_or(0.0, |k| row[k])).collect())
            .collect()
    }
}

/// Worker confusion matrices: `e[(w·K + k)·K + c]`, meaningful where `given[w·K + k]`.
struct Errors {
    e: Vec<f64>,
    given: Vec<bool>,
}

/// The M-step: N[w,k,c] = Σ q[t,c] over w's responses k, floored at ε on the rows w
/// used, each column normalised over those rows only.
fn m_step(r: &Responses, q: &[Vec<f64>]) -> Errors {
    let k = r.labels.len();
    let mut e = vec![0.0; r.workers.len() * k * k];
    let mut given = vec![false; r.workers.len() * k];
    for &(t, w, y) in &r.rows {
        given[w * k + y] = true;
        let row = &mut e[(w * k + y) * k..(w * k + y + 1) * k];
        for (n, qc) in row.iter_mut().zip(&q[t]) {
            *n += qc;
        }
    }
    for w in 0..r.workers.len() {
        for c in 0..k {
            let mut sum = 0.0;
            for y in 0..k {
                if given[w * k + y] {
                    let n = &mut e[(w * k + y) * k + c];
                    *n = n.max(EPS);
                    sum += *n;
                }
            }
            for y in 0..k {
                if given[w * k + y] {
                    e[(w * k + y) * k + c] /= sum;
                }
            }
        }
    }
    Errors { e, given }
}

/// The E-step: posteriors from priors and error rates, in log space.
fn e_step(r: &Responses, p: &[f64], log_e: &[f64]) -> Vec<Vec<f64>> {
    let k = r.labels.len();
    let log_p: Vec<f64> = p.iter().map(|v| v.max(EPS).ln()).collect();
    let mut s = vec![log_p; r.tasks.len()];
    for &(t, w, y) in &r.rows {
        let le = &log_e[(w * k + y) * k..(w * k + y + 1) * k];
        for (sc, l) in s[t].iter_mut().zip(le) {
            *sc += l;
        }
    }
    for row in &mut s {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = (*v - m).exp();
            sum += *v;
        }
        row.iter_mut().for_each(|v| *v /= sum);
    }
    s
}

fn mean_rows(q: &[Vec<f64>], k: usize) -> Vec<f64> {
    let mut p = vec![0.0; k];
    for row in q {
        for (pc, v) in p.iter_mut().zip(row) {
            *pc += v;
        }
    }
    p.iter_mut().for_each(|v| *v /= q.len() as f64);
    p
}

fn log_errors(e: &Errors) -> Vec<f64> {
    // Rows the worker never used are never read; ln 0 = −∞ there is harmless.
    e.e.iter().map(|v| v.ln()).collect()
}

/// crowd-kit's ELBO: the prior term counted once per response row, the entropy on
/// the ε-clipped posteriors.
fn elbo(r: &Responses, q: &[Vec<f64>], p: &[f64], log_e: &[f64]) -> f64 {
    let k = r.labels.len();
    let log_p: Vec<f64> = p.iter().map(|v| v.max(EPS).ln()).collect();
    let mut total = 0.0;
    for &(t, w, y) in &r.rows {
        let le = &log_e[(w * k + y) * k..(w * k + y + 1) * k];
        for c in 0..k {
            total += q[t][c] * (le[c] + log_p[c]);
        }
    }
    for row in q {
        for v in row {
            let v = v.max(EPS);
            total -= v * v.ln();
        }
    }
    total
}

/// Why labels could not be aggregated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    /// There are no responses.
    #[error("no responses to aggregate")]
    Empty,
    /// Priors, posteriors or error matrices whose sizes do not fit the responses.
    #[error("{0} do not match the responses' tasks, workers or labels")]
    Shape(&'static str),
    /// A response whose (worker, label) has no error-rate row.
    #[error("worker {worker:?} has no error rates for label {label:?}")]
    NoErrorRates {
        /// The worker.
        worker: String,
        /// The label.
        label: String,
    },
}

/// Error matrices in the nested form of [`DawidSkene::errors`]:
/// `[worker][k]` = `Some(P(says k | true c) for each c)` or `None`.
pub type ErrorRates = Vec<Vec<Option<Vec<f64>>>>;

fn nest(r: &Responses, e: &Errors) -> ErrorRates {
    let k = r.labels.len();
    (0..r.workers.len())
        .map(|w| {
            (0..k)
                .map(|y| {
                    e.given[w * k + y].then(|| e.e[(w * k + y) * k..(w * k + y + 1) * k].to_vec())
                })
                .collect()
        })
        .collect()
}

/// The Dawid–Skene M-step on its own: each worker's error rates given posteriors
/// `q[task][label]`. A worker who used one label only gets rates of exactly 1 for it.
pub fn m_step_errors(r: &Responses, q: &[Vec<f64>]) -> Result<ErrorRates, AggregateError> {
    if q.len() != r.tasks.len() || q.iter().any(|row| row.len() != r.labels.len()) {
        return Err(AggregateError::Shape("posteriors"));
    }
    Ok(nest(r, &m_step(r, q)))
}

/// The Dawid–Skene E-step on its own: unclipped posteriors `[task][label]` of the
/// responses' tasks under `priors` and `errors` (for example a fitted model's, to
/// label new tasks by the same workers).
pub fn e_step_posteriors(
    r: &Responses,
    priors: &[f64],
    errors: &ErrorRates,
) -> Result<Vec<Vec<f64>>, AggregateError> {
    let k = r.labels.len();
    if priors.len() != k {
        return Err(AggregateError::Shape("priors"));
    }
    if errors.len() != r.workers.len() || errors.iter().any(|w| w.len() != k) {
        return Err(AggregateError::Shape("error rates"));
    }
    let mut log_e = vec![0.0; r.workers.len() * k * k];
    for &(_, w, y) in &r.rows {
        let rates = errors[w][y]
            .as_ref()
            .ok_or_else(|| AggregateError::NoErrorRates {
                worker: r.workers[w].clone(),
                label: r.labels[y].clone(),
            })?;
        if rates.len() != k {
            return Err(AggregateError::Shape("error rates"));
        }
        for (l, v) in log_e[(w * k + y) * k..(w * k + y + 1) * k]
            .iter_mut()
            .zip(rates)
        {
            *l = v.ln();
        }
    }
    Ok(e_step(r, priors, &log_e))
}

/// Dawid–Skene EM (crowd-kit `DawidSkene(n_iter, tol)`).
pub fn dawid_skene(r: &Responses, opts: &DsOptions) -> Result<DawidSkene, AggregateError> {
    if r.rows.is_empty() {
        return Err(AggregateError::Empty);
    }
    let k = r.labels.len();
    let mut q = majority_vote(r).probas;
    let mut p = mean_rows(&q, k);
    let mut e = m_step(r, &q);
    let mut loss_history = Vec::new();
    let mut prev = f64::NEG_INFINITY;
    for _ in 0..opts.n_iter {
        q = e_step(r, &p, &log_errors(&e));
        p = mean_rows(&q, k);
        e = m_step(r, &q);
        let loss = elbo(r, &q, &p, &log_errors(&e)) / r.rows.len() as f64;
        loss_history.push(loss);
        // Signed on purpose: a fall in the loss stops the loop as well.
        if loss - prev < opts.tol {
            break;
        }
        prev = loss;
    }
    let probas: Vec<Vec<f64>> = q
        .iter()
        .map(|row| row.iter().map(|v| v.max(EPS)).collect())
        .collect();
    let labels = probas.iter().map(|row| first_max(row)).collect();
    let errors = nest(r, &e);
    Ok(DawidSkene {
        labels,
        probas,
        priors: p,
        errors,
        loss_history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_start_of_the_readme() {
        // agg1's first rows for w1 and w2 as in the README's worked example.
        let r = Responses::new([
            ("t1", "w1", "yes"),
            ("t1", "w2", "yes"),
            ("t2", "w1", "no"),
            ("t2", "w2", "no"),
        ]);
        assert_eq!(r.labels, ["yes", "no"]);
        let mv = majority_vote(&r);
        assert_eq!(mv.labels, [0, 1]);
        assert!(mv.ties.is_empty());
        let ds = dawid_skene(&r, &DsOptions::default()).unwrap();
        for row in &ds.probas {
            let s: f64 = row.iter().sum();
            assert!((s - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn empty_input_is_an_error() {
        let r = Responses::new(Vec::<(&str, &str, &str)>::new());
        assert_eq!(
            dawid_skene(&r, &DsOptions::default()),
            Err(AggregateError::Empty)
        );
    }

    #[test]
    fn the_steps_refuse_mismatched_inputs() {
        let r = Responses::new([("t", "a", "x"), ("t", "b", "y")]);
        assert!(m_step_errors(&r, &[vec![1.0]]).is_err());
        let e = m_step_errors(&r, &[vec![0.5, 0.5]]).unwrap();
        assert!(e_step_posteriors(&r, &[1.0], &e).is_err());
        let mut missing = e.clone();
        missing[1][1] = None;
        assert_eq!(
            e_step_posteriors(&r, &[0.5, 0.5], &missing),
            Err(AggregateError::NoErrorRates {
                worker: "b".into(),
                label: "y".into()
            })
        );
        let q = e_step_posteriors(&r, &[0.5, 0.5], &e).unwrap();
        assert!((q[0].iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn ties_go_to_the_first_label_seen() {
        let r = Responses::new([("t", "a", "z"), ("t", "b", "a")]);
        let mv = majority_vote(&r);
        assert_eq!(mv.labels, [0]);
        assert_eq!(mv.ties, vec![(0, vec![0, 1])]);
    }
}

/// How several runs' labels become one label per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggregateMethod {
    /// The most frequent label (ties to the first in label order).
    MajorityVote,
    /// Dawid–Skene: each run weighted by its estimated confusion matrix.
    DawidSkene,
}

impl AggregateMethod {
    /// Both methods, for choosing.
    pub const ALL: [AggregateMethod; 2] =
        [AggregateMethod::DawidSkene, AggregateMethod::MajorityVote];

    /// Stable name (for storage-free places: form values, test ids).
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateMethod::MajorityVote => "majority_vote",
            AggregateMethod::DawidSkene => "dawid_skene",
        }
    }

    /// Inverse of [`AggregateMethod::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            AggregateMethod::MajorityVote => "Majority vote",
            AggregateMethod::DawidSkene => "Dawid–Skene",
        }
    }
}

/// One label per row from several runs' labels, `per_run[run][row]` (a code
/// into the attribute's classes, or `None` where that run has no valid label):
/// the label and its probability (the vote share, or the Dawid–Skene
/// posterior). Rows no run labelled stay `None`.
pub fn aggregate_rows(
    per_run: &[Vec<Option<u32>>],
    method: AggregateMethod,
) -> Result<Vec<Option<(u32, f64)>>, AggregateError> {
    let n = per_run.iter().map(Vec::len).max().unwrap_or(0);
    let mut rows = Vec::new();
    for row in 0..n {
        for (run, labels) in per_run.iter().enumerate() {
            if let Some(Some(code)) = labels.get(row) {
                rows.push((row.to_string(), run.to_string(), code.to_string()));
            }
        }
    }
    let r = Responses::new(rows);
    if r.rows.is_empty() {
        return Err(AggregateError::Empty);
    }
    let (labels, probas) = match method {
        AggregateMethod::MajorityVote => {
            let mv = majority_vote(&r);
            (mv.labels, mv.probas)
        }
        AggregateMethod::DawidSkene => {
            let ds = dawid_skene(&r, &DsOptions::default())?;
            (ds.labels, ds.probas)
        }
    };
    let mut out = vec![None; n];
    for (t, task) in r.tasks.iter().enumerate() {
        let (Ok(row), Ok(code)) = (task.parse::<usize>(), r.labels[labels[t]].parse::<u32>())
        else {
            continue;
        };
        out[row] = Some((code, probas[t][labels[t]]));
    }
    Ok(out)
}

#[cfg(test)]
mod rows_tests {
    use super::*;

    #[test]
    fn rows_aggregate_by_vote_or_by_dawid_skene() {
        // Three runs over five rows; run 2 always says 1; row 4 has no label.
        let runs = vec![
            vec![Some(0), Some(1), Some(0), Some(1), None],
            vec![Some(0), Some(1), Some(1), Some(0), None],
            vec![Some(1), Some(1), Some(1), Some(1), None],
        ];
        let mv = aggregate_rows(&runs, AggregateMethod::MajorityVote).unwrap();
        assert_eq!(mv[0], Some((0, 2.0 / 3.0)));
        assert_eq!(mv[1], Some((1, 1.0)));
        assert_eq!(mv[4], None);
        let ds = aggregate_rows(&runs, AggregateMethod::DawidSkene).unwrap();
        assert_eq!(ds.len(), 5);
        assert!(ds[..4]
            .iter()
            .all(|r| r.is_some_and(|(_, p)| (0.0..=1.0 + 1e-9).contains(&p))));
        assert_eq!(ds[4], None);
        assert_eq!(
            aggregate_rows(&[vec![None, None]], AggregateMethod::DawidSkene),
            Err(AggregateError::Empty)
        );
        assert_eq!(
            AggregateMethod::parse("dawid_skene"),
            Some(AggregateMethod::DawidSkene)
        );
    }
}
