//! Metrics of a CSV file as JSON, with the key names of the reference files in
//! `shared/reference/metrics/`.
//!
//! ```text
//! cargo run -q -p fannotate-core --example metrics -- classify FILE.csv [GOLD_COL PRED_COL]
//! cargo run -q -p fannotate-core --example metrics -- alpha FILE.csv [--unit COL|none] [--annotators A,B,...]
//! cargo run -q -p fannotate-core --example metrics -- rouge FILE.csv [REF_COL CAND_COL]
//! ```
//! `classify` defaults to the columns `gold,pred`, `rouge` to `reference,candidate`.
//!
//! `alpha` takes one column per annotator (blank = missing) and one optional unit
//! id column, which is never an annotator. The columns are chosen by
//! `fannotate_core::agreement::alpha_columns`: by default the first column is the
//! unit column if it is named `id`, `item`, `unit`, `item_id` or `unit_id` (any
//! case), or if its values are non-blank and all distinct over at least 3 rows and
//! more numerous than the labels in the annotator columns; every other column is an
//! annotator. `--unit COL` names the unit column, `--unit none` says there is none
//! (so a column literally named `none` cannot be picked this way), and
//! `--annotators A,B,...` lists the annotator columns (names trimmed, exact case,
//! no commas inside). The choice is printed to stderr as
//! `alpha: unit column "id" (first column, named like a unit id); annotators "A", "B"`
//! (or `alpha: no unit column; annotators ...`) and given in the JSON as `unit`
//! (name or null), `unit_rule` (`named`, `all_distinct`, `given` or `none`) and
//! `annotators`.
//!
//! A bad file, column or option prints a message and exits with code 2.

use fannotate_core::agreement::{alpha_columns, AlphaColumnsError, UnitChoice};
use fannotate_core::rouge::{rouge_mean, Tokenizer};
use fannotate_core::{classify, parse_table, Table};
use serde_json::{json, Map, Value};
use std::process::ExitCode;

#[path = "support/cli.rs"]
mod cli;

const USAGE: &str = "usage: metrics classify FILE [GOLD PRED] | metrics alpha FILE [--unit COLUMN|none] [--annotators A,B,...] | metrics rouge FILE [REFERENCE CANDIDATE]";

/// Options of `alpha`: `--unit COL|none` and `--annotators A,B,...`, each at most
/// once, as two arguments or as `--unit=COL`.
fn alpha_options(rest: &[String]) -> Result<(UnitChoice<'_>, Option<Vec<String>>), String> {
    let (mut unit, mut annotators) = (None, None);
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (arg.as_str(), None),
        };
        let slot = match flag {
            "--unit" if unit.is_none() => &mut unit,
            "--annotators" if annotators.is_none() => &mut annotators,
            _ => return Err(USAGE.into()),
        };
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or(USAGE)?.as_str(),
        };
        *slot = Some(value);
    }
    let unit = match unit {
        None => UnitChoice::Detect,
        Some("none") => UnitChoice::NoUnit,
        Some(name) => UnitChoice::Column(name),
    };
    let annotators = annotators.map(|list| list.split(',').map(|n| n.trim().to_string()).collect());
    Ok((unit, annotators))
}

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
            let (unit, annotators) = alpha_options(rest)?;
            let chosen = alpha_columns(&table.columns, &table.rows, unit, annotators.as_deref())
                .map_err(|e| match e {
                    AlphaColumnsError::TooFewAnnotators { .. } => format!(
                        "{file}: {e}; choose the columns with --unit COLUMN|none and --annotators A,B,..."
                    ),
                    _ => format!("{file}: {e}"),
                })?;
            eprintln!("alpha: {}", chosen.describe());
            let report = chosen.report(&table.rows);
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
            let mut out = Map::new();
            out.insert("mode".into(), json!("alpha"));
            out.insert("unit".into(), json!(chosen.unit_name));
            out.insert("unit_rule".into(), json!(chosen.reason.as_str()));
            if let Value::Object(fields) = v {
                out.extend(fields);
            }
            Ok(Value::Object(out))
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
    cli::main_with(run)
}
