//! Reading named columns of a UTF-8 CSV file (RFC 4180, header row) with the `csv`
//! crate, fields verbatim: no trimming, no NA parsing. Included by path from the
//! `student` and `aggregate` examples, so there is one copy.

/// The values of `names`, one `Vec` per row in file order, or a message naming the
/// file and what is wrong (missing file, bad CSV or UTF-8, missing column).
pub fn read_columns(file: &str, names: &[&str]) -> Result<Vec<Vec<String>>, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let header = reader
        .headers()
        .map_err(|e| format!("{file}: {e}"))?
        .clone();
    let idx = names
        .iter()
        .map(|n| {
            header.iter().position(|h| h == *n).ok_or_else(|| {
                let have: Vec<&str> = header.iter().collect();
                format!(
                    "{file}: no column {n:?} (columns: {}; need {})",
                    have.join(", "),
                    names.join(", ")
                )
            })
        })
        .collect::<Result<Vec<usize>, String>>()?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("{file}: {e}"))?;
        rows.push(
            idx.iter()
                .map(|&i| record.get(i).unwrap_or_default().to_string())
                .collect(),
        );
    }
    Ok(rows)
}
