//! Property tests of the distillation core: label aggregation and the student.

use fannotate_core::aggregate::{
    dawid_skene, e_step_posteriors, m_step_errors, DsOptions, Responses, EPS,
};
use fannotate_core::student::{fit_labels, fit_soft, FitOptions, HashingSpec, SparseVec};
use proptest::prelude::*;

/// Random responses: (task, worker, label) with tasks < 25, workers < 6, labels < 4,
/// at most one response per (task, worker).
fn responses() -> impl Strategy<Value = Vec<(u8, u8, u8)>> {
    prop::collection::btree_map((0u8..25, 0u8..6), 0u8..4, 1..120)
        .prop_map(|m| m.into_iter().map(|((t, w), l)| (t, w, l)).collect())
}

fn named(rows: &[(u8, u8, u8)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(t, w, l)| (format!("t{t}"), format!("w{w}"), format!("l{l}")))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Posteriors are distributions up to the ε floor: each entry ≥ ε, each row sums to
    /// 1 within [1, 1 + K·ε] (plus rounding); the priors sum to 1.
    #[test]
    fn ds_posteriors_sum_to_one_within_clipping(rows in responses()) {
        let r = Responses::new(named(&rows));
        let ds = dawid_skene(&r, &DsOptions::default()).unwrap();
        let k = r.labels.len() as f64;
        prop_assert_eq!(ds.probas.len(), r.tasks.len());
        for row in &ds.probas {
            prop_assert!(row.iter().all(|v| *v >= EPS && *v <= 1.0 + 1e-12));
            let s: f64 = row.iter().sum();
            prop_assert!(s >= 1.0 - 1e-12 && s <= 1.0 + k * EPS + 1e-12, "sum {}", s);
        }
        let p: f64 = ds.priors.iter().sum();
        prop_assert!((p - 1.0).abs() < 1e-12);
        prop_assert!(ds.iterations() >= 1 && ds.iterations() <= 100);
    }

    /// A worker who always gives the same label carries no information. What holds
    /// exactly is the EM step: for the same posteriors q, the M-step gives that
    /// worker rates of exactly 1 (and leaves everyone else's unchanged), so the next
    /// E-step's posteriors are unchanged. (A whole run can differ: the worker's votes
    /// change the vote-fraction start and the per-row loss that decides when to stop.)
    #[test]
    fn a_constant_worker_does_not_change_an_em_step(
        rows in responses(),
        picks in prop::collection::vec(any::<bool>(), 25),
        label_pick in any::<prop::sample::Index>(),
    ) {
        let base = named(&rows);
        let r = Responses::new(base.clone());
        let label = r.labels[label_pick.index(r.labels.len())].clone();
        // The constant worker answers some existing tasks, after every other row, so
        // the task, worker and label numbering of `r` is kept.
        let mut more = base;
        for (t, task) in r.tasks.iter().enumerate() {
            if picks[t % picks.len()] {
                more.push((task.clone(), "const".into(), label.clone()));
            }
        }
        let r2 = Responses::new(more);
        prop_assume!(r2.rows.len() > r.rows.len());
        prop_assert_eq!(&r2.tasks, &r.tasks);
        prop_assert_eq!(&r2.labels, &r.labels);

        let ds = dawid_skene(&r, &DsOptions::default()).unwrap();
        let q = &ds.probas;
        let e1 = m_step_errors(&r, q).unwrap();
        let e2 = m_step_errors(&r2, q).unwrap();
        prop_assert_eq!(&e2[..r.workers.len()], &e1[..]);
        let c = r2.workers.len() - 1;
        let k = r.labels.iter().position(|l| *l == label).unwrap();
        for (y, rates) in e2[c].iter().enumerate() {
            if y == k {
                prop_assert!(rates.as_ref().unwrap().iter().all(|v| *v == 1.0));
            } else {
                prop_assert!(rates.is_none());
            }
        }
        let q1 = e_step_posteriors(&r, &ds.priors, &e1).unwrap();
        let q2 = e_step_posteriors(&r2, &ds.priors, &e2).unwrap();
        prop_assert_eq!(q1, q2);
    }
}

/// Small random training sets: up to 5 entries per row among 40 features.
fn rows() -> impl Strategy<Value = Vec<Vec<(u32, f64)>>> {
    prop::collection::vec(
        prop::collection::btree_map(0u32..40, 0.05f64..1.0, 0..5)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>()),
        3..14,
    )
}

