//! What the batch process says. Every command is `Debug + Clone + PartialEq
//! + Serialize + Deserialize`: the tests compare them, the outbox stores them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::events::BatchOutcome;
use crate::id::BatchId;
use crate::process::FileStatus;

/// Ask the file service to process one file of the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessFile {
    /// The batch.
    pub batch_id: BatchId,
    /// The file.
    pub file: String,
}

/// Tell the file service to stop working on a file the deadline overtook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelFile {
    /// The batch.
    pub batch_id: BatchId,
    /// The file.
    pub file: String,
}

/// Tell the batch service how the batch ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteBatch {
    /// The batch.
    pub batch_id: BatchId,
    /// How it ended.
    pub outcome: BatchOutcome,
    /// Each file's status at the end.
    pub files: BTreeMap<String, FileStatus>,
}
