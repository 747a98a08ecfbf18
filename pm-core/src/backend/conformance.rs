//! The conformance suite every [`Store`] and [`EventLog`] must pass, as
//! plain async functions; `tests/` runs each against the in-memory and the
//! Postgres implementations. Each function panics (like `assert!`) on the
//! first behaviour that differs from the contract, a store call that fails
//! included: it is test code, and a panic is how it reports.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::error::Error;
use crate::event::NewEvent;
use crate::log::{EventLog, ExpectedVersion, Position, ReadBatch};
use crate::store::{
    Batch, Claim, FailedDelivery, Fence, FencedPartition, InstanceStatus, InstanceWrite,
    NewCommand, Operations, OwnedPartitions, ParkedEvent, ParkedItem, PartitionLease, Release,
    Store, TimeoutWrite, Worker,
};

/// Reads until at least `count` events are visible: a log may hold back
/// events of transactions that committed after an older one still open
/// (the Postgres log does, to never skip one).
async fn read_visible<L: EventLog>(
    log: &L,
    after: Position,
    families: &[&str],
    limit: usize,
    count: usize,
) -> ReadBatch {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let batch = log.read(after, families, limit).await.expect("read");
        if batch.events.len() >= count || tokio::time::Instant::now() > deadline {
            return batch;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn event(event_type: &str, n: i64) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        payload: json!({ "n": n }),
    }
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_893_456_000 + seconds, 0).unwrap_or_default()
}

/// Appended events come back in append order, with stream versions.
pub async fn log_appends_and_reads_in_order<L: EventLog>(log: &L) {
    for n in 0..5 {
        let stream = format!("s-{}", n % 2);
        log.append(
            &stream,
            ExpectedVersion::Any,
            vec![event("Check.Happened", n)],
        )
        .await
        .expect("append");
    }
    let batch = read_visible(log, Position::START, &[], 100, 5).await;
    let numbers: Vec<i64> = batch
        .events
        .iter()
        .map(|e| e.payload["n"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4]);
    assert_eq!(batch.end, batch.events[4].position);
    let versions: Vec<i64> = batch.events.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, [1, 1, 2, 2, 3]);
    let rest = read_visible(log, batch.events[1].position, &[], 2, 2).await;
    assert_eq!(rest.events.len(), 2);
    assert_eq!(rest.events[0].payload["n"], 2);
    assert_eq!(
        rest.end, rest.events[1].position,
        "a full batch ends at its last event"
    );
    let stream = log.read_stream("s-0").await.expect("read stream");
    assert_eq!(stream.len(), 3);
}

