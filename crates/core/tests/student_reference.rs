//! The student classifier against every case in `shared/reference/student/`
//! (scikit-learn 1.9.1), within the README's tolerances. Each case is found by its
//! `*.expected.json` and dispatched on its `mode`, so a new case is picked up (and an
//! unknown mode fails) without editing this file.

use fannotate_core::student::{
    fit_labels, murmur3_x86_32, tokens, FitOptions, HashingSpec, SparseVec, StudentModel,
};
use serde_json::Value;

#[path = "support/reference.rs"]
mod reference;
use reference::expected_files;
use std::path::Path;

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The CSV next to an expected file, as rows of the named columns.
fn csv_columns(expected: &Path, names: &[&str]) -> Vec<Vec<String>> {
    let name = expected.to_string_lossy().replace(".expected.json", ".csv");
    let mut reader = csv::Reader::from_path(&name).unwrap();
    let header = reader.headers().unwrap().clone();
    let idx: Vec<usize> = names
        .iter()
        .map(|n| header.iter().position(|h| h == *n).unwrap())
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            idx.iter().map(|&i| r[i].to_string()).collect()
        })
        .collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn check_features(path: &Path, e: &Value) {
    let spec = HashingSpec::default();
    let cases = e["cases"].as_array().unwrap();
    let csv = csv_columns(path, &["id", "text"]);
    assert_eq!(csv.len(), cases.len(), "CSV and JSON list the same cases");
    let mut max_dev = 0.0f64;
    for (case, row) in cases.iter().zip(&csv) {
        let id = case["id"].as_str().unwrap();
        let text = case["text"].as_str().unwrap();
        assert_eq!(row[0], id);
        assert_eq!(row[1], text, "{id}: the CSV copy of the text is verbatim");

        let lower = text.to_lowercase();
        assert_eq!(
            lower,
            case["lowercased"].as_str().unwrap(),
            "{id}: lowercase"
        );
        assert_eq!(tokens(&lower), strs(&case["tokens"]), "{id}: tokens");
        for h in case["ngram_hashes"].as_array().unwrap() {
            let ngram = h["ngram"].as_str().unwrap();
            assert_eq!(
                murmur3_x86_32(ngram.as_bytes(), 0) as u64,
                h["murmur3_u32"].as_u64().unwrap(),
                "{id}: hash of {ngram:?}"
            );
            assert_eq!(
                spec.index(ngram) as u64,
                h["index"].as_u64().unwrap(),
                "{id}: index of {ngram:?}"
            );
        }

        let got = spec.transform(text);
        let want_idx: Vec<u32> = case["indices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(got.indices, want_idx, "{id}: indices");
        let want = f64s(&case["values"]);
        for (g, w) in got.values.iter().zip(&want) {
            max_dev = max_dev.max((g - w).abs());
            assert!((g - w).abs() <= 1e-15, "{id}: value {g} vs {w}");
        }
    }
    eprintln!(
        "{}: {} cases, max |Δvalue| {max_dev:e}",
        path.display(),
        cases.len()
    );
}

/// Largest |a − b| over two equally long lists.
fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

fn check_fit(path: &Path, e: &Value) {
    let tol = &e["tolerances"];
    let (proba_tol, decision_tol) = (
        tol["proba_abs"].as_f64().unwrap(),
        tol["decision_abs"].as_f64().unwrap(),
    );
    let (intercept_tol, coef_tol, objective_tol) = (
        tol["intercepts_abs"].as_f64().unwrap(),
        tol["coef_abs"].as_f64().unwrap(),
        tol["objective_rel"].as_f64().unwrap(),
    );
    let rows = csv_columns(path, &["id", "text", "label", "split"]);
    let spec = HashingSpec::default();
    let train: Vec<&Vec<String>> = rows.iter().filter(|r| r[3] == "train").collect();
    let test: Vec<&Vec<String>> = rows.iter().filter(|r| r[3] == "test").collect();
    assert_eq!(
        train.len() + test.len(),
        rows.len(),
        "split is train or test"
    );
    assert_eq!(train.len() as u64, e["n_train"].as_u64().unwrap());
    assert_eq!(test.len() as u64, e["n_test"].as_u64().unwrap());

    let x: Vec<SparseVec> = train.iter().map(|r| spec.transform(&r[1])).collect();
    let labels: Vec<&str> = train.iter().map(|r| r[2].as_str()).collect();
    let fit = fit_labels(spec, &x, &labels, None, &FitOptions::default()).unwrap();
    let m = &fit.model;
    assert!(fit.report.converged, "{:?}", fit.report);
    assert_eq!(m.classes, strs(&e["classes"]));
    assert_eq!(
        fit.report.n_train_indices as u64,
        e["n_distinct_train_indices"].as_u64().unwrap()
    );

    // Objective F, relative.
    let want_f = e["objective"]["F_sum_logloss_plus_penalty"]
        .as_f64()
        .unwrap();
    let got_f = fit.report.objective.total;
    let rel_f = (got_f - want_f).abs() / want_f.abs();
    assert!(rel_f <= objective_tol, "F {got_f} vs {want_f}");

    // Intercepts, centred for K ≥ 3 (ours are centred already).
    let mut want_b = f64s(&e["intercepts"]);
    if want_b.len() >= 3 {
        let mean = want_b.iter().sum::<f64>() / want_b.len() as f64;
        want_b.iter_mut().for_each(|b| *b -= mean);
    }
    let d_b = max_abs_diff(&m.intercepts, &want_b);
    assert!(
        d_b <= intercept_tol,
        "intercepts {:?} vs {want_b:?}",
        m.intercepts
    );

    // The largest coefficients.
    let mut d_coef = 0.0f64;
    for c in e["top20_coef"].as_array().unwrap() {
        let class = c["class"].as_str().unwrap();
        let index = c["index"].as_u64().unwrap() as u32;
        let v = if m.n_vectors() == 1 {
            assert_eq!(
                class, m.classes[1],
                "binary coefficients are for classes[1]"
            );
            0
        } else {
            m.classes.iter().position(|k| k == class).unwrap()
        };
        let j = m
            .indices
            .binary_search(&index)
            .expect("a top weight is kept");
        let got = m.weights[v][j];
        d_coef = d_coef.max((got - c["value"].as_f64().unwrap()).abs());
    }
    assert!(d_coef <= coef_tol, "top-20 coefficients off by {d_coef}");

    // Test rows: probabilities, decisions, predictions; scored after a JSON round trip,
    // so the saved model is what is checked.
    let saved = StudentModel::from_json(&m.to_json()).unwrap();
    assert_eq!(&saved, m);
    let ids = strs(&e["test"]["ids"]);
    let gold = strs(&e["test"]["gold"]);
    let want_pred = strs(&e["test"]["pred"]);
    let near_ties = strs(&e["near_ties_margin_lt_1e-3"]);
    let want_proba = e["test"]["proba"].as_array().unwrap();
    let want_dec = e["test"]["decision"].as_array().unwrap();
    let (mut d_proba, mut d_dec, mut right, mut flips) = (0.0f64, 0.0f64, 0, 0);
    for (i, r) in test.iter().enumerate() {
        assert_eq!(r[0], ids[i]);
        assert_eq!(r[2], gold[i]);
        let xf = saved.features(&r[1]);
        let z = saved.decision(&xf);
        let want_z = match &want_dec[i] {
            Value::Array(_) => f64s(&want_dec[i]),
            v => vec![v.as_f64().unwrap()],
        };
        d_dec = d_dec.max(max_abs_diff(&z, &want_z));
        d_proba = d_proba.max(max_abs_diff(
            &saved.proba_from_decision(&z),
            &f64s(&want_proba[i]),
        ));
        let pred = saved.predict(&xf);
        if pred != want_pred[i] {
            assert!(
                near_ties.contains(&ids[i]),
                "{}: {pred} vs {}",
                ids[i],
                want_pred[i]
            );
            flips += 1;
        }
        right += usize::from(pred == gold[i]);
    }
    assert!(d_proba <= proba_tol, "test proba off by {d_proba}");
    assert!(d_dec <= decision_tol, "test decision off by {d_dec}");
    let acc = right as f64 / test.len() as f64;
    let want_acc = e["test_accuracy"].as_f64().unwrap();
    assert!(
        (acc - want_acc).abs() <= flips as f64 / test.len() as f64 + 1e-12,
        "test accuracy {acc} vs {want_acc}"
    );
    eprintln!(
        "{}: max |Δproba| {d_proba:e}, |Δdecision| {d_dec:e}, |Δintercept| {d_b:e}, \
         |Δtop20 coef| {d_coef:e}, rel ΔF {rel_f:e}, prediction flips {flips}, \
         accuracy {acc} (reference {want_acc}); {} Newton / {} CG steps, |∇F|∞ {:e}",
        path.display(),
        fit.report.iterations,
        fit.report.cg_iterations,
        fit.report.grad_inf_norm
    );
}

#[test]
fn every_student_reference_case_matches() {
    let files = expected_files("student");
    let mut seen = Vec::new();
    for path in &files {
        let e = load(path);
        let mode = e["mode"].as_str().unwrap().to_string();
        match mode.as_str() {
            "hashing_features" => check_features(path, &e),
            "student_hashing_logreg" => check_fit(path, &e),
            other => panic!("{}: unknown mode {other}", path.display()),
        }
        seen.push(mode);
    }
    // Guards against an empty or moved directory passing silently.
    assert!(seen.iter().filter(|m| *m == "hashing_features").count() >= 1);
    assert!(
        seen.iter()
            .filter(|m| *m == "student_hashing_logreg")
            .count()
            >= 2
    );
}
