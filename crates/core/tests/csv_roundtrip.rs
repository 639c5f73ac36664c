//! Delimited text read back exactly: anything the `csv` crate writes, and an
//! independent strict RFC 4180 reader as the reference for any text (the same
//! oracle the `table_import` fuzz target asserts).

use fannotate_core::table::{
    parse_text, parse_text_with, QuoteMode, RaggedRows, ReadRules, Repairs, TextEncoding,
    REPAIRS_LISTED,
};
use proptest::prelude::*;

#[path = "support/strict_csv.rs"]
mod strict_csv;
use strict_csv::*;

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