/// Appends with a wrong expected version fail with `Conflict` and append nothing.
pub async fn log_append_checks_the_expected_version<L: EventLog>(log: &L) {
    let version = log
        .append(
            "order-1",
            ExpectedVersion::NoStream,
            vec![event("Check.A", 1), event("Check.B", 2)],
        )
        .await
        .expect("first append");
    assert_eq!(version, 2);
    match log
        .append(
            "order-1",
            ExpectedVersion::NoStream,
            vec![event("Check.C", 3)],
        )
        .await
    {
        Err(Error::Conflict { actual, .. }) => assert_eq!(actual, 2),
        other => panic!("expected a conflict, got {other:?}"),
    }
    match log
        .append(
            "order-1",
            ExpectedVersion::Exact(1),
            vec![event("Check.C", 3)],
        )
        .await
    {
        Err(Error::Conflict {
            stream_id, actual, ..
        }) => {
            assert_eq!(stream_id, "order-1");
            assert_eq!(actual, 2);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let version = log
        .append(
            "order-1",
            ExpectedVersion::Exact(2),
            vec![event("Check.C", 3)],
        )
        .await
        .expect("append at the right version");
    assert_eq!(version, 3);
    assert_eq!(log.read_stream("order-1").await.expect("read").len(), 3);
}

/// A family filter returns only that family, but the end still moves past
/// the other events read.
pub async fn log_read_filters_families_and_still_moves_past_others<L: EventLog>(log: &L) {
    log.append("a", ExpectedVersion::Any, vec![event("Wanted.X", 1)])
        .await
        .expect("append");
    log.append("b", ExpectedVersion::Any, vec![event("Other.Y", 2)])
        .await
        .expect("append");
    log.append("c", ExpectedVersion::Any, vec![event("Wanted_Not.Z", 3)])
        .await
        .expect("append");
    let everything = read_visible(log, Position::START, &[], 100, 3).await;
    let batch = log
        .read(Position::START, &["Wanted"], 100)
        .await
        .expect("read");
    assert_eq!(batch.events.len(), 1, "{:?}", batch.events);
    assert_eq!(batch.events[0].event_type, "Wanted.X");
    assert_eq!(
        batch.end, everything.end,
        "the end moves past events of other families"
    );
}

fn instance(id: &str, expected_version: i64, n: i64) -> InstanceWrite {
    InstanceWrite {
        id: id.to_owned(),
        state: json!({ "n": n }),
        expected_version,
        status: InstanceStatus::Active,
        schema_version: 1,
        last_position: Position::START,
    }
}

fn command(instance: &str, n: u128, created_at: DateTime<Utc>) -> NewCommand {
    NewCommand {
        id: Uuid::from_u128(n),
        instance: instance.to_owned(),
        ordering_key: format!("instance:{instance}"),
        command_type: "Check".to_owned(),
        payload: json!({ "n": n as u64 }),
        created_at,
    }
}

fn batch(process: &str) -> Batch {
    Batch {
        process: process.to_owned(),
        ..Batch::default()
    }
}

fn claim(now: DateTime<Utc>, limit: usize) -> Claim {
    Claim {
        lease: Uuid::new_v4(),
        lease_for: Duration::from_secs(30),
        now,
        limit,
    }
}

fn position(sequence: i64) -> Position {
    Position {
        transaction: sequence,
        sequence,
    }
}

fn worker(id: &str) -> Worker {
    Worker {
        id: id.to_owned(),
        name: format!("{id}-host:1"),
    }
}

const LEASE: Duration = Duration::from_secs(30);

/// Joins `process` as `worker` and claims every free partition.
async fn join_and_claim<S: Store + Operations>(
    store: &S,
    process: &str,
    id: &str,
    partitions: u32,
    lease_for: Duration,
) -> Vec<PartitionLease> {
    store
        .heartbeat(process, "log", &worker(id), partitions, lease_for)
        .await
        .expect("heartbeat");
    store
        .claim_partitions(process, id, usize::MAX, &[], lease_for)
        .await
        .expect("claim")
}

/// The fence of `held`, moving every partition from where it is to `to`.
fn fence(id: &str, held: &[PartitionLease], to: Position) -> Fence {
    Fence {
        worker: id.to_owned(),
        partitions: held
            .iter()
            .map(|lease| FencedPartition {
                partition: lease.partition,
                epoch: lease.epoch,
                from: lease.checkpoint,
                to,
            })
            .collect(),
    }
}

/// A batch with a stale instance writes nothing at all, not even its fence.
pub async fn store_commit_is_all_or_nothing<S: Store + Operations>(store: &S) {
    let held = join_and_claim(store, "atomic", "w-1", 1, LEASE).await;
    let mut first = batch("atomic");
    first.instances = vec![instance("i-1", 0, 1)];
    store.commit(first).await.expect("first commit");

    let mut stale = batch("atomic");
    stale.instances = vec![instance("i-2", 0, 1), instance("i-1", 0, 2)];
    stale.commands = vec![command("i-2", 1, at(0))];
    stale.timeouts = vec![TimeoutWrite {
        instance: "i-2".to_owned(),
        kind: "Due".to_owned(),
        due_at: Some(at(10)),
    }];
    stale.fence = Some(fence("w-1", &held, position(9)));
    match store.commit(stale).await {
        Err(Error::StaleInstance { instance, .. }) => assert_eq!(instance, "i-1"),
        other => panic!("expected a stale instance, got {other:?}"),
    }
    let loaded = store
        .load_instances("atomic", &["i-1".to_owned(), "i-2".to_owned()])
        .await
        .expect("load");
    assert_eq!(loaded.len(), 1, "nothing of the stale batch was written");
    assert_eq!(loaded[0].state, json!({ "n": 1 }));
    assert_eq!(loaded[0].version, 1);
    let stats = store.stats("atomic").await.expect("stats");
    assert_eq!((stats.pending_commands, stats.pending_timeouts), (0, 0));
    let renewed = store
        .renew_partitions("atomic", "w-1", &[(0, held[0].epoch)], LEASE)
        .await
        .expect("renew");
    assert_eq!(
        renewed[0].checkpoint,
        Position::START,
        "the checkpoint did not move"
    );

    let mut next = batch("atomic");
    next.instances = vec![instance("i-1", 1, 2)];
    store
        .commit(next)
        .await
        .expect("a commit at the right version");
    let loaded = store
        .load_instances("atomic", &["i-1".to_owned()])
        .await
        .expect("load");
    assert_eq!(loaded[0].version, 2);
}

/// A process's partitions are created by its first heartbeat, at the start
/// of their source; each keeps the checkpoint its fence moved it to; a
/// process whose partitions read another source is refused.
pub async fn store_keeps_checkpoints_per_partition<S: Store + Operations>(store: &S) {
    let membership = store
        .heartbeat("reader", "log", &worker("w-1"), 4, LEASE)
        .await
        .expect("heartbeat");
    assert_eq!(membership.partitions, 4);
    assert_eq!(membership.live_workers, ["w-1"]);
    let again = store
        .heartbeat("reader", "log", &worker("w-1"), 8, LEASE)
        .await
        .expect("heartbeat");
    assert_eq!(again.partitions, 4, "the stored count holds");
    let held = store
        .claim_partitions("reader", "w-1", 2, &[], LEASE)
        .await
        .expect("claim");
    let partitions: Vec<u32> = held.iter().map(|lease| lease.partition).collect();
    assert_eq!(partitions, [0, 1]);
    assert!(held
        .iter()
        .all(|lease| lease.checkpoint == Position::START && lease.epoch == 1));

    let mut moved = batch("reader");
    moved.fence = Some(fence("w-1", &held, position(42)));
    store.commit(moved).await.expect("commit a fence");
    let renewed = store
        .renew_partitions("reader", "w-1", &[(0, 1), (1, 1)], LEASE)
        .await
        .expect("renew");
    assert_eq!(renewed.len(), 2);
    assert!(renewed.iter().all(|lease| lease.checkpoint == position(42)));
    let rest = store
        .claim_partitions("reader", "w-1", 10, &[], LEASE)
        .await
        .expect("claim the rest");
    assert!(
        rest.iter().all(|lease| lease.checkpoint == Position::START),
        "partitions not fenced did not move: {rest:?}"
    );
    match store
        .heartbeat("reader", "another-log", &worker("w-1"), 4, LEASE)
        .await
    {
        Err(Error::SourceChanged {
            stored, requested, ..
        }) => {
            assert_eq!(
                (stored.as_str(), requested.as_str()),
                ("log", "another-log")
            );
        }
        other => panic!("expected a changed source, got {other:?}"),
    }
    let other = join_and_claim(store, "other", "w-1", 1, LEASE).await;
    assert_eq!(
        other[0].checkpoint,
        Position::START,
        "checkpoints are per process"
    );
}

/// A commit whose fence starts from a checkpoint that moved since (a
/// replay after a commit whose reply was lost) is refused, and writes
/// nothing.
pub async fn store_refuses_a_commit_from_a_moved_checkpoint<S: Store + Operations>(store: &S) {
    let held = join_and_claim(store, "cas", "w-1", 1, LEASE).await;
    let mut first = batch("cas");
    first.instances = vec![instance("i-1", 0, 1)];
    first.fence = Some(fence("w-1", &held, position(5)));
    store.commit(first).await.expect("first commit");

    let mut replay = batch("cas");
    replay.instances = vec![instance("i-2", 0, 1)];
    replay.commands = vec![command("i-2", 7, at(0))];
    replay.fence = Some(fence("w-1", &held, position(5)));
    match store.commit(replay).await {
        Err(Error::CheckpointMoved {
            partition,
            expected,
            stored,
            ..
        }) => {
            assert_eq!(
                (partition, expected, stored),
                (0, Position::START, position(5))
            );
        }
        other => panic!("expected a moved checkpoint, got {other:?}"),
    }
    let loaded = store
        .load_instances("cas", &["i-2".to_owned()])
        .await
        .expect("load");
    assert!(
        loaded.is_empty(),
        "nothing of the refused batch was written"
    );
    assert_eq!(store.stats("cas").await.expect("stats").pending_commands, 0);
}

/// A worker whose lease ran out and whose partition another worker claimed
/// commits nothing: the claim raised the epoch its fence names. The new
/// owner commits; the old one can renew and release nothing.
pub async fn store_fences_commits_by_owner_and_epoch<S: Store + Operations>(store: &S) {
    let stale = join_and_claim(store, "fenced", "w-old", 1, Duration::ZERO).await;
    assert_eq!(stale.len(), 1);
    let fresh = join_and_claim(store, "fenced", "w-new", 1, LEASE).await;
    assert_eq!(fresh.len(), 1, "an expired lease is claimable");
    assert_eq!(fresh[0].epoch, stale[0].epoch + 1);

    let mut late = batch("fenced");
    late.instances = vec![instance("i-1", 0, 1)];
    late.commands = vec![command("i-1", 3, at(0))];
    late.fence = Some(fence("w-old", &stale, position(3)));
    match store.commit(late).await {
        Err(Error::PartitionLost {
            partition,
            worker,
            epoch,
            ..
        }) => assert_eq!(
            (partition, worker.as_str(), epoch),
            (0, "w-old", stale[0].epoch)
        ),
        other => panic!("expected a lost partition, got {other:?}"),
    }
    assert!(store
        .load_instances("fenced", &["i-1".to_owned()])
        .await
        .expect("load")
        .is_empty());
    assert_eq!(
        store.stats("fenced").await.expect("stats").pending_commands,
        0
    );
    let renewed = store
        .renew_partitions("fenced", "w-old", &[(0, stale[0].epoch)], LEASE)
        .await
        .expect("renew");
    assert!(renewed.is_empty(), "the old owner renews nothing");
    store
        .release_partitions("fenced", "w-old", &[(0, stale[0].epoch)])
        .await
        .expect("release");

    let mut current = batch("fenced");
    current.instances = vec![instance("i-1", 0, 1)];
    current.fence = Some(fence("w-new", &fresh, position(3)));
    store.commit(current).await.expect("the new owner commits");
}

/// Workers claim disjoint partitions; claims skip `avoid`; a released
/// partition is claimable at once; heartbeats tell live workers apart.
pub async fn store_shares_partitions_between_workers<S: Store + Operations>(store: &S) {
    for id in ["w-b", "w-a"] {
        store
            .heartbeat("shared", "log", &worker(id), 4, LEASE)
            .await
            .expect("heartbeat");
    }
    let a = store
        .claim_partitions("shared", "w-a", 2, &[0], LEASE)
        .await
        .expect("claim");
    let a_parts: Vec<u32> = a.iter().map(|lease| lease.partition).collect();
    assert_eq!(a_parts, [1, 2], "claims skip the partitions to avoid");
    let b = store
        .claim_partitions("shared", "w-b", 10, &[], LEASE)
        .await
        .expect("claim");
    let b_parts: Vec<u32> = b.iter().map(|lease| lease.partition).collect();
    assert_eq!(b_parts, [0, 3], "held partitions are not claimed twice");
    store
        .release_partitions("shared", "w-a", &[(1, a[0].epoch)])
        .await
        .expect("release");
    let again = store
        .claim_partitions("shared", "w-b", 10, &[], LEASE)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].partition, again[0].epoch), (1, a[0].epoch + 1));

    let membership = store
        .heartbeat("shared", "log", &worker("w-c"), 4, Duration::ZERO)
        .await
        .expect("heartbeat");
    assert_eq!(
        membership.live_workers,
        ["w-a", "w-b"],
        "sorted; a lapsed heartbeat is not live"
    );
    store.leave("shared", "w-a").await.expect("leave");
    let membership = store
        .heartbeat("shared", "log", &worker("w-b"), 4, LEASE)
        .await
        .expect("heartbeat");
    assert_eq!(membership.live_workers, ["w-b"]);
}

