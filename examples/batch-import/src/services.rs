//! [`Services`]: the simulated file and batch services behind one
//! [`Dispatch`] gateway. They answer commands by recording events in the
//! [`Journal`], one per stream, so a redelivered command is harmless.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pm_core::{CommandMeta, Dispatch, DispatchError};

use crate::commands::{CancelFile, CompleteBatch, ProcessFile};
use crate::events::{BatchEvent, FileEvent, FileFailed, FileProcessed};
use crate::id::BatchId;
use crate::journal::{Journal, JournalError, Recorded};
use crate::plan::{Answer, Plan};
use crate::process::BatchCommand;

/// The file and batch services, recording in journal `J`.
#[derive(Debug, Clone)]
pub struct Services<J> {
    journal: J,
    plan: Plan,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    files_answered: AtomicU64,
    files_unanswered: AtomicU64,
    /// Each file cancelled, once however often the command came.
    cancelled: Mutex<BTreeSet<(BatchId, String)>>,
    redeliveries: AtomicU64,
}

/// What the services did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceStats {
    /// Files processed or failed.
    pub files_answered: u64,
    /// Files the service kept silent about.
    pub files_unanswered: u64,
    /// Files cancelled (each counted once).
    pub files_cancelled: u64,
    /// Commands whose event was already recorded.
    pub redeliveries: u64,
}

/// The stream of a file's answer.
pub fn file_stream(command: &ProcessFile) -> String {
    format!("{}/{}", command.batch_id, command.file)
}

/// The stream of a batch's completion.
pub fn completion_stream(command: &CompleteBatch) -> String {
    format!("{}/completed", command.batch_id)
}

impl<J: Journal> Services<J> {
    /// Services recording in `journal`, answering as `plan` says.
    pub fn new(journal: J, plan: Plan) -> Self {
        Self {
            journal,
            plan,
            counters: Arc::default(),
        }
    }

    /// The counters so far (shared by every clone).
    pub fn stats(&self) -> ServiceStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ServiceStats {
            files_answered: load(&self.counters.files_answered),
            files_unanswered: load(&self.counters.files_unanswered),
            files_cancelled: self.cancelled().len() as u64,
            redeliveries: load(&self.counters.redeliveries),
        }
    }

    /// The files cancelled so far.
    pub fn cancelled(&self) -> BTreeSet<(BatchId, String)> {
        self.counters
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn process_file(&self, command: &ProcessFile) -> Result<(), JournalError> {
        let event = match self.plan.answer(command.batch_id, &command.file) {
            Answer::Silent => {
                self.counters
                    .files_unanswered
                    .fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Answer::Processed(rows) => FileEvent::Processed(FileProcessed {
                batch_id: command.batch_id,
                file: command.file.clone(),
                rows,
            }),
            Answer::Failed => FileEvent::Failed(FileFailed {
                batch_id: command.batch_id,
                file: command.file.clone(),
                reason: "malformed row 3".to_owned(),
            }),
        };
        let recorded = self.journal.record(&file_stream(command), &event).await?;
        self.count(recorded, &self.counters.files_answered);
        Ok(())
    }

    async fn complete_batch(&self, command: &CompleteBatch) -> Result<(), JournalError> {
        let event = BatchEvent::Completed {
            outcome: command.outcome,
            files: command.files.clone(),
        };
        let recorded = self
            .journal
            .record(&completion_stream(command), &event)
            .await?;
        if recorded == Recorded::Again {
            self.counters.redeliveries.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn count(&self, recorded: Recorded, new: &AtomicU64) {
        match recorded {
            Recorded::New => new.fetch_add(1, Ordering::Relaxed),
            Recorded::Again => self.counters.redeliveries.fetch_add(1, Ordering::Relaxed),
        };
    }
}

impl<J: Journal> Dispatch<BatchCommand> for Services<J> {
    async fn dispatch(
        &self,
        command: BatchCommand,
        _meta: CommandMeta,
    ) -> Result<(), DispatchError> {
        let done = match &command {
            BatchCommand::ProcessFile(command) => self.process_file(command).await,
            BatchCommand::CancelFile(CancelFile { batch_id, file }) => {
                self.counters
                    .cancelled
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert((*batch_id, file.clone()));
                Ok(())
            }
            BatchCommand::CompleteBatch(command) => self.complete_batch(command).await,
        };
        done.map_err(|error| match error {
            JournalError::Backend(_) => DispatchError::Transient(error_chain(&error)),
            other => DispatchError::Permanent(error_chain(&other)),
        })
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
