//! Mapping a model's raw answer to one of an attribute's categories.
//!
//! Models decorate answers: quotes, `Category: X`, JSON, an emoji icon, an explanation
//! after the label. Matching is done on a normal form (NFC, lower case, every run of
//! non-alphanumerics folded to one space) so `Teknisk_Support`, `teknisk support` and
//! `🔧 Teknisk Support.` all match, and category names with spaces or slashes work.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The outcome of parsing one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Parsed {
    /// Index of the matched category.
    Valid(usize),
    /// No single category could be read from the answer.
    Invalid {
        /// The answer as received.
        raw: String,
        /// Why it was rejected.
        reason: InvalidReason,
    },
}

/// Why an answer is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvalidReason {
    /// Nothing but white space.
    Empty,
    /// No category name appears.
    NoCategory,
    /// Two or more different categories appear.
    Ambiguous,
}

impl InvalidReason {
    /// Plain-words reason, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidReason::Empty => "empty",
            InvalidReason::NoCategory => "not a category",
            InvalidReason::Ambiguous => "ambiguous",
        }
    }
}

/// NFC, lower case, runs of anything but letters and digits folded to one space.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for ch in s.nfc() {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(ch.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Keys models use for the label in JSON answers.
const JSON_KEYS: [&str; 6] = ["label", "category", "answer", "kategori", "class", "svar"];
/// Prefixes models put before the label.
const PREFIXES: [&str; 7] = [
    "category",
    "label",
    "answer",
    "kategori",
    "svar",
    "class",
    "classification",
];

fn strip_code_fence(s: &str) -> &str {
    let t = s.trim();
    if let Some(rest) = t.strip_prefix("```") {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
        return rest.trim().trim_end_matches("```").trim();
    }
    t
}

fn json_label(s: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(strip_code_fence(s)).ok()?;
    match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Object(map) => JSON_KEYS.iter().find_map(|k| {
            map.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        }),
        _ => None,
    }
}

fn strip_prefix(norm: &str) -> &str {
    for p in PREFIXES {
        if let Some(rest) = norm.strip_prefix(p) {
            if let Some(rest) = rest.strip_prefix(' ') {
                return rest;
            }
        }
    }
    norm
}

