//! Any bytes as an imported file (CSV/TSV, XLSX, JSON Lines): no panic, and rows
//! always match the header.
#![no_main]
use fannotate_core::import::{import_file, ImportOptions};
use fannotate_core::parse_table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = parse_table(data) {
        assert!(t.rows.iter().all(|r| r.len() == t.columns.len()));
    }
    for name in ["f.xlsx", "f.jsonl", "f.tsv"] {
        if let Ok(imp) = import_file(name, data, &ImportOptions::default()) {
            assert!(imp.table.rows.iter().all(|r| r.len() == imp.table.columns.len()));
        }
    }
});
