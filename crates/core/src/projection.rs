//! Projecting measured throughput and cost to a daily volume: the argument for
//! measuring before annotating at scale ("6,500 calls a day: does it fit in 24 h,
//! and what does it cost?").

use serde::{Deserialize, Serialize};

/// Measured or assumed figures for one model configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProjectionInput {
    /// Mean wall time of one request, in seconds.
    pub latency_s: f64,
    /// Requests in flight at once (parallel workers).
    pub concurrency: u32,
    /// Prompt tokens per item.
    pub tokens_in_per_item: f64,
    /// Completion tokens per item.
    pub tokens_out_per_item: f64,
    /// Price per million prompt tokens.
    pub price_in_per_million: f64,
    /// Price per million completion tokens.
    pub price_out_per_million: f64,
    /// Items to process per day.
    pub daily_volume: u64,
}

/// What the input implies for a day's work.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Projection {
    /// Items finished per hour at this concurrency.
    pub items_per_hour: f64,
    /// Hours needed for the daily volume (infinite when nothing finishes).
    pub hours_per_day: f64,
    /// Whether the daily volume fits in 24 hours.
    pub fits_in_24h: bool,
    /// Tokens (in + out) per day.
    pub tokens_per_day: f64,
    /// Cost of 1,000 items.
    pub cost_per_1000: f64,
    /// Cost of the daily volume.
    pub cost_per_day: f64,
}

impl ProjectionInput {
    /// The figures a finished run measured: mean latency and tokens over its
    /// answers (`(latency_ms, tokens_in, tokens_out)` each), at `concurrency`.
    /// `None` without answers.
    pub fn measured(
        answers: &[(f64, u32, u32)],
        concurrency: u32,
        price_in_per_million: f64,
        price_out_per_million: f64,
        daily_volume: u64,
    ) -> Option<Self> {
        if answers.is_empty() {
            return None;
        }
        let n = answers.len() as f64;
        let mean = |f: fn(&(f64, u32, u32)) -> f64| answers.iter().map(f).sum::<f64>() / n;
        Some(ProjectionInput {
            latency_s: mean(|a| a.0) / 1000.0,
            concurrency: concurrency.max(1),
            tokens_in_per_item: mean(|a| f64::from(a.1)),
            tokens_out_per_item: mean(|a| f64::from(a.2)),
            price_in_per_million,
            price_out_per_million,
            daily_volume,
        })
    }

    /// A local scorer measured at `items_per_s` on one thread, at no token cost.
    pub fn local(items_per_s: f64, daily_volume: u64) -> Self {
        ProjectionInput {
            latency_s: if items_per_s > 0.0 {
                1.0 / items_per_s
            } else {
                f64::INFINITY
            },
            concurrency: 1,
            tokens_in_per_item: 0.0,
            tokens_out_per_item: 0.0,
            price_in_per_million: 0.0,
            price_out_per_million: 0.0,
            daily_volume,
        }
    }
}

/// Project a configuration to its daily volume. Throughput assumes the endpoint
/// keeps `concurrency` requests in flight, each taking `latency_s`.
pub fn project(i: &ProjectionInput) -> Projection {
    let items_per_hour = if i.latency_s > 0.0 {
        f64::from(i.concurrency) * 3600.0 / i.latency_s
    } else {
        f64::INFINITY
    };
    let volume = i.daily_volume as f64;
    let hours_per_day = if items_per_hour > 0.0 {
        volume / items_per_hour
    } else {
        f64::INFINITY
    };
    let cost_per_item = (i.tokens_in_per_item * i.price_in_per_million
        + i.tokens_out_per_item * i.price_out_per_million)
        / 1e6;
    Projection {
        items_per_hour,
        hours_per_day,
        fits_in_24h: hours_per_day <= 24.0,
        tokens_per_day: volume * (i.tokens_in_per_item + i.tokens_out_per_item),
        cost_per_1000: cost_per_item * 1000.0,
        cost_per_day: cost_per_item * volume,
    }
}

