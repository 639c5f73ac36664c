//! Reading delimited text files (CSV, TSV, `;` and `|` separated) from raw bytes:
//! encoding detection, delimiter sniffing, and errors that name the row.

use serde::Serialize;

/// How the bytes were decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// UTF-16 little endian (with BOM).
    Utf16Le,
    /// UTF-16 big endian (with BOM).
    Utf16Be,
    /// Windows-1252, used when the bytes are not valid UTF-8.
    Windows1252,
}

impl TextEncoding {
    /// Every encoding, for pickers.
    pub const ALL: [TextEncoding; 5] = [
        TextEncoding::Utf8,
        TextEncoding::Utf8Bom,
        TextEncoding::Utf16Le,
        TextEncoding::Utf16Be,
        TextEncoding::Windows1252,
    ];

    /// Inverse of [`TextEncoding::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Name as shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 (BOM)",
            TextEncoding::Utf16Le => "UTF-16 LE",
            TextEncoding::Utf16Be => "UTF-16 BE",
            TextEncoding::Windows1252 => "Windows-1252",
        }
    }
}

/// Why a file could not be read as a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The file has no content.
    #[error("the file is empty")]
    Empty,
    /// The file looks like binary data (an image, a PDF …).
    #[error("the file looks binary, not like text; is it really a CSV/TSV file?")]
    Binary,
    /// A zip container: an Excel workbook (or another zip) picked as text.
    #[error(
        "this is a spreadsheet or zip file, not delimited text; save it as CSV and import that"
    )]
    Spreadsheet,
    /// A quoted field is never closed.
    #[error("line {line}: a quoted field starts here and is never closed")]
    UnbalancedQuote {
        /// 1-based line of the opening quote.
        line: u64,
    },
    /// A row has a different number of fields than the header.
    #[error("line {line}: expected {expected} fields like the header, found {found}")]
    Ragged {
        /// 1-based line where the row starts.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// Header row only, or nothing but blank lines.
    #[error("the file has a header but no data rows")]
    NoRows,
    /// One cell is larger than any text worth annotating: usually a quote that
    /// swallowed the rest of the file.
    #[error("line {line}, column \"{column}\": a field of {bytes} bytes is over the {limit}-byte limit (a stray quote?)")]
    FieldTooLarge {
        /// 1-based line where the row starts.
        line: u64,
        /// Header of the column.
        column: String,
        /// Size of the field.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A header cell is empty or repeated.
    #[error("column {column}: {problem}")]
    BadHeader {
        /// 1-based column number.
        column: usize,
        /// What is wrong.
        problem: String,
    },
    /// An Excel workbook could not be read.
    #[error("the workbook could not be read: {0}")]
    Workbook(String),
    /// The chosen sheet does not exist.
    #[error("the workbook has no sheet \"{0}\"")]
    NoSheet(String),
    /// A JSON Lines row is not a JSON object.
    #[error("line {line}: {message}")]
    JsonLine {
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Any other CSV syntax error.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: u64,
        /// Parser message.
        message: String,
    },
}

/// A parsed table: header and rows of equal length.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Detected encoding.
    pub encoding: TextEncoding,
    /// Detected field delimiter.
    pub delimiter: char,
    /// Header cells.
    pub columns: Vec<String>,
    /// Data rows, each `columns.len()` long.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Index of a column by exact header name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Windows-1252 code points for bytes 0x80–0x9F (the rest is Latin-1). Undefined
/// bytes map to the C1 control of the same value, as the WHATWG decoder does.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9f => CP1252_HIGH[(b - 0x80) as usize],
            _ => b as char,
        })
        .collect()
}

