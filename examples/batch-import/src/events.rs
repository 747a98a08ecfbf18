//! What the batch process hears: the batch service's events (named fields)
//! and the file service's (one payload type each).

use std::collections::BTreeMap;

use pm_core::Event;
use serde::{Deserialize, Serialize};

use crate::id::BatchId;
use crate::process::FileStatus;

/// Events of the batch service, on the batch's own stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Event)]
pub enum BatchEvent {
    /// A batch of files was created; its files are to be processed before
    /// the deadline.
    Created {
        /// The files, by name.
        files: Vec<String>,
        /// How long the files may take, in milliseconds from now.
        deadline_ms: u64,
    },
    /// The batch service recorded the batch's end (after `CompleteBatch`).
    Completed {
        /// How the batch ended.
        outcome: BatchOutcome,
        /// Each file's status at the end.
        files: BTreeMap<String, FileStatus>,
    },
}

/// How a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BatchOutcome {
    /// Every file was processed.
    Succeeded,
    /// Every file finished and at least one failed.
    Failed,
    /// The deadline passed with files unfinished (some may have failed too).
    TimedOut,
}

/// Events of the file service, one stream per file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Event)]
pub enum FileEvent {
    /// A file was processed.
    Processed(FileProcessed),
    /// A file could not be processed.
    Failed(FileFailed),
}

/// Payload of [`FileEvent::Processed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProcessed {
    /// The batch the file belongs to.
    pub batch_id: BatchId,
    /// The file.
    pub file: String,
    /// How many rows it held.
    pub rows: u32,
}

/// Payload of [`FileEvent::Failed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFailed {
    /// The batch the file belongs to.
    pub batch_id: BatchId,
    /// The file.
    pub file: String,
    /// Why it failed.
    pub reason: String,
}
