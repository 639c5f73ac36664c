//! Writing annotated rows back out.

/// Write a CSV (RFC 4180, `,`, CRLF-free `\n` line ends, every field quoted only when
/// needed) with a header row.
pub fn write_csv<R, F>(header: &[String], rows: R) -> String
where
    R: IntoIterator<Item = F>,
    F: IntoIterator,
    F::Item: AsRef<str>,
{
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail with an I/O error, and every record is the same
    // shape the caller built, so errors here are programming errors.
    w.write_record(header).expect("write to memory");
    for row in rows {
        let fields: Vec<String> = row.into_iter().map(|f| f.as_ref().to_string()).collect();
        w.write_record(&fields).expect("write to memory");
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV of UTF-8 fields")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::parse_table;

    #[test]
    fn export_then_import_gives_the_same_cells() {
        let header = vec!["id".to_string(), "text".into(), "label".into()];
        let rows = vec![
            vec!["1", "plain", "ham"],
            vec!["2", "comma, \"quote\"\nnew line; æøå 🥰", "spam"],
            vec!["3", "", "NA"],
        ];
        let csv = write_csv(&header, rows.clone());
        let t = parse_table(csv.as_bytes()).unwrap();
        assert_eq!(t.columns, header);
        let back: Vec<Vec<&str>> = t
            .rows
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(back, rows);
    }
}
