//! Finding the cases of a `shared/reference/NAME/` folder. Included by path from
//! each reference test, so there is one copy.

use std::path::{Path, PathBuf};

/// Every `*.expected.json` of `shared/reference/<name>/`, sorted: a new case is
/// picked up without editing the tests.
pub fn expected_files(name: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference")
        .join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} exists: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    files.sort();
    files
}
