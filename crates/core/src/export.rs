//! Writing annotated rows back out: CSV, JSON Lines and Excel workbooks (.xlsx).
//!
//! The XLSX writer is hand-rolled (a zip of six small XML parts) for the same reason
//! the reader in [`crate::xlsx`] is: a spreadsheet library would bloat the
//! WebAssembly bundle, and a single sheet of text cells needs only a deflater.
//!
//! Exports can be large (100,000 rows × 15 columns in the browser), so the writers
//! append into one pre-sized buffer and escape cells in place instead of allocating a
//! `String` per cell.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Defuse spreadsheet formula injection ("CSV injection", OWASP): a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so Excel
/// and LibreOffice show it as text instead of evaluating it (a label such as
/// `=HYPERLINK("http://evil", "click")` in a model answer would otherwise run when
/// the export is opened).
///
/// The trade-off: the value changes. A negative number such as `-5` becomes `'-5`
/// (text, not a number, in a spreadsheet; the `'` shows up in other tools), and so
/// does any text that merely starts with a trigger (`- item`, `@user`). Exports of
/// model answers are text, so safety wins; use [`write_csv`] or [`write_jsonl`] when
/// the exact value matters more than how a spreadsheet opens the file.
///
/// Harmless cells are borrowed, not copied.
pub fn neutralise_formula(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => {
            let mut s = String::with_capacity(cell.len() + 1);
            s.push('\'');
            s.push_str(cell);
            Cow::Owned(s)
        }
        _ => Cow::Borrowed(cell),
    }
}

/// How a user-facing CSV export is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Start the file with a UTF-8 byte order mark (U+FEFF). Excel needs it to read
    /// a CSV as UTF-8 rather than the system code page (æøå would turn into
    /// mojibake); other tools, and our own importer, skip it. Off by default.
    pub bom: bool,
}

/// Write a CSV (RFC 4180, `,`, CRLF-free `\n` line ends, every field quoted only when
/// needed) with a header row.
///
/// Cells are written exactly as given, so the file round-trips through any CSV
/// reader (including [`crate::table::parse_table`]) unchanged. That makes it unsafe
/// to open in a spreadsheet when cells come from users or models: for files users
/// download, use [`write_csv_with`], which defuses formulas.
pub fn write_csv<R, F>(header: &[String], rows: R) -> String
where
    R: IntoIterator<Item = F>,
    F: IntoIterator,
    F::Item: AsRef<str>,
{
    csv_impl(Some(header), rows, false, false)
}

/// Write a CSV for people to open in a spreadsheet: like [`write_csv`] (UTF-8,
/// `,`, `\n`, minimal quoting), but every cell, header included, goes through
/// [`neutralise_formula`], and with [`ExportOptions::bom`] the file starts with a
/// byte order mark for Excel.
pub fn write_csv_with<R, F>(header: &[String], rows: R, opts: &ExportOptions) -> String
where
    R: IntoIterator<Item = F>,
    F: IntoIterator,
    F::Item: AsRef<str>,
{
    csv_impl(Some(header), rows, opts.bom, true)
}

/// More rows of a [`write_csv_with`] table, without its header or BOM: appended
/// to the first part's bytes, the parts are the whole table's encoding (so a long
/// table can be encoded a slice of rows at a time).
pub fn write_csv_rows<R, F>(rows: R) -> String
where
    R: IntoIterator<Item = F>,
    F: IntoIterator,
    F::Item: AsRef<str>,
{
    csv_impl(None, rows, false, true)
}