/// Due timeouts, the next due time and released items come only from the
/// partitions asked for.
pub async fn store_takes_timeouts_of_owned_partitions_only<S: Store + Operations>(store: &S) {
    let (one, other) = ids_in_two_partitions();
    let mut scheduled = batch("split");
    scheduled.instances = vec![instance(&one, 0, 1), instance(&other, 0, 1)];
    scheduled.timeouts = [(&one, 10), (&other, 5)]
        .into_iter()
        .map(|(instance, due)| TimeoutWrite {
            instance: instance.clone(),
            kind: "Due".to_owned(),
            due_at: Some(at(due)),
        })
        .collect();
    store.commit(scheduled).await.expect("commit");
    let mine = OwnedPartitions {
        count: 2,
        owned: vec![crate::partition::partition_of(&one, 2)],
    };
    let due = store
        .due_timeouts("split", &mine, at(20), 10)
        .await
        .expect("due");
    let instances: Vec<&str> = due
        .iter()
        .map(|timeout| timeout.instance.as_str())
        .collect();
    assert_eq!(instances, [one.as_str()]);
    assert_eq!(
        store.next_timeout_at("split", &mine).await.expect("next"),
        Some(at(10))
    );
    let all = store
        .due_timeouts("split", &OwnedPartitions::all(), at(20), 10)
        .await
        .expect("due");
    assert_eq!(all.len(), 2);
}

