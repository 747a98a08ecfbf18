//! A worker frozen past its lease (G7): worker A has computed a batch and
//! sent its commit (held by a proxy) when it is stopped with SIGSTOP; worker B
//! takes every partition at a new epoch. When A wakes and its commit goes
//! through, the fence refuses it, A rejoins, and the run ends with every
//! invariant holding and no command recorded twice.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use pm_tests::proxy::FaultProxy;
use sqlx::PgPool;
use tokio::time::Instant;

use common::child::{Booking, DEADLINE_SECS};
use common::db::{
    assert_every_command_recorded_once, completed, held_by, partitions, server_of, worker_id,
};
use common::eventually;

const BOOKINGS: u64 = 600;

/// The partitions' lease: three of them pass while A is frozen.
const LEASE_MS: u64 = 3_000;

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g7_a_worker_frozen_past_its_lease_has_its_commit_refused_and_rejoins(pool: PgPool) {
    let (server, url) = server_of(&pool);
    let proxy = FaultProxy::start(server).await.unwrap();
    let frozen = Booking::worker("worker A (frozen)", &proxy.url(&url), LEASE_MS);
    let other = Booking::worker("worker B", &url, LEASE_MS);
    let a = worker_id(&pool, frozen.pid()).await;
    let b = worker_id(&pool, other.pid()).await;
    let drive = Booking::drive(&url, BOOKINGS);
    eventually(
        Duration::from_secs(60),
        "bookings flow and both workers hold partitions",
        || async {
            let flowing = completed(&pool).await >= 50;
            let both = !held_by(&pool, &a).await.is_empty() && !held_by(&pool, &b).await.is_empty();
            (flowing && both).then_some(())
        },
    )
    .await;

    hold_a_batch_commit(&proxy).await;
    let held_at_freeze = held_by(&pool, &a).await;
    assert!(!held_at_freeze.is_empty(), "worker A held no partition");
    frozen.signal("STOP");
    let frozen_at = Instant::now();
    eventually(
        Duration::from_secs(60),
        "three leases passed and worker B holds every partition, A's at newer epochs",
        || async {
            if frozen_at.elapsed() < 3 * Duration::from_millis(LEASE_MS) {
                return None;
            }
            let now = partitions(&pool).await;
            let all_b = !now.is_empty() && now.iter().all(|partition| partition.held_by(&b));
            let moved = held_at_freeze.iter().all(|(held, epoch)| {
                now.iter()
                    .any(|partition| partition.partition == *held && partition.epoch > *epoch)
            });
            (all_b && moved).then_some(())
        },
    )
    .await;
    frozen.signal("CONT");
    proxy.release_commits();
    eventually(
        Duration::from_secs(60),
        "worker A holds partitions again",
        || async { (!held_by(&pool, &a).await.is_empty()).then_some(()) },
    )
    .await;

    drive
        .finish(Duration::from_secs(DEADLINE_SECS + 20))
        .await
        .assert_every_invariant_holds();
    assert_every_command_recorded_once(&pool).await;
    other.stop().await;
    let frozen = frozen.stop().await;
    // The batch A computed before it froze was refused by the fence (not by
    // a later check): A no longer owned the partitions at its epochs.
    let lost = format!("worker `{a}` no longer owns partition");
    let refused = frozen
        .stderr
        .lines()
        .any(|line| line.contains("commit refused") && line.contains(&lost));
    assert!(
        refused,
        "worker A's stale commit was not refused by the fence; its stderr:\n{}",
        frozen.stderr
    );
}

/// Holds worker A's next batch commit before it reaches the server (the
/// proxy tells a batch commit from A's other statements).
async fn hold_a_batch_commit(proxy: &FaultProxy) {
    proxy.hold_commits();
    eventually(
        Duration::from_secs(30),
        "worker A sends a batch commit",
        || async { (proxy.commits_held() >= 1).then_some(()) },
    )
    .await;
}