fn csv_impl<R, F>(header: Option<&[String]>, rows: R, bom: bool, neutralise: bool) -> String
where
    R: IntoIterator<Item = F>,
    F: IntoIterator,
    F::Item: AsRef<str>,
{
    let rows = rows.into_iter();
    let columns = header.map_or(1, <[String]>::len);
    let mut out = Vec::with_capacity(estimate(columns, rows.size_hint().0, 16));
    if bom {
        out.extend_from_slice("\u{FEFF}".as_bytes());
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    fn cell(s: &str, neutralise: bool) -> Cow<'_, str> {
        if neutralise {
            neutralise_formula(s)
        } else {
            Cow::Borrowed(s)
        }
    }
    // Writing to a Vec cannot fail with an I/O error, and every record is the same
    // shape the caller built, so errors here are programming errors. Fields are
    // written one at a time so a row needs no intermediate Vec.
    if let Some(header) = header {
        for h in header {
            w.write_field(cell(h, neutralise).as_bytes())
                .expect("write to memory");
        }
        w.write_record(None::<&[u8]>).expect("write to memory");
    }
    for row in rows {
        for f in row {
            w.write_field(cell(f.as_ref(), neutralise).as_bytes())
                .expect("write to memory");
        }
        w.write_record(None::<&[u8]>).expect("write to memory");
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV of UTF-8 fields")
}

/// A first guess at an output size, so big exports do not regrow from empty.
fn estimate(columns: usize, rows: usize, per_cell: usize) -> usize {
    (rows.saturating_add(1))
        .saturating_mul(columns.max(1))
        .saturating_mul(per_cell)
        .min(1 << 28)
}

/// Write JSON Lines: one object per row and line, keys the header names in header
/// order, values JSON strings. Cells past the header's width are dropped and missing
/// ones written as `""`, so every line has the same keys; header names should be
/// unique (a repeated key is written twice, and most parsers keep the last).
///
/// Formulas are not defused: JSON is read by programs, not evaluated by a
/// spreadsheet, and a `'` prefix would corrupt values such as `-5` for them.
/// Whoever turns the JSON into a spreadsheet is the one who must defuse it.
pub fn write_jsonl<R, F>(header: &[String], rows: R) -> String
where
    R: IntoIterator<Item = F>,
    F: IntoIterator,
    F::Item: AsRef<str>,
{
    let rows = rows.into_iter();
    let mut out: Vec<u8> = Vec::with_capacity(estimate(header.len(), rows.size_hint().0, 24));
    // Keys are escaped once, not per row.
    let keys: Vec<String> = header
        .iter()
        .map(|h| serde_json::to_string(h).expect("a string serialises"))
        .collect();
    for row in rows {
        out.push(b'{');
        let mut cells = row.into_iter();
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key.as_bytes());
            out.push(b':');
            match cells.next() {
                Some(c) => serde_json::to_writer(&mut out, c.as_ref()).expect("write to memory"),
                None => out.extend_from_slice(b"\"\""),
            }
        }
        out.extend_from_slice(b"}\n");
    }
    String::from_utf8(out).expect("JSON of UTF-8 strings")
}

/// Most characters (UTF-16 code units, as Excel counts) a cell can hold.
pub const XLSX_MAX_CELL_CHARS: usize = 32_767;

/// Write a one-sheet Excel workbook (.xlsx, Office Open XML SpreadsheetML) with a
/// bold header row and every cell as text.
///
/// - `sheet_name` is made valid for Excel: `[]:*?/\` and control characters are
///   removed, as are leading/trailing `'`, it is cut to 31 characters, and an empty
///   result becomes `Sheet1`.
/// - Cells are inline strings, which Excel never evaluates, so unlike
///   [`write_csv_with`] no `'` prefix is added: `=1+1` stays the text `=1+1`.
/// - Characters XML 1.0 cannot carry (control characters other than tab, LF and
///   CR; U+FFFE, U+FFFF) are dropped.
/// - A cell longer than Excel's limit of 32,767 characters ([`XLSX_MAX_CELL_CHARS`],
///   counted in UTF-16 units) is truncated to it: Excel refuses to open a file with
///   a longer cell, so losing the tail beats losing the file.
/// - Text that looks like Excel's own character escape `_xHHHH_` gets its `_`
///   escaped (`_x005F_xHHHH_`) so Excel and calamine show it literally. Our reader,
///   [`crate::xlsx`], does not decode these escapes and would show the `_x005F`.
/// - Empty cells are left out (Excel writes them that way too).
///
/// Excel opens at most 1,048,576 rows and 16,384 columns; this does not check.
pub fn write_xlsx<R, F>(sheet_name: &str, header: &[String], rows: R) -> Vec<u8>
where
    R: IntoIterator<Item = F>,
    F: IntoIterator,
    F::Item: AsRef<str>,
{
    let sheet = sheet_xml(header, rows);
    let mut workbook = String::with_capacity(512);
    workbook.push_str(concat!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
        "\n",
        r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" "#,
        r#"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#,
        r#"<sheets><sheet name=""#
    ));
    push_escaped(&mut workbook, &sheet_title(sheet_name));
    workbook.push_str(r#"" sheetId="1" r:id="rId1"/></sheets></workbook>"#);

    let mut zip = ZipWriter::default();
    zip.add("[Content_Types].xml", CONTENT_TYPES.as_bytes());
    zip.add("_rels/.rels", ROOT_RELS.as_bytes());
    zip.add("xl/workbook.xml", workbook.as_bytes());
    zip.add("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes());
    zip.add("xl/styles.xml", STYLES.as_bytes());
    zip.add("xl/worksheets/sheet1.xml", sheet.as_bytes());
    zip.finish()
}

const CONTENT_TYPES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\n",
    r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
    r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#,
    r#"<Default Extension="xml" ContentType="application/xml"/>"#,
    r#"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    r#"<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#,
    r#"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#,
    r#"</Types>"#
);