/// Retention removes tombstones only in the partitions asked for (a
/// worker's own), and never an active instance.
pub async fn store_purges_tombstones_of_the_partitions_asked_for<S: Store + Operations>(store: &S) {
    let (one, other) = ids_in_two_partitions();
    let mut completed = batch("split");
    completed.instances = [&one, &other, &"i-live".to_owned()]
        .into_iter()
        .map(|id| InstanceWrite {
            status: if id.as_str() == "i-live" {
                InstanceStatus::Active
            } else {
                InstanceStatus::Completed
            },
            ..instance(id, 0, 1)
        })
        .collect();
    store.commit(completed).await.expect("commit");
    let mine = OwnedPartitions {
        count: 2,
        owned: vec![crate::partition::partition_of(&one, 2)],
    };
    let stored = |id: &str| {
        let id = id.to_owned();
        async move {
            !store
                .load_instances("split", &[id])
                .await
                .expect("load")
                .is_empty()
        }
    };
    // Older than nothing: each store's clock has moved on since the commit,
    // if only by a tick; wait for that tick.
    for _ in 0..1000 {
        store
            .purge("split", &mine, Duration::ZERO, 10)
            .await
            .expect("purge");
        if !stored(&one).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        !stored(&one).await,
        "the tombstone of an owned partition stays"
    );
    assert!(
        stored(&other).await,
        "a tombstone of another worker's partition went"
    );
    store
        .purge("split", &OwnedPartitions::all(), Duration::ZERO, 10)
        .await
        .expect("purge");
    assert!(!stored(&other).await);
    assert!(stored("i-live").await, "an active instance went");
}

