//! What a run reports while it goes: its events, its live counters, and the
//! outcomes already stored for its rows.

use fannotate_core::records::{Annotation, AnnotationStatus};

/// What a run reports while it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunEvent<'a> {
    /// Counters changed (at most about ten times a second, and at the end).
    Progress(RunProgress),
    /// One item's result, with its row id, as it is queued for writing.
    Annotation(&'a Annotation, &'a str),
}

/// Live counters of a run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunProgress {
    /// Tasks in the run.
    pub total: u32,
    /// Answered with a category.
    pub valid: u32,
    /// Answered outside the label set.
    pub invalid: u32,
    /// Requests that failed.
    pub failed: u32,
    /// Requests now waiting for an answer.
    pub in_flight: u32,
    /// Most requests in flight at once so far (on the wire: see `queued`).
    pub max_in_flight: u32,
    /// Requests the app has sent that the browser still holds back, waiting for
    /// a connection (over plain http:// it opens at most six per server).
    pub queued: u32,
    /// Requests held back at the pause, ready to go when the run continues.
    pub held: u32,
    /// Milliseconds since the run started.
    pub elapsed_ms: f64,
    /// Tasks that were already finished when this session of the run started.
    pub base_done: u32,
    /// Prompt tokens used.
    pub tokens_in: u64,
    /// Completion tokens used.
    pub tokens_out: u64,
    /// Whether some token counts are estimates.
    pub tokens_estimated: bool,
    /// Cost so far at the endpoint's prices, when it has prices.
    pub cost: Option<f64>,
    /// Whether the run is paused.
    pub paused: bool,
    /// Base URLs the run spreads requests over.
    pub replicas: u32,
    /// Of those, how many are out of rotation after repeated failures.
    pub replicas_out: u32,
}

impl RunProgress {
    /// Tasks finished one way or another.
    pub fn done(&self) -> u32 {
        self.valid + self.invalid + self.failed
    }

    /// Tasks finished per second in this session.
    pub fn rate(&self) -> f64 {
        if self.elapsed_ms <= 0.0 {
            0.0
        } else {
            self.done().saturating_sub(self.base_done) as f64 * 1000.0 / self.elapsed_ms
        }
    }

    /// Seconds left at the current rate, once there is a rate.
    pub fn eta_secs(&self) -> Option<f64> {
        let rate = self.rate();
        (rate > 0.0).then(|| (self.total - self.done()) as f64 / rate)
    }
}

/// Outcomes already stored for a run's rows that are not being (re)done now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Rows with a valid answer.
    pub valid: u32,
    /// Rows answered outside the label set.
    pub invalid: u32,
    /// Rows whose request failed.
    pub failed: u32,
}

impl Counts {
    /// Count stored annotations by outcome.
    pub fn of<'a>(annotations: impl IntoIterator<Item = &'a Annotation>) -> Self {
        annotations.into_iter().fold(Counts::default(), |mut c, a| {
            match a.status {
                AnnotationStatus::Valid => c.valid += 1,
                AnnotationStatus::Invalid => c.invalid += 1,
                AnnotationStatus::Error => c.failed += 1,
            }
            c
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_session_rate_of_a_resumed_run() {
        let a = |status| Annotation {
            status,
            ..Annotation::pending("d", 0, "a", "run:r", 0.0)
        };
        let stored = [
            a(AnnotationStatus::Valid),
            a(AnnotationStatus::Valid),
            a(AnnotationStatus::Error),
        ];
        assert_eq!(
            Counts::of(&stored),
            Counts {
                valid: 2,
                invalid: 0,
                failed: 1
            }
        );
        // 60 were done before; 20 more in 10 s is 2/s, not 8/s.
        let p = RunProgress {
            total: 100,
            valid: 80,
            base_done: 60,
            elapsed_ms: 10_000.0,
            ..Default::default()
        };
        assert!((p.rate() - 2.0).abs() < 1e-12);
        assert!((p.eta_secs().unwrap() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn progress_rate_and_eta() {
        let p = RunProgress {
            total: 100,
            valid: 30,
            invalid: 5,
            failed: 5,
            elapsed_ms: 20_000.0,
            ..Default::default()
        };
        assert_eq!(p.done(), 40);
        assert!((p.rate() - 2.0).abs() < 1e-12);
        assert!((p.eta_secs().unwrap() - 30.0).abs() < 1e-9);
        assert_eq!(RunProgress::default().eta_secs(), None);
    }
}
