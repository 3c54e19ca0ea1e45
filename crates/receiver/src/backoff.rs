//! Waiting: after failures, and when the server says `backoff`.

use std::time::Duration;

use rand::Rng;

use crate::config::Backoff;

/// The delay before retry number `attempt` (1 for the first): a uniformly
/// random time up to `min(max, initial * 2^(attempt-1))` ("full jitter").
pub(crate) fn retry_delay(backoff: &Backoff, attempt: u32, rng: &mut impl Rng) -> Duration {
    let cap = backoff
        .initial
        .saturating_mul(1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX))
        .min(backoff.max);
    cap.mul_f64(rng.random::<f64>())
}

/// The wait after the `n`th `backoff` frame in a row (docs/protocol.md):
/// `min(5 * 2^(n-1), 320)` seconds times a random factor from 1 to 1.5.
pub(crate) fn server_backoff(n: u32, rng: &mut impl Rng) -> Duration {
    let seconds = 5u64.saturating_mul(1u64.checked_shl(n.saturating_sub(1)).unwrap_or(u64::MAX)).min(320);
    Duration::from_secs(seconds).mul_f64(rng.random_range(1.0..=1.5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn retries_grow_to_the_cap() {
        let b = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(2) };
        let mut rng = SmallRng::seed_from_u64(1);
        for attempt in 1..40 {
            let cap = Duration::from_millis(100 * (1 << (attempt - 1).min(20))).min(Duration::from_secs(2));
            let d = retry_delay(&b, attempt, &mut rng);
            assert!(d <= cap, "attempt {attempt}: {d:?} > {cap:?}");
        }
    }

    #[test]
    fn server_backoff_follows_the_schedule() {
        let mut rng = SmallRng::seed_from_u64(1);
        for (n, base) in [(1, 5), (2, 10), (3, 20), (6, 160), (7, 320), (8, 320), (60, 320)] {
            let d = server_backoff(n, &mut rng);
            assert!(d >= Duration::from_secs(base) && d <= Duration::from_secs(base).mul_f64(1.5), "n={n}: {d:?}");
        }
    }
}
