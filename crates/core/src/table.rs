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
    #[error("line {line}: a quoted field starts here and is never closed; add its closing quote, and write each quote inside the field twice (\"\")")]
    UnbalancedQuote {
        /// 1-based line of the opening quote.
        line: u64,
    },
    /// A closing quote is followed by something other than the delimiter, a
    /// line end or the end of the file: usually a quote inside a quoted field
    /// that was not doubled, or an earlier field that was never closed.
    #[error("{}", stray_quote_message(*.open_line, *.line, *.column))]
    StrayQuote {
        /// 1-based line where the quoted field opened.
        open_line: u64,
        /// 1-based line of the character after the closing quote.
        line: u64,
        /// 1-based character column of that character in its line.
        column: u64,
    },
    /// Rows have a different number of fields than the header (and the user
    /// chose neither to pad nor to drop them).
    #[error("{}", ragged_message(*.expected, .first, *.count))]
    Ragged {
        /// Fields in the header.
        expected: usize,
        /// The first [`RAGGED_LISTED`] such rows: 1-based line where the row
        /// starts, and its number of fields.
        first: Vec<(u64, usize)>,
        /// How many such rows there are in all.
        count: u64,
    },
    /// The chosen delimiter cannot separate fields.
    #[error("the delimiter {0:?} cannot separate fields; choose an ASCII character such as , ; | or tab")]
    BadDelimiter(char),
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

/// Ragged rows named in a [`TableError::Ragged`] message: enough to find the
/// pattern, few enough to read.
pub const RAGGED_LISTED: usize = 5;

/// Items kept per kind in [`Repairs`]; the counts are always complete.
pub const REPAIRS_LISTED: usize = 100;

/// Items per kind spelled out by [`Repairs::summary`]: a sentence, not a list.
const SUMMARY_SHOWN: usize = 10;

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// ", and N more" when a list shows fewer items than there are.
fn and_more(count: u64, shown: usize) -> String {
    match count.saturating_sub(shown as u64) {
        0 => String::new(),
        more => format!(", and {more} more"),
    }
}

fn stray_quote_message(open_line: u64, line: u64, column: u64) -> String {
    if open_line == line {
        format!(
            "line {line}, column {column}: text follows the closing quote of a quoted field; \
             inside a quoted field write each quote twice (\"\")"
        )
    } else {
        // The field ran over line ends, so the quote that "closed" it is most
        // likely the opening quote of a later field: the real mistake is earlier.
        format!(
            "line {line}, column {column}: text follows the closing quote of a field opened on \
             line {open_line}; inside a quoted field write each quote twice (\"\"), and check \
             that the field on line {open_line} has its closing quote"
        )
    }
}

fn ragged_message(expected: usize, first: &[(u64, usize)], count: u64) -> String {
    let rows = if count == 1 {
        "1 row does not have".to_string()
    } else {
        format!("{count} rows do not have")
    };
    let listed: Vec<String> = first
        .iter()
        .map(|(line, found)| format!("line {line} has {found}"))
        .collect();
    format!(
        "{rows} the header's {} ({}{}); fix the file, or choose to pad short rows with empty \
         fields and cut long ones, or to leave such rows out",
        plural(expected as u64, "field", "fields"),
        listed.join(", "),
        and_more(count, first.len()),
    )
}

/// What to do with rows that have more or fewer fields than the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum RaggedRows {
    /// Fail with [`TableError::Ragged`], listing the first such rows.
    #[default]
    Reject,
    /// Give short rows empty fields and cut the extra fields of long rows.
    Pad,
    /// Leave such rows out.
    Drop,
}

impl RaggedRows {
    /// Every choice, for pickers.
    pub const ALL: [RaggedRows; 3] = [RaggedRows::Reject, RaggedRows::Pad, RaggedRows::Drop];

    /// Stable lower-case name, as command-line flags and saved settings use it.
    pub fn as_str(self) -> &'static str {
        match self {
            RaggedRows::Reject => "reject",
            RaggedRows::Pad => "pad",
            RaggedRows::Drop => "drop",
        }
    }

    /// Inverse of [`RaggedRows::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The choice as shown to users.
    pub fn label(self) -> &'static str {
        match self {
            RaggedRows::Reject => "Stop and list the rows",
            RaggedRows::Pad => "Pad short rows with empty fields, cut long rows",
            RaggedRows::Drop => "Leave those rows out",
        }
    }
}

/// How quotes are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum QuoteMode {
    /// RFC 4180: a quoted field must end at its closing quote, so a missing or
    /// undoubled quote is an error instead of rows silently run together.
    #[default]
    Strict,
    /// Text after a closing quote is kept in the field and an unclosed quote
    /// runs to the end of the file, as most spreadsheet programs read it; every
    /// such place is listed in [`Repairs::quotes`].
    Lenient,
}

impl QuoteMode {
    /// Every choice, for pickers.
    pub const ALL: [QuoteMode; 2] = [QuoteMode::Strict, QuoteMode::Lenient];

    /// Stable lower-case name, as command-line flags and saved settings use it.
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteMode::Strict => "strict",
            QuoteMode::Lenient => "lenient",
        }
    }

    /// Inverse of [`QuoteMode::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str() == s)
    }

    /// The choice as shown to users.
    pub fn label(self) -> &'static str {
        match self {
            QuoteMode::Strict => "Strict: stop at a misplaced quote",
            QuoteMode::Lenient => "Lenient: read misplaced quotes as text (rows may run together)",
        }
    }
}

