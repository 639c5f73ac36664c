//! ROUGE-1, ROUGE-2 and ROUGE-L F-measures between a reference text and a
//! candidate, following Python `rouge-score` 0.1.2 (`use_stemmer=False`).
//!
//! rouge-score's tokenizer only keeps ASCII letters and digits, which mangles
//! Norwegian and most other languages; [`Tokenizer::UnicodeWords`] is offered as
//! the deliberate, documented alternative (see `shared/reference/metrics/README.md`).

use serde::Serialize;
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// How texts are split into tokens before counting n-grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tokenizer {
    /// rouge-score 0.1.2's default tokenizer without stemming: lowercase, replace
    /// every run of characters outside `[a-z0-9]` by a space, split on whitespace.
    /// Letters outside ASCII vanish, so Norwegian "ønsker" becomes "nsker" and "å"
    /// disappears entirely. Use it to compare with published rouge-score numbers.
    Default,
    /// NFC-normalise and lowercase (Unicode), then take maximal runs of Unicode
    /// alphanumeric characters as tokens, so "ønsker", "å" and "strøm" survive.
    UnicodeWords,
}

impl Tokenizer {
    /// Name as used in reports and the reference files: `default` or `unicode_words`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tokenizer::Default => "default",
            Tokenizer::UnicodeWords => "unicode_words",
        }
    }

    /// Split `text` into tokens.
    pub fn tokenize(self, text: &str) -> Vec<String> {
        match self {
            // Lowercasing first matters: Python's `str.lower` maps e.g. the Kelvin
            // sign to "k", which then counts as ASCII; Rust's full lowercasing agrees.
            Tokenizer::Default => text
                .to_lowercase()
                .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            Tokenizer::UnicodeWords => text
                .nfc()
                .collect::<String>()
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

/// F-measures of one comparison (or their means).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct RougeScores {
    /// Unigram overlap F-measure.
    pub rouge1: f64,
    /// Bigram overlap F-measure.
    pub rouge2: f64,
    /// Longest-common-subsequence F-measure.
    #[serde(rename = "rougeL")]
    pub rouge_l: f64,
}

/// Scores for many reference/candidate pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RougeReport {
    /// Pairs scored.
    pub n_pairs: usize,
    /// Mean of each F-measure over pairs; zeros when there are no pairs.
    pub mean_f: RougeScores,
    /// F-measures per pair, in input order.
    pub per_pair_f: Vec<RougeScores>,
}

/// rouge-score's `fmeasure`, with the same operation order for identical rounding.
fn fmeasure(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

fn ngram_f(reference: &[String], candidate: &[String], n: usize) -> f64 {
    fn counts(tokens: &[String], n: usize) -> HashMap<&[String], u64> {
        let mut m = HashMap::new();
        // `windows` panics on 0; n is always 1 or 2 here, but stay total.
        for g in tokens.windows(n.max(1)) {
            *m.entry(g).or_insert(0) += 1;
        }
        m
    }
    let (r, c) = (counts(reference, n), counts(candidate, n));
    let (r_total, c_total): (u64, u64) = (r.values().sum(), c.values().sum());
    if r_total == 0 || c_total == 0 {
        return 0.0;
    }
    let overlap: u64 = c
        .iter()
        .map(|(g, k)| (*k).min(r.get(g).copied().unwrap_or(0)))
        .sum();
    fmeasure(
        overlap as f64 / c_total as f64,
        overlap as f64 / r_total as f64,
    )
}

/// Length of the longest common subsequence: O(n·m) time, one row of the
/// shorter sequence's length in memory.
fn lcs_len(a: &[String], b: &[String]) -> usize {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut row = vec![0usize; short.len() + 1];
    for x in long {
        // `diag` carries the previous row's value at j − 1 before it is overwritten.
        let mut diag = 0;
        for (j, y) in short.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
            diag = up;
        }
    }
    row[short.len()]
}

fn lcs_f(reference: &[String], candidate: &[String]) -> f64 {
    if reference.is_empty() || candidate.is_empty() {
        return 0.0;
    }
    let lcs = lcs_len(reference, candidate) as f64;
    fmeasure(lcs / candidate.len() as f64, lcs / reference.len() as f64)
}

/// ROUGE-1/2/L F-measures of `candidate` against `reference`. Precision counts
/// against the candidate, recall against the reference; n-gram matches are
/// clipped to the smaller count; a side without n-grams scores 0.
pub fn rouge(reference: &str, candidate: &str, tok: Tokenizer) -> RougeScores {
    let (r, c) = (tok.tokenize(reference), tok.tokenize(candidate));
    RougeScores {
        rouge1: ngram_f(&r, &c, 1),
        rouge2: ngram_f(&r, &c, 2),
        rouge_l: lcs_f(&r, &c),
    }
}