impl Projection {
    /// Several configurations run one after another on every item (the parts of a
    /// combined run): their hours, tokens and costs add up. `None` without parts.
    pub fn sequence(parts: &[Projection]) -> Option<Projection> {
        if parts.is_empty() {
            return None;
        }
        let hours_per_day: f64 = parts.iter().map(|p| p.hours_per_day).sum();
        let seconds_per_item: f64 = parts.iter().map(|p| 3600.0 / p.items_per_hour).sum();
        Some(Projection {
            items_per_hour: if seconds_per_item > 0.0 {
                3600.0 / seconds_per_item
            } else {
                f64::INFINITY
            },
            hours_per_day,
            fits_in_24h: hours_per_day <= 24.0,
            tokens_per_day: parts.iter().map(|p| p.tokens_per_day).sum(),
            cost_per_1000: parts.iter().map(|p| p.cost_per_1000).sum(),
            cost_per_day: parts.iter().map(|p| p.cost_per_day).sum(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_case(latency_s: f64, concurrency: u32) -> ProjectionInput {
        // The seed's case: 6,500 calls a day at about 660 tokens each.
        ProjectionInput {
            latency_s,
            concurrency,
            tokens_in_per_item: 650.0,
            tokens_out_per_item: 10.0,
            price_in_per_million: 0.15,
            price_out_per_million: 0.60,
            daily_volume: 6500,
        }
    }

    #[test]
    fn measured_and_local_inputs_project_as_their_figures_say() {
        let m =
            ProjectionInput::measured(&[(1000.0, 600, 10), (3000.0, 700, 20)], 4, 0.15, 0.6, 6500)
                .unwrap();
        assert_eq!(
            (m.latency_s, m.tokens_in_per_item, m.tokens_out_per_item),
            (2.0, 650.0, 15.0)
        );
        // 4 in flight at 2 s each: 7,200 an hour.
        assert!((project(&m).items_per_hour - 7200.0).abs() < 1e-9);
        assert!(ProjectionInput::measured(&[], 4, 0.0, 0.0, 1).is_none());
        let l = project(&ProjectionInput::local(6500.0 / 3600.0, 6500));
        assert!((l.hours_per_day - 1.0).abs() < 1e-9);
        assert_eq!(l.cost_per_day, 0.0);
        assert!(!project(&ProjectionInput::local(0.0, 10))
            .hours_per_day
            .is_finite());
    }

    #[test]
    fn seed_volume_is_about_4_3_million_tokens_a_day() {
        let p = project(&seed_case(2.0, 1));
        assert!((p.tokens_per_day - 4_290_000.0).abs() < 1e-6);
        // (650 * 0.15 + 10 * 0.60) / 1e6 per item.
        assert!((p.cost_per_1000 - 0.1035).abs() < 1e-12);
        assert!((p.cost_per_day - 0.67275).abs() < 1e-12);
    }

    #[test]
    fn one_request_at_a_time_does_not_fit_but_eight_in_flight_do() {
        // 15 s per call, sequential as the original tool: 240 calls/h, 27 h a day.
        let slow = project(&seed_case(15.0, 1));
        assert!((slow.items_per_hour - 240.0).abs() < 1e-9);
        assert!((slow.hours_per_day - 6500.0 / 240.0).abs() < 1e-9);
        assert!(!slow.fits_in_24h);
        let fast = project(&seed_case(15.0, 8));
        assert!((fast.hours_per_day - 6500.0 / 1920.0).abs() < 1e-9);
        assert!(fast.fits_in_24h);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let p = project(&seed_case(0.0, 4));
        assert!(p.fits_in_24h);
        let p = project(&seed_case(1.0, 0));
        assert!(!p.fits_in_24h);
        assert!(p.hours_per_day.is_infinite());
    }

    #[test]
    fn configurations_in_sequence_add_their_hours_and_costs() {
        let a = project(&seed_case(2.0, 4));
        let b = project(&seed_case(6.0, 4));
        let both = Projection::sequence(&[a, b]).unwrap();
        assert!((both.hours_per_day - (a.hours_per_day + b.hours_per_day)).abs() < 1e-9);
        // 0.5 + 1.5 s per item at 4 in flight: 1,800 an hour.
        assert!((both.items_per_hour - 1800.0).abs() < 1e-9);
        assert!((both.cost_per_day - 2.0 * a.cost_per_day).abs() < 1e-9);
        assert_eq!(both.fits_in_24h, both.hours_per_day <= 24.0);
        assert_eq!(Projection::sequence(&[]), None);
    }
}
