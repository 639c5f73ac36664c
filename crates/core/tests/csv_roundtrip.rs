//! Delimited text read back exactly: anything the `csv` crate writes, and an
//! independent strict RFC 4180 reader as the reference for any text (the same
//! oracle the `table_import` fuzz target asserts).

use fannotate_core::table::{
    parse_text, parse_text_with, QuoteMode, RaggedRows, ReadRules, Repairs, Table, TableError,
    TextEncoding, MAX_FIELD_BYTES, RAGGED_LISTED, REPAIRS_LISTED,
};
use proptest::prelude::*;

// BEGIN reference (kept identical to the copy in fuzz/fuzz_targets/table_import.rs;
// `the_fuzz_target_has_the_same_reference` checks that)

/// A record by the reference reader: the 1-based line it starts on, and its fields.
type RefRecord = (u64, Vec<String>);

/// What a strict reader must say about a quote, by the reference reader.
#[derive(Debug, PartialEq)]
enum RefQuoteError {
    /// Text after a closing quote: `(open_line, line, column)`.
    Stray(u64, u64, u64),
    /// A quote still open at the end: the line it opened on.
    Unclosed(u64),
}

/// Records of `text` by RFC 4180, walking `char`s (unlike the importer's byte
/// scan): `\n`, `\r\n` and a lone `\r` end a record, empty lines are skipped, a
/// leading BOM is ignored, and a quote only opens a field as its first character.
fn rfc4180_records(text: &str, delim: char) -> Result<Vec<RefRecord>, RefQuoteError> {
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
fn assert_matches_reference(text: &str, delim: char, got: &Result<Table, TableError>) {
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

// END reference

#[test]
fn the_fuzz_target_has_the_same_reference() {
    let section = |path: &str| {
        let src = std::fs::read_to_string(path).unwrap();
        let start = src.find("// BEGIN reference").unwrap();
        let end = src.find("// END reference").unwrap();
        // Skip the marker line, which names the other file.
        let body = &src[start..end];
        body[body.find("\n\n").unwrap()..].to_string()
    };
    let here = section(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/csv_roundtrip.rs"
    ));
    let fuzz = section(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/fuzz_targets/table_import.rs"
    ));
    assert_eq!(here, fuzz);
}

#[test]
fn the_reference_agrees_on_known_files() {
    let cases = [
        "id,text,label\n1,\"ok\",a\n2,\"unterminated quote,c\n3,\"x\",d\n",
        "id,text\n1,\"a\"\r\n2,\"b\"",
        "id,text\r1,\"a\"\r2,\"b\"\r",
        "id,text\n1,5\" screen\n",
        "a,b\n1,2\n3\n\n4,5,6\n",
        "a,b\n1,\"x\n",
        "a,a\n1,2\n",
        "\u{feff}\"a\",b\n1,2\n",
        "a\n\n\n \n\"\"\n",
        "a,b\n  \n1,\n",
    ];
    for text in cases {
        assert_matches_reference(text, ',', &parse_text(text, TextEncoding::Utf8, ','));
    }
}