/// Two instance ids whose partitions differ among two.
fn ids_in_two_partitions() -> (String, String) {
    let first = "i-0".to_owned();
    let home = crate::partition::partition_of(&first, 2);
    let other = (1..)
        .map(|n| format!("i-{n}"))
        .find(|id| crate::partition::partition_of(id, 2) != home)
        .unwrap_or_default();
    (first, other)
}

/// A command recorded twice (same id) is stored once, even after it was
/// delivered.
pub async fn store_records_a_command_once<S: Store + Operations>(store: &S) {
    let replayed = || {
        let mut replayed = batch("once");
        replayed.commands = vec![command("i-1", 1, at(0)), command("i-2", 2, at(0))];
        replayed
    };
    store.commit(replayed()).await.expect("commit");
    store.commit(replayed()).await.expect("commit");
    assert_eq!(
        store.stats("once").await.expect("stats").pending_commands,
        2
    );
    let delivery = claim(at(0), 10);
    let claimed = store.claim_commands("once", delivery).await.expect("claim");
    let ids: Vec<Uuid> = claimed.iter().map(|command| command.id).collect();
    store
        .complete_commands(delivery.lease, &ids)
        .await
        .expect("complete");
    store.commit(replayed()).await.expect("commit");
    assert_eq!(
        store.stats("once").await.expect("stats").pending_commands,
        0,
        "a delivered command was recorded again"
    );
}

/// Only the oldest pending command of each instance can be claimed.
pub async fn store_claims_only_the_oldest_command_of_an_instance<S: Store + Operations>(store: &S) {
    let mut commands = batch("ordered");
    commands.commands = vec![
        command("i-1", 1, at(0)),
        command("i-2", 2, at(0)),
        command("i-1", 3, at(0)),
    ];
    store.commit(commands).await.expect("commit");
    let first = claim(at(0), 10);
    let claimed = store.claim_commands("ordered", first).await.expect("claim");
    let ids: Vec<u128> = claimed.iter().map(|command| command.id.as_u128()).collect();
    assert_eq!(ids, [1, 2]);
    let nothing = store
        .claim_commands("ordered", claim(at(0), 10))
        .await
        .expect("claim");
    assert!(
        nothing.is_empty(),
        "claimed behind a leased command: {nothing:?}"
    );
    store
        .complete_commands(first.lease, &[Uuid::from_u128(1)])
        .await
        .expect("complete");
    let next = store
        .claim_commands("ordered", claim(at(0), 10))
        .await
        .expect("claim");
    let ids: Vec<u128> = next.iter().map(|command| command.id.as_u128()).collect();
    assert_eq!(ids, [3]);
}

/// Acknowledging under another lease changes nothing; an expired lease
/// lets another claim take the command.
pub async fn store_fences_acknowledgements_by_lease<S: Store + Operations>(store: &S) {
    let mut commands = batch("fenced");
    commands.commands = vec![command("i-1", 1, at(0))];
    store.commit(commands).await.expect("commit");
    let short = Claim {
        lease_for: Duration::from_millis(1),
        ..claim(at(0), 10)
    };
    assert_eq!(
        store
            .claim_commands("fenced", short)
            .await
            .expect("claim")
            .len(),
        1
    );
    // Leases run on the clock of the claims (the engine's), like
    // availability: a claim a second later finds this one expired.
    let later = claim(at(1), 10);
    assert_eq!(
        store
            .claim_commands("fenced", later)
            .await
            .expect("reclaim")
            .len(),
        1
    );
    store
        .complete_commands(short.lease, &[Uuid::from_u128(1)])
        .await
        .expect("stale ack");
    assert_eq!(
        store.stats("fenced").await.expect("stats").pending_commands,
        1,
        "an expired lease acknowledged"
    );
    store
        .complete_commands(later.lease, &[Uuid::from_u128(1)])
        .await
        .expect("ack");
    assert_eq!(
        store.stats("fenced").await.expect("stats").pending_commands,
        0
    );
}