const ROOT_RELS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\n",
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#,
    r#"</Relationships>"#
);

const WORKBOOK_RELS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\n",
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#,
    r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#,
    r#"</Relationships>"#
);

/// Two cell formats: 0 plain, 1 bold (the header). Excel requires the two default
/// fills (none, gray125) and one border to be present.
const STYLES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\n",
    r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    r#"<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>"#,
    r#"<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>"#,
    r#"<fills count="2"><fill><patternFill patternType="none"/></fill>"#,
    r#"<fill><patternFill patternType="gray125"/></fill></fills>"#,
    r#"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#,
    r#"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#,
    r#"<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#,
    r#"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>"#,
    r#"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#,
    r#"</styleSheet>"#
);

/// A sheet name Excel accepts (see [`write_xlsx`]).
fn sheet_title(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|&c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') && xml_char(c))
        .collect();
    // Excel counts UTF-16 units; an emoji takes two of the 31.
    let mut units = 0;
    let cut: String = cleaned
        .trim_matches('\'')
        .chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= 31
        })
        .collect();
    // Cutting can expose a trailing `'` again.
    let cut = cut.trim_end_matches('\'');
    if cut.trim().is_empty() {
        "Sheet1".to_string()
    } else {
        cut.to_string()
    }
}

/// Whether XML 1.0 allows the character (Rust `char`s are never surrogates).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{FFFD}' | '\u{10000}'..)
}

