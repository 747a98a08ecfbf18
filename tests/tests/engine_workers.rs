//! Several workers of one process on one store (G7), and commits whose
//! outcome the engine cannot know (G1), on the in-memory backend: engines
//! sharing a `MemoryStore` are workers sharing a database.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::tally::{count, mismatches_in_memory, wait_until_consumed_in_memory, Accept, Tally};
use pm_core::backend::{Store, Worker};
use pm_core::testing::FaultyStore;
use pm_core::{Engine, EngineOptions, ManualClock, MemoryLog, MemoryStore, RunningEngine};

fn options(lease: Duration) -> EngineOptions {
    EngineOptions {
        batch_size: 50,
        poll_interval: Duration::from_millis(10),
        max_error_backoff: Duration::from_millis(50),
        partitions: 8,
        partition_lease: lease,
        ..EngineOptions::default()
    }
}

fn start<S: Store>(store: S, log: &MemoryLog, lease: Duration) -> RunningEngine {
    Engine::new(store, log.clone())
        .with_options(options(lease))
        .register::<Tally, _>(Accept)
        .start()
        .unwrap()
}

async fn count_rounds(log: &MemoryLog, rounds: std::ops::Range<u64>, streams: u64) {
    for round in rounds {
        for stream in 0..streams {
            count(log, &format!("tally-{stream}"), round * streams + stream).await;
        }
        tokio::task::yield_now().await;
    }
}

/// The distinct owners of the tally partitions now.
fn owners(store: &MemoryStore) -> BTreeSet<String> {
    store
        .partitions("tally")
        .into_iter()
        .filter_map(|partition| partition.owner)
        .collect()
}

/// How many tally partitions any worker holds now.
fn held_by_anyone(store: &MemoryStore) -> usize {
    store
        .partitions("tally")
        .iter()
        .filter(|partition| partition.owner.is_some())
        .count()
}

/// A worker that joins the tally process (heartbeats, with a ten-minute
/// lease) but never claims a partition.
async fn join_without_claiming(store: &MemoryStore, id: &str) {
    let worker = Worker {
        id: id.to_owned(),
        name: "test".to_owned(),
    };
    store
        .heartbeat("tally", "memory", &worker, 8, Duration::from_secs(600))
        .await
        .unwrap();
}

/// How many tally partitions `owner` holds now.
fn held_by(store: &MemoryStore, owner: &str) -> usize {
    store
        .partitions("tally")
        .iter()
        .filter(|partition| partition.owner.as_deref() == Some(owner))
        .count()
}

/// Waits until two workers hold four partitions each.
async fn wait_for_two_halves(store: &MemoryStore) {
    wait_for("each engine holds half the partitions", || {
        let owners = owners(store);
        owners.len() == 2 && owners.iter().all(|owner| held_by(store, owner) == 4)
    })
    .await;
}

