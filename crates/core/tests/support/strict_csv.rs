//! An independent strict RFC 4180 reader: the oracle that `tests/csv_roundtrip.rs`
//! and the `table_import` fuzz target hold the table reader to. It walks
//! characters (the reader walks bytes) and is written for clarity, not speed.
//! Included by path from both, so there is one copy.

use fannotate_core::table::{Table, TableError, TextEncoding, MAX_FIELD_BYTES, RAGGED_LISTED};

/// A record by the reference reader: the 1-based line it starts on, and its fields.
pub type RefRecord = (u64, Vec<String>);

/// What a strict reader must say about a quote, by the reference reader.
#[derive(Debug, PartialEq)]
pub enum RefQuoteError {
    /// Text after a closing quote: `(open_line, line, column)`.
    Stray(u64, u64, u64),
    /// A quote still open at the end: the line it opened on.
    Unclosed(u64),
}

/// Records of `text` by RFC 4180, walking `char`s (unlike the importer's byte
/// scan): `\n`, `\r\n` and a lone `\r` end a record, empty lines are skipped, a
/// leading BOM is ignored, and a quote only opens a field as its first character.
pub fn rfc4180_records(text: &str, delim: char) -> Result<Vec<RefRecord>, RefQuoteError> {
    #[derive(Clone, Copy, PartialEq)]
    enum At {
        RecordStart,
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let chars: Vec<char> = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .chars()
        .collect();
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut line, mut column, mut record_line, mut open_line) = (1u64, 1u64, 1u64, 0u64);
    let mut at = At::RecordStart;
    for (k, &c) in chars.iter().enumerate() {
        let eol = c == '\n' || c == '\r';
        if at == At::RecordStart && !eol {
            record_line = line;
        }
        at = match at {
            At::RecordStart if eol => At::RecordStart,
            At::RecordStart | At::FieldStart | At::Unquoted | At::QuoteInQuoted if c == delim => {
                record.push(std::mem::take(&mut field));
                At::FieldStart
            }
            At::RecordStart | At::FieldStart | At::Unquoted | At::QuoteInQuoted if eol => {
                record.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut record)));
                At::RecordStart
            }
            At::RecordStart | At::FieldStart if c == '"' => {
                open_line = line;
                At::Quoted
            }
            At::RecordStart | At::FieldStart | At::Unquoted => {
                field.push(c);
                At::Unquoted
            }
            At::Quoted if c == '"' => At::QuoteInQuoted,
            At::Quoted => {
                field.push(c);
                At::Quoted
            }
            At::QuoteInQuoted if c == '"' => {
                field.push('"');
                At::Quoted
            }
            At::QuoteInQuoted => return Err(RefQuoteError::Stray(open_line, line, column)),
        };
        if c == '\n' || (c == '\r' && chars.get(k + 1) != Some(&'\n')) {
            line += 1;
            column = 1;
        } else if c != '\r' {
            column += 1;
        }
    }
    match at {
        At::RecordStart => {}
        At::Quoted => return Err(RefQuoteError::Unclosed(open_line)),
        _ => {
            record.push(field);
            records.push((record_line, record));
        }
    }
    Ok(records)
}

/// Assert that `got` (what `parse_text(text, Utf8, delim)` gave) is what the
/// importer's rules make of the reference records: the header row trimmed,
/// non-empty and unique; whitespace-only lines skipped in multi-column files;
/// rows of another length than the header refused, listed with their lines.
pub fn assert_matches_reference(text: &str, delim: char, got: &Result<Table, TableError>) {
    let records = match rfc4180_records(text, delim) {
        Ok(records) => records,
        Err(RefQuoteError::Stray(open_line, line, column)) => {
            let want = TableError::StrayQuote {
                open_line,
                line,
                column,
            };
            assert_eq!(got, &Err(want), "{text:?}");
            return;
        }
        Err(RefQuoteError::Unclosed(line)) => {
            assert_eq!(got, &Err(TableError::UnbalancedQuote { line }), "{text:?}");
            return;
        }
    };
    let mut records = records.into_iter();
    let columns: Vec<String> = records
        .next()
        .map(|(_, r)| r.iter().map(|h| h.trim().to_string()).collect())
        .unwrap_or_default();
    let header_ok = !columns.is_empty()
        && columns
            .iter()
            .enumerate()
            .all(|(i, c)| !c.is_empty() && !columns[..i].contains(c));
    if !header_ok {
        assert!(
            matches!(got, Err(TableError::BadHeader { .. })),
            "{text:?}: {got:?}"
        );
        return;
    }
    let rows: Vec<RefRecord> = records
        .filter(|(_, r)| !(columns.len() > 1 && r.len() == 1 && r[0].trim().is_empty()))
        .collect();
    if rows
        .iter()
        .any(|(_, r)| r.iter().any(|f| f.len() > MAX_FIELD_BYTES))
    {
        // Met while reading, so it may come before or instead of a ragged row.
        assert!(
            matches!(
                got,
                Err(TableError::FieldTooLarge { .. } | TableError::Ragged { .. })
            ),
            "{text:?}: {got:?}"
        );
        return;
    }
    let ragged: Vec<(u64, usize)> = rows
        .iter()
        .filter(|(_, r)| r.len() != columns.len())
        .map(|(line, r)| (*line, r.len()))
        .collect();
    if !ragged.is_empty() {
        let want = TableError::Ragged {
            expected: columns.len(),
            first: ragged.iter().take(RAGGED_LISTED).copied().collect(),
            count: ragged.len() as u64,
        };
        assert_eq!(got, &Err(want), "{text:?}");
        return;
    }
    if rows.is_empty() {
        assert_eq!(got, &Err(TableError::NoRows), "{text:?}");
        return;
    }
    let want = Table {
        encoding: TextEncoding::Utf8,
        delimiter: delim,
        columns,
        rows: rows.into_iter().map(|(_, r)| r).collect(),
    };
    assert_eq!(got, &Ok(want), "{text:?}");
}
