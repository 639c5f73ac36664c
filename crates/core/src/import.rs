//! Every file format users bring (CSV, TSV, XLSX, JSON Lines) read into one
//! [`Table`], with the detected settings reported and overridable.

use crate::table::{
    check_header, decode_text_as, reject_binary_magic, sniff_delimiter, QuoteMode, RaggedRows,
    ReadRules, Repairs, Table, TableError, TableReader, TextEncoding,
};
use crate::xlsx::Workbook;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileFormat {
    /// Comma, semicolon or pipe separated text.
    Csv,
    /// Tab separated text.
    Tsv,
    /// An Excel workbook (Office Open XML).
    Xlsx,
    /// One JSON object per line.
    Jsonl,
}

impl FileFormat {
    /// Lower-case name, as shown and as the `inspect` example prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Tsv => "tsv",
            FileFormat::Xlsx => "xlsx",
            FileFormat::Jsonl => "jsonl",
        }
    }
}

/// Choices that override detection, and how to read what breaks the rules.
/// Missing fields deserialize to their defaults, so saved options stay readable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportOptions {
    /// Text encoding (delimited text and JSON Lines).
    pub encoding: Option<TextEncoding>,
    /// Field delimiter (delimited text).
    pub delimiter: Option<char>,
    /// Sheet name (workbooks); the first sheet when `None`.
    pub sheet: Option<String>,
    /// Rows with a different number of fields than the header (delimited text).
    pub ragged: RaggedRows,
    /// Quotes that break RFC 4180 (delimited text).
    pub quotes: QuoteMode,
}

impl ImportOptions {
    /// The rules delimited text is read by.
    pub fn rules(&self) -> ReadRules {
        ReadRules {
            ragged: self.ragged,
            quotes: self.quotes,
        }
    }
}

/// A file read into a table, with what was detected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imported {
    /// Detected format.
    pub format: FileFormat,
    /// Sheets of a workbook (empty for text formats).
    pub sheets: Vec<String>,
    /// The sheet read, for workbooks.
    pub sheet: Option<String>,
    /// The table; `encoding` and `delimiter` say how text was read.
    pub table: Table,
    /// What the chosen rules repaired (delimited text; always empty for
    /// workbooks and JSON Lines).
    pub repairs: Repairs,
}

