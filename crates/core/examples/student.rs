//! The student classifier on CSV files, printing JSON with the key names of the
//! reference files in `shared/reference/student/`.
//!
//! ```text
//! cargo run -q -p fannotate-core --example student -- features FILE.csv
//! cargo run -q -p fannotate-core --example student -- fit FILE.csv [--model OUT.json]
//! cargo run -q -p fannotate-core --example student -- score MODEL.json FILE.csv
//! ```
//! - `features` reads columns `id,text` and prints `{"cases": [{id, indices, values}]}`.
//! - `fit` reads `id,text,label,split` (split `train` or `test`), trains on the train
//!   rows with C = 1 and prints the model summary, the objective and the test rows'
//!   predictions and probabilities; `--model` also saves the model as JSON.
//! - `score` reads `id,text` and prints `{ids, pred, proba}` from a saved model.
//!
//! A bad file, column, split value or option prints a message and exits with code 2.

#[path = "support/columns.rs"]
mod columns;

use columns::read_columns;
use fannotate_core::student::{fit_labels, FitOptions, HashingSpec, SparseVec, StudentModel};
use serde_json::{json, Value};
use std::process::ExitCode;

#[path = "support/cli.rs"]
mod cli;

const USAGE: &str = "usage: student features FILE.csv | student fit FILE.csv [--model OUT.json] | student score MODEL.json FILE.csv";

fn features(file: &str) -> Result<Value, String> {
    let spec = HashingSpec::default();
    let cases: Vec<Value> = read_columns(file, &["id", "text"])?
        .into_iter()
        .map(|r| {
            let v = spec.transform(&r[1]);
            json!({"id": r[0], "indices": v.indices, "values": v.values})
        })
        .collect();
    Ok(json!({ "cases": cases }))
}

/// Decision values as the reference writes them: a number for a binary model, a
/// list per class otherwise.
fn decision_json(model: &StudentModel, z: &[f64]) -> Value {
    if model.n_vectors() == 1 {
        json!(z[0])
    } else {
        json!(z)
    }
}

/// Predictions of `x` as `{ids, pred, proba, decision}`, plus the decisions' class
/// indices for accuracy.
fn score_rows(model: &StudentModel, ids: &[String], x: &[SparseVec]) -> (Value, Vec<usize>) {
    let (mut pred, mut proba, mut decision, mut idx) = (vec![], vec![], vec![], vec![]);
    for v in x {
        let z = model.decision(v);
        let k = model.predict_from_decision(&z);
        idx.push(k);
        pred.push(model.classes[k].clone());
        proba.push(model.proba_from_decision(&z));
        decision.push(decision_json(model, &z));
    }
    let out = json!({"ids": ids, "pred": pred, "proba": proba, "decision": decision});
    (out, idx)
}

fn accuracy(model: &StudentModel, pred: &[usize], gold: &[String]) -> Option<f64> {
    if gold.is_empty() {
        return None;
    }
    let right = pred
        .iter()
        .zip(gold)
        .filter(|(p, g)| model.classes[**p] == **g)
        .count();
    Some(right as f64 / gold.len() as f64)
}

fn fit(file: &str, rest: &[String]) -> Result<Value, String> {
    let model_out = match rest {
        [] => None,
        [flag, out] if flag == "--model" => Some(out.as_str()),
        [flag] if flag.starts_with("--model=") => Some(&flag["--model=".len()..]),
        _ => return Err(USAGE.into()),
    };
    let rows = read_columns(file, &["id", "text", "label", "split"])?;
    let spec = HashingSpec::default();
    let (mut train, mut test) = (vec![], vec![]);
    for (line, r) in rows.iter().enumerate() {
        match r[3].as_str() {
            "train" => train.push(r),
            "test" => test.push(r),
            other => {
                return Err(format!(
                    "{file}: data row {}: split must be train or test, not {other:?}",
                    line + 1
                ))
            }
        }
    }
    let x: Vec<SparseVec> = train.iter().map(|r| spec.transform(&r[1])).collect();
    let labels: Vec<&str> = train.iter().map(|r| r[2].as_str()).collect();
    let opts = FitOptions::default();
    let fit = fit_labels(spec, &x, &labels, None, &opts).map_err(|e| format!("{file}: {e}"))?;
    let model = &fit.model;
    if let Some(out) = model_out {
        std::fs::write(out, model.to_json()).map_err(|e| format!("cannot write {out}: {e}"))?;
    }

    let train_ids: Vec<String> = train.iter().map(|r| r[0].clone()).collect();
    let (_, train_pred) = score_rows(model, &train_ids, &x);
    let train_gold: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
    let test_ids: Vec<String> = test.iter().map(|r| r[0].clone()).collect();
    let test_gold: Vec<String> = test.iter().map(|r| r[2].clone()).collect();
    let tx: Vec<SparseVec> = test.iter().map(|r| spec.transform(&r[1])).collect();
    let (mut test_json, test_pred) = score_rows(model, &test_ids, &tx);
    test_json["gold"] = json!(test_gold);

    let o = &fit.report.objective;
    let n = train.len() as f64;
    let coef_ss: f64 = model.weights.iter().flatten().map(|w| w * w).sum();
    Ok(json!({
        "mode": "student_hashing_logreg",
        "input": file,
        "n_train": train.len(),
        "n_test": test.len(),
        "classes": model.classes,
        "n_distinct_train_indices": fit.report.n_train_indices,
        "intercepts": model.intercepts,
        "coef_sum_of_squares": coef_ss,
        "objective": {
            "F_sum_logloss_plus_penalty": o.total,
            "sum_logloss": o.sum_logloss,
            "penalty_half_over_C_sum_w2": o.penalty,
            "sklearn_scaled_F_over_n": o.total / n,
        },
        "train_accuracy": accuracy(model, &train_pred, &train_gold),
        "test_accuracy": accuracy(model, &test_pred, &test_gold),
        "test": test_json,
        "convergence": {
            "newton_iterations": fit.report.iterations,
            "cg_iterations": fit.report.cg_iterations,
            "grad_inf_norm_unscaled": fit.report.grad_inf_norm,
            "converged": fit.report.converged,
        },
    }))
}

fn score(model_file: &str, file: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(model_file)
        .map_err(|e| format!("cannot read {model_file}: {e}"))?;
    let model = StudentModel::from_json(&text).map_err(|e| format!("{model_file}: {e}"))?;
    let rows = read_columns(file, &["id", "text"])?;
    let ids: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    let x: Vec<SparseVec> = rows.iter().map(|r| model.features(&r[1])).collect();
    Ok(score_rows(&model, &ids, &x).0)
}

fn run(args: &[String]) -> Result<Value, String> {
    match args {
        [mode, file] if mode == "features" => features(file),
        [mode, file, rest @ ..] if mode == "fit" => fit(file, rest),
        [mode, model, file] if mode == "score" => score(model, file),
        _ => Err(USAGE.into()),
    }
}

fn main() -> ExitCode {
    cli::main_with(run)
}
