//! Agreement metrics of two columns of a CSV file, as JSON.
//!
//! `cargo run -q -p fannotate-core --example classify -- FILE GOLD_COLUMN PRED_COLUMN`
//! Exit code 2 with a message on stderr when the file or a column is unusable.

use fannotate_core::{classify, parse_table};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, gold, pred] = args.as_slice() else {
        eprintln!("usage: classify FILE GOLD_COLUMN PRED_COLUMN");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let table = match parse_table(&bytes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::from(2);
        }
    };
    let (Some(g), Some(p)) = (table.column_index(gold), table.column_index(pred)) else {
        eprintln!(
            "{file}: no column {gold:?} or {pred:?} (columns: {:?})",
            table.columns
        );
        return ExitCode::from(2);
    };
    let gold: Vec<Option<&str>> = table.rows.iter().map(|r| Some(r[g].as_str())).collect();
    let pred: Vec<Option<&str>> = table.rows.iter().map(|r| Some(r[p].as_str())).collect();
    let report = classify(&gold, &pred);
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("plain data serialises")
    );
    ExitCode::SUCCESS
}
