//! Text to sparse features, exactly as scikit-learn's
//! `HashingVectorizer(n_features=2**18, ngram_range=(1, 2), alternate_sign=False,
//! norm='l2')` (see `shared/reference/student/README.md`): lowercase, tokens are
//! maximal runs of at least two Python word characters, n-grams joined by one
//! space, MurmurHash3 x86_32 (seed 0) read as a signed integer, index = |h| mod
//! n_features, counts summed per index, then divided by their L2 norm.

use super::word_chars::WORD_RANGES;
use super::StudentError;
use serde::{Deserialize, Serialize};

/// How texts become feature vectors. Saved with every model, so a model is always
/// scored with the features it was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashingSpec {
    /// Number of hash buckets (feature indices are `0..n_features`).
    pub n_features: u32,
    /// Smallest and largest n-gram length, in tokens.
    pub ngram_range: (u32, u32),
}

impl Default for HashingSpec {
    /// scikit-learn's settings used by the reference: 2^18 buckets, unigrams and bigrams.
    fn default() -> Self {
        HashingSpec {
            n_features: 1 << 18,
            ngram_range: (1, 2),
        }
    }
}

/// A sparse feature vector: `indices` strictly ascending, one value per index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SparseVec {
    /// Feature indices, strictly ascending.
    pub indices: Vec<u32>,
    /// The value of each index.
    pub values: Vec<f64>,
}

impl SparseVec {
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Pairs of (index, value).
    pub fn iter(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        self.indices
            .iter()
            .copied()
            .zip(self.values.iter().copied())
    }
}

/// Whether `c` matches Python's `\w` (Unicode 14): `_` or a letter or number.
pub fn is_word_char(c: char) -> bool {
    let c = c as u32;
    if c < 0x80 {
        // ASCII fast path: most text is ASCII.
        return (b'0' as u32..=b'9' as u32).contains(&c)
            || (b'a' as u32..=b'z' as u32).contains(&c)
            || (b'A' as u32..=b'Z' as u32).contains(&c)
            || c == b'_' as u32;
    }
    WORD_RANGES
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The tokens of an (already lowercased) text: maximal runs of at least two word
/// characters, which is what `(?u)\b\w\w+\b` finds. Length counts code points.
pub fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut len = 0usize;
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
                len = 0;
            }
            len += 1;
        } else if let Some(s) = start.take() {
            if len >= 2 {
                out.push(&text[s..i]);
            }
        }
    }
    if let Some(s) = start {
        if len >= 2 {
            out.push(&text[s..]);
        }
    }
    out
}

/// MurmurHash3 x86_32 of `data` with `seed` (Austin Appleby's reference algorithm).
pub fn murmur3_x86_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut blocks = data.chunks_exact(4);
    for b in &mut blocks {
        let mut k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &byte) in tail.iter().enumerate() {
            k |= (byte as u32) << (8 * i);
        }
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

impl HashingSpec {
    /// Checks that the spec describes a usable vectorizer (a loaded model may not).
    pub fn validate(&self) -> Result<(), StudentError> {
        let (lo, hi) = self.ngram_range;
        if self.n_features == 0 || self.n_features > 1 << 31 || lo == 0 || lo > hi {
            return Err(StudentError::BadSpec(*self));
        }
        Ok(())
    }

    /// The bucket of one n-gram: the hash read as a signed i32, then |h| mod
    /// n_features. scikit-learn does this (not `u32 % n`); |−2^31| is taken as 2^31.
    pub fn index(&self, ngram: &str) -> u32 {
        let h = murmur3_x86_32(ngram.as_bytes(), 0) as i32;
        h.unsigned_abs() % self.n_features
    }

    /// The L2-normalised count vector of `text`. A text without n-grams gives an
    /// empty vector (no division by zero).
    pub fn transform(&self, text: &str) -> SparseVec {
        let lower = text.to_lowercase();
        let toks = tokens(&lower);
        let (lo, hi) = (self.ngram_range.0 as usize, self.ngram_range.1 as usize);
        let mut idx: Vec<u32> = Vec::new();
        let mut buf = String::new();
        for n in lo..=hi {
            if n > toks.len() {
                break;
            }
            for window in toks.windows(n) {
                if n == 1 {
                    idx.push(self.index(window[0]));
                } else {
                    buf.clear();
                    for (i, t) in window.iter().enumerate() {
                        if i > 0 {
                            buf.push(' ');
                        }
                        buf.push_str(t);
                    }
                    idx.push(self.index(&buf));
                }
            }
        }
        idx.sort_unstable();
        let mut out = SparseVec::default();
        for i in idx {
            if out.indices.last() == Some(&i) {
                *out.values.last_mut().expect("values follow indices") += 1.0;
            } else {
                out.indices.push(i);
                out.values.push(1.0);
            }
        }
        // Counts are small integers, so the sum of squares is exact in any order and
        // `count / sqrt(sum)` is bit-identical to scikit-learn's in-place division.
        let norm = out.values.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            for v in &mut out.values {
                *v /= norm;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_absolute_index() {
        // From the README: `world` hashes to u32 4220927227 = i32 −74040069.
        assert_eq!(murmur3_x86_32(b"world", 0), 4_220_927_227);
        assert_eq!(HashingSpec::default().index("world"), 115_461);
    }

    #[test]
    fn word_chars_follow_python() {
        assert!(is_word_char('²') && is_word_char('½') && is_word_char('_'));
        assert!(is_word_char('ø') && is_word_char('漢'));
        // Combining acute, soft hyphen, ZWJ, circled A, Devanagari vowel sign AA.
        for c in ['\u{301}', '\u{ad}', '\u{200d}', 'Ⓐ', '\u{93e}', '\'', '-'] {
            assert!(!is_word_char(c), "{c:?}");
        }
    }

    #[test]
    fn tokens_are_runs_of_two_or_more() {
        assert_eq!(tokens("a bc d_e x² ok!"), vec!["bc", "d_e", "x²", "ok"]);
        assert!(tokens("").is_empty());
    }

    #[test]
    fn empty_text_is_an_empty_vector() {
        assert_eq!(
            HashingSpec::default().transform("a ! ?"),
            SparseVec::default()
        );
    }

    #[test]
    fn bad_specs_are_refused() {
        for spec in [
            HashingSpec {
                n_features: 0,
                ngram_range: (1, 2),
            },
            HashingSpec {
                n_features: 8,
                ngram_range: (2, 1),
            },
            HashingSpec {
                n_features: 8,
                ngram_range: (0, 1),
            },
        ] {
            assert!(spec.validate().is_err());
        }
        assert!(HashingSpec::default().validate().is_ok());
    }
}
