//! [`Batch`]: the process manager of one batch of files (after "Creating a
//! Simple Process Manager"): one `ProcessFile` per file, each file's status
//! kept as the file service answers, and the batch completed when every file
//! has finished, or when its deadline passes.
//!
//! | stage      | on                      | to                | sends                                   |
//! |------------|-------------------------|-------------------|-----------------------------------------|
//! | New        | `BatchEvent::Created`   | Processing (Done if empty) | `ProcessFile` per file; schedules `Deadline` |
//! | Processing | `FileEvent::Processed`  | Processing / Done | `CompleteBatch` once no file is pending |
//! | Processing | `FileEvent::Failed`     | Processing / Done | `CompleteBatch` once no file is pending |
//! | Processing | timeout `Deadline`      | Done              | `CancelFile` per pending file, `CompleteBatch` |
//!
//! The batch ends `Succeeded` when every file was processed, `Failed` when
//! every file finished and one failed, `TimedOut` when the deadline came
//! first. A file event repeated, or for a file not in the batch, changes
//! nothing; events after the end are skipped (the instance is complete).

use std::collections::BTreeMap;
use std::time::Duration;

use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

use crate::commands::{CancelFile, CompleteBatch, ProcessFile};
use crate::events::{BatchEvent, BatchOutcome, FileEvent, FileFailed, FileProcessed};
use crate::id::BatchId;

/// Where a batch is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, State)]
pub enum Stage {
    /// Not created yet.
    #[default]
    New,
    /// Waiting for the file service.
    Processing,
    /// Completed (final: entering it completes the instance).
    #[state(final)]
    Done,
}

/// The timeouts a batch schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Timeout)]
pub enum BatchTimeout {
    /// The files' time is up.
    Deadline,
}

/// Where one file is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileStatus {
    /// Sent to the file service; no answer yet.
    Pending,
    /// Processed, with this many rows.
    Processed {
        /// Rows read.
        rows: u32,
    },
    /// The file service could not process it.
    Failed {
        /// Why.
        reason: String,
    },
    /// The deadline passed first; the file was cancelled.
    TimedOut,
}

/// The state of one batch's process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Where the batch is.
    pub stage: Stage,
    /// Each file's status, by name.
    pub files: BTreeMap<String, FileStatus>,
}

#[process_manager(
    name = "batch-import",
    id = BatchId,
    subscribe(BatchEvent, FileEvent),
    timeouts(BatchTimeout),
    state = stage,
    ignore(
        BatchEvent::Created except(New),
        BatchEvent::Completed,
        FileEvent::Processed except(Processing),
        FileEvent::Failed except(Processing),
        BatchTimeout::Deadline except(Processing),
    )
)]
impl Batch {
    #[on(BatchEvent::Created { .. }, start, in(New), to(Processing, Done), sends(ProcessFile, CompleteBatch))]
    fn created(&mut self, files: &[String], deadline_ms: &u64, cx: &mut Context<Self>) {
        self.stage = Stage::Processing;
        for file in files {
            self.files.insert(file.clone(), FileStatus::Pending);
            cx.send(ProcessFile {
                batch_id: *cx.id(),
                file: file.clone(),
            });
        }
        cx.schedule(BatchTimeout::Deadline, Duration::from_millis(*deadline_ms));
        self.finish(cx);
    }

    #[on(FileEvent::Processed, correlate = batch_id, in(Processing), to(Processing, Done), sends(CompleteBatch))]
    fn processed(&mut self, processed: &FileProcessed, cx: &mut Context<Self>) {
        let status = FileStatus::Processed {
            rows: processed.rows,
        };
        self.answer(&processed.file, status);
        self.finish(cx);
    }

    #[on(FileEvent::Failed, correlate = batch_id, in(Processing), to(Processing, Done), sends(CompleteBatch))]
    fn failed(&mut self, failed: &FileFailed, cx: &mut Context<Self>) {
        let status = FileStatus::Failed {
            reason: failed.reason.clone(),
        };
        self.answer(&failed.file, status);
        self.finish(cx);
    }

    #[timeout(
        BatchTimeout::Deadline,
        in(Processing),
        to(Done),
        sends(CancelFile, CompleteBatch)
    )]
    fn deadline(&mut self, cx: &mut Context<Self>) {
        for (file, status) in &mut self.files {
            if *status == FileStatus::Pending {
                *status = FileStatus::TimedOut;
                cx.send(CancelFile {
                    batch_id: *cx.id(),
                    file: file.clone(),
                });
            }
        }
        self.complete(BatchOutcome::TimedOut, cx);
    }

    /// Records the first answer for a file of this batch; a repeated
    /// answer, or one for another file, changes nothing.
    fn answer(&mut self, file: &str, status: FileStatus) {
        if let Some(current) = self.files.get_mut(file) {
            if *current == FileStatus::Pending {
                *current = status;
            }
        }
    }

    /// Completes the batch once no file is pending (the seed's
    /// `determine_status`: succeeded if every file was processed, failed if
    /// one failed).
    #[sends(CompleteBatch)]
    fn finish(&mut self, cx: &mut Context<Self>) {
        let mut outcome = BatchOutcome::Succeeded;
        for status in self.files.values() {
            match status {
                FileStatus::Pending => return,
                FileStatus::Failed { .. } => outcome = BatchOutcome::Failed,
                FileStatus::Processed { .. } | FileStatus::TimedOut => {}
            }
        }
        cx.cancel(BatchTimeout::Deadline);
        self.complete(outcome, cx);
    }

    /// Sends the batch's end and moves to `Done`, which completes the
    /// instance.
    #[sends(CompleteBatch)]
    fn complete(&mut self, outcome: BatchOutcome, cx: &mut Context<Self>) {
        self.stage = Stage::Done;
        cx.send(CompleteBatch {
            batch_id: *cx.id(),
            outcome,
            files: self.files.clone(),
        });
    }
}
