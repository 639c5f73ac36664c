//! Any bytes as an imported file (CSV/TSV, XLSX, JSON Lines): no panic, rows
//! always match the header, and valid UTF-8 read as CSV gives exactly what an
//! independent strict RFC 4180 reader gives (or the error it predicts).
#![no_main]
use fannotate_core::import::{import_file, ImportOptions};
use fannotate_core::parse_table;
use fannotate_core::table::{parse_text, TextEncoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = parse_table(data) {
        assert!(t.rows.iter().all(|r| r.len() == t.columns.len()));
    }
    for name in ["f.xlsx", "f.jsonl", "f.tsv"] {
        if let Ok(imp) = import_file(name, data, &ImportOptions::default()) {
            assert!(imp
                .table
                .rows
                .iter()
                .all(|r| r.len() == imp.table.columns.len()));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        assert_matches_reference(text, ',', &parse_text(text, TextEncoding::Utf8, ','));
    }
});

#[path = "../../tests/support/strict_csv.rs"]
mod strict_csv;
use strict_csv::assert_matches_reference;
