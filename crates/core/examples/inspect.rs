//! What Fannotate would import from a file, as JSON.
//!
//! `cargo run -q -p fannotate-core --example inspect -- FILE [--sheet NAME] [--delimiter C] [--encoding NAME]`
//! prints `{format, encoding, delimiter, sheets, sheet, columns, rows}` (`rows` is the
//! row count), or a clear error on stderr with exit code 2.

use fannotate_core::import::{import_file, ImportOptions};
use fannotate_core::table::TextEncoding;
use serde_json::json;
use std::process::ExitCode;

fn run(args: &[String]) -> Result<serde_json::Value, String> {
    let mut it = args.iter();
    let file = it
        .next()
        .ok_or("usage: inspect FILE [--sheet NAME] [--delimiter C] [--encoding NAME]")?;
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
            _ => return Err(format!("unknown option {flag}")),
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
    }))
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