/// Column letters of a 0-based index: 0 → A, 25 → Z, 26 → AA, 701 → ZZ, 702 → AAA.
fn column_name(mut i: usize) -> String {
    let mut letters = Vec::with_capacity(3);
    loop {
        letters.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// The worksheet part: `<sheetData>` with one inline-string cell per non-empty cell.
///
/// Inline strings (`t="inlineStr"`) hold text only; a formula would need an `<f>`
/// element, which is never written, so no cell can be evaluated.
fn sheet_xml<R, F>(header: &[String], rows: R) -> String
where
    R: IntoIterator<Item = F>,
    F: IntoIterator,
    F::Item: AsRef<str>,
{
    let rows = rows.into_iter();
    let mut w = SheetWriter {
        out: String::with_capacity(estimate(header.len(), rows.size_hint().0, 56)),
        columns: Vec::new(),
        row_no: String::new(),
    };
    w.out.push_str(concat!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
        "\n",
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
        r#"<sheetData>"#
    ));
    w.start_row(1);
    for (i, h) in header.iter().enumerate() {
        w.cell(i, h, true);
    }
    w.out.push_str("</row>");
    for (n, row) in rows.enumerate() {
        w.start_row(n + 2);
        for (i, c) in row.into_iter().enumerate() {
            w.cell(i, c.as_ref(), false);
        }
        w.out.push_str("</row>");
    }
    w.out.push_str("</sheetData></worksheet>");
    w.out
}

/// Appends rows to a worksheet part, reusing the cell reference pieces.
struct SheetWriter {
    out: String,
    /// Column letters, computed once per column rather than per cell.
    columns: Vec<String>,
    /// The current row number as text.
    row_no: String,
}

impl SheetWriter {
    fn start_row(&mut self, n: usize) {
        self.row_no.clear();
        write!(self.row_no, "{n}").expect("write to a String");
        self.out.push_str(r#"<row r=""#);
        self.out.push_str(&self.row_no);
        self.out.push_str(r#"">"#);
    }

    fn cell(&mut self, i: usize, text: &str, bold: bool) {
        if text.is_empty() {
            return;
        }
        while self.columns.len() <= i {
            self.columns.push(column_name(self.columns.len()));
        }
        let out = &mut self.out;
        out.push_str(r#"<c r=""#);
        out.push_str(&self.columns[i]);
        out.push_str(&self.row_no);
        out.push_str(if bold {
            r#"" s="1" t="inlineStr"><is><t"#
        } else {
            r#"" t="inlineStr"><is><t"#
        });
        // Readers (Excel, calamine) trim ASCII whitespace around a `<t>` unless told
        // to preserve it; saying so only when needed keeps big sheets smaller.
        let edge = |c: Option<char>| matches!(c, Some(' ' | '\t' | '\n' | '\r'));
        if edge(text.chars().next()) || edge(text.chars().next_back()) {
            out.push_str(r#" xml:space="preserve""#);
        }
        out.push('>');
        if text.len() > XLSX_MAX_CELL_CHARS {
            // Only long cells pay for a cleaned copy: the limit counts what Excel
            // keeps, so dropped characters must not count.
            let cleaned: String = text.chars().filter(|&c| xml_char(c)).collect();
            push_escaped(out, truncate_utf16(&cleaned, XLSX_MAX_CELL_CHARS));
        } else {
            // UTF-16 units never exceed UTF-8 bytes, so a short cell is within limit.
            push_escaped(out, text);
        }
        out.push_str("</t></is></c>");
    }
}

/// The longest prefix of `s` of at most `max` UTF-16 units, not splitting a
/// character.
fn truncate_utf16(s: &str, max: usize) -> &str {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &s[..i];
        }
    }
    s
}

/// Bytes [`push_escaped`] must look at; all others are copied as they are. A table
/// keeps the scan over ~100 MB of cell text to one load and branch per byte.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b != b'\t' as usize && b != b'\n' as usize;
        b += 1;
    }
    let mut i = 0;
    let marks = b"&<>\"'_\xEF";
    while i < marks.len() {
        t[marks[i] as usize] = true;
        i += 1;
    }
    t
};

/// Append `s` as XML text or attribute content: the five markup characters become
/// entities, CR becomes `&#13;` (a literal CR would be read back as LF), characters
/// XML 1.0 forbids are dropped, and a literal `_xHHHH_` gets its `_` escaped as
/// `_x005F_`, because Excel and calamine decode `_xHHHH_` as a UTF-16 unit.
fn push_escaped(out: &mut String, s: &str) {
    let b = s.as_bytes();
    // Text is copied in runs between special bytes; `done` is where the run starts.
    let mut done = 0;
    for (i, &c) in b.iter().enumerate() {
        if !SPECIAL[c as usize] {
            continue;
        }
        let (rep, skip) = match c {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&apos;", 1),
            b'\r' => ("&#13;", 1),
            // `_x0041_` → `_x005F_x0041_`: the `_` itself stays in the next run.
            b'_' if is_excel_escape(&b[i..]) => ("_x005F", 0),
            b'_' => continue,
            // U+FFFE and U+FFFF (EF BF BE / EF BF BF) are not XML characters; their
            // continuation bytes are not special, so the loop passes over them.
            0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                ("", 3)
            }
            0xEF => continue,
            _ => ("", 1), // other control characters
        };
        out.push_str(&s[done..i]);
        out.push_str(rep);
        done = i + skip;
    }
    out.push_str(&s[done..]);
}

/// Whether `b` starts with an Excel character escape, `_x` + four hex digits + `_`.
fn is_excel_escape(b: &[u8]) -> bool {
    b.len() >= 7 && b[1] == b'x' && b[2..6].iter().all(u8::is_ascii_hexdigit) && b[6] == b'_'
}

