//! What Fannotate would import from a file, as JSON.
//!
//! `cargo run -q -p fannotate-core --example inspect -- FILE [--sheet NAME] [--delimiter C]
//! [--encoding NAME] [--ragged reject|pad|drop] [--quotes strict|lenient]`
//! prints `{format, encoding, delimiter, sheets, sheet, columns, rows, repairs, repaired}`
//! (`rows` is the row count, `repairs` what the chosen rules changed and `repaired` the
//! same in sentences), or a clear error on stderr with exit code 2.

use fannotate_core::import::{import_file, ImportOptions};
use fannotate_core::table::{QuoteMode, RaggedRows, TextEncoding};
use serde_json::json;
use std::process::ExitCode;

#[path = "support/cli.rs"]
mod cli;

const USAGE: &str = "usage: inspect FILE [--sheet NAME] [--delimiter C] [--encoding NAME] \
                     [--ragged reject|pad|drop] [--quotes strict|lenient]";

fn run(args: &[String]) -> Result<serde_json::Value, String> {
    let mut it = args.iter();
    let file = it.next().ok_or(USAGE)?;
    let mut opts = ImportOptions::default();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sheet" => opts.sheet = Some(value.clone()),
            "--delimiter" => {
                let d = if value == "tab" || value == "\\t" {
                    '\t'
                } else {
                    value.chars().next().ok_or("empty delimiter")?
                };
                opts.delimiter = Some(d);
            }
            "--encoding" => {
                opts.encoding = Some(TextEncoding::parse(value).ok_or(format!(
                    "unknown encoding {value:?} (one of: {})",
                    TextEncoding::ALL.map(|e| e.as_str()).join(", ")
                ))?)
            }
            "--ragged" => {
                opts.ragged = RaggedRows::parse(value).ok_or(format!(
                    "unknown --ragged {value:?} (one of: {})",
                    RaggedRows::ALL.map(|r| r.as_str()).join(", ")
                ))?
            }
            "--quotes" => {
                opts.quotes = QuoteMode::parse(value).ok_or(format!(
                    "unknown --quotes {value:?} (one of: {})",
                    QuoteMode::ALL.map(|q| q.as_str()).join(", ")
                ))?
            }
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let imp = import_file(file, &bytes, &opts).map_err(|e| format!("{file}: {e}"))?;
    Ok(json!({
        "format": imp.format.as_str(),
        "encoding": imp.table.encoding.as_str(),
        "delimiter": imp.table.delimiter.to_string(),
        "sheets": imp.sheets,
        "sheet": imp.sheet,
        "columns": imp.table.columns,
        "rows": imp.table.rows.len(),
        "repairs": imp.repairs,
        "repaired": imp.repairs.summary(),
    }))
}

fn main() -> ExitCode {
    cli::main_with(run)
}
