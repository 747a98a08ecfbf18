//! When the process loop asks the store for due timeouts and for released
//! parked items. Asking every round would cost two round trips per batch,
//! most of them finding nothing; instead the loop remembers when the
//! earliest timeout of its partitions is due (only their owner schedules
//! timeouts there) and looks for released items once per poll interval.
//! What it remembers is forgotten whenever it could be wrong: the loop
//! renewed its partitions (which may have changed them), a commit failed,
//! timeouts fired, or released instances came back.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// What the loop knows without asking.
#[derive(Debug)]
pub(crate) struct Sweeps {
    /// When the earliest timeout of the held partitions is due: `None` when
    /// not known, `Some(None)` when none is scheduled.
    earliest_timeout: Option<Option<DateTime<Utc>>>,
    /// How often released items are looked for while the loop is busy.
    release_interval: Duration,
    /// When to look for released items next.
    next_release_check: Instant,
}

impl Sweeps {
    /// Knowing nothing yet.
    pub(crate) fn new(release_interval: Duration) -> Self {
        Self {
            earliest_timeout: None,
            release_interval,
            next_release_check: Instant::now(),
        }
    }

    /// Forgets everything: the partitions were renewed (and may have
    /// changed), or a commit failed.
    pub(crate) fn forget(&mut self) {
        self.earliest_timeout = None;
        self.next_release_check = Instant::now();
    }

    /// Whether the earliest timeout has to be asked for.
    pub(crate) fn timeouts_unknown(&self) -> bool {
        self.earliest_timeout.is_none()
    }

    /// Records the earliest timeout as the store reported it.
    pub(crate) fn timeouts_found(&mut self, earliest: Option<DateTime<Utc>>) {
        self.earliest_timeout = Some(earliest);
    }

    /// Whether a timeout may be due at `now` (also when not known).
    pub(crate) fn timeouts_may_be_due(&self, now: DateTime<Utc>) -> bool {
        match self.earliest_timeout {
            None => true,
            Some(None) => false,
            Some(Some(at)) => at <= now,
        }
    }

    /// Timeouts fired or were handed to the batch: which is earliest now is
    /// not known.
    pub(crate) fn timeouts_taken(&mut self) {
        self.earliest_timeout = None;
    }

    /// A committed batch scheduled a timeout at `at`.
    pub(crate) fn timeout_scheduled(&mut self, at: DateTime<Utc>) {
        if let Some(earliest) = &mut self.earliest_timeout {
            *earliest = Some(earliest.map_or(at, |known| known.min(at)));
        }
    }

    /// Whether released items are to be looked for now.
    pub(crate) fn release_check_due(&self) -> bool {
        Instant::now() >= self.next_release_check
    }

    /// Released items were looked for; `found`: some were. While some are
    /// found the loop keeps looking every round; their instances' timeouts
    /// may be due again.
    pub(crate) fn release_checked(&mut self, found: bool) {
        if found {
            self.earliest_timeout = None;
            self.next_release_check = Instant::now();
        } else {
            self.next_release_check = Instant::now() + self.release_interval;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000 + seconds, 0).unwrap_or_default()
    }

    #[test]
    fn unknown_timeouts_may_be_due() {
        let sweeps = Sweeps::new(Duration::from_secs(1));
        assert!(sweeps.timeouts_unknown());
        assert!(sweeps.timeouts_may_be_due(at(0)));
    }

    #[test]
    fn a_known_earliest_timeout_is_due_from_its_time_on() {
        let mut sweeps = Sweeps::new(Duration::from_secs(1));
        sweeps.timeouts_found(Some(at(10)));
        assert!(!sweeps.timeouts_unknown(), "found, so known");
        assert!(!sweeps.timeouts_may_be_due(at(9)));
        assert!(sweeps.timeouts_may_be_due(at(10)));
        sweeps.timeouts_found(None);
        assert!(!sweeps.timeouts_may_be_due(at(1_000)));
    }

    #[test]
    fn a_scheduled_timeout_moves_the_earliest_only_forward_in_time() {
        let mut sweeps = Sweeps::new(Duration::from_secs(1));
        sweeps.timeouts_found(None);
        sweeps.timeout_scheduled(at(20));
        assert!(sweeps.timeouts_may_be_due(at(20)));
        sweeps.timeout_scheduled(at(5));
        assert!(sweeps.timeouts_may_be_due(at(5)));
        sweeps.timeout_scheduled(at(30));
        assert!(sweeps.timeouts_may_be_due(at(5)));
    }

    #[test]
    fn taken_or_forgotten_timeouts_are_unknown_again() {
        let mut sweeps = Sweeps::new(Duration::from_secs(1));
        sweeps.timeouts_found(None);
        sweeps.timeouts_taken();
        assert!(sweeps.timeouts_unknown());
        sweeps.timeout_scheduled(at(5));
        assert!(sweeps.timeouts_unknown(), "a guess is no knowledge");
        sweeps.timeouts_found(None);
        sweeps.forget();
        assert!(sweeps.timeouts_unknown());
    }

    #[test]
    fn released_items_are_looked_for_once_per_interval_unless_found() {
        let mut sweeps = Sweeps::new(Duration::from_secs(3600));
        assert!(sweeps.release_check_due());
        sweeps.release_checked(false);
        assert!(!sweeps.release_check_due());
        sweeps.forget();
        assert!(sweeps.release_check_due());
        sweeps.timeouts_found(None);
        sweeps.release_checked(true);
        assert!(sweeps.release_check_due());
        assert!(sweeps.timeouts_unknown());
    }
}