impl Imported {
    /// The result of reading delimited text to the end with
    /// [`TableReader::read_chunk`]: the table and what was repaired.
    pub fn from_text(
        format: FileFormat,
        reader: TableReader,
        rows: Vec<Vec<String>>,
    ) -> Result<Self, TableError> {
        let repairs = reader.repairs().clone();
        Ok(Imported {
            format,
            sheets: Vec::new(),
            sheet: None,
            table: reader.finish(rows)?,
            repairs,
        })
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Guess the format from the file name and the first bytes.
pub fn detect_format(name: &str, bytes: &[u8]) -> FileFormat {
    let lower = name.to_lowercase();
    if bytes.starts_with(ZIP_MAGIC) || lower.ends_with(".xlsx") || lower.ends_with(".xlsm") {
        return FileFormat::Xlsx;
    }
    if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        return FileFormat::Jsonl;
    }
    if lower.ends_with(".tsv") || lower.ends_with(".tab") {
        return FileFormat::Tsv;
    }
    // A .json/.txt/unnamed file whose first non-blank line is an object is JSON Lines.
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    match head.lines().find(|l| !l.trim().is_empty()) {
        Some(l) if l.trim_start().starts_with('{') => FileFormat::Jsonl,
        _ => FileFormat::Csv,
    }
}

/// A file opened for reading: delimited text is read in chunks by the caller
/// (large files); workbooks and JSON Lines are read at once.
#[derive(Debug)]
pub enum Opened {
    /// CSV or TSV, ready to read row chunks.
    Text {
        /// `Csv` or `Tsv` (by delimiter).
        format: FileFormat,
        /// The reader, past the header.
        reader: TableReader,
    },
    /// Fully read.
    Done(Imported),
}

/// Open a file of any supported format.
pub fn open_file(name: &str, bytes: &[u8], opts: &ImportOptions) -> Result<Opened, TableError> {
    if bytes.is_empty() {
        return Err(TableError::Empty);
    }
    let format = detect_format(name, bytes);
    if format != FileFormat::Xlsx {
        reject_binary_magic(bytes)?;
    }
    match format {
        FileFormat::Xlsx => read_xlsx(bytes, opts.sheet.as_deref()).map(Opened::Done),
        FileFormat::Jsonl => {
            let (text, enc) = decode_text_as(bytes, opts.encoding)?;
            Ok(Opened::Done(Imported {
                format: FileFormat::Jsonl,
                sheets: Vec::new(),
                sheet: None,
                table: read_jsonl(&text, enc)?,
                repairs: Repairs::default(),
            }))
        }
        format => {
            let (text, enc) = decode_text_as(bytes, opts.encoding)?;
            let delimiter = opts.delimiter.unwrap_or_else(|| sniff_delimiter(&text));
            let format = if delimiter == '\t' {
                FileFormat::Tsv
            } else {
                format
            };
            Ok(Opened::Text {
                format,
                reader: TableReader::open(text, enc, delimiter, opts.rules())?,
            })
        }
    }
}

/// Read a file of any supported format.
pub fn import_file(name: &str, bytes: &[u8], opts: &ImportOptions) -> Result<Imported, TableError> {
    match open_file(name, bytes, opts)? {
        Opened::Done(imported) => Ok(imported),
        Opened::Text { format, mut reader } => {
            let mut rows = Vec::new();
            while reader.read_chunk(usize::MAX, &mut rows)? {}
            Imported::from_text(format, reader, rows)
        }
    }
}

fn read_xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<Imported, TableError> {
    let wb = Workbook::open(bytes).map_err(|e| TableError::Workbook(e.to_string()))?;
    let sheets = wb.sheet_names();
    let name = match sheet {
        Some(s) if sheets.iter().any(|x| x == s) => s.to_string(),
        Some(s) => return Err(TableError::NoSheet(s.to_string())),
        None => sheets.first().cloned().ok_or(TableError::NoRows)?,
    };
    let mut rows = wb
        .rows(&name)
        .map_err(|e| TableError::Workbook(e.to_string()))?
        .into_iter();
    let header = rows.next().ok_or(TableError::NoRows)?;
    // Trailing empty header cells are formatting, not columns.
    let width = header
        .iter()
        .rposition(|h| !h.trim().is_empty())
        .map_or(0, |i| i + 1);
    let columns: Vec<String> = header[..width]
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    check_header(&columns)?;
    let body: Vec<Vec<String>> = rows
        .map(|mut r| {
            r.resize(width, String::new());
            r
        })
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
        .collect();
    if body.is_empty() {
        return Err(TableError::NoRows);
    }
    Ok(Imported {
        format: FileFormat::Xlsx,
        sheets,
        sheet: Some(name),
        table: Table {
            encoding: TextEncoding::Utf8,
            delimiter: ',',
            columns,
            rows: body,
        },
        repairs: Repairs::default(),
    })
}

/// JSON Lines: columns are the keys in first-seen order; strings are kept, other
/// scalars written as JSON, nested values as JSON text, missing keys empty.
fn read_jsonl(text: &str, encoding: TextEncoding) -> Result<Table, TableError> {
    let mut columns: Vec<String> = Vec::new();
    let mut objects = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = i as u64 + 1;
        let v: Value = serde_json::from_str(line).map_err(|e| TableError::JsonLine {
            line: line_no,
            message: format!("not valid JSON ({e})"),
        })?;
        let Value::Object(map) = v else {
            return Err(TableError::JsonLine {
                line: line_no,
                message: "expected a JSON object {…}".into(),
            });
        };
        for k in map.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        objects.push(map);
    }
    if objects.is_empty() {
        return Err(TableError::NoRows);
    }
    let rows = objects
        .iter()
        .map(|m| {
            columns
                .iter()
                .map(|c| match m.get(c) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                })
                .collect()
        })
        .collect();
    Ok(Table {
        encoding,
        delimiter: ',',
        columns,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../../shared/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn the_original_sample_sheet_imports_with_norwegian_text_intact() {
        let imp = import_file(
            "dummy_calls.xlsx",
            &fixture("fixtures/fannotate/dummy_calls.xlsx"),
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(imp.format, FileFormat::Xlsx);
        assert_eq!(imp.table.columns, vec!["ID", "input_text"]);
        assert_eq!(imp.sheet.as_deref(), imp.sheets.first().map(String::as_str));
        assert!(!imp.table.rows.is_empty());
        let all: String = imp.table.rows.iter().map(|r| r[1].as_str()).collect();
        assert!(
            all.chars().any(|c| "æøåÆØÅ".contains(c)),
            "no Norwegian letters in {all:?}"
        );
        assert!(!all.contains('\u{FFFD}'));
        let err = import_file(
            "x.xlsx",
            &fixture("fixtures/fannotate/dummy_calls.xlsx"),
            &ImportOptions {
                sheet: Some("Nope".into()),
                ..Default::default()
            },
        );
        assert_eq!(err, Err(TableError::NoSheet("Nope".into())));
        assert!(matches!(
            import_file("x.xlsx", b"PK\x03\x04garbage", &ImportOptions::default()),
            Err(TableError::Workbook(_))
        ));
    }

    #[test]
    fn the_small_reader_agrees_with_calamine() {
        use calamine::{Data, Reader, Xlsx};
        let bytes = fixture("fixtures/fannotate/dummy_calls.xlsx");
        let mut cal: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let names = cal.sheet_names();
        let wb = Workbook::open(&bytes).unwrap();
        assert_eq!(wb.sheet_names(), names);
        let range = cal.worksheet_range(&names[0]).unwrap();
        let theirs: Vec<Vec<String>> = range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|d| match d {
                        Data::Empty => String::new(),
                        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(wb.rows(&names[0]).unwrap(), theirs);
    }

    #[test]
    fn json_lines() {
        let text = "{\"id\": 1, \"text\": \"blåbær\", \"meta\": {\"a\": 1}}\n\n{\"text\": \"b\", \"label\": null, \"x\": true}\n";
        let imp = import_file("d.jsonl", text.as_bytes(), &ImportOptions::default()).unwrap();
        assert_eq!(imp.table.columns, vec!["id", "text", "meta", "label", "x"]);
        assert_eq!(imp.table.rows[0], vec!["1", "blåbær", "{\"a\":1}", "", ""]);
        assert_eq!(imp.table.rows[1], vec!["", "b", "", "", "true"]);
        assert_eq!(
            detect_format("data.txt", text.as_bytes()),
            FileFormat::Jsonl
        );
        assert_eq!(
            import_file("p.csv", b"\x89PNG\r\n\x1a\n", &ImportOptions::default()),
            Err(TableError::Binary)
        );
        assert_eq!(
            import_file("d.jsonl", b"{\"a\":1}\n[1,2]\n", &ImportOptions::default()),
            Err(TableError::JsonLine {
                line: 2,
                message: "expected a JSON object {…}".into()
            })
        );
        assert!(matches!(
            import_file("d.jsonl", b"{\"a\":1}\n{oops\n", &ImportOptions::default()),
            Err(TableError::JsonLine { line: 2, .. })
        ));
    }

    #[test]
    fn read_rules_come_from_the_options_and_repairs_come_back() {
        let text = b"id,text,label\n1,\"ok\",a\n2,\"unterminated quote,c\n3,\"x\",d\n4,short\n";
        let strict = import_file("s.csv", text, &ImportOptions::default());
        assert!(
            matches!(strict, Err(TableError::StrayQuote { line: 4, .. })),
            "{strict:?}"
        );
        let opts = ImportOptions {
            quotes: QuoteMode::Lenient,
            ..Default::default()
        };
        assert!(matches!(
            import_file("s.csv", text, &opts),
            Err(TableError::Ragged { expected: 3, ref first, count: 1 }) if first == &[(5, 2)]
        ));
        let opts = ImportOptions {
            quotes: QuoteMode::Lenient,
            ragged: RaggedRows::Pad,
            ..Default::default()
        };
        let imp = import_file("s.csv", text, &opts).unwrap();
        assert_eq!(imp.table.rows.len(), 3);
        assert_eq!(imp.table.rows[2], vec!["4", "short", ""]);
        assert_eq!(imp.repairs.padded.first, vec![5]);
        assert_eq!(imp.repairs.quotes.count, 1);
        assert_eq!(imp.repairs.summary().len(), 2);
        // The app's loop (small chunks, then `Imported::from_text`) gives the
        // same result as `import_file`, errors included.
        for opts in [
            opts,
            ImportOptions {
                quotes: QuoteMode::Lenient,
                ..Default::default()
            },
        ] {
            let looped = match open_file("s.csv", text, &opts).unwrap() {
                Opened::Text { format, mut reader } => {
                    let mut rows = Vec::new();
                    let mut result = Ok(true);
                    while let Ok(true) = result {
                        result = reader.read_chunk(1, &mut rows);
                    }
                    result.and_then(|_| Imported::from_text(format, reader, rows))
                }
                Opened::Done(_) => panic!("text read at once"),
            };
            assert_eq!(looped, import_file("s.csv", text, &opts));
        }
        // Other formats have nothing to repair.
        let imp = import_file("d.jsonl", b"{\"a\":1}\n", &ImportOptions::default()).unwrap();
        assert!(imp.repairs.is_empty());
    }

    #[test]
    fn options_saved_before_the_read_rules_still_load() {
        let old: ImportOptions =
            serde_json::from_str(r#"{"encoding":null,"delimiter":";","sheet":null}"#).unwrap();
        assert_eq!(
            old,
            ImportOptions {
                delimiter: Some(';'),
                ..Default::default()
            }
        );
        assert_eq!(old.rules(), ReadRules::default());
        let new = ImportOptions {
            ragged: RaggedRows::Drop,
            quotes: QuoteMode::Lenient,
            ..Default::default()
        };
        let back: ImportOptions =
            serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
        assert_eq!(back, new);
    }

    #[test]
    fn overrides_win_over_detection() {
        // Windows-1252 with ';', as Norwegian Excel exports it.
        let mut cp = b"id;tekst\n1;bl".to_vec();
        cp.extend([0xE5]);
        cp.extend(b"b");
        cp.extend([0xE6]);
        cp.extend(b"r\n");
        let auto = import_file("n.csv", &cp, &ImportOptions::default()).unwrap();
        assert_eq!(auto.table.encoding, TextEncoding::Windows1252);
        assert_eq!(auto.table.delimiter, ';');
        assert_eq!(auto.table.rows[0][1], "blåbær");
        let forced = import_file(
            "n.csv",
            &cp,
            &ImportOptions {
                delimiter: Some(','),
                encoding: Some(TextEncoding::Utf8),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(forced.table.columns, vec!["id;tekst"]);
        assert!(forced.table.rows[0][0].contains('\u{FFFD}'));
        let tsv = import_file("t.tsv", b"a\tb\n1\t2\n", &ImportOptions::default()).unwrap();
        assert_eq!(tsv.format, FileFormat::Tsv);
    }
}
