//! L2-regularised logistic regression on sparse features, the same model as
//! scikit-learn's `LogisticRegression(C=1)` (see `shared/reference/student/README.md`):
//! two classes give the binomial form (one weight vector, sigmoid), three or more
//! the multinomial softmax. The intercepts are not penalised. The objective is
//!
//! F(W, b) = Σ_i s_i · (−Σ_c t_ic ln P(c | x_i)) + ‖W‖² / (2C),
//!
//! with sample weights s_i and (possibly soft) targets t_i. With hard labels and
//! unit weights this is the README's `F_sum_logloss_plus_penalty`; multiplying by C
//! gives the `C · Σ logloss + ½‖W‖²` form, with the same optimum.
//!
//! F is strictly convex in W, so any optimiser that reaches the optimum gives the
//! same model. We use line-search Newton with a diagonally preconditioned conjugate
//! gradient inner solve (Hessian-vector products only, never the Hessian): it
//! reaches a gradient near rounding level in a handful of outer steps, where
//! scikit-learn's L-BFGS stops at about 1e-5.

use super::hashing::{HashingSpec, SparseVec};
use super::StudentError;
use serde::{Deserialize, Serialize};

/// Settings of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Inverse regularisation strength (scikit-learn's `C`).
    pub c: f64,
    /// Stop when ‖∇F‖∞ ≤ `tol` · max(1, Σ s_i), i.e. the gradient of the mean loss
    /// is at most `tol`.
    pub tol: f64,
    /// Most Newton steps.
    pub max_iter: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            c: 1.0,
            tol: 1e-10,
            max_iter: 100,
        }
    }
}

/// The value of the objective at the fitted model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    /// Σ_i s_i · log-loss_i.
    pub sum_logloss: f64,
    /// ‖W‖² / (2C) over all weights (intercepts excluded).
    pub penalty: f64,
    /// `sum_logloss + penalty`.
    pub total: f64,
}

/// How the optimiser ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Newton steps taken.
    pub iterations: usize,
    /// Conjugate-gradient steps over all Newton steps (each is two passes over the data).
    pub cg_iterations: usize,
    /// ‖∇F‖∞ at the returned model (unscaled).
    pub grad_inf_norm: f64,
    /// Whether the gradient test passed (otherwise `max_iter` or the line search ended it).
    pub converged: bool,
    /// Distinct feature indices in the training rows (the columns optimised over).
    pub n_train_indices: usize,
    /// Objective at the returned model.
    pub objective: Objective,
}

/// A fitted model and how the fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The model.
    pub model: StudentModel,
    /// Optimiser summary.
    pub report: FitReport,
}

/// A trained classifier: the vectorizer settings, the classes and sparse weights.
///
/// Binary models (2 classes) have one weight vector and one intercept, for
/// `classes[1]`; models with K ≥ 3 classes have K of each, with intercepts centred to
/// sum to 0 (softmax fixes them only up to a common constant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentModel {
    /// How texts are turned into features.
    pub hashing: HashingSpec,
    /// Class labels; probabilities follow this order.
    pub classes: Vec<String>,
    /// Feature indices with a non-zero weight in some vector, strictly ascending.
    pub indices: Vec<u32>,
    /// `weights[v][j]` is the weight of `indices[j]` in vector v (one vector per class,
    /// or one in all for a binary model).
    pub weights: Vec<Vec<f64>>,
    /// One intercept per weight vector.
    pub intercepts: Vec<f64>,
}

/// Trains on hard labels; `classes` become the sorted distinct labels (code-point
/// order). `sample_weight` defaults to 1 per row.
pub fn fit_labels<S: AsRef<str>>(
    spec: HashingSpec,
    x: &[SparseVec],
    labels: &[S],
    sample_weight: Option<&[f64]>,
    opts: &FitOptions,
) -> Result<Fit, StudentError> {
    check_len("labels", x.len(), labels.len())?;
    let mut classes: Vec<String> = labels.iter().map(|l| l.as_ref().to_string()).collect();
    classes.sort();
    classes.dedup();
    let targets: Vec<Vec<f64>> = labels
        .iter()
        .map(|l| {
            let k = classes
                .binary_search_by(|c| c.as_str().cmp(l.as_ref()))
                .expect("every label is a class");
            let mut row = vec![0.0; classes.len()];
            row[k] = 1.0;
            row
        })
        .collect();
    fit_soft(spec, x, &classes, &targets, sample_weight, opts)
}

