//! What a run measured, the targets, and number formatting.

use std::time::Duration;

use crate::resources::Usage;

/// One run of the engine or a baseline over the log.
#[derive(Debug, Clone)]
pub struct Run {
    /// `engine`, `baseline` or `pipelined`.
    pub system: &'static str,
    /// Events per batch.
    pub batch_size: usize,
    /// Events processed.
    pub events: u64,
    /// Batches committed.
    pub batches: u64,
    /// Time, CPU and memory used.
    pub usage: Usage,
}

impl Run {
    /// Events per second.
    pub fn rate(&self) -> f64 {
        per_second(self.events, self.usage.elapsed)
    }

    /// The printed line.
    pub fn line(&self) -> String {
        format!(
            "{:<9} batch {:>4}: {:>6} events in {:>6.2} s = {:>6.0} events/s | {} batches | {}",
            self.system,
            self.batch_size,
            self.events,
            self.usage.elapsed.as_secs_f64(),
            self.rate(),
            self.batches,
            self.usage.line()
        )
    }
}

/// A target and how the run compares.
#[derive(Debug, Clone)]
pub struct Target {
    what: String,
    goal: String,
    got: String,
    met: Option<bool>,
}

impl Target {
    /// Met when `got >= goal`; `None`: not measured.
    pub fn at_least(what: String, goal: f64, got: Option<f64>, unit: &str) -> Self {
        Self::new(what, ">=", goal, got, unit, |got| got >= goal)
    }

    /// Met when `got <= goal`; `None`: not measured.
    pub fn at_most(what: String, goal: f64, got: Option<f64>, unit: &str) -> Self {
        Self::new(what, "<=", goal, got, unit, |got| got <= goal)
    }

    fn new(
        what: String,
        sign: &str,
        goal: f64,
        got: Option<f64>,
        unit: &str,
        met: impl Fn(f64) -> bool,
    ) -> Self {
        Target {
            what,
            goal: format!("{sign} {goal} {unit}"),
            got: got.map_or_else(
                || "not measured".to_owned(),
                |got| format!("{got:.2} {unit}"),
            ),
            met: got.map(met),
        }
    }

    /// The printed line, ending in MET, MISSED or NOT RUN.
    pub fn line(&self) -> String {
        let verdict = match self.met {
            Some(true) => "MET",
            Some(false) => "MISSED",
            None => "NOT RUN",
        };
        format!(
            "  {:<44} goal {:<20} got {:<22} {verdict}",
            self.what, self.goal, self.got
        )
    }
}

/// `count / elapsed`.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds == 0.0 {
        0.0
    } else {
        as_f64(count) / seconds
    }
}

/// Milliseconds as a float.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A count as a float (benchmark counts are far below 2^52).
#[allow(clippy::cast_precision_loss)]
fn as_f64(count: u64) -> f64 {
    count as f64
}

/// The median (the mean of the middle two for an even count); `None` for
/// no figures.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted.get(middle).copied()
    } else {
        Some((sorted.get(middle.checked_sub(1)?)? + sorted.get(middle)?) / 2.0)
    }
}

/// A figure with `decimals` decimals, or `-` when there is none.
pub fn show(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.decimals$}"))
}
