//! Timestamps for people and files: milliseconds since the Unix epoch as
//! ISO 8601 UTC text, without a date library (the app bundle stays small, and
//! this is the one conversion it needs).

/// `ms` since 1970-01-01 UTC as `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, rounded
/// down). Proleptic Gregorian calendar, as JavaScript's `Date` uses; times
/// before the epoch work too. Not finite: an empty string.
pub fn iso_utc(ms: f64) -> String {
    if !ms.is_finite() {
        return String::new();
    }
    let secs = (ms / 1000.0).floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Year, month and day of the `z`-th day after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`: eras of 400 years starting in March).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_pythons_datetime() {
        // Values from datetime.fromtimestamp(ms / 1000, timezone.utc).
        assert_eq!(iso_utc(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400_000.0), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(1_764_582_000_123.0), "2025-12-01T09:40:00Z");
        assert_eq!(iso_utc(4_107_542_399_999.0), "2100-02-28T23:59:59Z");
        assert_eq!(iso_utc(-1.0), "1969-12-31T23:59:59Z");
        assert_eq!(iso_utc(f64::NAN), "");
    }
}