/// CRC-32 (IEEE 802.3, as zip uses) lookup tables for "slicing by 8": table 0 is
/// the classic byte-at-a-time table, table k advances a byte through k more zero
/// bytes, so eight bytes are folded per step. The sheet of a big export is ~100 MB,
/// and this is about four times faster than one byte per step.
const CRC_TABLES: [[u32; 256]; 8] = {
    let mut t = [[0u32; 256]; 8];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][n] = c;
        n += 1;
    }
    let mut n = 0;
    while n < 256 {
        let mut k = 1;
        while k < 8 {
            let prev = t[k - 1][n];
            t[k][n] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            k += 1;
        }
        n += 1;
    }
    t
};

/// CRC-32 of `data`.
fn crc32(data: &[u8]) -> u32 {
    let t = &CRC_TABLES;
    let mut c = !0u32;
    let mut chunks = data.chunks_exact(8);
    for b in &mut chunks {
        let lo = c ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        c = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][b[4] as usize]
            ^ t[2][b[5] as usize]
            ^ t[1][b[6] as usize]
            ^ t[0][b[7] as usize];
    }
    for &b in chunks.remainder() {
        c = t[0][((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// A zip archive written in memory: deflated entries, no zip64 (every part and the
/// whole archive must stay under 4 GiB, far beyond what a browser tab can build).
#[derive(Default)]
struct ZipWriter {
    out: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

/// Parts larger than this are deflated at the fastest level (see [`ZipWriter::add`]).
const FAST_DEFLATE_ABOVE: usize = 4 << 20;

/// DOS date 1980-01-01 (year 0 from 1980, month 1, day 1), time 00:00: a fixed
/// stamp keeps exports byte-for-byte reproducible.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;

impl ZipWriter {
    fn add(&mut self, name: &str, data: &[u8]) {
        // Level 6 packs best per second spent on small parts; on the ~100 MB sheet
        // of a 100,000-row export it takes ~2.4 s natively (more in WebAssembly),
        // while level 1 (miniz's fast path) takes ~0.3 s for a file ~40% larger.
        let level = if data.len() > FAST_DEFLATE_ABOVE {
            1
        } else {
            6
        };
        let packed = miniz_oxide::deflate::compress_to_vec(data, level);
        let size = |n: usize| u32::try_from(n).expect("zip part under 4 GiB");
        let (crc, csize, usize_) = (crc32(data), size(packed.len()), size(data.len()));
        let offset = size(self.out.len());
        let name_len = u16::try_from(name.len()).expect("short part name");
        // Fields shared by the local header and the central directory record:
        // version needed (2.0, deflate), flags, method 8 (deflate), time, date, CRC,
        // sizes, name length, extra length.
        let mut common = Vec::with_capacity(26);
        for v in [20u16, 0, 8, DOS_TIME, DOS_DATE] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, csize, usize_] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        common.extend_from_slice(&name_len.to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes());

        self.out.reserve(30 + name.len() + packed.len());
        self.out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        self.out.extend_from_slice(&common);
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(&packed);

        self.central
            .extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        self.central.extend_from_slice(&20u16.to_le_bytes()); // made by: 2.0, MS-DOS
        self.central.extend_from_slice(&common);
        // Comment length, disk number, internal and external attributes.
        for v in [0u16, 0, 0] {
            self.central.extend_from_slice(&v.to_le_bytes());
        }
        self.central.extend_from_slice(&0u32.to_le_bytes());
        self.central.extend_from_slice(&offset.to_le_bytes());
        self.central.extend_from_slice(name.as_bytes());
        self.entries += 1;
    }

    fn finish(mut self) -> Vec<u8> {
        let cd_offset = u32::try_from(self.out.len()).expect("zip under 4 GiB");
        let cd_size = u32::try_from(self.central.len()).expect("zip under 4 GiB");
        self.out.append(&mut self.central);
        self.out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        // This disk, disk with the directory, entries here, entries in all.
        for v in [0u16, 0, self.entries, self.entries] {
            self.out.extend_from_slice(&v.to_le_bytes());
        }
        self.out.extend_from_slice(&cd_size.to_le_bytes());
        self.out.extend_from_slice(&cd_offset.to_le_bytes());
        self.out.extend_from_slice(&0u16.to_le_bytes()); // comment length
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::import_file;

    #[test]
    fn a_table_encoded_in_slices_is_the_table_encoded_at_once() {
        let header: Vec<String> = ["id", "text", "=x"].iter().map(|s| s.to_string()).collect();
        let rows: Vec<Vec<String>> = (0..23)
            .map(|i| {
                vec![
                    format!("r{i}"),
                    format!("a \"quoted\", line\nbreak {i}"),
                    if i % 3 == 0 {
                        "=1+1".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        for bom in [false, true] {
            let opts = ExportOptions { bom };
            let whole = write_csv_with(&header, &rows, &opts);
            for size in [1, 4, 7, 23, 50] {
                let mut chunks = rows.chunks(size);
                let mut parts = write_csv_with(&header, chunks.next().unwrap_or(&[]), &opts);
                for c in chunks {
                    parts.push_str(&write_csv_rows(c));
                }
                assert_eq!(parts, whole, "bom {bom}, slices of {size}");
            }
        }
        let whole = write_jsonl(&header, &rows);
        let parts: String = rows.chunks(5).map(|c| write_jsonl(&header, c)).collect();
        assert_eq!(parts, whole);
    }
    use crate::table::parse_table;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// A sheet read back with calamine as text rows (empty cells as "").
    fn calamine_rows(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
        let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("calamine opens it");
        let range = wb.worksheet_range(sheet).expect("sheet exists");
        assert_eq!(range.start(), Some((0, 0)), "sheet starts at A1");
        range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|d| match d {
                        Data::String(s) => s.clone(),
                        Data::Empty => String::new(),
                        other => panic!("non-text cell {other:?}"),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn export_then_import_gives_the_same_cells() {
        let header = vec!["id".to_string(), "text".into(), "label".into()];
        let rows = vec![
            vec!["1", "plain", "ham"],
            vec!["2", "comma, \"quote\"\nnew line; æøå 🥰", "spam"],
            vec!["3", "", "NA"],
            vec!["4", "=1+1", "-5"],
        ];
        let csv = write_csv(&header, rows.clone());
        assert!(!csv.starts_with('\u{FEFF}'));
        let t = parse_table(csv.as_bytes()).unwrap();
        assert_eq!(t.columns, header);
        let back: Vec<Vec<&str>> = t
            .rows
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            back, rows,
            "write_csv keeps cells exactly, formulas included"
        );
    }

    #[test]
    fn formula_triggers_get_a_quote() {
        for cell in ["=1+1", "+1", "-5", "@SUM(A1)", "\tx", "\rx", "=", "-"] {
            let n = neutralise_formula(cell);
            assert!(matches!(n, Cow::Owned(_)), "{cell:?}");
            assert_eq!(n, format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn harmless_cells_are_borrowed_unchanged() {
        for cell in ["a=b", "'x", "", "5", " =1", "æøå", "\nx", "x-"] {
            let n = neutralise_formula(cell);
            assert!(matches!(n, Cow::Borrowed(_)), "{cell:?}");
            assert_eq!(n, cell);
        }
    }

    #[test]
    fn csv_with_bom_round_trips_with_neutralised_cells() {
        let header = strings(&["id", "=header", "text"]);
        let rows = vec![
            vec!["1", "-5", "plain, \"quoted\"\nnext line æøå 🥰"],
            vec!["2", "=HYPERLINK(\"http://x\",\"y\")", "@me"],
            vec!["3", "+1", "\tlead tab"],
            vec!["4", "", "a=b"],
        ];
        let opts = ExportOptions { bom: true };
        let csv = write_csv_with(&header, rows.clone(), &opts);
        assert!(csv.starts_with('\u{FEFF}'));
        let t = parse_table(csv.as_bytes()).unwrap();
        assert_eq!(t.columns, strings(&["id", "'=header", "text"]));
        let expected: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| neutralise_formula(c).into_owned())
                    .collect()
            })
            .collect();
        assert_eq!(t.rows, expected);
        assert_eq!(t.rows[0][1], "'-5");
        assert_eq!(t.rows[3][2], "a=b");

        let plain = write_csv_with(&header, rows, &ExportOptions::default());
        assert!(!plain.starts_with('\u{FEFF}'));
        assert_eq!(csv.strip_prefix('\u{FEFF}'), Some(plain.as_str()));
    }

    #[test]
    fn jsonl_lines_parse_back_in_key_order() {
        let header = strings(&["id", "text", "label", "=f"]);
        let rows = vec![
            vec![
                "1",
                "quote \" backslash \\ newline\n tab\t æøå 🥰",
                "ham",
                "-5",
            ],
            vec!["2", "", "spam", "=1+1"],
            vec!["3", "short row"],
        ];
        let out = write_jsonl(&header, rows.clone());
        assert!(out.ends_with('\n'));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), rows.len());
        for (line, row) in lines.iter().zip(&rows) {
            let obj: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(line).unwrap();
            let keys: Vec<&String> = obj.keys().collect();
            assert_eq!(keys, header.iter().collect::<Vec<_>>());
            for (i, v) in obj.values().enumerate() {
                assert_eq!(v.as_str(), Some(row.get(i).copied().unwrap_or("")));
            }
        }
        // JSON Lines are data for programs: no formula neutralising.
        assert!(lines[1].contains(r#""=f":"=1+1""#));
    }

    #[test]
    fn column_letters_go_past_z() {
        let cases = [
            (0, "A"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (51, "AZ"),
            (52, "BA"),
            (701, "ZZ"),
            (702, "AAA"),
            (16_383, "XFD"),
        ];
        for (i, name) in cases {
            assert_eq!(column_name(i), name, "{i}");
        }
    }

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // Slicing by 8 agrees with the bitwise definition at every tail length.
        let bitwise = |d: &[u8]| {
            let mut c = !0u32;
            for &b in d {
                c ^= b as u32;
                for _ in 0..8 {
                    c = if c & 1 != 0 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        };
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
        for n in 0..data.len() {
            assert_eq!(crc32(&data[..n]), bitwise(&data[..n]), "{n}");
        }
    }

    #[test]
    fn sheet_names_are_made_valid() {
        assert_eq!(sheet_title("Results"), "Results");
        assert_eq!(sheet_title("a[b]:c*d?e/f\\g"), "abcdefg");
        assert_eq!(sheet_title(""), "Sheet1");
        assert_eq!(sheet_title("[]:*?/\\"), "Sheet1");
        assert_eq!(sheet_title("''"), "Sheet1");
        assert_eq!(sheet_title("'quoted'"), "quoted");
        assert_eq!(sheet_title(&"x".repeat(40)), "x".repeat(31));
        assert_eq!(sheet_title(&"æ".repeat(40)).chars().count(), 31);
        assert_eq!(sheet_title(&"🥰".repeat(20)).chars().count(), 15);
        assert_eq!(sheet_title("a\u{1}b"), "ab");
        let bytes = write_xlsx("Svar & <æøå>: 1/2", &strings(&["h"]), [["v"]]);
        let wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        assert_eq!(wb.sheet_names(), vec!["Svar & <æøå> 12".to_string()]);
    }

    /// 30 columns (A..AD) × 1,000 rows of awkward text.
    fn big_table() -> (Vec<String>, Vec<Vec<String>>) {
        let mut header: Vec<String> = (1..=30).map(|i| format!("col {i}")).collect();
        header[1] = "tekst æøå".into();
        header[2] = "<&>\"'".into();
        let specials = [
            "Blåbærsyltetøy på brødskiva",
            "🥰 emoji 👍🏽 and 𝄞",
            "<&>\"' markup & entities &amp;",
            "line one\nline two\r\nline three\rend",
            "",
            "=1+1",
            "-5",
            "@SUM(A1)",
            "  spaces around  ",
            "\ttab first",
            "trailing newline\n",
        ];
        let rows = (0..1_000)
            .map(|r| {
                (0..30)
                    .map(|c| match (r + c) % 13 {
                        k if k < specials.len() => specials[k].to_string(),
                        k => format!("r{r}c{c} {k}"),
                    })
                    .collect()
            })
            .collect();
        (header, rows)
    }

    #[test]
    fn xlsx_reads_back_exactly_with_calamine_and_our_reader() {
        let (header, rows) = big_table();
        let bytes = write_xlsx("Annotations", &header, &rows);
        println!("xlsx of 1,000 × 30 cells: {} bytes", bytes.len());

        let mut expected = vec![header.clone()];
        expected.extend(rows.iter().cloned());
        assert_eq!(calamine_rows(&bytes, "Annotations"), expected);

        let imported = import_file("x.xlsx", &bytes, &Default::default()).unwrap();
        assert_eq!(imported.sheets, vec!["Annotations".to_string()]);
        assert_eq!(imported.table.columns, header);
        assert_eq!(imported.table.rows, rows);

        // Same input, same bytes (fixed timestamps, no randomness).
        assert_eq!(write_xlsx("Annotations", &header, &rows), bytes);
    }

    #[test]
    fn xlsx_cells_are_never_formulas() {
        let header = strings(&["a", "b"]);
        let rows = [["=1+1", "=HYPERLINK(\"http://x\",\"y\")"], ["+1", "@A1"]];
        // No `<f>` element anywhere: inline strings are text, so no `'` prefix.
        let xml = sheet_xml(&header, rows);
        assert!(!xml.contains("<f"), "{xml}");
        assert!(xml.contains(r#"<c r="A2" t="inlineStr"><is><t>=1+1</t></is></c>"#));

        let bytes = write_xlsx("S", &header, rows);
        let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
        let range = wb.worksheet_range("S").unwrap();
        assert_eq!(range.get((1, 0)), Some(&Data::String("=1+1".into())));
        assert_eq!(range.get((2, 1)), Some(&Data::String("@A1".into())));
        let formulas = wb.worksheet_formula("S").unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
        let imported = import_file("x.xlsx", &bytes, &Default::default()).unwrap();
        assert_eq!(imported.table.rows[0][0], "=1+1");
    }

    #[test]
    fn xlsx_drops_characters_xml_cannot_hold() {
        let header = strings(&["h", "x"]);
        let rows = [["a\u{1}b\u{b}c\u{1f}d\u{fffe}e\u{ffff}f\u{0}", "\u{7}"]];
        let bytes = write_xlsx("S", &header, rows);
        let back = calamine_rows(&bytes, "S");
        assert_eq!(back[1], strings(&["abcdef", ""]));
        let imported = import_file("x.xlsx", &bytes, &Default::default()).unwrap();
        assert_eq!(imported.table.rows[0][0], "abcdef");
    }

    #[test]
    fn xlsx_keeps_text_that_looks_like_an_excel_escape() {
        let header = strings(&["h"]);
        let rows = [["_x0041_ and _x000d_ and _x12_ and _xZZZZ_"]];
        let bytes = write_xlsx("S", &header, rows);
        assert_eq!(calamine_rows(&bytes, "S")[1][0], rows[0][0]);
    }

    #[test]
    fn xlsx_truncates_cells_to_excels_limit() {
        let header = strings(&["long", "emoji", "short"]);
        let long = format!("{}\u{1}tail", "x".repeat(XLSX_MAX_CELL_CHARS));
        // 20,000 emoji are 40,000 UTF-16 units; 16,383 fit.
        let emoji = "🥰".repeat(20_000);
        let exact = "y".repeat(XLSX_MAX_CELL_CHARS);
        let rows = [[long.as_str(), emoji.as_str(), exact.as_str()]];
        let bytes = write_xlsx("S", &header, rows);
        let back = calamine_rows(&bytes, "S");
        assert_eq!(back[1][0], "x".repeat(XLSX_MAX_CELL_CHARS));
        assert_eq!(back[1][1], "🥰".repeat(16_383));
        assert_eq!(back[1][2], exact);
        let imported = import_file("x.xlsx", &bytes, &Default::default()).unwrap();
        assert_eq!(
            imported.table.rows[0][0].chars().count(),
            XLSX_MAX_CELL_CHARS
        );
    }
}