/// The rules a [`TableReader`] reads by; the default is strict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReadRules {
    /// Rows with a different number of fields than the header.
    pub ragged: RaggedRows,
    /// Quotes that break RFC 4180.
    pub quotes: QuoteMode,
}

/// A total with the first few items, so a report stays small on a huge file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Listed<T> {
    /// How many there are in all.
    pub count: u64,
    /// The first of them (at most [`REPAIRS_LISTED`]), in file order.
    pub first: Vec<T>,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            count: 0,
            first: Vec::new(),
        }
    }
}

impl<T> Listed<T> {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Count one more; `item` is only computed while the list has room (finding
    /// a line number costs a scan).
    fn note(&mut self, limit: usize, item: impl FnOnce() -> T) {
        self.count += 1;
        if self.first.len() < limit {
            self.first.push(item());
        }
    }
}

/// What is wrong with a quote, in [`QuoteProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum QuoteProblemKind {
    /// A closing quote followed by other text than the delimiter or a line end.
    TextAfterClosingQuote,
    /// A quoted field still open at the end of the file.
    Unclosed,
}

/// A quote that breaks RFC 4180, as [`QuoteMode::Lenient`] read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct QuoteProblem {
    /// What is wrong.
    pub kind: QuoteProblemKind,
    /// 1-based line where the quoted field opened.
    pub open_line: u64,
    /// 1-based line of the problem: the character after the closing quote, or
    /// for [`QuoteProblemKind::Unclosed`] the opening quote.
    pub line: u64,
    /// 1-based character column of that character in its line.
    pub column: u64,
}

/// What a lenient read changed, so the user can check those rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Repairs {
    /// Short rows given empty fields ([`RaggedRows::Pad`]): lines where they start.
    pub padded: Listed<u64>,
    /// Long rows whose extra fields were cut ([`RaggedRows::Pad`]).
    pub cut: Listed<u64>,
    /// Rows left out for their number of fields ([`RaggedRows::Drop`]).
    pub dropped: Listed<u64>,
    /// Quotes read leniently ([`QuoteMode::Lenient`]).
    pub quotes: Listed<QuoteProblem>,
}

fn line_list(l: &Listed<u64>) -> String {
    let shown = l.first.len().min(SUMMARY_SHOWN);
    let lines: Vec<String> = l.first[..shown].iter().map(u64::to_string).collect();
    let word = if l.count == 1 { "line" } else { "lines" };
    format!("{word} {}{}", lines.join(", "), and_more(l.count, shown))
}

impl Repairs {
    /// Whether the file was read exactly as written.
    pub fn is_empty(&self) -> bool {
        self.padded.is_empty()
            && self.cut.is_empty()
            && self.dropped.is_empty()
            && self.quotes.is_empty()
    }

    /// One sentence per kind of repair, for users, e.g. "2 short rows padded
    /// with empty fields: lines 4, 9".
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.padded.is_empty() {
            out.push(format!(
                "{} padded with empty fields: {}",
                plural(self.padded.count, "short row", "short rows"),
                line_list(&self.padded)
            ));
        }
        if !self.cut.is_empty() {
            out.push(format!(
                "{} cut to the header's width (extra fields left out): {}",
                plural(self.cut.count, "long row", "long rows"),
                line_list(&self.cut)
            ));
        }
        if !self.dropped.is_empty() {
            out.push(format!(
                "{} with a different number of fields than the header left out: {}",
                plural(self.dropped.count, "row", "rows"),
                line_list(&self.dropped)
            ));
        }
        if !self.quotes.is_empty() {
            let shown = self.quotes.first.len().min(SUMMARY_SHOWN);
            let items: Vec<String> = self.quotes.first[..shown]
                .iter()
                .map(|q| match q.kind {
                    QuoteProblemKind::TextAfterClosingQuote if q.open_line == q.line => format!(
                        "line {}, column {} (text after a closing quote)",
                        q.line, q.column
                    ),
                    QuoteProblemKind::TextAfterClosingQuote => format!(
                        "line {}, column {} (text after the closing quote of a field opened on line {})",
                        q.line, q.column, q.open_line
                    ),
                    QuoteProblemKind::Unclosed => format!(
                        "line {}, column {} (a quote never closed: the rest of the file is in that field)",
                        q.line, q.column
                    ),
                })
                .collect();
            out.push(format!(
                "{} read leniently, so rows may have run together: {}{}",
                plural(self.quotes.count, "misplaced quote", "misplaced quotes"),
                items.join("; "),
                and_more(self.quotes.count, shown)
            ));
        }
        out
    }
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

/// [`decode_as`] the [`detect_encoding`] of `bytes`, validating plain UTF-8
/// (the common case, and hundreds of megabytes) once, not twice.
fn decode_detected(bytes: &[u8]) -> (String, TextEncoding) {
    match detect_encoding(&bytes[..bytes.len().min(3)]) {
        TextEncoding::Utf8 | TextEncoding::Windows1252 => match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_owned(), TextEncoding::Utf8),
            Err(_) => (decode_cp1252(bytes), TextEncoding::Windows1252),
        },
        bom => (decode_as(bytes, bom), bom),
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
    let (text, enc) = match enc {
        Some(enc) => (decode_as(bytes, enc), enc),
        None => decode_detected(bytes),
    };
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

