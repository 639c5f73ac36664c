//! Majority vote and Dawid–Skene against every case in `shared/reference/aggregation/`
//! (crowd-kit 1.4.2), within the README's tolerances. Ties follow our rule (the first
//! label in first-appearance order), so labels are compared with `labels`; the
//! sorted-tiebreak labels must agree everywhere except on the listed ties.

use fannotate_core::aggregate::{
    dawid_skene, majority_vote, DawidSkene, DsOptions, ErrorRates, Responses,
};
use serde_json::Value;

#[path = "support/reference.rs"]
mod reference;
use reference::expected_files;
use std::path::Path;

const PROBA_TOL: f64 = 1e-9;
const LOSS_TOL: f64 = 1e-12;

fn responses(expected: &Path) -> Responses {
    let name = expected.to_string_lossy().replace(".expected.json", ".csv");
    let mut reader = csv::Reader::from_path(&name).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, ["task", "worker", "label"]);
    let rows: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].to_string(), r[2].to_string())
        })
        .collect();
    Responses::new(rows)
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

fn max_diff(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut m = 0.0f64;
    for (ra, rb) in a.iter().zip(b) {
        assert_eq!(ra.len(), rb.len());
        for (x, y) in ra.iter().zip(rb) {
            m = m.max((x - y).abs());
        }
    }
    m
}

/// Largest difference of the error matrices; `null` rows must match `None`.
fn errors_diff(r: &Responses, got: &ErrorRates, want: &Value) -> f64 {
    let mut m = 0.0f64;
    let want = want.as_object().unwrap();
    assert_eq!(want.len(), r.workers.len());
    for (w, name) in r.workers.iter().enumerate() {
        let rows = want[name].as_array().unwrap();
        assert_eq!(rows.len(), r.labels.len());
        for (k, row) in rows.iter().enumerate() {
            match (&got[w][k], row) {
                (None, Value::Null) => {}
                (Some(g), Value::Array(_)) => {
                    m = m.max(max_diff(
                        std::slice::from_ref(g),
                        &matrix(&Value::Array(vec![row.clone()])),
                    ))
                }
                (g, v) => panic!("{name} label {k}: {g:?} vs {v}"),
            }
        }
    }
    m
}

