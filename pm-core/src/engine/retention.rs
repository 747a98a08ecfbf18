//! Retention: the process loop removes old tombstones of its partitions and
//! old rows of the ledger of delivered commands, a bounded batch at a time,
//! between batches, so removing a backlog never stalls the work.

use std::time::Duration;

use tokio::time::Instant;

use crate::error::{ErrorChain, Result};
use crate::store::{OwnedPartitions, Store};

/// Rows removed per call.
const PURGE_LIMIT: usize = 1_000;
/// How often to look for old rows when the last look found few.
const PURGE_EVERY: Duration = Duration::from_secs(60);
/// How soon to go on when the last call removed a full batch.
const PURGE_AGAIN: Duration = Duration::from_millis(100);

/// When the process loop next removes old rows.
#[derive(Debug)]
pub(crate) struct Retention {
    keep: Option<Duration>,
    next: Instant,
}

impl Retention {
    pub(crate) fn new(keep: Option<Duration>) -> Self {
        Self {
            keep,
            next: Instant::now(),
        }
    }

    /// Removes one bounded batch of old rows if it is time to.
    pub(crate) async fn run_if_due<S: Store>(
        &mut self,
        store: &S,
        process: &'static str,
        partitions: &OwnedPartitions,
    ) {
        let Some(keep) = self.keep else {
            return;
        };
        if Instant::now() < self.next || partitions.owned.is_empty() {
            return;
        }
        self.next = Instant::now() + PURGE_EVERY;
        match purge(store, process, partitions, keep).await {
            Ok(full) if full => self.next = Instant::now() + PURGE_AGAIN,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(process, error = %ErrorChain(&error), "removing old completed instances failed; trying again later");
            }
        }
    }
}

/// One bounded purge; whether it removed a full batch.
async fn purge<S: Store>(
    store: &S,
    process: &'static str,
    partitions: &OwnedPartitions,
    keep: Duration,
) -> Result<bool> {
    let purged = store.purge(process, partitions, keep, PURGE_LIMIT).await?;
    if purged.instances > 0 || purged.delivered > 0 {
        tracing::info!(
            process,
            instances = purged.instances,
            delivered = purged.delivered,
            "removed completed instances and delivered commands past retention"
        );
    }
    let limit = PURGE_LIMIT as u64;
    Ok(purged.instances >= limit || purged.delivered >= limit)
}
