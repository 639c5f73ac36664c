//! A small reader for Excel workbooks (.xlsx): just what importing a table needs
//! (sheet names, shared strings, cell values as text). A full spreadsheet library
//! pulls every legacy text encoding into the WebAssembly bundle (+290 KB gzipped);
//! this needs only an inflater.

use std::collections::HashMap;

/// Why a workbook could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XlsxError {
    /// Not a zip archive we can read.
    #[error("not a readable zip archive ({0})")]
    Zip(&'static str),
    /// A part the workbook needs is missing.
    #[error("the workbook has no {0}")]
    Missing(String),
    /// A part is not valid UTF-8 XML.
    #[error("{0} is not valid XML text")]
    Xml(String),
    /// A part would inflate beyond the size limit.
    #[error("a part of the workbook is too large")]
    TooLarge,
}

/// Largest inflated part accepted (guards against zip bombs).
const MAX_PART_BYTES: usize = 1 << 30;

fn u16_at(b: &[u8], i: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as usize)
}

fn u32_at(b: &[u8], i: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize)
}

/// The entries of a zip archive, by name.
struct Zip<'a> {
    bytes: &'a [u8],
    entries: HashMap<String, (usize, usize, usize)>, // name → (method, compressed size, local header offset)
}

impl<'a> Zip<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, XlsxError> {
        const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
        const CENTRAL: [u8; 4] = [0x50, 0x4b, 0x01, 0x02];
        let min = bytes.len().saturating_sub(22 + 65_535);
        let eocd = (min..=bytes.len().saturating_sub(22))
            .rev()
            .find(|&i| bytes[i..].starts_with(&EOCD))
            .ok_or(XlsxError::Zip("no end of central directory"))?;
        let count = u16_at(bytes, eocd + 10).ok_or(XlsxError::Zip("truncated"))?;
        let mut pos = u32_at(bytes, eocd + 16).ok_or(XlsxError::Zip("truncated"))?;
        let mut entries = HashMap::with_capacity(count);
        for _ in 0..count {
            if !bytes.get(pos..).is_some_and(|b| b.starts_with(&CENTRAL)) {
                return Err(XlsxError::Zip(
                    "bad central directory (zip64 archives are not supported)",
                ));
            }
            let field = |off| u16_at(bytes, pos + off).ok_or(XlsxError::Zip("truncated"));
            let method = field(10)?;
            let csize = u32_at(bytes, pos + 20).ok_or(XlsxError::Zip("truncated"))?;
            let (nlen, elen, clen) = (field(28)?, field(30)?, field(32)?);
            let local = u32_at(bytes, pos + 42).ok_or(XlsxError::Zip("truncated"))?;
            let name = bytes
                .get(pos + 46..pos + 46 + nlen)
                .ok_or(XlsxError::Zip("truncated"))?;
            entries.insert(
                String::from_utf8_lossy(name).into_owned(),
                (method, csize, local),
            );
            pos += 46 + nlen + elen + clen;
        }
        Ok(Zip { bytes, entries })
    }

    /// The inflated content of an entry, if present.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, XlsxError> {
        let Some(&(method, csize, local)) = self.entries.get(name) else {
            return Ok(None);
        };
        let b = self.bytes;
        if !b
            .get(local..)
            .is_some_and(|x| x.starts_with(&[0x50, 0x4b, 0x03, 0x04]))
        {
            return Err(XlsxError::Zip("bad local header"));
        }
        let start =
            local + 30 + u16_at(b, local + 26).unwrap_or(0) + u16_at(b, local + 28).unwrap_or(0);
        let data = b
            .get(start..start + csize)
            .ok_or(XlsxError::Zip("truncated entry"))?;
        match method {
            0 => Ok(Some(data.to_vec())),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, MAX_PART_BYTES)
                .map(Some)
                .map_err(|e| match e.status {
                    miniz_oxide::inflate::TINFLStatus::HasMoreOutput => XlsxError::TooLarge,
                    _ => XlsxError::Zip("corrupt deflate data"),
                }),
            _ => Err(XlsxError::Zip("unsupported compression method")),
        }
    }

    fn read_text(&self, name: &str) -> Result<Option<String>, XlsxError> {
        match self.read(name)? {
            None => Ok(None),
            // XML end-of-line handling: parsers see every CR LF and lone CR as LF.
            Some(v) => String::from_utf8(v)
                .map(|t| {
                    Some(if t.contains('\r') {
                        t.replace("\r\n", "\n").replace('\r', "\n")
                    } else {
                        t
                    })
                })
                .map_err(|_| XlsxError::Xml(name.to_string())),
        }
    }
}