/// A retried command waits until its time; a dead letter leaves the outbox
/// and unblocks the instance's next command.
pub async fn store_retries_and_dead_letters<S: Store + Operations>(store: &S) {
    let mut commands = batch("failing");
    commands.commands = vec![command("i-1", 1, at(0)), command("i-1", 2, at(0))];
    store.commit(commands).await.expect("commit");
    let first = claim(at(0), 10);
    assert_eq!(
        store
            .claim_commands("failing", first)
            .await
            .expect("claim")
            .len(),
        1
    );
    store
        .fail_commands(
            first.lease,
            &[FailedDelivery {
                id: Uuid::from_u128(1),
                error: "busy".to_owned(),
                retry_at: Some(at(60)),
            }],
        )
        .await
        .expect("retry");
    assert!(store
        .claim_commands("failing", claim(at(30), 10))
        .await
        .expect("claim")
        .is_empty());
    assert_eq!(
        store.next_command_at("failing").await.expect("next"),
        Some(at(60))
    );
    let second = claim(at(60), 10);
    let claimed = store
        .claim_commands("failing", second)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    store
        .fail_commands(
            second.lease,
            &[FailedDelivery {
                id: Uuid::from_u128(1),
                error: "gave up".to_owned(),
                retry_at: None,
            }],
        )
        .await
        .expect("dead letter");
    let dead = store.dead_letters("failing").await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].error, "gave up");
    assert_eq!(dead[0].command.attempts, 2);
    let next = store
        .claim_commands("failing", claim(at(60), 10))
        .await
        .expect("claim");
    assert_eq!(next.iter().map(|c| c.id.as_u128()).collect::<Vec<_>>(), [2]);
}

/// Timeouts upsert, drop, and are due only for active instances.
pub async fn store_timeouts_are_due_for_active_instances_only<S: Store + Operations>(store: &S) {
    let timeout = |instance: &str, kind: &str, due_at| TimeoutWrite {
        instance: instance.to_owned(),
        kind: kind.to_owned(),
        due_at,
    };
    let mut first = batch("timers");
    first.instances = vec![instance("i-1", 0, 1), instance("i-2", 0, 1)];
    first.timeouts = vec![
        timeout("i-1", "Due", Some(at(10))),
        timeout("i-1", "Other", Some(at(20))),
        timeout("i-2", "Due", Some(at(5))),
    ];
    store.commit(first).await.expect("commit");
    assert_eq!(
        store
            .next_timeout_at("timers", &OwnedPartitions::all())
            .await
            .expect("next"),
        Some(at(5))
    );
    let due = store
        .due_timeouts("timers", &OwnedPartitions::all(), at(10), 10)
        .await
        .expect("due");
    let due: Vec<(String, String)> = due.into_iter().map(|t| (t.instance, t.kind)).collect();
    assert_eq!(
        due,
        [
            ("i-2".to_owned(), "Due".to_owned()),
            ("i-1".to_owned(), "Due".to_owned())
        ]
    );

    let mut second = batch("timers");
    let mut parked = instance("i-2", 1, 2);
    parked.status = InstanceStatus::Parked;
    second.instances = vec![parked];
    second.timeouts = vec![
        timeout("i-1", "Due", Some(at(30))),
        timeout("i-1", "Other", None),
    ];
    store.commit(second).await.expect("commit");
    assert!(store
        .due_timeouts("timers", &OwnedPartitions::all(), at(25), 10)
        .await
        .expect("due")
        .is_empty());
    assert_eq!(
        store
            .next_timeout_at("timers", &OwnedPartitions::all())
            .await
            .expect("next"),
        Some(at(30))
    );
    assert_eq!(
        store.stats("timers").await.expect("stats").pending_timeouts,
        2
    );
}

