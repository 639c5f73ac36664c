//! The fast path of [`crate::table::TableReader`]: splits one record of
//! RFC 4180 text with `memchr`, borrowing the decoded text and copying each
//! cell once.
//!
//! The `csv` crate reads through a byte buffer, validates UTF-8 again and
//! copies every record twice (into its record, then into our strings); in wasm
//! that made our parse 1.5–1.8× papaparse's. This splitter only handles text
//! that already passed the strict quote scan. Anything else it meets (a quote
//! it cannot close, text after a closing quote) is a [`Fallback`], and the
//! reader goes on from that record with the `csv` crate, which gives the exact
//! error or repair. Row widths and field sizes are checked by the reader.

use memchr::{memchr, memchr3};

/// This record cannot be split here exactly as the `csv` crate would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fallback;

/// The record at or after byte `at` of `text` (blank lines before it skipped,
/// as `csv_core` skips them), its fields appended to `out`. Returns where the
/// record starts and the byte after its line end, or `None` at the end.
/// `delim` must be ASCII and neither a quote nor a line end.
pub(crate) fn split_record(
    text: &str,
    at: usize,
    delim: u8,
    out: &mut Vec<String>,
) -> Result<Option<(usize, usize)>, Fallback> {
    let b = text.as_bytes();
    let n = b.len();
    let mut i = at;
    while i < n && matches!(b[i], b'\n' | b'\r') {
        i += 1;
    }
    if i >= n {
        return Ok(None);
    }
    let start = i;
    loop {
        if i >= n {
            // A delimiter was the last byte: one more, empty field.
            out.push(String::new());
            return Ok(Some((start, n)));
        }
        if b[i] == b'"' {
            let (field, after) = quoted(text, i + 1)?;
            out.push(field);
            i = after;
            match b.get(i) {
                None => return Ok(Some((start, n))),
                Some(&c) if c == delim => i += 1,
                Some(b'\n' | b'\r') => return Ok(Some((start, line_end(b, i)))),
                Some(_) => return Err(Fallback),
            }
        } else {
            match memchr3(delim, b'\n', b'\r', &b[i..]) {
                None => {
                    out.push(text[i..].to_string());
                    return Ok(Some((start, n)));
                }
                Some(k) => {
                    let e = i + k;
                    out.push(text[i..e].to_string());
                    if b[e] == delim {
                        i = e + 1;
                    } else {
                        return Ok(Some((start, line_end(b, e))));
                    }
                }
            }
        }
    }
}

/// The byte after the line end at `e` (`\n`, `\r` or `\r\n`).
fn line_end(b: &[u8], e: usize) -> usize {
    if b[e] == b'\r' && b.get(e + 1) == Some(&b'\n') {
        e + 2
    } else {
        e + 1
    }
}

/// A quoted field whose text starts at `from` (after the opening quote): its
/// value with doubled quotes undone, and the byte after the closing quote.
fn quoted(text: &str, from: usize) -> Result<(String, usize), Fallback> {
    let b = text.as_bytes();
    let (mut i, mut piece) = (from, from);
    let mut field = String::new();
    loop {
        let q = i + memchr(b'"', &b[i..]).ok_or(Fallback)?;
        if b.get(q + 1) == Some(&b'"') {
            // Keep one quote of the pair.
            field.push_str(&text[piece..=q]);
            i = q + 2;
            piece = i;
        } else {
            field.push_str(&text[piece..q]);
            return Ok((field, q + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<Vec<Vec<String>>, Fallback> {
        let (mut at, mut rows) = (0, Vec::new());
        loop {
            let mut rec = Vec::new();
            match split_record(text, at, b',', &mut rec)? {
                None => return Ok(rows),
                Some((_, end)) => {
                    rows.push(rec);
                    at = end;
                }
            }
        }
    }

    #[test]
    fn splits_fields_quotes_and_every_line_end() {
        assert_eq!(
            split("a,b\r\n\"x,\"\"y\"\"\",\n\n\rz").unwrap(),
            vec![vec!["a", "b"], vec!["x,\"y\"", ""], vec!["z"]]
        );
        assert_eq!(
            split("\"multi\r\nline\",2\r").unwrap(),
            vec![vec!["multi\r\nline", "2"]]
        );
        assert_eq!(split("a,").unwrap(), vec![vec!["a", ""]]);
        assert_eq!(split("\"\"").unwrap(), vec![vec![""]]);
    }

    #[test]
    fn what_it_cannot_split_falls_back() {
        assert_eq!(split("a,\"open"), Err(Fallback));
        assert_eq!(split("a,\"x\"y"), Err(Fallback));
    }
}