/// The field delimiter as a byte. The CSV parser works on bytes, so it must be
/// one ASCII byte, and not the quote or a line end, which already mean something.
fn delimiter_byte(delimiter: char) -> Result<u8, TableError> {
    match delimiter {
        '"' | '\r' | '\n' => Err(TableError::BadDelimiter(delimiter)),
        d if d.is_ascii() => Ok(d as u8),
        d => Err(TableError::BadDelimiter(d)),
    }
}

/// 1-based character column of byte `at` in the line starting at byte
/// `line_start`: counts the bytes that start a UTF-8 character.
fn char_column(bytes: &[u8], line_start: usize, at: usize) -> u64 {
    let chars = bytes
        .get(line_start..at)
        .map_or(0, |s| s.iter().filter(|&&b| b & 0xC0 != 0x80).count());
    chars as u64 + 1
}

/// Check the quoting of the whole text against RFC 4180, as the CSV parser
/// will split it: a field that starts with a quote must end at a quote followed
/// by the delimiter, a line end (`\n`, `\r\n` or a lone `\r`) or the end of the
/// text, with inner quotes doubled; a quote inside an unquoted field is text.
/// In [`QuoteMode::Strict`] the first problem is the error; in
/// [`QuoteMode::Lenient`] every problem is noted in `found` and the scan goes on
/// as the parser does (after a stray quote the rest of the field is unquoted).
///
/// Works on bytes: quotes, delimiters and line ends are ASCII, and UTF-8 never
/// uses ASCII bytes inside a multi-byte character, so this is exact and several
/// times faster than walking `char`s over a large file. Columns are only counted
/// when a problem is found.
fn scan_quotes(
    text: &str,
    delim: u8,
    mode: QuoteMode,
    found: &mut Listed<QuoteProblem>,
) -> Result<(), TableError> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    // The parser skips one leading BOM (only one: a second is text), so the
    // first field starts after it, and it is no column of line 1.
    let bom = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let mut line = 1u64;
    let mut line_start = bom;
    let mut i = bom;
    // Each turn of this loop starts at the first byte of a field.
    'field: while i < n {
        if bytes[i] == b'"' {
            let (open_line, open_at, open_line_start) = (line, i, line_start);
            i += 1;
            // Inside the quotes: find the closing quote, counting line ends.
            loop {
                let Some(&c) = bytes.get(i) else {
                    if mode == QuoteMode::Strict {
                        return Err(TableError::UnbalancedQuote { line: open_line });
                    }
                    found.note(REPAIRS_LISTED, || QuoteProblem {
                        kind: QuoteProblemKind::Unclosed,
                        open_line,
                        line: open_line,
                        column: char_column(bytes, open_line_start, open_at),
                    });
                    return Ok(());
                };
                i += 1;
                match c {
                    b'"' if bytes.get(i) == Some(&b'"') => i += 1,
                    b'"' => break,
                    b'\n' => {
                        line += 1;
                        line_start = i;
                    }
                    b'\r' if bytes.get(i) != Some(&b'\n') => {
                        line += 1;
                        line_start = i;
                    }
                    _ => {}
                }
            }
            // `i` is just past the closing quote.
            match bytes.get(i) {
                None => return Ok(()),
                Some(&c) if c == delim || c == b'\n' || c == b'\r' => {
                    // The line end is counted as the next field's first byte.
                    if c == delim {
                        i += 1;
                    }
                    continue 'field;
                }
                Some(_) => {
                    let column = char_column(bytes, line_start, i);
                    if mode == QuoteMode::Strict {
                        return Err(TableError::StrayQuote {
                            open_line,
                            line,
                            column,
                        });
                    }
                    found.note(REPAIRS_LISTED, || QuoteProblem {
                        kind: QuoteProblemKind::TextAfterClosingQuote,
                        open_line,
                        line,
                        column,
                    });
                    // The parser reads the rest of the field as unquoted text.
                }
            }
        }
        // An unquoted field (or the rest of one): quotes are plain text here.
        while i < n {
            let c = bytes[i];
            i += 1;
            if c == delim {
                continue 'field;
            }
            match c {
                b'\n' => {
                    line += 1;
                    line_start = i;
                    continue 'field;
                }
                b'\r' => {
                    // In `\r\n` the `\n` counts the line.
                    if bytes.get(i) != Some(&b'\n') {
                        line += 1;
                        line_start = i;
                    }
                    continue 'field;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Line ends in `bytes[from..to]`: `\n`, and `\r` not followed by `\n`, the
/// same count [`scan_quotes`] keeps.
fn count_line_ends(bytes: &[u8], from: usize, to: usize) -> u64 {
    let Some(span) = bytes.get(from..to) else {
        return 0;
    };
    let mut ends = 0;
    for (k, &b) in span.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(from + k + 1) != Some(&b'\n')) {
            ends += 1;
        }
    }
    ends
}

/// Turns byte offsets into line numbers, scanning forward from the last offset
/// asked for: records come in order, so all the lookups of a file cost one scan.
/// The CSV parser's own line numbers count only `\n` and point at skipped blank
/// lines, so they are not used.
#[derive(Debug)]
struct LineCursor {
    byte: usize,
    line: u64,
}

impl LineCursor {
    fn new() -> Self {
        LineCursor { byte: 0, line: 1 }
    }

    /// 1-based line of the record that the parser reports at `offset`: its
    /// position is where the previous record ended, so the line ends (and blank
    /// lines) before the record's first byte are skipped.
    fn line_of_record(&mut self, bytes: &[u8], offset: usize) -> u64 {
        let mut target = offset.min(bytes.len());
        while matches!(bytes.get(target), Some(b'\r' | b'\n')) {
            target += 1;
        }
        if target < self.byte {
            *self = LineCursor::new();
        }
        self.line += count_line_ends(bytes, self.byte, target);
        self.byte = target;
        self.line
    }
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

/// Parse already-decoded text with a known delimiter, by the strict default
/// [`ReadRules`].
pub fn parse_text(
    text: &str,
    encoding: TextEncoding,
    delimiter: char,
) -> Result<Table, TableError> {
    parse_text_with(text, encoding, delimiter, ReadRules::default()).map(|(table, _)| table)
}

/// Parse already-decoded text with a known delimiter by chosen rules, with what
/// those rules repaired.
pub fn parse_text_with(
    text: &str,
    encoding: TextEncoding,
    delimiter: char,
    rules: ReadRules,
) -> Result<(Table, Repairs), TableError> {
    let mut reader = TableReader::open(text.to_string(), encoding, delimiter, rules)?;
    let mut rows = Vec::new();
    while reader.read_chunk(usize::MAX, &mut rows)? {}
    let repairs = reader.repairs().clone();
    Ok((reader.finish(rows)?, repairs))
}

/// Largest field accepted (bytes). A million characters is far more than any
/// text an LLM is asked to label.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// Reads delimited text a chunk of rows at a time, so a caller can show progress
/// and stay responsive between chunks. Same rules and errors as [`parse_text_with`].
pub struct TableReader {
    source: Source,
    delim: u8,
    columns: Vec<String>,
    encoding: TextEncoding,
    delimiter: char,
    total_bytes: u64,
    done: bool,
    rules: ReadRules,
    repairs: Repairs,
    /// Rows of the wrong length seen under [`RaggedRows::Reject`].
    ragged: Listed<(u64, usize)>,
    lines: LineCursor,
}

/// Where the rows come from.
enum Source {
    /// Text that passed the strict quote scan, split by [`crate::fastcsv`]
    /// from byte `at` until a record needs the `csv` crate.
    Fast { text: String, at: usize },
    /// The `csv` crate, for repairs, errors and everything unusual.
    Csv(csv::Reader<std::io::Cursor<Vec<u8>>>),
}

impl Source {
    /// The `csv` crate's reader, positioned at byte `at` of `text`: the start
    /// of a record after the header, which a seek keeps it from reading as one.
    fn csv_at(text: String, delim: u8, at: usize) -> Source {
        let bytes = text.as_bytes();
        // A seek makes csv_core strip a BOM again, so it starts on the line end
        // before the record (read as a skipped blank line): a U+FEFF that
        // starts a row is the row's text.
        let from = match at.checked_sub(1) {
            Some(prev) if matches!(bytes[prev], b'\n' | b'\r') => prev,
            _ => at,
        };
        let newlines = memchr::memchr_iter(b'\n', &bytes[..from]).count() as u64;
        let mut rdr = csv_reader(text, delim);
        if from > 0 {
            let mut pos = csv::Position::new();
            pos.set_byte(from as u64).set_line(newlines + 1);
            // Seeking an in-memory cursor cannot fail.
            let _ = rdr.seek(pos);
        }
        Source::Csv(rdr)
    }
}

/// How the `csv` crate reads: row lengths are checked by the reader, to list
/// or repair them all.
fn csv_reader(text: String, delim: u8) -> csv::Reader<std::io::Cursor<Vec<u8>>> {
    csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(true)
        .flexible(true)
        .from_reader(std::io::Cursor::new(text.into_bytes()))
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader")
            .field("columns", &self.columns)
            .field("position", &self.position())
            .field("total_bytes", &self.total_bytes)
            .field("rules", &self.rules)
            .finish()
    }
}

impl TableReader {
    /// Check the quoting of the whole text (a cheap scan that names the line and
    /// column, which the lenient CSV parser cannot) and read the header.
    pub fn open(
        text: String,
        encoding: TextEncoding,
        delimiter: char,
        rules: ReadRules,
    ) -> Result<Self, TableError> {
        Self::open_as(text, encoding, delimiter, rules, true)
    }

    /// [`TableReader::open`], with the fast path allowed or not (tests compare both).
    fn open_as(
        text: String,
        encoding: TextEncoding,
        delimiter: char,
        rules: ReadRules,
        fast: bool,
    ) -> Result<Self, TableError> {
        let delim = delimiter_byte(delimiter)?;
        let mut repairs = Repairs::default();
        // The csv crate strips a BOM the decoder left (a second one) from the
        // header, and only it reads quotes leniently.
        let fast = fast && rules.quotes == QuoteMode::Strict && !text.starts_with('\u{feff}');
        // The fast splitter meets every quote problem the strict scan finds, so
        // the scan (a pass over the whole text) only runs once it gives up.
        if !fast {
            scan_quotes(&text, delim, rules.quotes, &mut repairs.quotes)?;
        }
        let total_bytes = text.len() as u64;
        let mut head = Vec::new();
        let fast_at = match fast {
            true => match crate::fastcsv::split_record(&text, 0, delim, &mut head) {
                Ok(Some((_, at))) => Some(at),
                _ => None,
            },
            false => None,
        };
        let (source, header) = match fast_at {
            Some(at) => (Source::Fast { text, at }, head),
            None => {
                if fast {
                    scan_quotes(&text, delim, rules.quotes, &mut repairs.quotes)?;
                }
                let mut rdr = csv_reader(text, delim);
                let head = rdr
                    .headers()
                    .map_err(|e| TableError::Syntax {
                        line: 1,
                        message: e.to_string(),
                    })?
                    .iter()
                    .map(str::to_string)
                    .collect();
                (Source::Csv(rdr), head)
            }
        };
        let columns: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        if let Err(bad_header) = check_header(&columns) {
            // A quote problem is reported before the header's.
            if let Source::Fast { text, .. } = &source {
                scan_quotes(text, delim, rules.quotes, &mut repairs.quotes)?;
            }
            return Err(bad_header);
        }
        Ok(TableReader {
            source,
            delim,
            columns,
            encoding,
            delimiter,
            total_bytes,
            done: false,
            rules,
            repairs,
            ragged: Listed::default(),
            lines: LineCursor::new(),
        })
    }

    /// Header cells.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Bytes of the text read so far.
    pub fn position(&self) -> u64 {
        match &self.source {
            Source::Fast { at, .. } => *at as u64,
            Source::Csv(rdr) => rdr.position().byte(),
        }
    }

    /// Size of the text in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// The rules this reader reads by.
    pub fn rules(&self) -> ReadRules {
        self.rules
    }

    /// What was repaired so far: quote problems (known from the start) and the
    /// rows padded, cut or dropped in the chunks read.
    pub fn repairs(&self) -> &Repairs {
        &self.repairs
    }

    /// Read up to `max` more records, appending the rows kept to `out`; returns
    /// whether records may remain. At the end of the text, rows of the wrong
    /// length are the error under [`RaggedRows::Reject`].
    pub fn read_chunk(
        &mut self,
        max: usize,
        out: &mut Vec<Vec<String>>,
    ) -> Result<bool, TableError> {
        if self.done {
            return Ok(false);
        }
        let mut n = 0;
        if let Source::Fast { text, at } = &mut self.source {
            let width = self.columns.len();
            while n < max {
                let mut row = Vec::with_capacity(width);
                match crate::fastcsv::split_record(text, *at, self.delim, &mut row) {
                    Ok(None) => {
                        *at = text.len();
                        self.done = true;
                        return Ok(false);
                    }
                    Ok(Some((start, end))) => {
                        // A blank line in a multi-column file is not a row.
                        if row.len() == 1 && width > 1 && row[0].trim().is_empty() {
                            *at = end;
                            continue;
                        }
                        // Wrong widths and huge fields are reported (or
                        // repaired) with their line by the csv crate.
                        if row.len() != width || row.iter().any(|f| f.len() > MAX_FIELD_BYTES) {
                            *at = start;
                            break;
                        }
                        *at = end;
                        n += 1;
                        out.push(row);
                    }
                    // Unreachable after the strict scan, but the csv crate
                    // knows what to make of it.
                    Err(crate::fastcsv::Fallback) => break,
                }
            }
            if n == max {
                return Ok(true);
            }
            let at = *at;
            let text = std::mem::take(text);
            // Strict: names the quote problem the splitter met, with its line.
            scan_quotes(
                &text,
                self.delim,
                self.rules.quotes,
                &mut self.repairs.quotes,
            )?;
            self.source = Source::csv_at(text, self.delim, at);
        }
        self.read_csv(max - n, out)
    }

    /// [`TableReader::read_chunk`] by the `csv` crate.
    fn read_csv(&mut self, max: usize, out: &mut Vec<Vec<String>>) -> Result<bool, TableError> {
        let Source::Csv(rdr) = &mut self.source else {
            return Ok(true);
        };
        let width = self.columns.len();
        let mut rec = csv::StringRecord::new();
        let mut n = 0;
        while n < max {
            let more = rdr.read_record(&mut rec).map_err(|e| TableError::Syntax {
                line: e.position().map_or(0, |p| p.line()),
                message: e.to_string(),
            })?;
            if !more {
                self.done = true;
                self.check_ragged()?;
                return Ok(false);
            }
            // A blank line in a multi-column file is not a row.
            if rec.len() == 1 && rec[0].trim().is_empty() && width > 1 {
                continue;
            }
            n += 1;
            let offset = rec.position().map_or(0, |p| p.byte() as usize);
            let bytes = rdr.get_ref().get_ref();
            let lines = &mut self.lines;
            let mut line = || lines.line_of_record(bytes, offset);
            if let Some((c, f)) = rec
                .iter()
                .enumerate()
                .find(|(_, f)| f.len() > MAX_FIELD_BYTES)
            {
                return Err(TableError::FieldTooLarge {
                    line: line(),
                    column: self
                        .columns
                        .get(c)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", c + 1)),
                    bytes: f.len(),
                    limit: MAX_FIELD_BYTES,
                });
            }
            let found = rec.len();
            if found != width {
                match self.rules.ragged {
                    RaggedRows::Reject => {
                        self.ragged.note(RAGGED_LISTED, || (line(), found));
                    }
                    RaggedRows::Drop => self.repairs.dropped.note(REPAIRS_LISTED, line),
                    RaggedRows::Pad => {
                        let list = if found < width {
                            &mut self.repairs.padded
                        } else {
                            &mut self.repairs.cut
                        };
                        list.note(REPAIRS_LISTED, line);
                        let mut row: Vec<String> =
                            rec.iter().take(width).map(str::to_string).collect();
                        row.resize(width, String::new());
                        out.push(row);
                    }
                }
                continue;
            }
            // Once a row is rejected the import fails at the end: reading on
            // only finds the other such rows, and keeping rows would cost memory.
            if self.ragged.is_empty() {
                out.push(rec.iter().map(str::to_string).collect());
            }
        }
        Ok(true)
    }

    /// The error for rows of the wrong length under [`RaggedRows::Reject`].
    fn check_ragged(&self) -> Result<(), TableError> {
        if self.rules.ragged == RaggedRows::Reject && !self.ragged.is_empty() {
            return Err(TableError::Ragged {
                expected: self.columns.len(),
                first: self.ragged.first.clone(),
                count: self.ragged.count,
            });
        }
        Ok(())
    }

    /// The table from all rows read; fails as [`TableReader::read_chunk`] does
    /// at the end if rows of the wrong length were rejected.
    pub fn finish(self, rows: Vec<Vec<String>>) -> Result<Table, TableError> {
        self.check_ragged()?;
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
        let mut r =
            TableReader::open(text.clone(), TextEncoding::Utf8, ',', ReadRules::default()).unwrap();
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
        // Rows of the wrong length are all listed in the chunk that reaches the
        // end, with their lines; reading goes on past the first.
        let mut r = TableReader::open(
            "a,b\n1,2\n3\n4,5\n6,7,8\n".into(),
            TextEncoding::Utf8,
            ',',
            ReadRules::default(),
        )
        .unwrap();
        let mut rows = Vec::new();
        assert_eq!(r.read_chunk(2, &mut rows), Ok(true));
        let err = Err(TableError::Ragged {
            expected: 2,
            first: vec![(3, 1), (5, 3)],
            count: 2,
        });
        assert_eq!(r.read_chunk(10, &mut rows), err);
        assert_eq!(r.finish(rows).map(|_| true), err);
    }

    const SAMPLE: &str = "id,text,label\n1,\"ok\",a\n2,\"unterminated quote,c\n3,\"x\",d\n";

    fn strict(text: &str) -> Result<Table, TableError> {
        parse_text(text, TextEncoding::Utf8, ',')
    }

    fn with(
        text: &str,
        ragged: RaggedRows,
        quotes: QuoteMode,
    ) -> Result<(Table, Repairs), TableError> {
        parse_text_with(text, TextEncoding::Utf8, ',', ReadRules { ragged, quotes })
    }

    #[test]
    fn an_unclosed_quote_that_swallows_a_row_is_an_error_that_names_both_lines() {
        let err = strict(SAMPLE).unwrap_err();
        assert_eq!(
            err,
            TableError::StrayQuote {
                open_line: 3,
                line: 4,
                column: 4
            }
        );
        let msg = err.to_string();
        assert!(msg.starts_with("line 4, column 4: "), "{msg}");
        assert!(msg.contains("line 3") && msg.contains("\"\""), "{msg}");
        // Leniently, the parser's reading: row 3 runs into row 2's text, and
        // the repair list says where.
        let (t, repairs) = with(SAMPLE, RaggedRows::Reject, QuoteMode::Lenient).unwrap();
        assert_eq!(
            t.rows,
            vec![
                vec!["1", "ok", "a"],
                vec!["2", "unterminated quote,c\n3,x\"", "d"]
            ]
        );
        let problem = QuoteProblem {
            kind: QuoteProblemKind::TextAfterClosingQuote,
            open_line: 3,
            line: 4,
            column: 4,
        };
        assert_eq!(
            repairs.quotes,
            Listed {
                count: 1,
                first: vec![problem]
            }
        );
        assert!(!repairs.is_empty());
        assert_eq!(
            repairs.summary(),
            vec![
                "1 misplaced quote read leniently, so rows may have run together: line 4, column 4 \
                 (text after the closing quote of a field opened on line 3)"
            ]
        );
    }

    #[test]
    fn quotes_follow_rfc_4180() {
        // Text right after a closing quote, on the same line; columns count characters.
        let err = strict("id,text\n1,\"blåbær\" x\n").unwrap_err();
        assert_eq!(
            err,
            TableError::StrayQuote {
                open_line: 2,
                line: 2,
                column: 11
            }
        );
        assert_eq!(
            err.to_string(),
            "line 2, column 11: text follows the closing quote of a quoted field; inside a quoted \
             field write each quote twice (\"\")"
        );
        assert!(matches!(
            strict("id,text\n1,\"say \"hi\" now\"\n"),
            Err(TableError::StrayQuote {
                line: 2,
                column: 9,
                ..
            })
        ));
        // A closing quote may be followed by the delimiter, any line end or the end.
        for text in [
            "id,text\r\n1,\"a\"\r\n2,\"b\"\r\n",
            "id,text\r1,\"a\"\r2,\"b\"",
            "id,text\n1,\"a\"\n2,\"b\"",
            "id,text\n1,\"a\",\n2,\"b\",\n"
                .replace(",\n", "\n")
                .as_str(),
        ] {
            let t = strict(text).unwrap();
            assert_eq!(t.rows, vec![vec!["1", "a"], vec!["2", "b"]], "{text:?}");
        }
        let t = strict("\"id\",\"text\"\n\"1\",\"x\"\"y\"\"\r\nz\"\n").unwrap();
        assert_eq!(t.rows, vec![vec!["1", "x\"y\"\r\nz"]]);
        // A quote inside an unquoted field is text.
        let t = strict("id,text\n1,a 5\" screen\n2, \"b\"\n").unwrap();
        assert_eq!(t.rows[0][1], "a 5\" screen");
        assert_eq!(t.rows[1][1], " \"b\"");
        // Lines are counted for lone \r too.
        assert!(matches!(
            strict("id,text\r1,\"a\"b\r"),
            Err(TableError::StrayQuote {
                line: 2,
                column: 6,
                ..
            })
        ));
        // Unclosed at the end of the file: strict says how to fix it, lenient
        // reads the rest into the field and says where it opened.
        let text = "id,text\n1,ok\n2,\"née\n3,x\n";
        let err = strict(text).unwrap_err();
        assert_eq!(err, TableError::UnbalancedQuote { line: 3 });
        assert!(err.to_string().contains("(\"\")"), "{err}");
        let (t, repairs) = with(text, RaggedRows::Reject, QuoteMode::Lenient).unwrap();
        assert_eq!(t.rows[1], vec!["2", "née\n3,x\n"]);
        assert_eq!(
            repairs.quotes.first,
            vec![QuoteProblem {
                kind: QuoteProblemKind::Unclosed,
                open_line: 3,
                line: 3,
                column: 3
            }]
        );
        // Lenient notes every problem, strict stops at the first.
        let text = "id,text\n1,\"a\"b\n2,\"c\"d\n3,ok\n";
        assert!(matches!(
            strict(text),
            Err(TableError::StrayQuote { line: 2, .. })
        ));
        let (t, repairs) = with(text, RaggedRows::Reject, QuoteMode::Lenient).unwrap();
        assert_eq!(t.rows.len(), 3);
        assert_eq!(repairs.quotes.count, 2);
        assert_eq!(repairs.quotes.first[1].line, 3);
        // A BOM is not a character of line 1.
        assert!(matches!(
            strict("\u{feff}\"id\"x,text\n1,2\n"),
            Err(TableError::StrayQuote {
                line: 1,
                column: 5,
                ..
            })
        ));
        assert_eq!(
            strict("\u{feff}\"id\",text\n1,2\n").unwrap().columns,
            vec!["id", "text"]
        );
        // Only one BOM is skipped, so after a second one a quote is text.
        assert_eq!(
            strict("\u{feff}\u{feff}\"id\"x,text\n1,2\n")
                .unwrap()
                .columns,
            vec!["\u{feff}\"id\"x", "text"]
        );
        // Delimiters that cannot work are refused, not misread.
        for d in ['"', '\n', 'æ'] {
            assert_eq!(
                parse_text("a\n1\n", TextEncoding::Utf8, d),
                Err(TableError::BadDelimiter(d))
            );
        }
    }

    #[test]
    fn ragged_rows_are_listed_padded_or_dropped_by_choice() {
        let mut text = String::from("a,b,c\n1,2,3\n");
        // Lines 3.. alternate: short, ok, long, ok; 8 bad rows in all.
        for i in 0..16 {
            text.push_str(match i % 4 {
                0 => "x,y\n",
                2 => "x,y,z,w\n",
                _ => "p,q,r\n",
            });
        }
        let err = strict(&text).unwrap_err();
        assert_eq!(
            err,
            TableError::Ragged {
                expected: 3,
                first: vec![(3, 2), (5, 4), (7, 2), (9, 4), (11, 2)],
                count: 8
            }
        );
        assert_eq!(
            err.to_string(),
            "8 rows do not have the header's 3 fields (line 3 has 2, line 5 has 4, line 7 has 2, \
             line 9 has 4, line 11 has 2, and 3 more); fix the file, or choose to pad short rows \
             with empty fields and cut long ones, or to leave such rows out"
        );
        let (t, repairs) = with(&text, RaggedRows::Pad, QuoteMode::Strict).unwrap();
        assert_eq!(t.rows.len(), 17);
        assert_eq!(t.rows[1], vec!["x", "y", ""]);
        assert_eq!(t.rows[3], vec!["x", "y", "z"]);
        assert_eq!(repairs.padded.first, vec![3, 7, 11, 15]);
        assert_eq!(repairs.cut.first, vec![5, 9, 13, 17]);
        assert_eq!((repairs.padded.count, repairs.cut.count), (4, 4));
        assert!(repairs.dropped.is_empty() && repairs.quotes.is_empty());
        assert_eq!(
            repairs.summary(),
            vec![
                "4 short rows padded with empty fields: lines 3, 7, 11, 15",
                "4 long rows cut to the header's width (extra fields left out): lines 5, 9, 13, 17"
            ]
        );
        let (t, repairs) = with(&text, RaggedRows::Drop, QuoteMode::Strict).unwrap();
        assert_eq!(t.rows.len(), 9);
        assert!(t.rows.iter().all(|r| r[0] != "x"));
        assert_eq!(repairs.dropped.count, 8);
        assert_eq!(repairs.dropped.first, vec![3, 5, 7, 9, 11, 13, 15, 17]);
        assert!(repairs.padded.is_empty() && repairs.cut.is_empty());
        // One row; lines are where a row starts, past blank lines and quoted
        // line ends, with \r\n line ends.
        let text = "a,b\r\n\r\n1,\"x\r\ny\"\r\n\r\n\r\n3\r\n";
        let err = strict(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 row does not have the header's 2 fields (line 7 has 1); fix the file, or choose \
             to pad short rows with empty fields and cut long ones, or to leave such rows out"
        );
        // Dropping every row leaves none.
        assert_eq!(
            with("a,b\n1\n2\n", RaggedRows::Drop, QuoteMode::Strict),
            Err(TableError::NoRows)
        );
        // Many repairs: the counts are complete, the lists and the summary short.
        let mut text = String::from("a,b\n");
        for _ in 0..250 {
            text.push_str("1\n1,2\n");
        }
        let (_, repairs) = with(&text, RaggedRows::Pad, QuoteMode::Strict).unwrap();
        assert_eq!(repairs.padded.count, 250);
        assert_eq!(repairs.padded.first.len(), REPAIRS_LISTED);
        assert_eq!(repairs.padded.first[99], 200);
        assert_eq!(
            repairs.summary(),
            vec!["250 short rows padded with empty fields: lines 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, and 240 more"]
        );
        assert!(with("a,b\n1,2\n", RaggedRows::Pad, QuoteMode::Lenient)
            .unwrap()
            .1
            .is_empty());
    }

    #[test]
    fn read_rules_have_names_for_choices() {
        for r in RaggedRows::ALL {
            assert_eq!(RaggedRows::parse(r.as_str()), Some(r));
            assert!(!r.label().is_empty());
        }
        for q in QuoteMode::ALL {
            assert_eq!(QuoteMode::parse(q.as_str()), Some(q));
            assert!(!q.label().is_empty());
        }
        assert_eq!(RaggedRows::default(), RaggedRows::Reject);
        assert_eq!(QuoteMode::default(), QuoteMode::Strict);
        let rules: ReadRules = serde_json::from_str("{\"ragged\":\"Pad\"}").unwrap();
        assert_eq!(rules.ragged, RaggedRows::Pad);
        assert_eq!(rules.quotes, QuoteMode::Strict);
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
                expected: 2,
                first: vec![(3, 3)],
                count: 1
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

    /// Columns, rows, repairs and the end position.
    type ReadAll = (Vec<String>, Vec<Vec<String>>, Repairs, u64);

    /// Everything a reader gives for `text`, read `chunk` rows at a time.
    fn read_all(
        text: &str,
        rules: ReadRules,
        chunk: usize,
        fast: bool,
    ) -> Result<ReadAll, TableError> {
        let mut r = TableReader::open_as(text.to_string(), TextEncoding::Utf8, ',', rules, fast)?;
        let mut rows = Vec::new();
        while r.read_chunk(chunk, &mut rows)? {}
        let (end, repairs) = (r.position(), r.repairs().clone());
        let table = r.finish(rows)?;
        Ok((table.columns, table.rows, repairs, end))
    }

    fn all_rules() -> Vec<ReadRules> {
        let mut all = Vec::new();
        for ragged in [RaggedRows::Reject, RaggedRows::Pad, RaggedRows::Drop] {
            for quotes in [QuoteMode::Strict, QuoteMode::Lenient] {
                all.push(ReadRules { ragged, quotes });
            }
        }
        all
    }

    #[test]
    fn the_fast_path_reads_as_the_csv_crate_does() {
        let cases = [
            "id,text\n1,a\n2,b\n",
            "id,text\r\n1,a\r\n2,b",
            "id,text\r1,a\r2,b\r",
            " id , text \n1,\"a,b\"\n\n\n2,\"x\"\"y\"\"\"\n",
            "id,text\n1,\"multi\r\nline\"\n2,\n",
            "id,text\n1,\n,\n   \n1,x\n",
            "id\n  \n1\n",
            "id,text\n1,ab\"c\"d\n1,\"\"\n",
            "id,text\n1,x,\n2,y\n3\n4,z\n",
            "id,text\n1,\"a\"b\n2,\"open\n",
            "\n\nid,text\n1,2\n",
            "\u{feff}id,text\n1,blåbær ✓\n",
            "id,text\n1,\"x\"",
        ];
        for c in cases {
            for rules in all_rules() {
                for chunk in [1, 2, usize::MAX] {
                    assert_eq!(
                        read_all(c, rules, chunk, true),
                        read_all(c, rules, chunk, false),
                        "{c:?} {rules:?} chunk {chunk}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_huge_field_after_fast_rows_is_named_by_its_line() {
        let text = format!("id,text\n1,a\n2,b\n3,{}\n", "x".repeat(MAX_FIELD_BYTES + 1));
        let err = read_all(&text, ReadRules::default(), 1, true).unwrap_err();
        assert!(
            matches!(err, TableError::FieldTooLarge { line: 4, .. }),
            "{err:?}"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn the_fast_path_agrees_on_any_text(
            body in proptest::collection::vec(
                proptest::sample::select(vec!["a", "bé", ",", ",", "\"", "\n", "\n", "\r", " ", "\r\n", "\u{feff}"]),
                0..40,
            ),
            head in proptest::sample::select(vec!["a,b\n", "a\n", "a,b,c\r\n", "\"a\",b\n", ""]),
            rule in 0usize..6,
            chunk in 1usize..4,
        ) {
            let text = format!("{head}{}", body.concat());
            let rules = all_rules()[rule];
            proptest::prop_assert_eq!(
                read_all(&text, rules, chunk, true),
                read_all(&text, rules, chunk, false),
                "{:?}", text
            );
        }
    }
}