/// Score every `(reference, candidate)` pair and average the F-measures.
pub fn rouge_mean(pairs: &[(&str, &str)], tok: Tokenizer) -> RougeReport {
    let per_pair_f: Vec<RougeScores> = pairs.iter().map(|(r, c)| rouge(r, c, tok)).collect();
    let mut mean_f = RougeScores::default();
    if !per_pair_f.is_empty() {
        let n = per_pair_f.len() as f64;
        mean_f = RougeScores {
            rouge1: per_pair_f.iter().map(|s| s.rouge1).sum::<f64>() / n,
            rouge2: per_pair_f.iter().map(|s| s.rouge2).sum::<f64>() / n,
            rouge_l: per_pair_f.iter().map(|s| s.rouge_l).sum::<f64>() / n,
        };
    }
    RougeReport {
        n_pairs: pairs.len(),
        mean_f,
        per_pair_f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::parse_table;
    use serde_json::Value;

    fn close(a: f64, b: &Value, what: &str) {
        let b = b.as_f64().unwrap_or_else(|| panic!("{what} missing"));
        assert!((a - b).abs() < 1e-9, "{what}: ours {a}, reference {b}");
    }

    fn check_scores(s: &RougeScores, w: &Value, what: &str) {
        close(s.rouge1, &w["rouge1"], &format!("{what} rouge1"));
        close(s.rouge2, &w["rouge2"], &format!("{what} rouge2"));
        close(s.rouge_l, &w["rougeL"], &format!("{what} rougeL"));
    }

    #[test]
    fn matches_rouge_score_reference() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/metrics/"
        );
        let t =
            parse_table(&std::fs::read(format!("{dir}case4_rouge_pairs.csv")).unwrap()).unwrap();
        let w: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}case4_rouge_pairs.expected.json")).unwrap(),
        )
        .unwrap();
        let (ri, ci) = (
            t.column_index("reference").unwrap(),
            t.column_index("candidate").unwrap(),
        );
        let pairs: Vec<(&str, &str)> = t
            .rows
            .iter()
            .map(|r| (r[ri].as_str(), r[ci].as_str()))
            .collect();
        assert_eq!(Some(pairs.len() as u64), w["n_pairs"].as_u64());
        for tok in [Tokenizer::Default, Tokenizer::UnicodeWords] {
            let want = &w[tok.as_str()];
            let r = rouge_mean(&pairs, tok);
            assert_eq!(r.n_pairs, pairs.len());
            check_scores(&r.mean_f, &want["mean_f"], tok.as_str());
            let per = want["per_pair_f"].as_array().unwrap();
            assert_eq!(r.per_pair_f.len(), per.len());
            for (i, (s, ws)) in r.per_pair_f.iter().zip(per).enumerate() {
                check_scores(s, ws, &format!("{} pair {i}", tok.as_str()));
            }
        }
    }

    #[test]
    fn identical_disjoint_and_empty() {
        for tok in [Tokenizer::Default, Tokenizer::UnicodeWords] {
            let s = rouge("the cat sat", "The cat, sat!", tok);
            assert_eq!((s.rouge1, s.rouge2, s.rouge_l), (1.0, 1.0, 1.0));
            let s = rouge("red green", "blue yellow", tok);
            assert_eq!(s, RougeScores::default());
            assert_eq!(rouge("", "", tok), RougeScores::default());
            assert_eq!(rouge("", "some words", tok), RougeScores::default());
            assert_eq!(rouge("some words", "  ", tok), RougeScores::default());
            // One token: unigrams match, but there are no bigrams.
            let s = rouge("cat", "cat", tok);
            assert_eq!((s.rouge1, s.rouge2, s.rouge_l), (1.0, 0.0, 1.0));
            let r = rouge_mean(&[], tok);
            assert_eq!(r.n_pairs, 0);
            assert_eq!(r.mean_f, RougeScores::default());
        }
    }

    #[test]
    fn clipped_counts_and_lcs() {
        // Candidate repeats "the": only as many matches as the reference has.
        let s = rouge("the cat", "the the the", Tokenizer::Default);
        let (p, r) = (1.0 / 3.0, 1.0 / 2.0);
        assert!((s.rouge1 - 2.0 * p * r / (p + r)).abs() < 1e-12);
        assert_eq!(
            lcs_len(
                &Tokenizer::Default.tokenize("a b c d e"),
                &Tokenizer::Default.tokenize("x b d y e")
            ),
            3
        );
        assert_eq!(lcs_len(&[], &Tokenizer::Default.tokenize("a")), 0);
    }

    #[test]
    fn norwegian_letters_survive_only_in_unicode_words() {
        let text = "Kunden ønsker å si opp strøm";
        assert_eq!(
            Tokenizer::Default.tokenize(text),
            vec!["kunden", "nsker", "si", "opp", "str", "m"]
        );
        assert_eq!(
            Tokenizer::UnicodeWords.tokenize(text),
            vec!["kunden", "ønsker", "å", "si", "opp", "strøm"]
        );
        // Decomposed "å" (a + combining ring) is composed before splitting.
        assert_eq!(Tokenizer::UnicodeWords.tokenize("A\u{30a}r"), vec!["år"]);
        assert_eq!(
            rouge("ø æ å", "ø æ å", Tokenizer::Default),
            RougeScores::default()
        );
        let s = rouge("ø æ å", "ø æ å", Tokenizer::UnicodeWords);
        assert_eq!(s.rouge1, 1.0);
        assert_eq!(Tokenizer::Default.as_str(), "default");
        assert_eq!(
            serde_json::to_value(Tokenizer::UnicodeWords).unwrap(),
            "unicode_words"
        );
        assert!(serde_json::to_value(s).unwrap().get("rougeL").is_some());
    }
}
