//! Delivering commands: the user's [`Dispatch`] gateway, its errors, and the
//! [`RetryPolicy`] for transient failures.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use uuid::Uuid;

/// What a gateway knows about a command besides its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandMeta {
    /// Stable across retries and restarts: pass it on so the receiver can
    /// drop duplicates (delivery is at least once).
    pub idempotency_key: Uuid,
    /// The process that issued the command.
    pub process: &'static str,
    /// The instance that issued it.
    pub instance: String,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    /// When the handler issued it (engine clock).
    pub issued_at: DateTime<Utc>,
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// Worth retrying later (timeouts, unavailable services).
    #[error("transient failure: {0}")]
    Transient(String),
    /// Will never succeed; the command goes to the dead letters.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// The gateway through which a process's commands leave the system.
///
/// Delivery is at least once, per instance in issue order; use
/// [`CommandMeta::idempotency_key`] to make the receiving side idempotent.
pub trait Dispatch<C>: Send + Sync + 'static {
    /// Delivers one command.
    fn dispatch(
        &self,
        command: C,
        meta: CommandMeta,
    ) -> impl Future<Output = Result<(), DispatchError>> + Send;
}

/// How transient failures are retried: exponential backoff with full jitter,
/// capped, for a bounded number of attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all before a command goes to the dead letters.
    pub max_attempts: u32,
    /// The backoff before the first retry.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The upper bound of the wait after failed attempt `attempt` (1-based):
    /// `initial * 2^(attempt-1)`, capped at `max_backoff`.
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let doubling = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(doubling)
            .min(self.max_backoff)
    }

    /// The wait after failed attempt `attempt`: a random duration between
    /// half the ceiling and the ceiling, so that retries of many commands
    /// spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.backoff_ceiling(attempt);
        let half = ceiling / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(rand::thread_rng().gen_range(0..=jitter_nanos))
    }

    /// Whether a command that failed `attempts` times may be tried again.
    pub fn may_retry(&self, attempts: u32) -> bool {
        attempts < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        };
        let ceilings: Vec<u128> = (1..=6)
            .map(|attempt| policy.backoff_ceiling(attempt).as_millis())
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn backoff_is_jittered_between_half_the_ceiling_and_the_ceiling() {
        let policy = RetryPolicy::default();
        let waits: Vec<Duration> = (0..200).map(|_| policy.backoff(3)).collect();
        let ceiling = policy.backoff_ceiling(3);
        assert!(waits
            .iter()
            .all(|wait| *wait >= ceiling / 2 && *wait <= ceiling));
        let distinct: std::collections::HashSet<_> = waits.iter().collect();
        assert!(
            distinct.len() > 100,
            "jitter spreads the waits: {} distinct",
            distinct.len()
        );
    }

    #[test]
    fn retries_stop_at_the_attempt_limit() {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        assert!(policy.may_retry(2));
        assert!(!policy.may_retry(3));
    }
}