/// Compares one fitted state (probas, priors, errors) with a JSON block.
fn state_diff(r: &Responses, ds: &DawidSkene, want: &Value) -> f64 {
    let mut d = max_diff(&ds.probas, &matrix(&want["probas"]));
    d = d.max(max_diff(
        std::slice::from_ref(&ds.priors),
        &[want["priors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()],
    ));
    d.max(errors_diff(r, &ds.errors, &want["errors"]))
}

fn label_names(r: &Responses, ks: &[usize]) -> Vec<String> {
    ks.iter().map(|&k| r.labels[k].clone()).collect()
}

fn check_case(path: &Path, e: &Value) {
    let r = responses(path);
    assert_eq!(
        r.labels,
        strs(&e["labels"]),
        "label order = first appearance"
    );
    assert_eq!(r.tasks, strs(&e["tasks"]));
    assert_eq!(r.workers, strs(&e["workers"]));
    assert_eq!(r.rows.len() as u64, e["n_rows"].as_u64().unwrap());

    // Majority vote.
    let mv = majority_vote(&r);
    let emv = &e["majority_vote"];
    assert_eq!(max_diff(&mv.probas, &matrix(&emv["probas"])), 0.0);
    let mv_labels = label_names(&r, &mv.labels);
    assert_eq!(mv_labels, strs(&emv["labels"]));
    let ties = emv["ties"].as_object().unwrap();
    assert_eq!(mv.ties.len(), ties.len());
    for (t, ks) in &mv.ties {
        assert_eq!(label_names(&r, ks), strs(&ties[&r.tasks[*t]]));
    }
    for (t, (ours, sorted)) in mv_labels
        .iter()
        .zip(strs(&emv["labels_tiebreak_sorted"]))
        .enumerate()
    {
        assert!(*ours == sorted || ties.contains_key(&r.tasks[t]));
    }

    // Dawid–Skene.
    let eds = &e["dawid_skene"];
    let opts = DsOptions {
        n_iter: eds["params"]["n_iter"].as_u64().unwrap() as usize,
        tol: eds["params"]["tol"].as_f64().unwrap(),
    };
    assert_eq!(opts, DsOptions::default());
    let ds = dawid_skene(&r, &opts).unwrap();
    assert_eq!(ds.iterations() as u64, eds["iterations"].as_u64().unwrap());
    let want_loss: Vec<f64> = eds["loss_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let d_loss = max_diff(
        std::slice::from_ref(&ds.loss_history),
        std::slice::from_ref(&want_loss),
    );
    assert!(d_loss <= LOSS_TOL, "loss history off by {d_loss}");
    let d_final = (ds.final_loss().unwrap() - eds["final_loss"].as_f64().unwrap()).abs();
    assert!(d_final <= LOSS_TOL);
    let d_state = state_diff(&r, &ds, eds);
    assert!(
        d_state <= PROBA_TOL,
        "probas/priors/errors off by {d_state}"
    );
    let ds_labels = label_names(&r, &ds.labels);
    assert_eq!(ds_labels, strs(&eds["labels"]));
    let near = eds["near_ties_1e-9"].as_object().unwrap();
    for (t, (ours, sorted)) in ds_labels
        .iter()
        .zip(strs(&eds["labels_tiebreak_sorted"]))
        .enumerate()
    {
        assert!(*ours == sorted || near.contains_key(&r.tasks[t]));
    }

    // The trace (agg1): the start and the first iterations.
    let mut d_trace = 0.0f64;
    if let Some(trace) = eds.get("trace") {
        // n_iter = 0 keeps the start: vote fractions (compared unclipped above),
        // their mean as priors, one M-step.
        let init = dawid_skene(&r, &DsOptions { n_iter: 0, ..opts }).unwrap();
        assert!(init.loss_history.is_empty());
        d_trace = d_trace.max(errors_diff(&r, &init.errors, &trace["init"]["errors"]));
        d_trace = d_trace.max(max_diff(
            std::slice::from_ref(&init.priors),
            &[trace["init"]["priors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()],
        ));
        for (n, key) in [(1, "after_iteration_1"), (2, "after_iteration_2")] {
            let step = dawid_skene(&r, &DsOptions { n_iter: n, ..opts }).unwrap();
            d_trace = d_trace.max(state_diff(&r, &step, &trace[key]));
            let dl = (step.final_loss().unwrap() - trace[key]["loss"].as_f64().unwrap()).abs();
            assert!(dl <= LOSS_TOL, "{key}: loss off by {dl}");
        }
        assert!(d_trace <= PROBA_TOL, "trace off by {d_trace}");
    }

    // Codebook classes nobody gave (agg3) are not labels; they get probability 0.
    if let Some(codebook) = e.get("codebook_labels") {
        let codebook = strs(codebook);
        let over = ds.probas_over(&r, &codebook);
        for (c, name) in codebook.iter().enumerate() {
            let k = r.labels.iter().position(|l| l == name);
            for (t, row) in over.iter().enumerate() {
                assert_eq!(row[c], k.map_or(0.0, |k| ds.probas[t][k]));
            }
        }
        assert!(codebook.iter().any(|c| !r.labels.contains(c)));
    }
    eprintln!(
        "{}: {} iterations, max |Δloss| {d_loss:e}, max |Δprobas, priors, errors| {d_state:e}, trace {d_trace:e}",
        path.display(),
        ds.iterations()
    );
}

#[test]
fn every_aggregation_reference_case_matches() {
    let files = expected_files("aggregation");
    assert!(files.len() >= 4, "reference cases found: {files:?}");
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let e: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(e["mode"], "aggregate", "{}", path.display());
        check_case(path, &e);
    }
}