/// A piece of XML: just enough structure for spreadsheet parts.
#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Open {
        name: &'a str,
        attrs: &'a str,
        empty: bool,
    },
    Close(&'a str),
    Text(&'a str),
}

/// Tokenise XML, skipping declarations, comments and processing instructions.
fn tokens(xml: &str) -> impl Iterator<Item = Tok<'_>> {
    let mut rest = xml;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let Some(lt) = rest.find('<') else {
            let t = rest;
            rest = "";
            return Some(Tok::Text(t));
        };
        if lt > 0 {
            let t = &rest[..lt];
            rest = &rest[lt..];
            return Some(Tok::Text(t));
        }
        for (open, close) in [("<?", "?>"), ("<!--", "-->"), ("<!DOCTYPE", ">")] {
            if rest.starts_with(open) {
                rest = rest.find(close).map_or("", |i| &rest[i + close.len()..]);
            }
        }
        if let Some(body) = rest.strip_prefix("<![CDATA[") {
            let end = body.find("]]>").unwrap_or(body.len());
            let t = &body[..end];
            rest = body.get(end + 3..).unwrap_or("");
            return Some(Tok::Text(t));
        }
        if !rest.starts_with('<') || rest.starts_with("<?") || rest.starts_with("<!") {
            continue;
        }
        // Find the closing '>' outside quoted attribute values.
        let mut quote = None;
        let end = rest.char_indices().skip(1).find(|&(_, c)| match quote {
            Some(q) if c == q => {
                quote = None;
                false
            }
            Some(_) => false,
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                false
            }
            None => c == '>',
        });
        let Some((end, _)) = end else {
            rest = "";
            return None;
        };
        let inner = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = inner.strip_prefix('/') {
            return Some(Tok::Close(name.trim()));
        }
        let empty = inner.ends_with('/');
        let inner = inner.trim_end_matches('/');
        let split = inner
            .find(|c: char| c.is_whitespace())
            .unwrap_or(inner.len());
        return Some(Tok::Open {
            name: &inner[..split],
            attrs: &inner[split..],
            empty,
        });
    })
}

/// The local part of a possibly prefixed name (`x:row` → `row`).
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The value of attribute `key` (matched on its full or local name), unescaped.
fn attr(attrs: &str, key: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        let eq = rest.find('=')?;
        let name = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let q = after.chars().next()?;
        if q != '"' && q != '\'' {
            return None;
        }
        let close = after[1..].find(q)? + 1;
        if name == key || local(name) == key {
            return Some(unescape(&after[1..close]));
        }
        rest = &after[close + 1..];
    }
}

/// Replace XML entity and character references.
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(semi) = tail.find(';').filter(|&n| n <= 12) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let ent = &tail[1..semi];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text of every `<t>` inside the current element, up to its end tag, leaving out
/// phonetic runs (`<rPh>`), as Excel shows the cell.
fn collect_text<'a>(it: &mut impl Iterator<Item = Tok<'a>>, end: &str) -> String {
    let (mut out, mut in_t, mut skip) = (String::new(), false, 0usize);
    for tok in it.by_ref() {
        match tok {
            Tok::Open { name, empty, .. } => match local(name) {
                "rPh" if !empty => skip += 1,
                "t" if !empty => in_t = true,
                _ => {}
            },
            Tok::Close(name) => match local(name) {
                n if n == end => break,
                "rPh" => skip = skip.saturating_sub(1),
                "t" => in_t = false,
                _ => {}
            },
            Tok::Text(t) if in_t && skip == 0 => out.push_str(&unescape(t)),
            Tok::Text(_) => {}
        }
    }
    out
}

/// Column index of a cell reference (`B7` → 1).
fn column_of(r: &str) -> Option<usize> {
    let mut col = 0usize;
    let mut any = false;
    for c in r.chars().take_while(char::is_ascii_alphabetic) {
        col = col
            .checked_mul(26)?
            .checked_add((c.to_ascii_uppercase() as u8 - b'A') as usize + 1)?;
        any = true;
    }
    (any && col <= 16_384).then(|| col - 1)
}

/// A workbook opened for reading.
pub struct Workbook<'a> {
    zip: Zip<'a>,
    /// (sheet name, part path) in workbook order.
    sheets: Vec<(String, String)>,
    shared: Vec<String>,
}

impl<'a> Workbook<'a> {
    /// Open an .xlsx file's bytes.
    pub fn open(bytes: &'a [u8]) -> Result<Self, XlsxError> {
        let zip = Zip::open(bytes)?;
        let wb = zip
            .read_text("xl/workbook.xml")?
            .ok_or_else(|| XlsxError::Missing("xl/workbook.xml".into()))?;
        let rels = zip
            .read_text("xl/_rels/workbook.xml.rels")?
            .unwrap_or_default();
        let targets: HashMap<String, String> = tokens(&rels)
            .filter_map(|t| match t {
                Tok::Open { name, attrs, .. } if local(name) == "Relationship" => {
                    Some((attr(attrs, "Id")?, attr(attrs, "Target")?))
                }
                _ => None,
            })
            .collect();
        let sheets = tokens(&wb)
            .filter_map(|t| match t {
                Tok::Open { name, attrs, .. } if local(name) == "sheet" => {
                    let sheet_name = attr(attrs, "name")?;
                    let target =
                        targets.get(&attr(attrs, "r:id").or_else(|| attr(attrs, "id"))?)?;
                    let path = match target.strip_prefix('/') {
                        Some(abs) => abs.to_string(),
                        None => format!("xl/{target}"),
                    };
                    Some((sheet_name, path))
                }
                _ => None,
            })
            .collect();
        let mut shared = Vec::new();
        if let Some(ss) = zip.read_text("xl/sharedStrings.xml")? {
            let mut it = tokens(&ss);
            while let Some(tok) = it.next() {
                if let Tok::Open { name, empty, .. } = tok {
                    if local(name) == "si" {
                        shared.push(if empty {
                            String::new()
                        } else {
                            collect_text(&mut it, "si")
                        });
                    }
                }
            }
        }
        Ok(Workbook {
            zip,
            sheets,
            shared,
        })
    }