async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_commits_whose_reply_is_lost_are_not_applied_again() {
    let (store, log) = (FaultyStore::new(MemoryStore::new()), MemoryLog::new());
    // A lease so long that no periodic renewal reloads the checkpoints
    // during the test: only the reload after a failed commit can.
    let engine = start(store.clone(), &log, Duration::from_secs(600));
    for chunk in 0..10 {
        store.lose_commit_replies(1);
        count_rounds(&log, chunk * 5..chunk * 5 + 5, 20).await;
        wait_for("the reply was lost", || store.replies_lost() > chunk as u32).await;
    }
    wait_until_consumed_in_memory(store.inner(), &log).await;
    engine.shutdown().await.unwrap();
    assert_eq!(store.replies_lost(), 10);
    assert_eq!(
        mismatches_in_memory(store.inner(), &log).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g7_two_engines_share_the_partitions_and_apply_each_event_once() {
    let (store, log) = (MemoryStore::new(), MemoryLog::new());
    let lease = Duration::from_millis(300);
    let first = start(store.clone(), &log, lease);
    count_rounds(&log, 0..10, 30).await;
    let second = start(store.clone(), &log, lease);
    wait_for("both engines hold partitions", || owners(&store).len() == 2).await;
    let shares: Vec<usize> = owners(&store)
        .iter()
        .map(|owner| {
            store
                .partitions("tally")
                .iter()
                .filter(|partition| partition.owner.as_ref() == Some(owner))
                .count()
        })
        .collect();
    assert_eq!(shares, [4, 4], "each holds its fair share");
    count_rounds(&log, 10..40, 30).await;
    wait_until_consumed_in_memory(&store, &log).await;
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
    assert_eq!(
        mismatches_in_memory(&store, &log).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g7_the_partitions_of_a_worker_that_stops_move_to_the_others() {
    let (store, log) = (MemoryStore::new(), MemoryLog::new());
    let lease = Duration::from_millis(300);
    let first = start(store.clone(), &log, lease);
    let second = start(store.clone(), &log, lease);
    wait_for("both engines hold partitions", || owners(&store).len() == 2).await;
    let before = owners(&store);
    first.shutdown().await.unwrap();
    wait_for("one engine holds every partition", || {
        let partitions = store.partitions("tally");
        let owners = owners(&store);
        owners.len() == 1 && partitions.iter().all(|partition| partition.owner.is_some())
    })
    .await;
    assert!(owners(&store).is_subset(&before));
    count_rounds(&log, 0..10, 30).await;
    wait_until_consumed_in_memory(&store, &log).await;
    second.shutdown().await.unwrap();
    assert_eq!(
        mismatches_in_memory(&store, &log).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g7_a_worker_paused_past_its_lease_commits_nothing_and_rejoins() {
    // Leases run on the store's clock, which the test moves.
    let clock = ManualClock::fixed();
    let store = MemoryStore::with_clock(clock.clone());
    let log = MemoryLog::new();
    let lease = Duration::from_millis(300);
    let paused = FaultyStore::new(store.clone());
    let first = start(paused.clone(), &log, lease);
    wait_for("the first engine holds every partition", || {
        store.partitions("tally").iter().all(|p| p.owner.is_some())
    })
    .await;
    // Its next batch is computed and then held before it reaches the store.
    paused.hold_commits();
    count_rounds(&log, 0..5, 20).await;
    wait_for("a commit is held", || paused.commits_held() == 1).await;

    // Its lease runs out; another worker claims everything and computes the
    // same batch (held too, so that only the epoch can refuse the first).
    clock.advance(lease * 2);
    let taking_over = FaultyStore::new(store.clone());
    taking_over.hold_commits();
    let second = start(taking_over.clone(), &log, lease);
    wait_for("the second engine holds every partition", || {
        let partitions = store.partitions("tally");
        owners(&store).len() == 1 && partitions.iter().all(|partition| partition.epoch == 2)
    })
    .await;
    wait_for("its batch is held", || taking_over.commits_held() == 1).await;

    // The paused worker wakes: what it computed is refused, nothing lands.
    paused.release_commits();
    wait_for("the paused worker's commit is refused", || {
        paused.refusals() >= 1
    })
    .await;
    assert!(
        store.instances("tally").is_empty(),
        "nothing of the refused commit landed"
    );
    taking_over.release_commits();
    wait_until_consumed_in_memory(&store, &log).await;
    assert_eq!(
        mismatches_in_memory(&store, &log).await,
        Vec::<String>::new()
    );
    // It rejoins and gets its share back.
    wait_for("both engines hold partitions", || owners(&store).len() == 2).await;
    count_rounds(&log, 5..10, 20).await;
    wait_until_consumed_in_memory(&store, &log).await;
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
    assert_eq!(
        mismatches_in_memory(&store, &log).await,
        Vec::<String>::new()
    );
}

/// On a paused tokio clock, so that the rebalance rounds (one per second
/// with a three-second lease) come exactly on time.
#[tokio::test(start_paused = true)]
async fn partitions_given_up_for_a_new_worker_are_not_claimed_back_for_three_rounds() {
    let _guard = common::HangGuard::new(
        "partitions_given_up_for_a_new_worker_are_not_claimed_back_for_three_rounds",
        Duration::from_secs(30),
    );
    let (store, log) = (MemoryStore::new(), MemoryLog::new());
    let engine = start(store.clone(), &log, Duration::from_secs(3));
    let held = || held_by_anyone(&store);
    wait_for("the engine holds every partition", || held() == 8).await;

    // A second worker joins, so the engine gives up half; it leaves before
    // claiming any.
    join_without_claiming(&store, "newcomer").await;
    wait_for("the engine gave up half", || held() == 4).await;
    let given_up = tokio::time::Instant::now();
    store.leave("tally", "newcomer").await.unwrap();

    // Alone again, it wants all eight, but takes the four back only after
    // three rounds (the cooldown that keeps a worker from claiming back at
    // once what it gave up for another).
    wait_for("the engine holds every partition again", || held() == 8).await;
    let taken_back_after = given_up.elapsed();
    engine.shutdown().await.unwrap();
    assert!(
        taken_back_after >= Duration::from_millis(2900)
            && taken_back_after <= Duration::from_millis(4100),
        "taken back after {taken_back_after:?}, expected 3 s"
    );
}

/// A worker that shuts down gives its partitions up and leaves: the other
/// takes them at its next round (a second, with a three-second lease), not
/// once their lease has run out. On a paused tokio clock.
#[tokio::test(start_paused = true)]
async fn a_worker_that_shuts_down_hands_its_partitions_over_at_the_next_round() {
    let _guard = common::HangGuard::new(
        "a_worker_that_shuts_down_hands_its_partitions_over_at_the_next_round",
        Duration::from_secs(30),
    );
    let (store, log) = (MemoryStore::new(), MemoryLog::new());
    let leaving = start(store.clone(), &log, Duration::from_secs(3));
    let staying = start(store.clone(), &log, Duration::from_secs(3));
    wait_for_two_halves(&store).await;
    let before: BTreeSet<String> = owners(&store);
    leaving.shutdown().await.unwrap();
    let stopped = tokio::time::Instant::now();
    let remaining = owners(&store);
    assert_eq!(
        remaining.len(),
        1,
        "the leaving worker still holds partitions"
    );
    let stayer = remaining.first().unwrap().clone();
    assert!(before.contains(&stayer));
    wait_for("the other engine holds every partition", || {
        held_by(&store, &stayer) == 8
    })
    .await;
    let handed_over_after = stopped.elapsed();
    staying.shutdown().await.unwrap();
    assert!(
        handed_over_after <= Duration::from_millis(1100),
        "handed over after {handed_over_after:?}, expected within a round (1 s)"
    );
}

/// A worker claims only up to its share, even when more partitions are
/// free: alone with one other worker that holds nothing, it holds half.
/// On a paused tokio clock.
#[tokio::test(start_paused = true)]
async fn a_worker_claims_up_to_its_share_and_no_more() {
    let _guard = common::HangGuard::new(
        "a_worker_claims_up_to_its_share_and_no_more",
        Duration::from_secs(30),
    );
    let (store, log) = (MemoryStore::new(), MemoryLog::new());
    let engine = start(store.clone(), &log, Duration::from_secs(3));
    let held = || held_by_anyone(&store);
    wait_for("the engine holds every partition", || held() == 8).await;
    // Two workers join (and never claim): the engine's share is 3 of 8.
    for id in ["joiner-1", "joiner-2"] {
        join_without_claiming(&store, id).await;
    }
    wait_for("the engine gave up all but its share", || held() == 3).await;
    // One leaves: the share is 4, and five partitions are free.
    store.leave("tally", "joiner-1").await.unwrap();
    let left = tokio::time::Instant::now();
    let mut most = 0;
    while left.elapsed() < Duration::from_secs(8) {
        most = most.max(held());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_the_end = held();
    engine.shutdown().await.unwrap();
    assert_eq!((at_the_end, most), (4, 4), "(held at the end, most held)");
}

/// Each worker takes only the events of the partitions it holds: across
/// two workers, every event is handled (or skipped) once in all, not once
/// by each. On a paused tokio clock.
#[tokio::test(start_paused = true)]
async fn each_worker_takes_only_the_events_of_its_partitions() {
    let _guard = common::HangGuard::new(
        "each_worker_takes_only_the_events_of_its_partitions",
        Duration::from_secs(30),
    );
    let (store, log) = (MemoryStore::new(), MemoryLog::new());
    let first = start(store.clone(), &log, Duration::from_secs(3));
    let second = start(store.clone(), &log, Duration::from_secs(3));
    wait_for_two_halves(&store).await;
    count_rounds(&log, 0..5, 20).await;
    wait_until_consumed_in_memory(&store, &log).await;
    let seen = |engine: &RunningEngine| {
        let metrics = engine.metrics("tally").unwrap();
        metrics.events_handled + metrics.events_skipped
    };
    let seen_in_all = seen(&first) + seen(&second);
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
    assert_eq!(seen_in_all, 100, "events handled or skipped by the two");
    assert_eq!(
        mismatches_in_memory(&store, &log).await,
        Vec::<String>::new()
    );
}
