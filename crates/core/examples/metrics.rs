//! Metrics of a CSV file as JSON, with the key names of the reference files in
//! `shared/reference/metrics/`.
//!
//! ```text
//! cargo run -q -p fannotate-core --example metrics -- classify FILE.csv [GOLD_COL PRED_COL]
//! cargo run -q -p fannotate-core --example metrics -- alpha FILE.csv
//! cargo run -q -p fannotate-core --example metrics -- rouge FILE.csv [REF_COL CAND_COL]
//! ```
//! `classify` defaults to the columns `gold,pred`, `rouge` to `reference,candidate`;
//! `alpha` takes one column per annotator (blank = missing). A bad file or column
//! prints a message and exits with code 2.

use fannotate_core::agreement::krippendorff_alpha_nominal;
use fannotate_core::rouge::{rouge_mean, Tokenizer};
use fannotate_core::{classify, parse_table, Table};
use serde_json::{json, Map, Value};
use std::process::ExitCode;

const USAGE: &str = "usage: metrics classify FILE [GOLD PRED] | metrics alpha FILE | metrics rouge FILE [REFERENCE CANDIDATE]";

fn column(t: &Table, name: &str) -> Result<usize, String> {
    t.column_index(name)
        .ok_or_else(|| format!("no column {name:?} (columns: {})", t.columns.join(", ")))
}

fn two_columns<'a>(t: &'a Table, a: &str, b: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    let (i, j) = (column(t, a)?, column(t, b)?);
    Ok(t.rows
        .iter()
        .map(|r| (r[i].as_str(), r[j].as_str()))
        .collect())
}

fn run(args: &[String]) -> Result<Value, String> {
    let (mode, file, rest) = match args {
        [mode, file, rest @ ..] => (mode.as_str(), file, rest),
        _ => return Err(USAGE.into()),
    };
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let table = parse_table(&bytes).map_err(|e| format!("{file}: {e}"))?;
    let cols = |d: [&'static str; 2]| -> Result<[String; 2], String> {
        match rest {
            [] => Ok(d.map(str::to_string)),
            [a, b] => Ok([a.clone(), b.clone()]),
            _ => Err(USAGE.into()),
        }
    };
    match mode {
        "classify" => {
            let [g, p] = cols(["gold", "pred"])?;
            let pairs = two_columns(&table, &g, &p)?;
            let gold: Vec<Option<&str>> = pairs.iter().map(|x| Some(x.0)).collect();
            let pred: Vec<Option<&str>> = pairs.iter().map(|x| Some(x.1)).collect();
            Ok(classify(&gold, &pred).to_reference_json())
        }
        "alpha" => {
            if !rest.is_empty() {
                return Err(USAGE.into());
            }
            let units: Vec<Vec<Option<&str>>> = table
                .rows
                .iter()
                .map(|r| r.iter().map(|c| Some(c.as_str())).collect())
                .collect();
            let report = krippendorff_alpha_nominal(&table.columns, &units);
            let mut v = serde_json::to_value(&report).map_err(|e| e.to_string())?;
            let pairwise: Map<String, Value> = report
                .pairwise
                .iter()
                .map(|p| {
                    (
                        report.pair_key(p),
                        json!({"n": p.n, "agreement": p.agreement, "cohen_kappa": p.cohen_kappa}),
                    )
                })
                .collect();
            v["pairwise"] = Value::Object(pairwise);
            v["mode"] = json!("alpha");
            Ok(v)
        }
        "rouge" => {
            let [r, c] = cols(["reference", "candidate"])?;
            let pairs = two_columns(&table, &r, &c)?;
            let mut out = json!({"mode": "rouge", "n_pairs": pairs.len()});
            for tok in [Tokenizer::Default, Tokenizer::UnicodeWords] {
                let rep = rouge_mean(&pairs, tok);
                out[tok.as_str()] = json!({"mean_f": rep.mean_f, "per_pair_f": rep.per_pair_f});
            }
            Ok(out)
        }
        _ => Err(USAGE.into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