/// A cell with the characters that need quoting, empty cells and Unicode.
fn cell() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\"".to_string()),
        Just(",".to_string()),
        Just(";".to_string()),
        Just("\t".to_string()),
        Just("|".to_string()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just(" ".to_string()),
        "[a-zæøå0-9]{1,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

type Written = (char, Vec<String>, Vec<Vec<String>>);

/// A delimiter, a header of unique names (their own first and last characters
/// are not whitespace: the reader trims header cells) and 1.. rows.
fn table() -> impl Strategy<Value = Written> {
    (prop::sample::select(vec![',', ';', '\t', '|']), 1usize..5).prop_flat_map(|(d, width)| {
        let header = prop::collection::vec(cell(), width).prop_map(|cells| {
            cells
                .into_iter()
                .enumerate()
                .map(|(i, c)| format!("h{i}{c}x"))
                .collect::<Vec<_>>()
        });
        let rows = prop::collection::vec(prop::collection::vec(cell(), width), 1..8);
        (Just(d), header, rows)
    })
}

fn write(delim: char, header: &[String], rows: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delim as u8)
        .from_writer(Vec::new());
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// Text made of the characters that matter to a CSV reader, in any order.
fn csvish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => Just("\"".to_string()),
        2 => Just("\"\"".to_string()),
        4 => Just(",".to_string()),
        2 => Just("\n".to_string()),
        1 => Just("\r".to_string()),
        1 => Just("\r\n".to_string()),
        1 => Just(" ".to_string()),
        4 => "[abé]{1,2}",
        1 => Just("\u{feff}".to_string()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

/// Mostly well-formed text: quoted and unquoted fields (bare quotes inside the
/// unquoted ones), mixed line ends, blank and whitespace-only lines, and
/// sometimes one quote, delimiter or line end inserted anywhere.
fn structured() -> impl Strategy<Value = String> {
    let inner = prop_oneof![
        Just("a"),
        Just("\"\""),
        Just(","),
        Just("\n"),
        Just("\r\n"),
        Just("\r"),
        Just(" "),
        Just("ø")
    ];
    let quoted = prop::collection::vec(inner, 0..4).prop_map(|p| format!("\"{}\"", p.concat()));
    let field = prop_oneof![quoted, "([ab é][ab é\"]{0,3})?"];
    let record = prop::collection::vec(field, 1..4).prop_map(|f| f.join(","));
    let end = prop::sample::select(vec!["\n", "\r\n", "\r", "\n\n", "\n \n", ""]);
    let corruption = prop::option::weighted(
        0.3,
        (
            any::<prop::sample::Index>(),
            prop::sample::select(vec!["\"", ",", "\n", "\r", "x"]),
        ),
    );
    (prop::collection::vec((record, end), 1..6), corruption).prop_map(|(records, corruption)| {
        let mut text: String = records.into_iter().map(|(r, e)| r + e).collect();
        if let Some((at, token)) = corruption {
            let bounds: Vec<usize> = (0..=text.len())
                .filter(|&b| text.is_char_boundary(b))
                .collect();
            text.insert_str(bounds[at.index(bounds.len())], token);
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn what_the_csv_writer_writes_reads_back_identically((delim, header, rows) in table()) {
        let text = write(delim, &header, &rows);
        let (t, repairs) =
            parse_text_with(&text, TextEncoding::Utf8, delim, ReadRules::default()).unwrap();
        prop_assert_eq!(&t.columns, &header);
        prop_assert_eq!(&t.rows, &rows);
        prop_assert_eq!(t.delimiter, delim);
        prop_assert_eq!(repairs, Repairs::default());
        // With \r\n line ends too.
        let mut crlf = csv::WriterBuilder::new()
            .delimiter(delim as u8)
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        crlf.write_record(&header).unwrap();
        for r in &rows {
            crlf.write_record(r).unwrap();
        }
        let text = String::from_utf8(crlf.into_inner().unwrap()).unwrap();
        prop_assert_eq!(parse_text(&text, TextEncoding::Utf8, delim).unwrap().rows, rows);
    }

    #[test]
    fn any_text_reads_as_the_strict_reference_says(text in prop_oneof![csvish(), structured()]) {
        let got = parse_text(&text, TextEncoding::Utf8, ',');
        assert_matches_reference(&text, ',', &got);
        // Valid text is read the same leniently, with nothing to report.
        if let Ok(t) = got {
            let (lenient, repairs) = parse_text_with(
                &text,
                TextEncoding::Utf8,
                ',',
                ReadRules { ragged: RaggedRows::Reject, quotes: QuoteMode::Lenient },
            )
            .unwrap();
            prop_assert_eq!(lenient, t);
            prop_assert!(repairs.is_empty());
        }
    }

    #[test]
    fn padding_and_dropping_do_what_the_reference_predicts(
        text in prop_oneof![csvish(), structured()]
    ) {
        let Ok(records) = rfc4180_records(&text, ',') else {
            return Ok(());
        };
        let mut records = records.into_iter();
        let Some((_, header)) = records.next() else {
            return Ok(());
        };
        let width = header.len();
        let rows: Vec<RefRecord> = records
            .filter(|(_, r)| !(width > 1 && r.len() == 1 && r[0].trim().is_empty()))
            .collect();
        let lines = |keep: &dyn Fn(usize) -> bool| -> (u64, Vec<u64>) {
            let all: Vec<u64> =
                rows.iter().filter(|(_, r)| keep(r.len())).map(|(l, _)| *l).collect();
            (all.len() as u64, all.into_iter().take(REPAIRS_LISTED).collect())
        };
        let pad = ReadRules { ragged: RaggedRows::Pad, quotes: QuoteMode::Strict };
        if let Ok((t, repairs)) = parse_text_with(&text, TextEncoding::Utf8, ',', pad) {
            let want: Vec<Vec<String>> = rows
                .iter()
                .map(|(_, r)| {
                    let mut r = r.clone();
                    r.resize(width, String::new());
                    r
                })
                .collect();
            prop_assert_eq!(t.rows, want);
            let (count, first) = lines(&|n| n < width);
            prop_assert_eq!((repairs.padded.count, repairs.padded.first), (count, first));
            let (count, first) = lines(&|n| n > width);
            prop_assert_eq!((repairs.cut.count, repairs.cut.first), (count, first));
        }
        let drop = ReadRules { ragged: RaggedRows::Drop, quotes: QuoteMode::Strict };
        if let Ok((t, repairs)) = parse_text_with(&text, TextEncoding::Utf8, ',', drop) {
            let want: Vec<Vec<String>> =
                rows.iter().filter(|(_, r)| r.len() == width).map(|(_, r)| r.clone()).collect();
            prop_assert_eq!(t.rows, want);
            let (count, first) = lines(&|n| n != width);
            prop_assert_eq!((repairs.dropped.count, repairs.dropped.first), (count, first));
        }
    }
}