/// Parked events come back in the order they were parked, with their errors.
pub async fn store_keeps_parked_events_in_order<S: Store + Operations>(store: &S) {
    let log_event = |n: i64| crate::event::RecordedEvent {
        position: Position {
            transaction: n,
            sequence: n,
        },
        stream_id: format!("s-{n}"),
        stream_version: 1,
        event_type: "Check.Bad".to_owned(),
        payload: json!({ "n": n }),
        recorded_at: at(n),
    };
    let mut parking = batch("parking");
    let mut parked_instance = instance("i-1", 0, 1);
    parked_instance.status = InstanceStatus::Parked;
    parking.instances = vec![parked_instance];
    parking.parked = vec![
        ParkedEvent {
            instance: Some("i-1".to_owned()),
            item: ParkedItem::Event(log_event(1)),
            error: Some("bad payload".to_owned()),
        },
        ParkedEvent {
            instance: Some("i-1".to_owned()),
            item: ParkedItem::Timeout {
                kind: "Due".to_owned(),
                due_at: at(2),
            },
            error: None,
        },
        ParkedEvent {
            instance: None,
            item: ParkedItem::Event(log_event(3)),
            error: Some("no instance".to_owned()),
        },
    ];
    let expected = parking.parked.clone();
    store.commit(parking).await.expect("commit");
    let parked: Vec<ParkedEvent> = store
        .parked_events("parking")
        .await
        .expect("parked")
        .into_iter()
        .map(|entry| entry.parked)
        .collect();
    assert_eq!(parked, expected);
    assert_eq!(store.stats("parking").await.expect("stats").parked, 1);
}

/// Parks one failed event for each of `ids` (instances of process
/// `process`, parked with their state).
async fn park_each<S: Store>(store: &S, process: &str, ids: &[&str]) {
    let mut parking = batch(process);
    for (n, id) in (1..).zip(ids) {
        let mut parked_instance = instance(id, 0, 1);
        parked_instance.status = InstanceStatus::Parked;
        parking.instances.push(parked_instance);
        parking.parked.push(ParkedEvent {
            instance: Some((*id).to_owned()),
            item: ParkedItem::Event(crate::event::RecordedEvent {
                position: position(n),
                stream_id: (*id).to_owned(),
                stream_version: 1,
                event_type: "Check.Bad".to_owned(),
                payload: json!({ "n": n }),
                recorded_at: at(n),
            }),
            error: Some("bad payload".to_owned()),
        });
    }
    store.commit(parking).await.expect("commit");
}

/// The instances whose released items `partitions` yields.
async fn released_instances<S: Store>(
    store: &S,
    process: &str,
    partitions: &OwnedPartitions,
) -> Vec<String> {
    store
        .released_items(process, partitions, 10)
        .await
        .expect("released items")
        .into_iter()
        .filter_map(|item| item.parked.instance)
        .collect()
}

/// Releasing one parked instance releases its items and no other
/// instance's.
pub async fn store_releases_only_the_instance_named<S: Store + Operations>(store: &S) {
    park_each(store, "releasing", &["i-1", "i-2"]).await;
    let released = store
        .release_instance("releasing", "i-1", Release::Retry)
        .await
        .expect("release");
    assert_eq!(released, 1);
    assert_eq!(
        released_instances(store, "releasing", &OwnedPartitions::all()).await,
        ["i-1"]
    );
}

/// Released items come only from the partitions asked for, so one worker
/// replays them, not every worker.
pub async fn store_replays_released_items_of_owned_partitions_only<S: Store + Operations>(
    store: &S,
) {
    let (one, other) = ids_in_two_partitions();
    park_each(store, "replaying", &[&one, &other]).await;
    for id in [&one, &other] {
        store
            .release_instance("replaying", id, Release::Retry)
            .await
            .expect("release");
    }
    let mine = OwnedPartitions {
        count: 2,
        owned: vec![crate::partition::partition_of(&one, 2)],
    };
    assert_eq!(
        released_instances(store, "replaying", &mine).await,
        std::slice::from_ref(&one)
    );
    assert_eq!(
        released_instances(store, "replaying", &OwnedPartitions::all()).await,
        [one, other]
    );
}

