//! Cutting request lines into batch files within the APIs' limits, as they
//! stream out: a file holds at most 50,000 lines and 200 MB, whichever comes
//! first. Lines are written as they are made, so a run of a million rows never
//! needs them all in memory at once.

use super::BatchError;
use std::io::Write;

/// Most requests in one OpenAI batch file.
pub const MAX_LINES_PER_FILE: usize = 50_000;
/// Most bytes in one batch file: 200 MB, read as 200,000,000 bytes, the
/// smaller of the two readings of "MB".
pub const MAX_BYTES_PER_FILE: usize = 200_000_000;

/// How large a part may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitLimits {
    /// Lines per part.
    pub lines: usize,
    /// Bytes per part, newlines included.
    pub bytes: usize,
}

impl Default for SplitLimits {
    /// The OpenAI Batch API's limits.
    fn default() -> Self {
        SplitLimits {
            lines: MAX_LINES_PER_FILE,
            bytes: MAX_BYTES_PER_FILE,
        }
    }
}

/// Where a line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The part, counted from 0.
    pub part: usize,
    /// Whether the line is the first of its part (a new file starts here).
    pub starts_part: bool,
}

/// The accounting of a split: which part each line goes to.
#[derive(Debug, Clone)]
pub struct Splitter {
    limits: SplitLimits,
    part: Option<usize>,
    lines: usize,
    bytes: usize,
}

impl Splitter {
    /// A split with no line placed yet.
    pub fn new(limits: SplitLimits) -> Self {
        Splitter {
            limits,
            part: None,
            lines: 0,
            bytes: 0,
        }
    }

    /// Place a line of `bytes` bytes (its newline included): in the current
    /// part while it fits, else at the start of the next. A line larger than a
    /// whole part fits nowhere.
    pub fn place(&mut self, bytes: usize) -> Result<Placement, BatchError> {
        self.place_lines(1, bytes)
    }

    /// Place `lines` lines of `bytes` bytes in all together, in one part (a
    /// row's replications, so that no row is cut between two files): in the
    /// current part while they fit, else at the start of the next.
    pub fn place_lines(&mut self, lines: usize, bytes: usize) -> Result<Placement, BatchError> {
        if bytes > self.limits.bytes || lines > self.limits.lines || self.limits.lines == 0 {
            return Err(BatchError::LineTooLarge {
                bytes,
                limit: self.limits.bytes,
            });
        }
        let fits = self.part.is_some()
            && self.lines + lines <= self.limits.lines
            && self.bytes + bytes <= self.limits.bytes;
        let starts_part = !fits;
        if starts_part {
            self.part = Some(self.part.map_or(0, |p| p + 1));
            self.lines = 0;
            self.bytes = 0;
        }
        self.lines += lines;
        self.bytes += bytes;
        Ok(Placement {
            part: self.part.unwrap_or(0),
            starts_part,
        })
    }
}

/// What one written part holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartSummary {
    /// Lines in the part.
    pub lines: usize,
    /// Bytes in the part, newlines included.
    pub bytes: usize,
}

/// Writes lines into parts, opening each part's writer when its first line
/// arrives (`open` gets the part's number, from 0).
pub struct PartWriter<W: Write, F: FnMut(usize) -> std::io::Result<W>> {
    open: F,
    current: Option<W>,
    splitter: Splitter,
    parts: Vec<PartSummary>,
}

fn io(e: std::io::Error) -> BatchError {
    BatchError::Io(e.to_string())
}

impl<W: Write, F: FnMut(usize) -> std::io::Result<W>> PartWriter<W, F> {
    /// A writer of parts within `limits`.
    pub fn new(limits: SplitLimits, open: F) -> Self {
        PartWriter {
            open,
            current: None,
            splitter: Splitter::new(limits),
            parts: Vec::new(),
        }
    }

    /// Write one line (given without its newline, which is added).
    pub fn write_line(&mut self, line: &str) -> Result<(), BatchError> {
        let bytes = line.len() + 1;
        let place = self.splitter.place(bytes)?;
        if place.starts_part {
            if let Some(mut done) = self.current.take() {
                done.flush().map_err(io)?;
            }
            self.current = Some((self.open)(place.part).map_err(io)?);
            self.parts.push(PartSummary::default());
        }
        if let Some(w) = self.current.as_mut() {
            w.write_all(line.as_bytes()).map_err(io)?;
            w.write_all(b"\n").map_err(io)?;
        }
        if let Some(p) = self.parts.last_mut() {
            p.lines += 1;
            p.bytes += bytes;
        }
        Ok(())
    }

    /// Flush the last part and say what each part holds.
    pub fn finish(mut self) -> Result<Vec<PartSummary>, BatchError> {
        if let Some(mut w) = self.current.take() {
            w.flush().map_err(io)?;
        }
        Ok(self.parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_of_lines_stays_in_one_part() {
        let mut s = Splitter::new(SplitLimits {
            lines: 5,
            bytes: 100,
        });
        assert_eq!(
            s.place_lines(3, 30).unwrap(),
            Placement {
                part: 0,
                starts_part: true
            }
        );
        // Two more lines fit by count; three do not, so all three move on.
        assert_eq!(
            s.place_lines(3, 30).unwrap(),
            Placement {
                part: 1,
                starts_part: true
            }
        );
        assert_eq!(
            s.place_lines(2, 70).unwrap(),
            Placement {
                part: 1,
                starts_part: false
            }
        );
        assert_eq!(s.place_lines(1, 1).unwrap().part, 2, "the bytes are full");
        assert!(s.place_lines(6, 6).is_err(), "more lines than a part holds");
    }

    #[test]
    fn parts_end_at_the_line_or_the_byte_limit_whichever_comes_first() {
        let limits = SplitLimits {
            lines: 3,
            bytes: 10,
        };
        let mut w = PartWriter::new(limits, |_| Ok(Vec::<u8>::new()));
        for l in ["a", "b", "c", "d", "eeee", "ffff", "g"] {
            w.write_line(l).unwrap();
        }
        let summary = w.finish().unwrap();
        // 3 lines; then "d\n" + "eeee\n" = 7 bytes, "ffff\n" would make 12.
        let counts: Vec<(usize, usize)> = summary.iter().map(|p| (p.lines, p.bytes)).collect();
        assert_eq!(counts, [(3, 6), (2, 7), (2, 7)]);
        let mut s = Splitter::new(limits);
        assert_eq!(
            s.place(11),
            Err(BatchError::LineTooLarge {
                bytes: 11,
                limit: 10
            })
        );
    }
}