/// Trains on soft targets: `targets[i][c]` is the probability of `classes[c]` for row
/// i. Rows must be non-negative and sum to 1 within 1e-6 (then they are rescaled to
/// sum to 1 exactly, so clipped posteriors such as Dawid–Skene's are accepted).
pub fn fit_soft(
    spec: HashingSpec,
    x: &[SparseVec],
    classes: &[String],
    targets: &[Vec<f64>],
    sample_weight: Option<&[f64]>,
    opts: &FitOptions,
) -> Result<Fit, StudentError> {
    spec.validate()?;
    if !(opts.c > 0.0 && opts.c.is_finite()) {
        return Err(StudentError::BadOption("C must be positive and finite"));
    }
    if opts.tol.is_nan() || opts.tol < 0.0 {
        return Err(StudentError::BadOption("tol must be non-negative"));
    }
    let n_classes = classes.len();
    if n_classes < 2 {
        return Err(StudentError::TooFewClasses(n_classes));
    }
    let mut sorted = classes.to_vec();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != n_classes {
        return Err(StudentError::DuplicateClass);
    }
    check_len("targets", x.len(), targets.len())?;
    let s: Vec<f64> = match sample_weight {
        Some(w) => {
            check_len("sample weights", x.len(), w.len())?;
            if let Some(row) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(StudentError::BadWeight { row });
            }
            w.to_vec()
        }
        None => vec![1.0; x.len()],
    };
    let total_weight: f64 = s.iter().sum();
    if total_weight <= 0.0 {
        return Err(StudentError::NoWeight);
    }

    // Binary: one vector whose target is P(classes[1]).
    let k = if n_classes == 2 { 1 } else { n_classes };
    let mut t = Vec::with_capacity(x.len() * k);
    let mut mass = vec![0.0; n_classes];
    for (row, tr) in targets.iter().enumerate() {
        if tr.len() != n_classes {
            return Err(StudentError::BadTarget {
                row,
                reason: "not one probability per class",
            });
        }
        if tr.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(StudentError::BadTarget {
                row,
                reason: "a probability is negative or not finite",
            });
        }
        let sum: f64 = tr.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(StudentError::BadTarget {
                row,
                reason: "probabilities do not sum to 1",
            });
        }
        for (m, v) in mass.iter_mut().zip(tr) {
            *m += s[row] * v / sum;
        }
        if k == 1 {
            t.push(tr[1] / sum);
        } else {
            t.extend(tr.iter().map(|v| v / sum));
        }
    }
    // Without target mass a class's intercept runs off to −∞: there is no optimum.
    if let Some(c) = mass.iter().position(|m| *m <= 0.0) {
        return Err(StudentError::EmptyClass(classes[c].clone()));
    }

    let problem = Problem::new(spec, x, s, t, k, 1.0 / opts.c)?;
    let (mut theta, mut report) = problem.solve(opts, total_weight);
    if k >= 3 {
        // Softmax is shift-invariant in b: centre it, as scikit-learn's lbfgs ends up.
        let b = &mut theta[problem.d * k..];
        let mean = b.iter().sum::<f64>() / k as f64;
        b.iter_mut().for_each(|v| *v -= mean);
    }
    report.n_train_indices = problem.d;
    let model = problem.export(&theta, classes.to_vec());
    Ok(Fit { model, report })
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), StudentError> {
    if expected == got {
        Ok(())
    } else {
        Err(StudentError::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Feature spaces up to this size map global to local columns with a dense table
/// (4 bytes a feature: 1 MiB for the default 2^18).
const DENSE_MAP_MAX: u32 = 1 << 22;

/// ln(1 + e^z) without overflow.
fn log1pexp(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// 1 / (1 + e^−z) without overflow.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The training data in compressed rows over the columns that occur (column j of the
/// problem is feature `cols[j]`). Features absent from every row get weight exactly 0
/// at the optimum, so they are left out.
struct Problem {
    spec: HashingSpec,
    /// Global feature index of each local column, ascending.
    cols: Vec<u32>,
    indptr: Vec<usize>,
    col: Vec<u32>,
    val: Vec<f64>,
    /// Sample weights.
    s: Vec<f64>,
    /// Targets, `n × k` (binary: P(classes[1])).
    t: Vec<f64>,
    n: usize,
    d: usize,
    k: usize,
    inv_c: f64,
}

/// Per-evaluation state: scores and what the Hessian needs at the current point.
struct Eval {
    /// `n × k` scores.
    z: Vec<f64>,
    /// Binary: s_i σ(1−σ) per row. Multinomial: the probabilities `n × k`.
    curv: Vec<f64>,
    /// `n × k` residuals s_i (p − t).
    resid: Vec<f64>,
    f: f64,
    sum_logloss: f64,
    penalty: f64,
}

impl Problem {
    fn new(
        spec: HashingSpec,
        x: &[SparseVec],
        s: Vec<f64>,
        t: Vec<f64>,
        k: usize,
        inv_c: f64,
    ) -> Result<Self, StudentError> {
        for (row, v) in x.iter().enumerate() {
            let sorted = v.indices.windows(2).all(|w| w[0] < w[1]);
            let in_range = v.indices.iter().all(|&i| i < spec.n_features);
            if v.indices.len() != v.values.len()
                || !sorted
                || !in_range
                || v.values.iter().any(|x| !x.is_finite())
            {
                return Err(StudentError::BadFeatures { row });
            }
        }
        let nnz = x.iter().map(SparseVec::nnz).sum();
        let mut indptr = Vec::with_capacity(x.len() + 1);
        let mut col = Vec::with_capacity(nnz);
        let mut val = Vec::with_capacity(nnz);
        indptr.push(0);
        let cols = if spec.n_features <= DENSE_MAP_MAX {
            // One slot per feature: O(nnz + n_features), where sorting every index
            // and a binary search per index was a tenth of a 100,000-row fit.
            const ABSENT: u32 = u32::MAX;
            let mut local = vec![ABSENT; spec.n_features as usize];
            for v in x {
                for &i in &v.indices {
                    local[i as usize] = 0;
                }
            }
            let mut cols = Vec::new();
            for (i, slot) in local.iter_mut().enumerate() {
                if *slot != ABSENT {
                    *slot = cols.len() as u32;
                    cols.push(i as u32);
                }
            }
            for v in x {
                for (i, value) in v.iter() {
                    col.push(local[i as usize]);
                    val.push(value);
                }
                indptr.push(col.len());
            }
            cols
        } else {
            let mut cols: Vec<u32> = x.iter().flat_map(|v| v.indices.iter().copied()).collect();
            cols.sort_unstable();
            cols.dedup();
            for v in x {
                for (i, value) in v.iter() {
                    let j = cols.binary_search(&i).expect("column was collected");
                    col.push(j as u32);
                    val.push(value);
                }
                indptr.push(col.len());
            }
            cols
        };
        Ok(Problem {
            spec,
            d: cols.len(),
            cols,
            indptr,
            col,
            val,
            s,
            t,
            n: x.len(),
            k,
            inv_c,
        })
    }

    fn n_params(&self) -> usize {
        self.d * self.k + self.k
    }

    /// out[i·k + c] = b_c + Σ_j x_ij W_jc.
    fn scores(&self, theta: &[f64], out: &mut [f64]) {
        let k = self.k;
        let (w, b) = theta.split_at(self.d * k);
        if k == 1 {
            for (i, z) in out.iter_mut().enumerate() {
                let (cols, vals) = self.row(i);
                *z = b[0]
                    + cols
                        .iter()
                        .zip(vals)
                        .map(|(&j, &x)| x * w[j as usize])
                        .sum::<f64>();
            }
            return;
        }
        for i in 0..self.n {
            let z = &mut out[i * k..(i + 1) * k];
            z.copy_from_slice(b);
            for p in self.indptr[i]..self.indptr[i + 1] {
                let (j, x) = (self.col[p] as usize, self.val[p]);
                let wj = &w[j * k..(j + 1) * k];
                for c in 0..k {
                    z[c] += x * wj[c];
                }
            }
        }
    }

    /// out_W = Xᵀ r + W/C (the penalty part only when `w` is given), out_b = Σ_i r_i.
    fn xt_times(&self, r: &[f64], w: &[f64], out: &mut [f64]) {
        let k = self.k;
        let dk = self.d * k;
        for (o, wv) in out[..dk].iter_mut().zip(w) {
            *o = wv * self.inv_c;
        }
        out[dk..].iter_mut().for_each(|o| *o = 0.0);
        if k == 1 {
            let mut ob = 0.0;
            for (i, &ri) in r.iter().enumerate() {
                let (cols, vals) = self.row(i);
                for (&j, &x) in cols.iter().zip(vals) {
                    out[j as usize] += x * ri;
                }
                ob += ri;
            }
            out[dk] = ob;
            return;
        }
        for i in 0..self.n {
            let ri = &r[i * k..(i + 1) * k];
            for p in self.indptr[i]..self.indptr[i + 1] {
                let (j, x) = (self.col[p] as usize, self.val[p]);
                let o = &mut out[j * k..(j + 1) * k];
                for c in 0..k {
                    o[c] += x * ri[c];
                }
            }
            for c in 0..k {
                out[dk + c] += ri[c];
            }
        }
    }

    /// Loss, residuals and curvature at `theta` (one pass over the data).
    fn evaluate(&self, theta: &[f64], e: &mut Eval) {
        let k = self.k;
        self.scores(theta, &mut e.z);
        let mut sum_logloss = 0.0;
        for i in 0..self.n {
            let s = self.s[i];
            let z = &e.z[i * k..(i + 1) * k];
            let t = &self.t[i * k..(i + 1) * k];
            if k == 1 {
                let p = sigmoid(z[0]);
                sum_logloss += s * (log1pexp(z[0]) - t[0] * z[0]);
                e.resid[i] = s * (p - t[0]);
                e.curv[i] = s * p * (1.0 - p);
            } else {
                let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let p = &mut e.curv[i * k..(i + 1) * k];
                let mut sum = 0.0;
                for c in 0..k {
                    p[c] = (z[c] - m).exp();
                    sum += p[c];
                }
                let lse = m + sum.ln();
                let mut tz = 0.0;
                for c in 0..k {
                    p[c] /= sum;
                    tz += t[c] * z[c];
                    e.resid[i * k + c] = s * (p[c] - t[c]);
                }
                sum_logloss += s * (lse - tz);
            }
        }
        let w2: f64 = theta[..self.d * k].iter().map(|w| w * w).sum();
        e.sum_logloss = sum_logloss;
        e.penalty = 0.5 * self.inv_c * w2;
        e.f = sum_logloss + e.penalty;
    }

    /// out = H v, with the curvature of the last `evaluate`.
    ///
    /// One pass over the data: each row's product with v is scaled and scattered back
    /// while the row is still in cache (as two passes, X v then Xᵀ a, the matrix was
    /// read twice per CG step, the bulk of a fit).
    fn hess_times(&self, e: &Eval, v: &[f64], out: &mut [f64]) {
        let k = self.k;
        let dk = self.d * k;
        let (vw, vb) = v.split_at(dk);
        for (o, wv) in out[..dk].iter_mut().zip(vw) {
            *o = wv * self.inv_c;
        }
        out[dk..].iter_mut().for_each(|o| *o = 0.0);
        if k == 1 {
            let mut ob = 0.0;
            for i in 0..self.n {
                let (cols, vals) = self.row(i);
                let z = vb[0]
                    + cols
                        .iter()
                        .zip(vals)
                        .map(|(&j, &x)| x * vw[j as usize])
                        .sum::<f64>();
                let a = e.curv[i] * z;
                for (&j, &x) in cols.iter().zip(vals) {
                    out[j as usize] += x * a;
                }
                ob += a;
            }
            out[dk] = ob;
            return;
        }
        let mut a = vec![0.0; k];
        for i in 0..self.n {
            let (cols, vals) = self.row(i);
            a.copy_from_slice(vb);
            for (&j, &x) in cols.iter().zip(vals) {
                let wj = &vw[j as usize * k..(j as usize + 1) * k];
                for c in 0..k {
                    a[c] += x * wj[c];
                }
            }
            let p = &e.curv[i * k..(i + 1) * k];
            let pa: f64 = p.iter().zip(&a).map(|(p, a)| p * a).sum();
            let s = self.s[i];
            for c in 0..k {
                a[c] = s * p[c] * (a[c] - pa);
            }
            for (&j, &x) in cols.iter().zip(vals) {
                let o = &mut out[j as usize * k..(j as usize + 1) * k];
                for c in 0..k {
                    o[c] += x * a[c];
                }
            }
            for c in 0..k {
                out[dk + c] += a[c];
            }
        }
    }

    /// Row i's local columns and values.
    fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let span = self.indptr[i]..self.indptr[i + 1];
        (&self.col[span.clone()], &self.val[span])
    }

    /// Diagonal of the Hessian, the preconditioner of the CG solve.
    fn hess_diag(&self, e: &Eval, out: &mut [f64]) {
        let k = self.k;
        let dk = self.d * k;
        out[..dk].iter_mut().for_each(|o| *o = self.inv_c);
        out[dk..].iter_mut().for_each(|o| *o = 0.0);
        let mut h = vec![0.0; k];
        for i in 0..self.n {
            for (c, hc) in h.iter_mut().enumerate() {
                *hc = if k == 1 {
                    e.curv[i]
                } else {
                    let p = e.curv[i * k + c];
                    self.s[i] * p * (1.0 - p)
                };
            }
            for p in self.indptr[i]..self.indptr[i + 1] {
                let (j, x) = (self.col[p] as usize, self.val[p]);
                for c in 0..k {
                    out[j * k + c] += x * x * h[c];
                }
            }
            for c in 0..k {
                out[dk + c] += h[c];
            }
        }
        // A zero (all rows certain, or no rows) would divide by zero.
        for o in out.iter_mut() {
            if o.is_nan() || *o <= 1e-300 {
                *o = 1.0;
            }
        }
    }

    fn new_eval(&self) -> Eval {
        let nk = self.n * self.k;
        Eval {
            z: vec![0.0; nk],
            curv: vec![0.0; nk],
            resid: vec![0.0; nk],
            f: 0.0,
            sum_logloss: 0.0,
            penalty: 0.0,
        }
    }

    /// Newton steps with a preconditioned CG inner solve and Armijo backtracking.
    fn solve(&self, opts: &FitOptions, total_weight: f64) -> (Vec<f64>, FitReport) {
        let np = self.n_params();
        let dk = self.d * self.k;
        let gtol = opts.tol * total_weight.max(1.0);
        let mut theta = vec![0.0; np];
        let mut e = self.new_eval();
        let mut trial_eval = self.new_eval();
        self.evaluate(&theta, &mut e);
        let mut g = vec![0.0; np];
        self.xt_times(&e.resid, &theta[..dk], &mut g);
        let g0 = norm2(&g).max(f64::MIN_POSITIVE);

        let (mut r, mut zv, mut p, mut hp, mut step, mut diag, mut trial) = (
            vec![0.0; np],
            vec![0.0; np],
            vec![0.0; np],
            vec![0.0; np],
            vec![0.0; np],
            vec![0.0; np],
            vec![0.0; np],
        );
        let (mut iterations, mut cg_total, mut converged) = (0, 0, false);
        let max_cg = np.clamp(10, 1000);
        loop {
            if norm_inf(&g) <= gtol {
                converged = true;
                break;
            }
            if iterations >= opts.max_iter {
                break;
            }
            iterations += 1;

            // Solve H step = −g to a relative residual η (Eisenstat–Walker style forcing:
            // loose far from the optimum, tight near it, for superlinear convergence).
            let gn = norm2(&g);
            let eta = (gn / g0).sqrt().min(0.5);
            self.hess_diag(&e, &mut diag);
            step.iter_mut().for_each(|v| *v = 0.0);
            for i in 0..np {
                r[i] = -g[i];
                zv[i] = r[i] / diag[i];
                p[i] = zv[i];
            }
            let mut rz = dot(&r, &zv);
            for _ in 0..max_cg {
                cg_total += 1;
                self.hess_times(&e, &p, &mut hp);
                let php = dot(&p, &hp);
                // Only the softmax intercept shift has zero curvature; F ignores it.
                if php.is_nan() || php <= 0.0 {
                    break;
                }
                let alpha = rz / php;
                for i in 0..np {
                    step[i] += alpha * p[i];
                    r[i] -= alpha * hp[i];
                }
                if norm2(&r) <= eta * gn {
                    break;
                }
                for i in 0..np {
                    zv[i] = r[i] / diag[i];
                }
                let rz_new = dot(&r, &zv);
                let beta = rz_new / rz;
                rz = rz_new;
                for i in 0..np {
                    p[i] = zv[i] + beta * p[i];
                }
            }
            let slope = dot(&g, &step);
            if slope.is_nan() || slope >= 0.0 {
                // CG found no descent direction: nothing more to gain at this precision.
                break;
            }

            // Backtracking. The small allowance lets a step whose gain is below rounding
            // of F pass, so the gradient can still be driven down near the optimum.
            let mut a = 1.0;
            let mut accepted = false;
            for _ in 0..40 {
                for i in 0..np {
                    trial[i] = theta[i] + a * step[i];
                }
                self.evaluate(&trial, &mut trial_eval);
                if trial_eval.f <= e.f + 1e-4 * a * slope + 4.0 * f64::EPSILON * e.f.abs() {
                    accepted = true;
                    break;
                }
                a *= 0.5;
            }
            if !accepted {
                break;
            }
            std::mem::swap(&mut theta, &mut trial);
            std::mem::swap(&mut e, &mut trial_eval);
            self.xt_times(&e.resid, &theta[..dk], &mut g);
        }
        let report = FitReport {
            iterations,
            cg_iterations: cg_total,
            grad_inf_norm: norm_inf(&g),
            converged,
            n_train_indices: self.d,
            objective: Objective {
                sum_logloss: e.sum_logloss,
                penalty: e.penalty,
                total: e.f,
            },
        };
        (theta, report)
    }

    /// The model over global feature indices, dropping columns whose weights are all 0.
    fn export(&self, theta: &[f64], classes: Vec<String>) -> StudentModel {
        let k = self.k;
        let mut indices = Vec::new();
        let mut weights = vec![Vec::new(); k];
        for j in 0..self.d {
            let wj = &theta[j * k..(j + 1) * k];
            if wj.iter().any(|w| *w != 0.0) {
                indices.push(self.cols[j]);
                for c in 0..k {
                    weights[c].push(wj[c]);
                }
            }
        }
        StudentModel {
            hashing: self.spec,
            classes,
            indices,
            weights,
            intercepts: theta[self.d * k..].to_vec(),
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn norm_inf(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

impl StudentModel {
    /// Number of weight vectors: 1 for a binary model, else one per class.
    pub fn n_vectors(&self) -> usize {
        if self.classes.len() == 2 {
            1
        } else {
            self.classes.len()
        }
    }

    /// Checks a model read from outside: valid spec, at least 2 distinct classes,
    /// matching lengths, ascending in-range indices, finite numbers.
    pub fn validate(&self) -> Result<(), StudentError> {
        self.hashing.validate()?;
        let bad = |m: &str| Err(StudentError::BadModel(m.to_string()));
        if self.classes.len() < 2 {
            return bad("fewer than 2 classes");
        }
        let mut sorted = self.classes.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != self.classes.len() {
            return bad("duplicate classes");
        }
        let v = self.n_vectors();
        if self.weights.len() != v || self.intercepts.len() != v {
            return bad("wrong number of weight vectors or intercepts for the classes");
        }
        if self
            .weights
            .iter()
            .any(|w| w.len() != self.indices.len() || w.iter().any(|x| !x.is_finite()))
        {
            return bad("a weight vector does not match the indices or is not finite");
        }
        if !self.indices.windows(2).all(|w| w[0] < w[1])
            || self
                .indices
                .last()
                .is_some_and(|&i| i >= self.hashing.n_features)
        {
            return bad("indices are not ascending or not below n_features");
        }
        if self.intercepts.iter().any(|x| !x.is_finite()) {
            return bad("an intercept is not finite");
        }
        Ok(())
    }

    /// Reads and validates a model saved with [`StudentModel::to_json`].
    pub fn from_json(json: &str) -> Result<Self, StudentError> {
        let m: StudentModel =
            serde_json::from_str(json).map_err(|e| StudentError::BadModel(e.to_string()))?;
        m.validate()?;
        Ok(m)
    }

    /// The model as JSON (floats in shortest round-trip form, so it reloads exactly).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model always serialises")
    }

    /// Features of a text with this model's vectorizer.
    pub fn features(&self, text: &str) -> SparseVec {
        self.hashing.transform(text)
    }

    /// Decision values: w·x + b per vector (binary: one value, > 0 means classes[1]).
    /// Indices the model has no weight for count 0.
    pub fn decision(&self, x: &SparseVec) -> Vec<f64> {
        let mut z = self.intercepts.clone();
        // Both index lists are ascending: merge them instead of searching.
        let (mut a, mut b) = (0, 0);
        while a < x.indices.len() && b < self.indices.len() {
            match x.indices[a].cmp(&self.indices[b]) {
                std::cmp::Ordering::Less => a += 1,
                std::cmp::Ordering::Greater => {
                    // Skip ahead in the (much longer) model list.
                    b += self.indices[b..].partition_point(|&i| i < x.indices[a]);
                }
                std::cmp::Ordering::Equal => {
                    for (zc, w) in z.iter_mut().zip(&self.weights) {
                        *zc += x.values[a] * w[b];
                    }
                    a += 1;
                    b += 1;
                }
            }
        }
        z
    }

    /// Class probabilities from decision values, in `classes` order.
    pub fn proba_from_decision(&self, z: &[f64]) -> Vec<f64> {
        if self.classes.len() == 2 {
            let p = sigmoid(z[0]);
            vec![1.0 - p, p]
        } else {
            let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
            let sum: f64 = e.iter().sum();
            e.into_iter().map(|v| v / sum).collect()
        }
    }

    /// Class probabilities of a feature vector, in `classes` order.
    pub fn predict_proba(&self, x: &SparseVec) -> Vec<f64> {
        self.proba_from_decision(&self.decision(x))
    }

    /// Index into `classes` of the prediction from decision values: binary classes[1]
    /// iff the decision is > 0; otherwise the argmax, the first class winning a tie.
    pub fn predict_from_decision(&self, z: &[f64]) -> usize {
        if self.classes.len() == 2 {
            usize::from(z[0] > 0.0)
        } else {
            let mut best = 0;
            for (c, v) in z.iter().enumerate() {
                if *v > z[best] {
                    best = c;
                }
            }
            best
        }
    }

    /// The predicted class of a feature vector.
    pub fn predict(&self, x: &SparseVec) -> &str {
        &self.classes[self.predict_from_decision(&self.decision(x))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xs(rows: &[&[(u32, f64)]]) -> Vec<SparseVec> {
        rows.iter()
            .map(|r| SparseVec {
                indices: r.iter().map(|p| p.0).collect(),
                values: r.iter().map(|p| p.1).collect(),
            })
            .collect()
    }

    #[test]
    fn gradient_is_zero_at_the_returned_model() {
        let x = xs(&[
            &[(1, 1.0)],
            &[(2, 0.6), (5, 0.8)],
            &[(1, 0.5), (5, 0.5)],
            &[],
        ]);
        for labels in [vec!["a", "b", "a", "b"], vec!["a", "b", "c", "c"]] {
            let fit = fit_labels(
                HashingSpec::default(),
                &x,
                &labels,
                None,
                &Default::default(),
            )
            .unwrap();
            assert!(fit.report.converged, "{:?}", fit.report);
            assert!(fit.report.grad_inf_norm < 1e-9, "{:?}", fit.report);
        }
    }

    #[test]
    fn binary_model_matches_a_hand_solved_case() {
        // One row per class, no features: only the intercept, b = ln(1/1) = 0, and with
        // weights 3:1 for a/b, P(b) = 1/4, so b = ln(1/3).
        let x = xs(&[&[], &[]]);
        let fit = fit_labels(
            HashingSpec::default(),
            &x,
            &["a", "b"],
            Some(&[3.0, 1.0]),
            &Default::default(),
        )
        .unwrap();
        assert!((fit.model.intercepts[0] - (1.0f64 / 3.0).ln()).abs() < 1e-9);
        assert!(fit.model.indices.is_empty());
    }

    #[test]
    fn bad_inputs_are_refused() {
        let x = xs(&[&[(1, 1.0)], &[(2, 1.0)]]);
        let spec = HashingSpec::default();
        let o = FitOptions::default();
        assert!(matches!(
            fit_labels(spec, &x, &["a", "a"], None, &o),
            Err(StudentError::TooFewClasses(1))
        ));
        assert!(matches!(
            fit_labels(spec, &x, &["a"], None, &o),
            Err(StudentError::LengthMismatch { .. })
        ));
        assert!(matches!(
            fit_labels(spec, &x, &["a", "b"], Some(&[1.0, -1.0]), &o),
            Err(StudentError::BadWeight { row: 1 })
        ));
        let classes = ["a".to_string(), "b".to_string()];
        assert!(matches!(
            fit_soft(spec, &x, &classes, &[vec![1.0, 0.0], vec![1.0, 0.0]], None, &o),
            Err(StudentError::EmptyClass(c)) if c == "b"
        ));
        assert!(matches!(
            fit_soft(
                spec,
                &x,
                &classes,
                &[vec![0.5, 0.4], vec![0.0, 1.0]],
                None,
                &o
            ),
            Err(StudentError::BadTarget { row: 0, .. })
        ));
        let unsorted = xs(&[&[(2, 1.0), (1, 1.0)], &[]]);
        assert!(matches!(
            fit_labels(spec, &unsorted, &["a", "b"], None, &o),
            Err(StudentError::BadFeatures { row: 0 })
        ));
    }

    #[test]
    fn model_json_round_trips_and_is_validated() {
        let x = xs(&[&[(1, 1.0)], &[(2, 0.6), (5, 0.8)], &[(1, 0.5), (5, 0.5)]]);
        let fit = fit_labels(
            HashingSpec::default(),
            &x,
            &["x", "y", "z"],
            None,
            &Default::default(),
        )
        .unwrap();
        let back = StudentModel::from_json(&fit.model.to_json()).unwrap();
        assert_eq!(back, fit.model);
        let mut broken = fit.model.clone();
        broken.weights[0].pop();
        assert!(StudentModel::from_json(&broken.to_json()).is_err());
        assert!(StudentModel::from_json("{}").is_err());
    }
}
