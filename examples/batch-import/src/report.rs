//! [`Report`]: the summary of a run, and whether its checks held.

use std::fmt;
use std::time::Duration;

use crate::services::ServiceStats;

/// How the batches and files ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Batches whose every file was processed.
    pub succeeded: u64,
    /// Batches with a failed file and none unfinished.
    pub failed: u64,
    /// Batches the deadline ended.
    pub timed_out: u64,
    /// Files in all batches.
    pub files: u64,
    /// Files the service would have answered but the deadline came first.
    pub overtaken_by_deadline: u64,
}

/// The summary of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Batches created.
    pub batches: u32,
    /// The seed.
    pub seed: u64,
    /// How they ended.
    pub tally: Tally,
    /// Commands the process recorded.
    pub commands: u64,
    /// Deadlines that fired.
    pub timeouts_fired: u64,
    /// What the simulated services did.
    pub services: ServiceStats,
    /// How long the run took.
    pub elapsed: Duration,
    /// Checks that failed; empty when the run is right.
    pub problems: Vec<String>,
}

impl Report {
    /// Whether every check held.
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.tally;
        writeln!(
            f,
            "{} batches ({} files, seed {}) in {:.2?}",
            self.batches, t.files, self.seed, self.elapsed
        )?;
        writeln!(
            f,
            "  succeeded {}, failed {}, timed out {} ({} files overtaken by the deadline)",
            t.succeeded, t.failed, t.timed_out, t.overtaken_by_deadline
        )?;
        writeln!(
            f,
            "  {} commands, {} deadlines fired; files answered {}, never answered {}, cancelled {}; {} redeliveries absorbed",
            self.commands,
            self.timeouts_fired,
            self.services.files_answered,
            self.services.files_unanswered,
            self.services.files_cancelled,
            self.services.redeliveries
        )?;
        if self.holds() {
            writeln!(f, "every check holds")
        } else {
            writeln!(f, "{} checks failed:", self.problems.len())?;
            for problem in &self.problems {
                writeln!(f, "  - {problem}")?;
            }
            Ok(())
        }
    }
}
