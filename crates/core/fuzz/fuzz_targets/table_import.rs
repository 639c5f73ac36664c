//! Any bytes as a CSV/TSV file: parse must not panic and rows must match the header.
#![no_main]
use fannotate_core::parse_table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = parse_table(data) {
        assert!(t.rows.iter().all(|r| r.len() == t.columns.len()));
    }
});
