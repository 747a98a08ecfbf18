//! [`Report`]: what a simulation run did and whether its invariants held,
//! printed as the summary.

use std::fmt;
use std::time::Duration;

use crate::invariants::Check;
use crate::services::ServiceStats;

/// How many violations of one invariant the summary lists.
const SHOWN_VIOLATIONS: usize = 5;

/// The outcome of one simulation run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Bookings placed.
    pub bookings: u64,
    /// The seed the run drew its outcomes from.
    pub seed: u64,
    /// The customers' time to pay.
    pub payment_window: Duration,
    /// Bookings the log shows settled.
    pub settled: u64,
    /// Bookings the log shows denied.
    pub denied: u64,
    /// Bookings the log shows expired.
    pub expired: u64,
    /// What the engine and services counted, when they ran in this process.
    pub in_process: Option<InProcess>,
    /// Events in the log at the end.
    pub events: u64,
    /// From the first booking placed until every booking had finished.
    pub elapsed: Duration,
    /// Set when the run stopped making progress before every booking finished.
    pub stalled: Option<String>,
    /// Every invariant and its violations.
    pub checks: Vec<Check>,
}

/// What the engine and the simulated services of a plain run counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InProcess {
    /// Commands the process recorded (engine metrics).
    pub commands_sent: u64,
    /// Payment deadlines that fired (engine metrics).
    pub timeouts_fired: u64,
    /// What the simulated services counted.
    pub services: ServiceStats,
}

impl Report {
    /// Whether every invariant held.
    pub fn holds(&self) -> bool {
        self.checks.iter().all(Check::holds)
    }

    /// Events appended per second of the run.
    pub fn events_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.events as f64 / seconds
        } else {
            0.0
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "booking simulation: seed {}, payment window {} ms",
            self.seed,
            self.payment_window.as_millis()
        )?;
        let mut rows = vec![
            ("bookings", self.bookings.to_string()),
            ("settled", self.settled.to_string()),
            ("denied", self.denied.to_string()),
            ("expired", self.expired.to_string()),
        ];
        match &self.in_process {
            Some(counted) => rows.extend([
                ("commands sent", counted.commands_sent.to_string()),
                (
                    "payment deadlines fired",
                    counted.timeouts_fired.to_string(),
                ),
                (
                    "cancellations too late",
                    counted.services.cancels_too_late.to_string(),
                ),
                (
                    "duplicates absorbed",
                    format!(
                        "{} ({} replies lost on purpose)",
                        counted.services.duplicates, counted.services.replies_lost
                    ),
                ),
            ]),
            None => rows.push(("engine and services", "in the workers".to_owned())),
        }
        rows.extend([
            ("events in the log", self.events.to_string()),
            ("elapsed", format!("{:.2} s", self.elapsed.as_secs_f64())),
            (
                "events per second",
                format!("{:.0}", self.events_per_second()),
            ),
        ]);
        for (label, value) in rows {
            writeln!(f, "  {label:<25} {value}")?;
        }
        if let Some(stalled) = &self.stalled {
            writeln!(f, "  run stalled: {stalled}")?;
        }
        writeln!(f, "invariants")?;
        for check in &self.checks {
            let verdict = if check.holds() { "OK" } else { "FAILED" };
            writeln!(f, "  {verdict:<7} {}", check.name)?;
            for violation in check.violations.iter().take(SHOWN_VIOLATIONS) {
                writeln!(f, "          {violation}")?;
            }
            if check.violations.len() > SHOWN_VIOLATIONS {
                writeln!(
                    f,
                    "          ... and {} more",
                    check.violations.len() - SHOWN_VIOLATIONS
                )?;
            }
        }
        Ok(())
    }
}
