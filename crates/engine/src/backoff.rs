//! The retry delay of a failed step: exponential with a cap and proportional jitter.
//! Persisted as the job's next `due_at`, so a retry survives a worker restart.

use std::time::Duration;

use rand::Rng;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackoffPolicy {
    #[serde(with = "duration_ms")]
    pub initial: Duration,
    #[serde(with = "duration_ms")]
    pub max: Duration,
    pub multiplier: f64,
    /// Fraction of the delay, in `0.0..=1.0`, by which it may vary either way.
    pub jitter: f64,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

impl BackoffPolicy {
    /// Delay before the retry that follows the `failures`-th failed attempt (1-based).
    pub fn delay(&self, failures: u32, rng: &mut impl Rng) -> Duration {
        let base = self.base_delay(failures).as_secs_f64();
        let spread = base * self.jitter;
        let jittered = if spread > 0.0 {
            base + rng.random_range(-spread..=spread)
        } else {
            base
        };
        Duration::from_secs_f64(jittered.clamp(0.0, self.max.as_secs_f64()))
    }

    /// The delay without jitter: `initial * multiplier^(failures-1)`, capped at `max`.
    pub fn base_delay(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(64) as i32;
        let secs = self.initial.as_secs_f64() * self.multiplier.powi(exponent);
        if !secs.is_finite() || secs >= self.max.as_secs_f64() {
            self.max
        } else {
            Duration::from_secs_f64(secs)
        }
    }
}

mod duration_ms {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u128(d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn policy(jitter: f64) -> BackoffPolicy {
        BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            multiplier: 2.0,
            jitter,
        }
    }

    #[test]
    fn grows_exponentially_then_caps() {
        let p = policy(0.0);
        let mut rng = StdRng::seed_from_u64(1);
        let delays: Vec<u128> = (1..=7).map(|n| p.delay(n, &mut rng).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1600, 2000, 2000]);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let p = policy(0.5);
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..500).map(|_| p.delay(3, &mut rng)).collect();
        assert!(delays.iter().all(|d| {
            let ms = d.as_millis();
            (200..=600).contains(&ms)
        }));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(distinct.len() > 50, "jitter should spread delays");
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let p = policy(0.0);
        assert_eq!(p.base_delay(u32::MAX), Duration::from_secs(2));
    }
}