fn sparse(rows: &[Vec<(u32, f64)>]) -> Vec<SparseVec> {
    rows.iter()
        .map(|r| SparseVec {
            indices: r.iter().map(|p| p.0).collect(),
            values: r.iter().map(|p| p.1).collect(),
        })
        .collect()
}

fn spec() -> HashingSpec {
    HashingSpec {
        n_features: 40,
        ngram_range: (1, 2),
    }
}

/// Labels for `n` rows from `k` classes, the first `k` rows covering every class.
fn labels(n: usize, k: usize, seed: &[u8]) -> Vec<String> {
    (0..n)
        .map(|i| {
            let c = if i < k {
                i
            } else {
                seed[i % seed.len()] as usize % k
            };
            format!("c{c}")
        })
        .collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Training on duplicated rows equals training once with sample weight 2, to the
    /// optimiser's tolerance, for binary and multinomial models.
    #[test]
    fn duplicated_rows_equal_sample_weight_two(
        data in rows(),
        k in 2usize..4,
        seed in prop::collection::vec(any::<u8>(), 16),
        dup in prop::collection::vec(any::<bool>(), 16),
    ) {
        let x = sparse(&data);
        let y = labels(x.len(), k, &seed);
        let opts = FitOptions::default();
        let mut x2 = x.clone();
        let mut y2 = y.clone();
        let mut w = vec![1.0; x.len()];
        for i in 0..x.len() {
            if dup[i % dup.len()] {
                x2.push(x[i].clone());
                y2.push(y[i].clone());
                w[i] = 2.0;
            }
        }
        let a = fit_labels(spec(), &x2, &y2, None, &opts).unwrap();
        let b = fit_labels(spec(), &x, &y, Some(&w), &opts).unwrap();
        prop_assert!(a.report.converged && b.report.converged);
        prop_assert_eq!(&a.model.classes, &b.model.classes);
        prop_assert_eq!(&a.model.indices, &b.model.indices);
        prop_assert!(max_abs_diff(&a.model.intercepts, &b.model.intercepts) < 1e-6);
        for (wa, wb) in a.model.weights.iter().zip(&b.model.weights) {
            prop_assert!(max_abs_diff(wa, wb) < 1e-6);
        }
        let (fa, fb) = (a.report.objective.total, b.report.objective.total);
        prop_assert!((fa - fb).abs() <= 1e-9 * fa.abs().max(1.0), "{} vs {}", fa, fb);
        for v in &x {
            let d = max_abs_diff(&a.model.predict_proba(v), &b.model.predict_proba(v));
            prop_assert!(d < 1e-7, "proba differs by {}", d);
        }
    }

    /// A soft target is the same as one row per class weighted by its probability:
    /// fit_soft(x, t, s) equals fit_labels on the rows (x_i, c) with weight s_i·t_ic.
    #[test]
    fn soft_targets_equal_weighted_hard_rows(
        data in rows(),
        k in 2usize..4,
        raw in prop::collection::vec(1u32..20, 64),
        weights in prop::collection::vec(0.5f64..3.0, 16),
    ) {
        let x = sparse(&data);
        let classes: Vec<String> = (0..k).map(|c| format!("c{c}")).collect();
        let mut t = Vec::new();
        let (mut xe, mut ye, mut we) = (vec![], vec![], vec![]);
        let s: Vec<f64> = (0..x.len()).map(|i| weights[i % weights.len()]).collect();
        for (i, v) in x.iter().enumerate() {
            let row: Vec<f64> = (0..k).map(|c| raw[(i * k + c) % raw.len()] as f64).collect();
            let sum: f64 = row.iter().sum();
            let row: Vec<f64> = row.iter().map(|r| r / sum).collect();
            for (c, p) in row.iter().enumerate() {
                xe.push(v.clone());
                ye.push(classes[c].clone());
                we.push(s[i] * p);
            }
            t.push(row);
        }
        let opts = FitOptions::default();
        let soft = fit_soft(spec(), &x, &classes, &t, Some(&s), &opts).unwrap();
        let hard = fit_labels(spec(), &xe, &ye, Some(&we), &opts).unwrap();
        let (fa, fb) = (soft.report.objective.total, hard.report.objective.total);
        prop_assert!((fa - fb).abs() <= 1e-9 * fa.abs().max(1.0), "{} vs {}", fa, fb);
        for v in &x {
            let d = max_abs_diff(&soft.model.predict_proba(v), &hard.model.predict_proba(v));
            prop_assert!(d < 1e-7, "proba differs by {}", d);
        }
    }
}