    /// Sheet names in workbook order.
    pub fn sheet_names(&self) -> Vec<String> {
        self.sheets.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The cells of a sheet as text rows (rows padded to the widest row).
    pub fn rows(&self, sheet: &str) -> Result<Vec<Vec<String>>, XlsxError> {
        let path = &self
            .sheets
            .iter()
            .find(|(n, _)| n == sheet)
            .ok_or_else(|| XlsxError::Missing(format!("sheet \"{sheet}\"")))?
            .1;
        let xml = self
            .zip
            .read_text(path)?
            .ok_or_else(|| XlsxError::Missing(path.clone()))?;
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut it = tokens(&xml);
        let (mut row_idx, mut next_row, mut col_idx) = (0usize, 0usize, 0usize);
        while let Some(tok) = it.next() {
            let Tok::Open { name, attrs, empty } = tok else {
                continue;
            };
            match local(name) {
                "row" => {
                    let r = attr(attrs, "r").and_then(|r| r.parse::<usize>().ok());
                    // Rows without a reference follow the previous one.
                    row_idx = r.map_or(next_row, |r| r.saturating_sub(1));
                    next_row = row_idx + 1;
                    col_idx = 0;
                }
                "c" => {
                    let col = attr(attrs, "r")
                        .and_then(|r| column_of(&r))
                        .unwrap_or(col_idx);
                    col_idx = col + 1;
                    let kind = attr(attrs, "t").unwrap_or_default();
                    let value = if empty {
                        String::new()
                    } else {
                        let mut v = String::new();
                        let mut inline = String::new();
                        let mut in_v = false;
                        while let Some(t) = it.next() {
                            match t {
                                Tok::Open { name, empty, .. } if local(name) == "v" && !empty => {
                                    in_v = true
                                }
                                Tok::Open { name, empty, .. } if local(name) == "is" && !empty => {
                                    inline = collect_text(&mut it, "is")
                                }
                                Tok::Close(name) if local(name) == "v" => in_v = false,
                                Tok::Close(name) if local(name) == "c" => break,
                                Tok::Text(t) if in_v => v.push_str(&unescape(t)),
                                _ => {}
                            }
                        }
                        match kind.as_str() {
                            "s" => v
                                .trim()
                                .parse::<usize>()
                                .ok()
                                .and_then(|i| self.shared.get(i).cloned())
                                .unwrap_or_default(),
                            "inlineStr" => inline,
                            "b" => if v.trim() == "1" { "TRUE" } else { "FALSE" }.to_string(),
                            _ => v,
                        }
                    };
                    if rows.len() <= row_idx {
                        rows.resize_with(row_idx + 1, Vec::new);
                    }
                    let row = &mut rows[row_idx];
                    if row.len() <= col {
                        row.resize(col + 1, String::new());
                    }
                    row[col] = value;
                }
                _ => {}
            }
        }
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        for r in &mut rows {
            r.resize(width, String::new());
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_entities() {
        let toks: Vec<Tok> =
            tokens("<?xml version=\"1.0\"?><a x='1>2'><b/>t &amp; u<!-- c --></a>").collect();
        assert_eq!(
            toks,
            vec![
                Tok::Open {
                    name: "a",
                    attrs: " x='1>2'",
                    empty: false
                },
                Tok::Open {
                    name: "b",
                    attrs: "",
                    empty: true
                },
                Tok::Text("t &amp; u"),
                Tok::Close("a"),
            ]
        );
        assert_eq!(
            unescape("a &lt;&gt; &#229;&#xF8; &bogus; &"),
            "a <> åø &bogus; &"
        );
        assert_eq!(
            attr(" r:id=\"rId1\" name=\"Ark 1\"", "id").as_deref(),
            Some("rId1")
        );
        assert_eq!(column_of("A1"), Some(0));
        assert_eq!(column_of("AB12"), Some(27));
        assert_eq!(column_of("12"), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Workbook::open(b"PK\x03\x04 not a zip").is_err());
        assert!(Workbook::open(b"").is_err());
    }
}
