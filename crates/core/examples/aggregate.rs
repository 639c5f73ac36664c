//! Majority vote and Dawid–Skene of a CSV file of responses, printing JSON with the
//! key names of the reference files in `shared/reference/aggregation/`.
//!
//! ```text
//! cargo run -q -p fannotate-core --example aggregate -- FILE.csv
//! ```
//! The file has columns `task,worker,label`, one response per row, read verbatim.
//! Labels, tasks and workers are listed in order of first appearance, every
//! per-label array follows `labels`, and ties go to the first label in that order.
//!
//! A bad file or missing column prints a message and exits with code 2.

#[path = "support/columns.rs"]
mod columns;

use columns::read_columns;
use fannotate_core::aggregate::{dawid_skene, majority_vote, DsOptions, Responses};
use serde_json::{json, Map, Value};
use std::process::ExitCode;

#[path = "support/cli.rs"]
mod cli;

const USAGE: &str = "usage: aggregate FILE.csv (columns task,worker,label)";

fn run(args: &[String]) -> Result<Value, String> {
    let [file] = args else {
        return Err(USAGE.into());
    };
    let rows = read_columns(file, &["task", "worker", "label"])?;
    let r = Responses::new(rows.iter().map(|x| (&x[0], &x[1], &x[2])));
    let opts = DsOptions::default();
    let ds = dawid_skene(&r, &opts).map_err(|e| format!("{file}: {e}"))?;
    let mv = majority_vote(&r);
    let name = |k: &usize| r.labels[*k].clone();

    let ties: Map<String, Value> = mv
        .ties
        .iter()
        .map(|(t, ks)| {
            (
                r.tasks[*t].clone(),
                json!(ks.iter().map(name).collect::<Vec<_>>()),
            )
        })
        .collect();
    let errors: Map<String, Value> = r
        .workers
        .iter()
        .zip(&ds.errors)
        .map(|(w, e)| (w.clone(), json!(e)))
        .collect();
    Ok(json!({
        "mode": "aggregate",
        "input": file,
        "n_rows": r.rows.len(),
        "n_tasks": r.tasks.len(),
        "n_workers": r.workers.len(),
        "labels": r.labels,
        "tasks": r.tasks,
        "workers": r.workers,
        "majority_vote": {
            "labels": mv.labels.iter().map(name).collect::<Vec<_>>(),
            "probas": mv.probas,
            "ties": ties,
        },
        "dawid_skene": {
            "params": {"n_iter": opts.n_iter, "tol": opts.tol},
            "iterations": ds.iterations(),
            "final_loss": ds.final_loss(),
            "loss_history": ds.loss_history,
            "labels": ds.labels.iter().map(name).collect::<Vec<_>>(),
            "probas": ds.probas,
            "priors": ds.priors,
            "errors": errors,
        },
    }))
}

fn main() -> ExitCode {
    cli::main_with(run)
}
