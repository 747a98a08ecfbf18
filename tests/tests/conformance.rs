//! The store and log conformance suite, run against the in-memory and the
//! Postgres implementations. Each Postgres test gets a fresh, migrated
//! database from `#[sqlx::test]`.

use pm_core::backend::conformance;
use pm_core::{MemoryLog, MemoryStore};
use pm_postgres::PgBackend;
use sqlx::PgPool;

/// One `#[tokio::test]` on the memory implementation and one
/// `#[sqlx::test]` on Postgres per conformance check.
macro_rules! conformance_tests {
    ($kind:ident: $($check:ident),* $(,)?) => {
        mod $kind {
            use super::*;

            mod memory {
                use super::*;
                $(
                    #[tokio::test]
                    async fn $check() {
                        conformance::$check(&conformance_tests!(@memory $kind)).await;
                    }
                )*
            }

            mod postgres {
                use super::*;
                $(
                    #[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
                    async fn $check(pool: PgPool) {
                        let backend = PgBackend::from_pool(pool);
                        conformance::$check(&conformance_tests!(@postgres $kind backend)).await;
                    }
                )*
            }
        }
    };
    (@memory log) => { MemoryLog::new() };
    (@memory store) => { MemoryStore::new() };
    (@postgres log $backend:ident) => { $backend.log() };
    (@postgres store $backend:ident) => { $backend.store() };
}

conformance_tests!(log:
    log_appends_and_reads_in_order,
    log_append_checks_the_expected_version,
    log_read_filters_families_and_still_moves_past_others,
);

conformance_tests!(store:
    store_commit_is_all_or_nothing,
    store_keeps_checkpoints_per_partition,
    store_refuses_a_commit_from_a_moved_checkpoint,
    store_fences_commits_by_owner_and_epoch,
    store_shares_partitions_between_workers,
    store_takes_timeouts_of_owned_partitions_only,
    store_purges_tombstones_of_the_partitions_asked_for,
    store_releases_only_the_instance_named,
    store_replays_released_items_of_owned_partitions_only,
    store_records_a_command_once,
    store_claims_only_the_oldest_command_of_an_instance,
    store_orders_commands_by_ordering_key,
    store_fences_acknowledgements_by_lease,
    store_retries_and_dead_letters,
    store_timeouts_are_due_for_active_instances_only,
    store_keeps_parked_events_in_order,
    store_fences_failures_by_lease,
    store_rejects_instance_writes_at_another_version,
);
