//! Pacing requests to an endpoint: a requests-per-minute limit, and the
//! rotation over an endpoint's replicas that rests one that keeps failing.

/// A replica failing this many requests in a row leaves the rotation …
pub const REPLICA_MAX_FAILURES: u32 = 3;
/// … for this long (milliseconds).
pub const REPLICA_TIMEOUT_MS: f64 = 30_000.0;

/// A token bucket for a requests-per-minute limit: it holds up to one second's
/// worth of requests (at least one) and refills continuously, so requests go out
/// evenly at the limit with short bursts after a quiet spell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    capacity: f64,
    tokens: f64,
    per_ms: f64,
    last_ms: f64,
}

impl TokenBucket {
    /// A bucket for `rpm` requests a minute, holding one token at `now_ms`.
    pub fn per_minute(rpm: u32, now_ms: f64) -> Self {
        let rpm = f64::from(rpm.max(1));
        TokenBucket {
            capacity: (rpm / 60.0).max(1.0),
            tokens: 1.0,
            per_ms: rpm / 60_000.0,
            last_ms: now_ms,
        }
    }

    /// Take a token at `now_ms`; returns how long (milliseconds) the request must
    /// wait for it. Tokens taken ahead are owed, so concurrent callers queue up.
    pub fn take(&mut self, now_ms: f64) -> f64 {
        let elapsed = (now_ms - self.last_ms).max(0.0);
        self.tokens = (self.tokens + elapsed * self.per_ms).min(self.capacity);
        self.last_ms = now_ms.max(self.last_ms);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            0.0
        } else {
            -self.tokens / self.per_ms
        }
    }
}

/// Health of one base URL of an endpoint pool.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Replica {
    failures_in_a_row: u32,
    out_until_ms: f64,
}

/// Round-robin over an endpoint's base URLs; a replica that keeps failing is left
/// out for a while, then tried again.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    replicas: Vec<Replica>,
    next: usize,
}

impl Pool {
    /// A pool of `n` base URLs (at least one), all in rotation.
    pub fn new(n: usize) -> Self {
        Pool {
            replicas: vec![Replica::default(); n.max(1)],
            next: 0,
        }
    }

    /// The base URL index for the next request. When every replica is out, the
    /// one due back first is used rather than stalling.
    pub fn pick(&mut self, now_ms: f64) -> usize {
        let n = self.replicas.len();
        let i = (0..n)
            .map(|k| (self.next + k) % n)
            .find(|&i| self.replicas[i].out_until_ms <= now_ms)
            .unwrap_or_else(|| {
                (0..n)
                    .min_by(|&a, &b| {
                        self.replicas[a]
                            .out_until_ms
                            .total_cmp(&self.replicas[b].out_until_ms)
                    })
                    .unwrap_or(0)
            });
        self.next = (i + 1) % n;
        i
    }

    /// Record how a request to replica `i` went.
    pub fn report(&mut self, i: usize, ok: bool, now_ms: f64) {
        let Some(r) = self.replicas.get_mut(i) else {
            return;
        };
        if ok {
            r.failures_in_a_row = 0;
        } else {
            r.failures_in_a_row += 1;
            if r.failures_in_a_row >= REPLICA_MAX_FAILURES {
                r.failures_in_a_row = 0;
                r.out_until_ms = now_ms + REPLICA_TIMEOUT_MS;
            }
        }
    }

    /// Replicas now out of rotation.
    pub fn out_of_rotation(&self, now_ms: f64) -> u32 {
        self.replicas
            .iter()
            .filter(|r| r.out_until_ms > now_ms)
            .count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_spaces_requests_and_allows_a_short_burst() {
        // 120 a minute: one every 500 ms, bursts of up to 2 after a quiet spell.
        let mut b = TokenBucket::per_minute(120, 0.0);
        assert_eq!(b.take(0.0), 0.0);
        assert!((b.take(0.0) - 500.0).abs() < 1e-9);
        assert!((b.take(0.0) - 1000.0).abs() < 1e-9);
        // Ten seconds later the bucket is full again (two tokens), not twenty.
        let mut b = TokenBucket::per_minute(120, 0.0);
        b.take(0.0);
        assert_eq!(b.take(10_000.0), 0.0);
        assert_eq!(b.take(10_000.0), 0.0);
        assert!((b.take(10_000.0) - 500.0).abs() < 1e-9);
        // Over a long stretch the rate is the limit.
        let mut b = TokenBucket::per_minute(600, 0.0);
        let last_wait = (0..601).map(|_| b.take(0.0)).last().unwrap();
        assert!((last_wait - 60_000.0).abs() < 1e-6, "{last_wait}");
    }

    #[test]
    fn the_pool_rotates_and_rests_a_failing_replica() {
        let mut p = Pool::new(3);
        let picks: Vec<usize> = (0..6).map(|_| p.pick(0.0)).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
        // Replica 1 fails three times in a row: out for 30 s.
        for _ in 0..3 {
            p.report(1, false, 1000.0);
        }
        assert_eq!(p.out_of_rotation(1000.0), 1);
        let picks: Vec<usize> = (0..4).map(|_| p.pick(2000.0)).collect();
        assert_eq!(picks, vec![0, 2, 0, 2]);
        // A success in between resets the count.
        p.report(0, false, 0.0);
        p.report(0, false, 0.0);
        p.report(0, true, 0.0);
        p.report(0, false, 0.0);
        assert_eq!(p.out_of_rotation(2000.0), 1);
        // Back after the rest.
        assert_eq!(p.out_of_rotation(31_001.0), 0);
        assert!((0..3).map(|_| p.pick(31_001.0)).any(|i| i == 1));
        // All out: the one due back first is used.
        let mut p = Pool::new(2);
        (0..3).for_each(|_| p.report(0, false, 0.0));
        (0..3).for_each(|_| p.report(1, false, 10.0));
        assert_eq!(p.pick(20.0), 0);
    }
}