fn decode_utf16(bytes: &[u8], little: bool) -> String {
    let units = bytes.chunks(2).map(|c| {
        let pair = [c[0], *c.get(1).unwrap_or(&0)];
        if little {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// The encoding of `bytes`: from a BOM, else UTF-8 when valid, else Windows-1252.
pub fn detect_encoding(bytes: &[u8]) -> TextEncoding {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        TextEncoding::Utf8Bom
    } else if bytes.starts_with(&[0xFF, 0xFE]) {
        TextEncoding::Utf16Le
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        TextEncoding::Utf16Be
    } else if std::str::from_utf8(bytes).is_ok() {
        TextEncoding::Utf8
    } else {
        TextEncoding::Windows1252
    }
}

/// Decode bytes as `enc`, skipping its BOM; invalid sequences become U+FFFD.
pub fn decode_as(bytes: &[u8], enc: TextEncoding) -> String {
    match enc {
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => {
            let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            String::from_utf8_lossy(b).into_owned()
        }
        TextEncoding::Utf16Le => {
            decode_utf16(bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(bytes), true)
        }
        TextEncoding::Utf16Be => {
            decode_utf16(bytes.strip_prefix(&[0xFE, 0xFF]).unwrap_or(bytes), false)
        }
        TextEncoding::Windows1252 => decode_cp1252(bytes),
    }
}

/// Decode bytes to text, detecting the encoding from a BOM, UTF-8 validity, or
/// falling back to Windows-1252.
pub fn decode_text(bytes: &[u8]) -> Result<(String, TextEncoding), TableError> {
    decode_text_as(bytes, None)
}

/// Decode bytes with a chosen encoding, or the detected one when `None`.
pub fn decode_text_as(
    bytes: &[u8],
    enc: Option<TextEncoding>,
) -> Result<(String, TextEncoding), TableError> {
    let enc = enc.unwrap_or_else(|| detect_encoding(bytes));
    let text = decode_as(bytes, enc);
    if text.trim().is_empty() {
        return Err(TableError::Empty);
    }
    if looks_binary(&text) {
        return Err(TableError::Binary);
    }
    Ok((text, enc))
}

/// The zip magic number (XLSX, ODS, plain zip).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// Magic numbers of other files people pick by mistake (PNG, PDF, gzip, JPEG).
const BINARY_MAGIC: [&[u8]; 4] = [b"\x89PNG", b"%PDF", b"\x1f\x8b", b"\xff\xd8\xff"];

/// Reject images, PDFs and archives by their magic number before decoding them as text.
pub fn reject_binary_magic(bytes: &[u8]) -> Result<(), TableError> {
    if BINARY_MAGIC.iter().any(|m| bytes.starts_with(m)) {
        Err(TableError::Binary)
    } else {
        Ok(())
    }
}

/// Binary data: a known magic number, or many control characters near the start.
/// Real text exports do contain a few stray controls (even NUL), so a handful is fine.
fn looks_binary(text: &str) -> bool {
    let head: Vec<char> = text.chars().take(8192).collect();
    let controls = head
        .iter()
        .filter(|c| {
            c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{0c}') && (**c as u32) < 0x80
        })
        .count();
    controls * 20 > head.len()
}

/// Find the line of a quote that is opened and never closed, if any. Works on
/// bytes: quotes, delimiters and line ends are ASCII, and UTF-8 never uses ASCII
/// bytes inside a multi-byte character, so this is exact and several times
/// faster than walking `char`s over a large file.
fn unclosed_quote_line(text: &str, delimiter: char) -> Option<u64> {
    let bytes = text.as_bytes();
    let delim = if delimiter.is_ascii() {
        delimiter as u8
    } else {
        return None;
    };
    let mut line = 1u64;
    let mut in_quotes = false;
    let mut open_line = 0;
    let mut at_field_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        i += 1;
        if in_quotes {
            match c {
                b'"' if bytes.get(i) == Some(&b'"') => i += 1,
                b'"' => in_quotes = false,
                b'\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' if at_field_start => {
                in_quotes = true;
                open_line = line;
            }
            b'\n' => {
                line += 1;
                at_field_start = true;
                continue;
            }
            c if c == delim => {
                at_field_start = true;
                continue;
            }
            _ => {}
        }
        at_field_start = false;
    }
    in_quotes.then_some(open_line)
}

/// Delimiters recognised by sniffing.
pub const DELIMITERS: [char; 4] = [',', ';', '\t', '|'];

/// Pick the delimiter that splits the first lines into the most, equally many fields.
pub fn sniff_delimiter(text: &str) -> char {
    let sample: String = text.chars().take(64 * 1024).collect();
    let mut best = (',', 0usize, false);
    for d in DELIMITERS {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(d as u8)
            .has_headers(false)
            .flexible(true)
            .from_reader(sample.as_bytes());
        let counts: Vec<usize> = rdr
            .records()
            .take(20)
            .filter_map(Result::ok)
            .map(|r| r.len())
            .collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        // The last sampled record may be cut by the sample boundary.
        let consistent = counts[..counts.len().saturating_sub(1).max(1)]
            .iter()
            .all(|&n| n == first);
        let better = match (consistent, best.2) {
            (true, false) => first > 1,
            (true, true) | (false, false) => first > best.1,
            (false, true) => false,
        };
        if better {
            best = (d, first, consistent);
        }
    }
    best.0
}

/// Parse delimited text with a header row from raw file bytes.
pub fn parse_table(bytes: &[u8]) -> Result<Table, TableError> {
    if bytes.is_empty() {
        return Err(TableError::Empty);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        return Err(TableError::Spreadsheet);
    }
    reject_binary_magic(bytes)?;
    let (text, encoding) = decode_text(bytes)?;
    let delimiter = sniff_delimiter(&text);
    parse_text(&text, encoding, delimiter)
}

/// Header cells must be non-empty and unique: they become column names.
pub fn check_header(columns: &[String]) -> Result<(), TableError> {
    if columns.is_empty() {
        return Err(TableError::BadHeader {
            column: 1,
            problem: "the header row is empty".into(),
        });
    }
    for (i, c) in columns.iter().enumerate() {
        if c.is_empty() {
            return Err(TableError::BadHeader {
                column: i + 1,
                problem: "the header cell is empty".into(),
            });
        }
        if columns[..i].contains(c) {
            return Err(TableError::BadHeader {
                column: i + 1,
                problem: format!("the header \"{c}\" appears twice"),
            });
        }
    }
    Ok(())
}

/// Parse already-decoded text with a known delimiter.
pub fn parse_text(
    text: &str,
    encoding: TextEncoding,
    delimiter: char,
) -> Result<Table, TableError> {
    let mut reader = TableReader::open(text.to_string(), encoding, delimiter)?;
    let mut rows = Vec::new();
    while reader.read_chunk(usize::MAX, &mut rows)? {}
    reader.finish(rows)
}

/// Largest field accepted (bytes). A million characters is far more than any
/// text an LLM is asked to label.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// Reads delimited text a chunk of rows at a time, so a caller can show progress
/// and stay responsive between chunks. Same rules and errors as [`parse_text`].
pub struct TableReader {
    rdr: csv::Reader<std::io::Cursor<Vec<u8>>>,
    columns: Vec<String>,
    encoding: TextEncoding,
    delimiter: char,
    total_bytes: u64,
    done: bool,
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader")
            .field("columns", &self.columns)
            .field("position", &self.position())
            .field("total_bytes", &self.total_bytes)
            .finish()
    }
}

impl TableReader {
    /// Check the whole text for an unclosed quote (a cheap scan that names the
    /// line, which the CSV parser cannot) and read the header.
    pub fn open(text: String, encoding: TextEncoding, delimiter: char) -> Result<Self, TableError> {
        if let Some(line) = unclosed_quote_line(&text, delimiter) {
            return Err(TableError::UnbalancedQuote { line });
        }
        let total_bytes = text.len() as u64;
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter as u8)
            .has_headers(true)
            .flexible(false)
            .from_reader(std::io::Cursor::new(text.into_bytes()));
        let columns: Vec<String> = rdr
            .headers()
            .map_err(|e| TableError::Syntax {
                line: 1,
                message: e.to_string(),
            })?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        check_header(&columns)?;
        Ok(TableReader {
            rdr,
            columns,
            encoding,
            delimiter,
            total_bytes,
            done: false,
        })
    }

    /// Header cells.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Bytes of the text read so far.
    pub fn position(&self) -> u64 {
        self.rdr.position().byte()
    }

    /// Size of the text in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Append up to `max` more rows to `out`; returns whether rows may remain.
    pub fn read_chunk(
        &mut self,
        max: usize,
        out: &mut Vec<Vec<String>>,
    ) -> Result<bool, TableError> {
        if self.done {
            return Ok(false);
        }
        let mut rec = csv::StringRecord::new();
        let mut n = 0;
        while n < max {
            let more = self.rdr.read_record(&mut rec).map_err(|e| match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    pos,
                    expected_len,
                    len,
                } => TableError::Ragged {
                    line: pos.as_ref().map_or(0, |p| p.line()),
                    expected: *expected_len as usize,
                    found: *len as usize,
                },
                _ => TableError::Syntax {
                    line: e.position().map_or(0, |p| p.line()),
                    message: e.to_string(),
                },
            })?;
            if !more {
                self.done = true;
                return Ok(false);
            }
            // A blank line in a multi-column file is not a row.
            if rec.len() == 1 && rec[0].trim().is_empty() && self.columns.len() > 1 {
                continue;
            }
            if let Some((c, f)) = rec
                .iter()
                .enumerate()
                .find(|(_, f)| f.len() > MAX_FIELD_BYTES)
            {
                return Err(TableError::FieldTooLarge {
                    line: rec.position().map_or(0, |p| p.line()),
                    column: self
                        .columns
                        .get(c)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", c + 1)),
                    bytes: f.len(),
                    limit: MAX_FIELD_BYTES,
                });
            }
            out.push(rec.iter().map(str::to_string).collect());
            n += 1;
        }
        Ok(true)
    }

    /// The table from all rows read.
    pub fn finish(self, rows: Vec<Vec<String>>) -> Result<Table, TableError> {
        if rows.is_empty() {
            return Err(TableError::NoRows);
        }
        Ok(Table {
            encoding: self.encoding,
            delimiter: self.delimiter,
            columns: self.columns,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_delimiters_and_keeps_quotes() {
        let t = parse_table(b"id;text\n1;\"a;b\"\n2;c\n").unwrap();
        assert_eq!(t.delimiter, ';');
        assert_eq!(t.rows, vec![vec!["1", "a;b"], vec!["2", "c"]]);
        let t = parse_table(b"id\ttext\n1\thello, world\n").unwrap();
        assert_eq!(t.delimiter, '\t');
        let t = parse_table(b"a|b|c\n1|2|3\n").unwrap();
        assert_eq!(t.delimiter, '|');
        let t = parse_table(b"id,text\n1,\"x\ny\"\n").unwrap();
        assert_eq!(t.rows[0][1], "x\ny");
    }

    #[test]
    fn the_reader_gives_the_same_rows_in_chunks_with_progress() {
        let mut text = String::from("id,text\n");
        for i in 0..1000 {
            text.push_str(&format!("{i},\"row {i}, with a comma\"\n"));
            if i % 100 == 0 {
                text.push('\n');
            }
        }
        let whole = parse_text(&text, TextEncoding::Utf8, ',').unwrap();
        let mut r = TableReader::open(text.clone(), TextEncoding::Utf8, ',').unwrap();
        assert_eq!(r.columns(), ["id", "text"]);
        let mut rows = Vec::new();
        let mut positions = vec![r.position()];
        while r.read_chunk(64, &mut rows).unwrap() {
            positions.push(r.position());
        }
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        assert_eq!(r.position(), r.total_bytes());
        assert_eq!(rows.len(), 1000);
        assert_eq!(r.finish(rows).unwrap(), whole);
        // An oversized field names its line and column.
        let big = format!("id,text\n1,ok\n2,{}\n", "x".repeat(MAX_FIELD_BYTES + 1));
        assert!(matches!(
            parse_text(&big, TextEncoding::Utf8, ','),
            Err(TableError::FieldTooLarge { line: 3, ref column, .. }) if column == "text"
        ));
        // Errors surface in the chunk that meets them, with the line.
        let mut r = TableReader::open("a,b\n1,2\n3\n".into(), TextEncoding::Utf8, ',').unwrap();
        let mut rows = Vec::new();
        assert_eq!(
            r.read_chunk(10, &mut rows),
            Err(TableError::Ragged {
                line: 3,
                expected: 2,
                found: 1
            })
        );
    }

    #[test]
    fn encodings() {
        let t = parse_table("\u{feff}id,tekst\n1,blåbær\n".as_bytes()).unwrap();
        assert_eq!(t.encoding, TextEncoding::Utf8Bom);
        assert_eq!(t.columns[0], "id");
        // "id;tekst\n1;Søknad – ok\n" in Windows-1252
        let mut cp = b"id;tekst\n1;S".to_vec();
        cp.extend([0xF8]);
        cp.extend(b"knad ");
        cp.extend([0x96]);
        cp.extend(b" ok\n");
        let t = parse_table(&cp).unwrap();
        assert_eq!(t.encoding, TextEncoding::Windows1252);
        assert_eq!(t.rows[0][1], "Søknad – ok");
        let mut le = vec![0xFF, 0xFE];
        for u in "id,t\n1,æ\n".encode_utf16() {
            le.extend(u.to_le_bytes());
        }
        let t = parse_table(&le).unwrap();
        assert_eq!(t.encoding, TextEncoding::Utf16Le);
        assert_eq!(t.rows[0][1], "æ");
        let mut be = vec![0xFE, 0xFF];
        for u in "id,t\n1,ø\n".encode_utf16() {
            be.extend(u.to_be_bytes());
        }
        assert_eq!(parse_table(&be).unwrap().rows[0][1], "ø");
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse_table(b""), Err(TableError::Empty));
        assert_eq!(parse_table(b"  \n\n"), Err(TableError::Empty));
        assert_eq!(
            parse_table(b"PK\x03\x04\x00\x00binary"),
            Err(TableError::Spreadsheet)
        );
        assert_eq!(parse_table(b"%PDF-1.4\n"), Err(TableError::Binary));
        let mut noise = b"id,text\n".to_vec();
        noise.extend((0u8..32).cycle().take(2000));
        assert_eq!(parse_table(&noise), Err(TableError::Binary));
        assert_eq!(
            parse_table(b"a,b\n1,2\n3,\"oops\n4,5\n"),
            Err(TableError::UnbalancedQuote { line: 3 })
        );
        assert_eq!(
            parse_table(b"a,b\n1,2\n3,4,5\n"),
            Err(TableError::Ragged {
                line: 3,
                expected: 2,
                found: 3
            })
        );
        assert_eq!(parse_table(b"a,b\n"), Err(TableError::NoRows));
        assert!(matches!(
            parse_table(b"a,,c\n1,2,3\n"),
            Err(TableError::BadHeader { column: 2, .. })
        ));
        assert!(matches!(
            parse_table(b"a,a\n1,2\n"),
            Err(TableError::BadHeader { column: 2, .. })
        ));
    }

    #[test]
    fn reads_the_spamassassin_sample() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/spamassassin_emails.csv"
        ))
        .unwrap();
        let t = parse_table(&bytes).unwrap();
        assert_eq!(t.columns, vec!["id", "text", "label"]);
        assert_eq!(t.rows.len(), 5894);
        assert_eq!(t.rows.iter().filter(|r| r[2] == "spam").count(), 1785);
    }
}