/// A failure reported under an expired lease, after another claim took
/// the command, changes nothing: no retry (attempts, availability and the
/// new holder's lease stay), no dead letter.
pub async fn store_fences_failures_by_lease<S: Store + Operations>(store: &S) {
    let mut commands = batch("fenced-failures");
    commands.commands = vec![command("i-1", 1, at(0))];
    store.commit(commands).await.expect("commit");
    let short = Claim {
        lease_for: Duration::from_millis(1),
        ..claim(at(0), 10)
    };
    let claimed = store
        .claim_commands("fenced-failures", short)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    // Leases run on the clock of the claims (the engine's), like
    // availability: a claim a second later finds this one expired.
    let holder = claim(at(1), 10);
    let reclaimed = store
        .claim_commands("fenced-failures", holder)
        .await
        .expect("reclaim");
    assert_eq!(reclaimed.len(), 1, "the expired lease was not taken over");

    let stale = |retry_at| FailedDelivery {
        id: Uuid::from_u128(1),
        error: "stale".to_owned(),
        retry_at,
    };
    store
        .fail_commands(short.lease, &[stale(Some(at(0)))])
        .await
        .expect("stale retry");
    let stolen = store
        .claim_commands("fenced-failures", claim(at(1), 10))
        .await
        .expect("claim");
    assert!(
        stolen.is_empty(),
        "a retry under an expired lease released the new holder's lease"
    );
    store
        .fail_commands(short.lease, &[stale(None)])
        .await
        .expect("stale dead letter");
    assert!(
        store
            .dead_letters("fenced-failures")
            .await
            .expect("dead letters")
            .is_empty(),
        "a dead letter under an expired lease moved the command"
    );
    assert_eq!(
        store
            .stats("fenced-failures")
            .await
            .expect("stats")
            .pending_commands,
        1
    );

    store
        .fail_commands(
            holder.lease,
            &[FailedDelivery {
                id: Uuid::from_u128(1),
                error: "busy".to_owned(),
                retry_at: Some(at(5)),
            }],
        )
        .await
        .expect("retry by the holder");
    // A retry gives the lease up: the holder can no longer acknowledge
    // the command it failed (only whoever claims it next can).
    store
        .complete_commands(holder.lease, &[Uuid::from_u128(1)])
        .await
        .expect("late acknowledgement");
    assert_eq!(
        store
            .stats("fenced-failures")
            .await
            .expect("stats")
            .pending_commands,
        1,
        "an acknowledgement under a lease given up by a retry removed the command"
    );
    assert!(
        store
            .claim_commands("fenced-failures", claim(at(4), 10))
            .await
            .expect("claim")
            .is_empty(),
        "the holder's retry time was not kept"
    );
    let retried = store
        .claim_commands("fenced-failures", claim(at(5), 10))
        .await
        .expect("claim");
    assert_eq!(retried.len(), 1);
    assert_eq!(
        retried[0].attempts, 1,
        "only the holder's failure counts as an attempt"
    );
}

/// An instance write commits only at the version it was loaded with:
/// one loaded before another commit (behind) or never loaded at that
/// version (ahead) is refused, and the stored instance keeps the winner's
/// state.
pub async fn store_rejects_instance_writes_at_another_version<S: Store + Operations>(store: &S) {
    let mut created = batch("versions");
    created.instances = vec![instance("i-1", 0, 1)];
    store.commit(created).await.expect("create");
    let mut winner = batch("versions");
    winner.instances = vec![instance("i-1", 1, 2)];
    store
        .commit(winner)
        .await
        .expect("the first writer at version 1");

    for (expected_version, what) in [(1, "behind"), (3, "ahead")] {
        let mut loser = batch("versions");
        loser.instances = vec![instance("i-1", expected_version, 99)];
        match store.commit(loser).await {
            Err(Error::StaleInstance {
                instance, expected, ..
            }) => {
                assert_eq!(instance, "i-1");
                assert_eq!(expected, expected_version);
            }
            other => panic!("a write {what} the stored version 2 was not refused: {other:?}"),
        }
    }
    let loaded = store
        .load_instances("versions", &["i-1".to_owned()])
        .await
        .expect("load");
    assert_eq!(loaded[0].state, json!({ "n": 2 }));
    assert_eq!(loaded[0].version, 2);
}

/// Commands of one ordering key, from any instance, are claimed one at a
/// time in the order issued; an unordered command is claimable beside any
/// other; the default key is the instance.
pub async fn store_orders_commands_by_ordering_key<S: Store + Operations>(store: &S) {
    let keyed = |instance: &str, n: u128, key: &str| NewCommand {
        ordering_key: key.to_owned(),
        ..command(instance, n, at(0))
    };
    let mut commands = batch("keys");
    commands.commands = vec![
        keyed("i-1", 1, "key:file-a"),
        keyed("i-2", 2, "key:file-a"),
        keyed("i-1", 3, "key:file-b"),
        keyed("i-1", 4, "command:00000000-0000-0000-0000-000000000004"),
        keyed("i-1", 5, "command:00000000-0000-0000-0000-000000000005"),
    ];
    store.commit(commands).await.expect("commit");
    let first = claim(at(0), 10);
    let mut ids: Vec<u128> = store
        .claim_commands("keys", first)
        .await
        .expect("claim")
        .iter()
        .map(|command| command.id.as_u128())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 3, 4, 5], "one head per key; unordered ones all");
    store
        .complete_commands(first.lease, &[Uuid::from_u128(1)])
        .await
        .expect("complete");
    let next = store
        .claim_commands("keys", claim(at(0), 10))
        .await
        .expect("claim");
    let ids: Vec<u128> = next.iter().map(|command| command.id.as_u128()).collect();
    assert_eq!(
        ids,
        [2],
        "the next of `file-a`, though another instance sent it"
    );
    assert_eq!(next[0].ordering_key, "key:file-a");
}
