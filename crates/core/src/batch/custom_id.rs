//! [`CustomId`]: the `custom_id` of one batch request, naming the run, the row
//! and the replication it asks for.
//!
//! The form is `fa-{run}-{row}-{replication}`, with the numbers in canonical
//! decimal. Both batch APIs allow only `[A-Za-z0-9_-]`, at most 64 characters;
//! the `fa-` prefix tells our ids from anyone else's, and since a number never
//! has a leading zero, two different strings never name the same request (so
//! a duplicate cannot hide behind `row-007`).

use super::BatchError;
use std::fmt;

/// Prefix of every id Fannotate writes.
const PREFIX: &str = "fa-";
/// The APIs' limit on a `custom_id`.
pub const MAX_CUSTOM_ID_LEN: usize = 64;
/// Longest run id that fits: the prefix, two separators and two `u32`s of
/// ten digits each leave this much of the 64.
pub const MAX_RUN_ID_LEN: usize = MAX_CUSTOM_ID_LEN - PREFIX.len() - 2 - 2 * 10;

/// One request of a batch: replication `replication` of row `row` in run `run_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomId {
    run_id: String,
    row: u32,
    replication: u32,
}

fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Whether `run_id` can stand in a `custom_id` (the app's random ids always can).
pub fn check_run_id(run_id: &str) -> Result<(), BatchError> {
    if run_id.is_empty() || run_id.len() > MAX_RUN_ID_LEN || !run_id.chars().all(id_char) {
        return Err(BatchError::RunId(run_id.to_string()));
    }
    Ok(())
}

/// A number as [`CustomId`] writes it: digits only, no leading zero.
fn canonical_u32(s: &str) -> Option<u32> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

impl CustomId {
    /// The id of one request; fails when the run id cannot stand in a
    /// `custom_id` (see [`check_run_id`]).
    pub fn new(run_id: &str, row: u32, replication: u32) -> Result<Self, BatchError> {
        check_run_id(run_id)?;
        Ok(CustomId {
            run_id: run_id.to_string(),
            row,
            replication,
        })
    }

    /// Read an id written by [`CustomId`]'s `Display`. Anything else (another
    /// tool's ids, a number with a leading zero, a character the APIs refuse)
    /// is [`BatchError::ForeignId`].
    pub fn parse(s: &str) -> Result<Self, BatchError> {
        let foreign = || BatchError::ForeignId(s.to_string());
        if s.len() > MAX_CUSTOM_ID_LEN {
            return Err(foreign());
        }
        let rest = s.strip_prefix(PREFIX).ok_or_else(foreign)?;
        // Run ids may hold '-', the numbers never do: split from the right.
        let mut parts = rest.rsplitn(3, '-');
        let replication = parts.next().and_then(canonical_u32).ok_or_else(foreign)?;
        let row = parts.next().and_then(canonical_u32).ok_or_else(foreign)?;
        let run_id = parts.next().ok_or_else(foreign)?;
        check_run_id(run_id).map_err(|_| foreign())?;
        Ok(CustomId {
            run_id: run_id.to_string(),
            row,
            replication,
        })
    }

    /// The run the request belongs to.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The row position it asks about.
    pub fn row(&self) -> u32 {
        self.row
    }

    /// Which replication of the row it is (0 without replications).
    pub fn replication(&self) -> u32 {
        self.replication
    }
}

impl fmt::Display for CustomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}{}-{}-{}",
            self.run_id, self.row, self.replication
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_stay_within_the_limits() {
        let run = "r".repeat(MAX_RUN_ID_LEN);
        let id = CustomId::new(&run, u32::MAX, u32::MAX).unwrap();
        let s = id.to_string();
        assert_eq!(s.len(), MAX_CUSTOM_ID_LEN);
        assert_eq!(CustomId::parse(&s).unwrap(), id);
        let dashed = CustomId::new("19a-b_c", 0, 3).unwrap();
        assert_eq!(dashed.to_string(), "fa-19a-b_c-0-3");
        assert_eq!(CustomId::parse("fa-19a-b_c-0-3").unwrap(), dashed);
    }

    #[test]
    fn unfit_run_ids_and_foreign_ids_are_refused() {
        for run in ["", "a b", "ü", &"r".repeat(MAX_RUN_ID_LEN + 1)] {
            assert_eq!(
                CustomId::new(run, 0, 0),
                Err(BatchError::RunId(run.to_string()))
            );
        }
        for s in [
            "request-1",
            "fa-",
            "fa-r1-2",
            "fa--2-0",
            "fa-r1-02-0",
            "fa-r1-2-00",
            "fa-r1-+2-0",
            "fa-r1-4294967296-0",
            "fa-r 1-2-0",
            "FA-r1-2-0",
        ] {
            assert!(
                matches!(CustomId::parse(s), Err(BatchError::ForeignId(x)) if x == s),
                "{s}"
            );
        }
    }
}