/// Categories whose normalised token sequence occurs in `hay`, keeping only the
/// longest of overlapping matches (so `Bredbånd-mobilt` does not also count as
/// `Bredbånd`). Returns distinct category indices in order of appearance.
fn find_mentions(hay: &str, cats: &[Vec<&str>]) -> Vec<usize> {
    let toks: Vec<&str> = hay.split(' ').filter(|t| !t.is_empty()).collect();
    // (start, end, category)
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    for (ci, ct) in cats.iter().enumerate() {
        if ct.is_empty() || ct.len() > toks.len() {
            continue;
        }
        for start in 0..=toks.len() - ct.len() {
            if toks[start..start + ct.len()] == ct[..] {
                spans.push((start, start + ct.len(), ci));
            }
        }
    }
    let kept: Vec<&(usize, usize, usize)> = spans
        .iter()
        .filter(|(s, e, _)| {
            !spans
                .iter()
                .any(|(s2, e2, _)| s2 <= s && e <= e2 && (e2 - s2) > (e - s))
        })
        .collect();
    let mut order: Vec<(usize, usize)> = kept.iter().map(|(s, _, c)| (*s, *c)).collect();
    order.sort_unstable();
    let mut out = Vec::new();
    for (_, c) in order {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Parse a raw answer against the category names (in codebook order).
pub fn parse_answer<S: AsRef<str>>(raw: &str, categories: &[S]) -> Parsed {
    let invalid = |reason| Parsed::Invalid {
        raw: raw.to_string(),
        reason,
    };
    if raw.trim().is_empty() {
        return invalid(InvalidReason::Empty);
    }
    let cat_norms: Vec<String> = categories.iter().map(|c| normalize(c.as_ref())).collect();
    let cat_tokens: Vec<Vec<&str>> = cat_norms.iter().map(|c| c.split(' ').collect()).collect();
    let exact = |cand: &str| cat_norms.iter().position(|c| !c.is_empty() && c == cand);

    let body = json_label(raw).unwrap_or_else(|| raw.to_string());
    let whole = normalize(&body);
    let first_line = body
        .lines()
        .map(normalize)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    for cand in [whole.as_str(), first_line.as_str()] {
        if let Some(i) = exact(cand).or_else(|| exact(strip_prefix(cand))) {
            return Parsed::Valid(i);
        }
    }
    for hay in [first_line.as_str(), whole.as_str()] {
        match find_mentions(hay, &cat_tokens)[..] {
            [] => continue,
            [one] => return Parsed::Valid(one),
            _ => return invalid(InvalidReason::Ambiguous),
        }
    }
    invalid(InvalidReason::NoCategory)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPAM: [&str; 2] = ["ham", "spam"];
    const SENT: [&str; 3] = ["Positiv", "Neutral", "Negativ"];
    const INTENT: [&str; 5] = [
        "Klage",
        "Teknisk_Support",
        "Informasjon",
        "Bestilling",
        "Oppsigelse",
    ];
    const OUTCOME: [&str; 4] = ["Løst", "Delvis_Løst", "Uløst", "Videresendt"];
    const PRODUCT: [&str; 9] = [
        "Mobil",
        "Forsikring",
        "Annet/Ikke_oppgitt",
        "E-post",
        "Bredbånd-mobilt",
        "Tjenester/Apper",
        "Bredbånd",
        "TV",
        "Telefoni",
    ];

    fn ok(raw: &str, cats: &[&str], want: &str) {
        match parse_answer(raw, cats) {
            Parsed::Valid(i) => assert_eq!(cats[i], want, "answer {raw:?}"),
            other => panic!("answer {raw:?}: expected {want}, got {other:?}"),
        }
    }

    fn bad(raw: &str, cats: &[&str], why: InvalidReason) {
        match parse_answer(raw, cats) {
            Parsed::Invalid { reason, raw: r } => {
                assert_eq!(reason, why, "answer {raw:?}");
                assert_eq!(r, raw);
            }
            other => panic!("answer {raw:?}: expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn table_of_real_looking_answers() {
        let valid: &[(&str, &[&str], &str)] = &[
            ("spam", &SPAM, "spam"),
            ("ham", &SPAM, "ham"),
            ("Spam", &SPAM, "spam"),
            ("  SPAM \n", &SPAM, "spam"),
            ("\"spam\"", &SPAM, "spam"),
            ("'ham'", &SPAM, "ham"),
            ("spam.", &SPAM, "spam"),
            ("Category: spam", &SPAM, "spam"),
            ("Label: ham", &SPAM, "ham"),
            ("Answer: **spam**", &SPAM, "spam"),
            ("{\"label\": \"spam\"}", &SPAM, "spam"),
            ("```json\n{\"label\": \"ham\"}\n```", &SPAM, "ham"),
            ("{\"Category\": \"ham\"}", &SPAM, "ham"),
            (
                "spam\nThe email advertises free TV, which is typical ham-free spam.",
                &SPAM,
                "spam",
            ),
            (
                "ham\n\nExplanation: it reads like a personal note, not spam.",
                &SPAM,
                "ham",
            ),
            ("This email is spam.", &SPAM, "spam"),
            ("Sure!\nspam", &SPAM, "spam"),
            ("Positiv", &SENT, "Positiv"),
            ("🥰 Positiv", &SENT, "Positiv"),
            ("😡Negativ", &SENT, "Negativ"),
            ("negativ", &SENT, "Negativ"),
            ("Kategori: Nøytral… nei, Neutral", &SENT, "Neutral"),
            ("Teknisk_Support", &INTENT, "Teknisk_Support"),
            ("Teknisk Support", &INTENT, "Teknisk_Support"),
            ("🔧 Teknisk Support.", &INTENT, "Teknisk_Support"),
            ("teknisk-support", &INTENT, "Teknisk_Support"),
            ("Svar: Oppsigelse", &INTENT, "Oppsigelse"),
            (
                "Henvendelsen gjelder Bestilling av nytt abonnement.",
                &INTENT,
                "Bestilling",
            ),
            ("Løst", &OUTCOME, "Løst"),
            ("LØST", &OUTCOME, "Løst"),
            ("Delvis_Løst", &OUTCOME, "Delvis_Løst"),
            ("✅ Løst", &OUTCOME, "Løst"),
            ("⚠️ Delvis Løst", &OUTCOME, "Delvis_Løst"),
            ("Uløst", &OUTCOME, "Uløst"),
            ("Annet/Ikke_oppgitt", &PRODUCT, "Annet/Ikke_oppgitt"),
            ("Annet / Ikke oppgitt", &PRODUCT, "Annet/Ikke_oppgitt"),
            ("❓ Annet/Ikke_oppgitt", &PRODUCT, "Annet/Ikke_oppgitt"),
            ("Bredbånd-mobilt", &PRODUCT, "Bredbånd-mobilt"),
            ("Bredba\u{030a}nd-mobilt", &PRODUCT, "Bredbånd-mobilt"),
            ("Bredba\u{030a}nd", &PRODUCT, "Bredbånd"),
            ("📶 Bredbånd mobilt", &PRODUCT, "Bredbånd-mobilt"),
            (
                "Produktkategori: Tjenester/Apper",
                &PRODUCT,
                "Tjenester/Apper",
            ),
            ("E-post", &PRODUCT, "E-post"),
            ("tv", &PRODUCT, "TV"),
            ("Kunden ringer om TV-pakken sin.", &PRODUCT, "TV"),
        ];
        for (raw, cats, want) in valid {
            ok(raw, cats, want);
        }
        let invalid: &[(&str, &[&str], InvalidReason)] = &[
            ("", &SPAM, InvalidReason::Empty),
            ("   \n ", &SPAM, InvalidReason::Empty),
            ("not sure", &SPAM, InvalidReason::NoCategory),
            ("phishing", &SPAM, InvalidReason::NoCategory),
            ("spam or ham", &SPAM, InvalidReason::Ambiguous),
            (
                "It is either Positiv or Negativ.",
                &SENT,
                InvalidReason::Ambiguous,
            ),
            ("Mobil og Bredbånd", &PRODUCT, InvalidReason::Ambiguous),
            ("{\"label\": \"eggs\"}", &SPAM, InvalidReason::NoCategory),
            ("Hyggelig samtale", &SENT, InvalidReason::NoCategory),
        ];
        for (raw, cats, why) in invalid {
            bad(raw, cats, *why);
        }
        assert!(valid.len() + invalid.len() >= 40);
    }

    #[test]
    fn normal_form() {
        assert_eq!(normalize("  🔧 Teknisk_Support. "), "teknisk support");
        assert_eq!(normalize("Bredba\u{030a}nd"), "bredbånd");
        assert_eq!(normalize("!!!"), "");
    }
}
