//! Several booking processes on one database (G7): a worker killed with
//! SIGKILL part way loses its partitions to the others once its lease runs
//! out, and the run ends with every invariant holding and no command
//! recorded twice; two plain runs at once share the work the same way.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::PgPool;
use tokio::time::Instant;

use common::child::{Booking, DEADLINE_SECS, PAYMENT_WINDOW_MS, SEED};
use common::db::{
    assert_every_command_recorded_once, completed, held_by, partitions, server_of, worker_id,
};
use common::{eventually, POLL};

const BOOKINGS: u64 = 1_000;

/// The example's default: a killed worker's partitions move on within
/// seconds, and a worker slowed down by a loaded machine keeps its own.
const LEASE_MS: u64 = 2_000;

/// How long a driver or plain run may take to exit.
const RUN_PATIENCE: Duration = Duration::from_secs(DEADLINE_SECS + 20);

/// A bound on how long a killed worker's partitions may stay without a
/// live owner: the lease, then a rebalance round, plus a generous margin
/// for a loaded machine. Not a timing measurement.
const TAKEOVER_BOUND: Duration = Duration::from_millis(LEASE_MS + 10_000);

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g7_a_killed_worker_s_partitions_are_taken_over_without_loss_or_duplicates(pool: PgPool) {
    let (_, url) = server_of(&pool);
    let first = Booking::worker("worker 1", &url, LEASE_MS);
    let mut victim = Booking::worker("worker 2 (killed)", &url, LEASE_MS);
    let third = Booking::worker("worker 3", &url, LEASE_MS);
    let victim_id = worker_id(&pool, victim.pid()).await;
    let drive = Booking::drive(&url, BOOKINGS);

    eventually(
        Duration::from_secs(60),
        "some bookings completed while worker 2 holds partitions",
        || async {
            let started = completed(&pool).await >= 50;
            (started && !held_by(&pool, &victim_id).await.is_empty()).then_some(())
        },
    )
    .await;
    victim.kill();
    let killed_at = Instant::now();
    let orphaned: Vec<i32> = partitions(&pool)
        .await
        .into_iter()
        .filter(|partition| partition.owner.as_deref() == Some(victim_id.as_str()))
        .map(|partition| partition.partition)
        .collect();
    let completed_at_kill = completed(&pool).await;
    assert!(!orphaned.is_empty(), "the killed worker held no partition");
    assert!(
        completed_at_kill < i64::try_from(BOOKINGS).unwrap(),
        "killed too late to prove anything ({completed_at_kill} completed)"
    );
    let replacement = Booking::worker("worker 4 (replacement)", &url, LEASE_MS);

    let taken_over = wait_for_new_owners(&pool, &victim_id, &orphaned, killed_at).await;
    let longest = taken_over.values().max().copied().unwrap_or_default();
    println!(
        "the killed worker's {} partitions had a new owner after at most {} ms (lease {LEASE_MS} ms): {:?}",
        orphaned.len(),
        longest.as_millis(),
        taken_over
            .iter()
            .map(|(partition, after)| (*partition, after.as_millis()))
            .collect::<Vec<_>>()
    );

    drive
        .finish(RUN_PATIENCE)
        .await
        .assert_every_invariant_holds();
    assert_every_command_recorded_once(&pool).await;
    for worker in [first, third, replacement] {
        worker.stop().await;
    }
}

/// Polls until each of `orphaned` has an owner other than `killed` with a
/// live lease; returns how long after `killed_at` each was first seen so.
async fn wait_for_new_owners(
    pool: &PgPool,
    killed: &str,
    orphaned: &[i32],
    killed_at: Instant,
) -> BTreeMap<i32, Duration> {
    let mut taken_over = BTreeMap::new();
    while taken_over.len() < orphaned.len() {
        for partition in partitions(pool).await {
            let owned_again = partition.live
                && partition
                    .owner
                    .as_deref()
                    .is_some_and(|owner| owner != killed);
            if owned_again && orphaned.contains(&partition.partition) {
                taken_over
                    .entry(partition.partition)
                    .or_insert_with(|| killed_at.elapsed());
            }
        }
        assert!(
            killed_at.elapsed() < TAKEOVER_BOUND,
            "partitions {:?} of the killed worker still have no live owner after {TAKEOVER_BOUND:?}",
            orphaned
                .iter()
                .filter(|partition| !taken_over.contains_key(partition))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(POLL).await;
    }
    taken_over
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g7_two_plain_runs_on_one_database_both_hold_every_invariant(pool: PgPool) {
    let (_, url) = server_of(&pool);
    let bookings = (BOOKINGS / 2).to_string();
    let lease = LEASE_MS.to_string();
    let deadline = DEADLINE_SECS.to_string();
    let args = [
        "--database-url",
        &url,
        "--bookings",
        &bookings,
        "--seed",
        SEED,
        "--payment-window-ms",
        PAYMENT_WINDOW_MS,
        "--partition-lease-ms",
        &lease,
        "--deadline-secs",
        &deadline,
        "--no-progress",
    ];
    let runs = [
        Booking::start("plain run 1", &args),
        Booking::start("plain run 2", &args),
    ];
    for run in runs {
        run.finish(RUN_PATIENCE)
            .await
            .assert_every_invariant_holds();
    }
    assert_every_command_recorded_once(&pool).await;
}
