//! How numbers, intervals, durations, sizes and dates read on screen: one
//! place, so the same figure never reads two ways.

/// Bytes as a short human figure (1.2 MB).
pub fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b.max(0.0);
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Hours as "1.5 h", or minutes below an hour.
pub fn duration_text(hours: f64) -> String {
    if !hours.is_finite() {
        "never (no answers)".into()
    } else if hours < 1.0 {
        format!("{:.0} min", (hours * 60.0).ceil())
    } else {
        format!("{hours:.1} h")
    }
}

/// A share as a percentage with one decimal.
pub fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

/// [`pct`], or a dash when there is no figure.
pub fn pct_or_dash(v: Option<f64>) -> String {
    v.map_or("–".into(), pct)
}

/// A bootstrap interval as text.
pub fn ci_text(i: Option<fannotate_core::metrics::Interval>, as_pct: bool) -> String {
    match i {
        Some(i) if as_pct => format!("[{:.1}–{:.1}]", i.lo * 100.0, i.hi * 100.0),
        Some(i) => format!("[{:.3}–{:.3}]", i.lo, i.hi),
        None => String::new(),
    }
}

/// A timestamp as local date and time.
pub fn format_date(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    String::from(d.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

/// First `max` characters of `s`, with an ellipsis when cut.
pub fn snippet(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fannotate_core::metrics::Interval;

    #[test]
    fn byte_figures() {
        assert_eq!(human_bytes(0.0), "0 B");
        assert_eq!(human_bytes(999.0), "999 B");
        assert_eq!(human_bytes(1_234_567.0), "1.2 MB");
        assert_eq!(human_bytes(10e12), "10.0 TB");
    }

    #[test]
    fn shares_intervals_and_durations() {
        assert_eq!(pct(0.8125), "81.2 %");
        assert_eq!(pct_or_dash(None), "–");
        assert_eq!(pct_or_dash(Some(1.0)), "100.0 %");
        let i = Interval { lo: 0.7, hi: 0.9 };
        assert_eq!(ci_text(Some(i), true), "[70.0–90.0]");
        assert_eq!(ci_text(Some(i), false), "[0.700–0.900]");
        assert_eq!(ci_text(None, true), "");
        assert_eq!(duration_text(0.25), "15 min");
        assert_eq!(duration_text(2.04), "2.0 h");
        assert_eq!(duration_text(f64::INFINITY), "never (no answers)");
    }
}
