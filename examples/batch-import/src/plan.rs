//! [`Plan`]: what each simulated batch holds and what the file service will
//! answer for each file, drawn from the seed and the batch and file numbers
//! alone, so a run with one seed behaves the same every time and a
//! redelivered command meets the same answer.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::id::BatchId;

/// Percent of files the file service fails.
const FAILS_PERCENT: u32 = 10;
/// Percent of files the file service never answers (their batch times out).
const SILENT_PERCENT: u32 = 5;

/// What the file service does with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Processes it, finding this many rows.
    Processed(u32),
    /// Fails it.
    Failed,
    /// Never answers.
    Silent,
}

/// The simulation's fates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    seed: u64,
    max_files: u32,
}

impl Plan {
    /// Fates drawn from `seed`, with batches of 1 to `max_files` files.
    pub fn new(seed: u64, max_files: u32) -> Self {
        Self {
            seed,
            max_files: max_files.max(1),
        }
    }

    /// The files of batch `batch`.
    pub fn files(&self, batch: BatchId) -> Vec<String> {
        let count = self.rng(batch, u32::MAX).gen_range(1..=self.max_files);
        (0..count)
            .map(|file| format!("{batch}-part-{file:02}.csv"))
            .collect()
    }

    /// The file service's answer for `file` of `batch`.
    pub fn answer(&self, batch: BatchId, file: &str) -> Answer {
        let number = file
            .rsplit_once("-part-")
            .and_then(|(_, rest)| rest.strip_suffix(".csv"))
            .and_then(|number| number.parse::<u32>().ok())
            .unwrap_or(u32::MAX - 1);
        let mut rng = self.rng(batch, number);
        let roll = rng.gen_range(0..100);
        if roll < SILENT_PERCENT {
            Answer::Silent
        } else if roll < SILENT_PERCENT + FAILS_PERCENT {
            Answer::Failed
        } else {
            Answer::Processed(rng.gen_range(1..10_000))
        }
    }

    fn rng(&self, batch: BatchId, file: u32) -> StdRng {
        let mixed = self
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(u64::from(batch.0) << 32 | u64::from(file));
        StdRng::seed_from_u64(mixed)
    }
}

#[cfg(test)]
mod tests {
    use super::{Answer, Plan};
    use crate::id::BatchId;

    #[test]
    fn a_seed_decides_the_same_way_every_time() {
        let plan = Plan::new(7, 5);
        let files = plan.files(BatchId(3));
        assert!(!files.is_empty() && files.len() <= 5);
        assert_eq!(files, Plan::new(7, 5).files(BatchId(3)));
        for file in &files {
            assert_eq!(plan.answer(BatchId(3), file), plan.answer(BatchId(3), file));
        }
    }

    #[test]
    fn every_answer_occurs_over_many_files() {
        let plan = Plan::new(1, 8);
        let answers: Vec<Answer> = (0..200)
            .flat_map(|batch| {
                let batch = BatchId(batch);
                plan.files(batch)
                    .into_iter()
                    .map(move |file| plan.answer(batch, &file))
            })
            .collect();
        assert!(answers
            .iter()
            .any(|answer| matches!(answer, Answer::Processed(_))));
        assert!(answers.contains(&Answer::Failed));
        assert!(answers.contains(&Answer::Silent));
    }
}
