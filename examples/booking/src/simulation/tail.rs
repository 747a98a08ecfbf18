//! [`LogTail`]: follows the log to tell a run that moves from one that
//! stands still, whichever process appends.

use pm_core::backend::EventSource;
use pm_core::Position;

/// Events read per call.
const READ_BATCH: usize = 5_000;

/// A cursor at the end of the log, and how many events it has passed.
#[derive(Debug, Default)]
pub(super) struct LogTail {
    after: Position,
    seen: u64,
}

impl LogTail {
    /// Reads what was appended since the last call; returns the number of
    /// events seen so far.
    pub(super) async fn follow<L: EventSource>(&mut self, log: &L) -> pm_core::Result<u64> {
        loop {
            let batch = log.read(self.after, &[], READ_BATCH).await?;
            self.seen += batch.events.len() as u64;
            let more = batch.events.len() >= READ_BATCH;
            self.after = batch.end;
            if !more {
                return Ok(self.seen);
            }
        }
    }
}
