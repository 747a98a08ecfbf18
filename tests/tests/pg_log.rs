//! The Postgres event log under concurrency: the reader never skips an
//! event committed late by a concurrent transaction (G6).

use std::collections::BTreeMap;
use std::time::Duration;

use pm_core::backend::{EventSource, ReadBatch};
use pm_core::{ExpectedVersion, NewEvent, Position, RecordedEvent};
use pm_postgres::{PgBackend, PgEventLog};
use rand::{Rng, SeedableRng};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::watch;

const WRITERS: usize = 16;
const APPENDS_PER_WRITER: usize = 25;

/// (stream, version) -> the payload number of a committed event.
type Committed = BTreeMap<(String, i64), i64>;

/// Appends one event per transaction; holds some transactions open for a
/// random while and rolls some back. Returns what it committed.
async fn write(pool: PgPool, log: PgEventLog, writer: usize) -> Committed {
    let mut rng = rand::rngs::StdRng::seed_from_u64(writer as u64);
    let stream = format!("writer-{writer}");
    let mut committed = Committed::new();
    let mut version = 0;
    for n in 0..APPENDS_PER_WRITER {
        let number = (writer * 1000 + n) as i64;
        let event = NewEvent {
            event_type: "Load.Appended".to_owned(),
            payload: json!({ "n": number }),
        };
        let mut tx = pool.begin().await.unwrap();
        log.append_in(
            &mut tx,
            &stream,
            ExpectedVersion::Exact(version),
            vec![event],
        )
        .await
        .unwrap();
        if rng.gen_bool(0.3) {
            tokio::time::sleep(Duration::from_millis(rng.gen_range(1..40))).await;
        }
        if rng.gen_bool(0.2) {
            tx.rollback().await.unwrap();
        } else {
            tx.commit().await.unwrap();
            version += 1;
            committed.insert((stream.clone(), version), number);
        }
    }
    committed
}

/// Reads from the start, moving its checkpoint like the engine does, until
/// it has read `total` events (once known) or a deadline passes.
async fn read(log: PgEventLog, mut total: watch::Receiver<Option<usize>>) -> Vec<RecordedEvent> {
    let mut checkpoint = Position::START;
    let mut read = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let batch = log.read(checkpoint, &["Load"], 50).await.unwrap();
        assert!(batch.end >= checkpoint, "the checkpoint went backwards");
        checkpoint = batch.end;
        read.extend(batch.events);
        let done = total
            .borrow_and_update()
            .is_some_and(|total| read.len() >= total);
        if done || tokio::time::Instant::now() > deadline {
            return read;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g6_reader_never_skips_an_event_committed_late(
    pool_options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let pool = pool_options
        .max_connections(WRITERS as u32 + 4)
        .connect_with(connect)
        .await
        .unwrap();
    let backend = PgBackend::from_pool(pool.clone());
    let (total_sender, total) = watch::channel(None);
    let reader = tokio::spawn(read(backend.log(), total));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| tokio::spawn(write(pool.clone(), backend.log(), writer)))
        .collect();
    let mut committed = Committed::new();
    for writer in writers {
        committed.extend(writer.await.unwrap());
    }
    total_sender.send_replace(Some(committed.len()));
    let read = reader.await.unwrap();

    let mut seen = Committed::new();
    for event in &read {
        let key = (event.stream_id.clone(), event.stream_version);
        let number = event.payload["n"].as_i64().unwrap();
        assert!(
            seen.insert(key.clone(), number).is_none(),
            "read twice: {key:?}"
        );
    }
    assert_eq!(
        seen, committed,
        "the events read are not exactly the committed ones"
    );
    for writer in 0..WRITERS {
        let stream = format!("writer-{writer}");
        let versions: Vec<i64> = read
            .iter()
            .filter(|event| event.stream_id == stream)
            .map(|event| event.stream_version)
            .collect();
        let in_order: Vec<i64> = (1..=versions.len() as i64).collect();
        assert_eq!(versions, in_order, "stream {stream} out of order");
    }
    // Rollbacks happened, or the test proved less than it claims.
    assert!(committed.len() < WRITERS * APPENDS_PER_WRITER);
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn append_reports_a_conflict_with_the_actual_version(pool: PgPool) {
    use pm_core::EventLog;
    let log = PgBackend::from_pool(pool).log();
    let event = || NewEvent {
        event_type: "Load.Appended".to_owned(),
        payload: json!({}),
    };
    log.append("s", ExpectedVersion::NoStream, vec![event(), event()])
        .await
        .unwrap();
    let error = log
        .append("s", ExpectedVersion::Exact(1), vec![event()])
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "stream `s` is at version 2, not the expected 1"
    );
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn migrations_applied_twice_are_harmless(pool: PgPool) {
    pm_postgres::migrate(&pool).await.unwrap();
    pm_postgres::migrate(&pool).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'pm'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tables, 12);
}

/// Reads after `after` until the answer is final: events came back, or
/// nothing is held back by an open transaction any more (so an empty
/// batch means nothing is left to read).
async fn read_settled(log: &PgEventLog, after: Position, limit: usize) -> ReadBatch {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let batch = log.read(after, &[], limit).await.unwrap();
        if !batch.events.is_empty() || !batch.held_back {
            return batch;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log stayed held back after {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn streams(batch: &ReadBatch) -> Vec<&str> {
    batch
        .events
        .iter()
        .map(|event| event.stream_id.as_str())
        .collect()
}

/// Reads everything after `after`, `limit` events at a time, as a reader
/// that moves its checkpoint to each batch's end. Stops after 100 events,
/// so a reader that keeps returning the same ones shows them, never hangs.
async fn read_all_after(log: &PgEventLog, after: Position, limit: usize) -> Vec<String> {
    let mut checkpoint = after;
    let mut read = Vec::new();
    loop {
        let batch = read_settled(log, checkpoint, limit).await;
        if batch.events.is_empty() || read.len() > 100 {
            return read;
        }
        checkpoint = batch.end;
        read.extend(batch.events.into_iter().map(|event| event.stream_id));
    }
}

/// The case that makes a reader ordered or filtered by position alone skip
/// an event, built deterministically: transaction V appends at position
/// 101; transaction E, which took its transaction id after V, inserts
/// position 50. Once V commits the reader returns V; once E commits the
/// next read from that checkpoint must return E, whatever the batch size,
/// and a reader starting afresh reads V, then E.
#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g6_reader_returns_a_lower_position_committed_by_a_later_transaction(pool: PgPool) {
    let log = PgBackend::from_pool(pool.clone()).log();
    sqlx::query("SELECT setval(pg_get_serial_sequence('pm.events', 'position'), 100)")
        .execute(&pool)
        .await
        .unwrap();
    let mut early = pool.begin().await.unwrap();
    let early_event = NewEvent {
        event_type: "Race.Early".to_owned(),
        payload: json!({}),
    };
    log.append_in(
        &mut early,
        "v",
        ExpectedVersion::NoStream,
        vec![early_event],
    )
    .await
    .unwrap();
    let (early_xid, early_position): (i64, i64) = sqlx::query_as(
        "SELECT transaction_id::text::bigint, position FROM pm.events WHERE stream_id = 'v'",
    )
    .fetch_one(&mut *early)
    .await
    .unwrap();

    let mut late = pool.begin().await.unwrap();
    let late_xid: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(&mut *late)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO pm.events (position, stream_id, stream_version, event_type, payload) \
         OVERRIDING SYSTEM VALUE VALUES (50, 'e', 1, 'Race.Late', '{}')",
    )
    .execute(&mut *late)
    .await
    .unwrap();
    assert_eq!(early_position, 101);
    assert!(
        late_xid > early_xid,
        "E must have the higher transaction id"
    );

    early.commit().await.unwrap();
    let mut checkpoints = Vec::new();
    for limit in [100, 1] {
        let batch = read_settled(&log, Position::START, limit).await;
        assert_eq!(streams(&batch), ["v"], "with E open, limit {limit}");
        assert_eq!(
            batch.end,
            Position {
                transaction: early_xid,
                sequence: 101
            }
        );
        checkpoints.push((limit, batch.end));
    }

    late.commit().await.unwrap();
    for (limit, checkpoint) in checkpoints {
        let batch = read_settled(&log, checkpoint, limit).await;
        assert_eq!(
            streams(&batch),
            ["e"],
            "E's event (position 50) was skipped after {checkpoint:?}, limit {limit}"
        );
        assert_eq!(
            batch.end,
            Position {
                transaction: late_xid,
                sequence: 50
            }
        );
    }
    for limit in [100, 1] {
        assert_eq!(
            read_all_after(&log, Position::START, limit).await,
            ["v", "e"],
            "a fresh reader, limit {limit}"
        );
    }
}

/// The other half of G6, built deterministically: transaction A takes its
/// transaction id, then B appends and commits while A is still open. The
/// reader must not pass B yet (A may still append before it in log
/// order) and must say it is held back; once A commits it reads A, then B.
#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g6_reader_waits_for_an_older_transaction_still_open(pool: PgPool) {
    let log = PgBackend::from_pool(pool.clone()).log();
    let event = |event_type: &str| NewEvent {
        event_type: event_type.to_owned(),
        payload: json!({}),
    };
    let mut older = pool.begin().await.unwrap();
    let older_xid: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(&mut *older)
        .await
        .unwrap();
    let mut newer = pool.begin().await.unwrap();
    log.append_in(
        &mut newer,
        "b",
        ExpectedVersion::NoStream,
        vec![event("Race.B")],
    )
    .await
    .unwrap();
    newer.commit().await.unwrap();

    let batch = log.read(Position::START, &[], 100).await.unwrap();
    assert!(
        batch.events.is_empty(),
        "read past an open older transaction: {:?}",
        batch.events
    );
    assert_eq!(batch.end, Position::START, "the end moved past it");
    assert!(batch.held_back, "B is there but cannot be read yet");

    log.append_in(
        &mut older,
        "a",
        ExpectedVersion::NoStream,
        vec![event("Race.A")],
    )
    .await
    .unwrap();
    older.commit().await.unwrap();
    assert_eq!(read_all_after(&log, batch.end, 100).await, ["a", "b"]);
    let first = read_settled(&log, Position::START, 1).await;
    assert_eq!(first.events[0].position.transaction, older_xid);
    for limit in [100, 1] {
        assert_eq!(
            read_all_after(&log, Position::START, limit).await,
            ["a", "b"],
            "a fresh reader, limit {limit}"
        );
    }
}

/// Waits until a session of this database waits for a lock: the append the
/// test spawned has reached the row an open transaction inserted.
async fn until_an_append_waits(pool: &PgPool) {
    for _ in 0..3000 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the second append never waited for the first");
}

/// Two appends race for the same next version of one stream: the first
/// holds version 3 in an open transaction, the second (which read version 2)
/// waits on the unique index and collides when the first commits. Returns
/// what the second append returned.
async fn lose_an_append_race(pool: &PgPool, expected: ExpectedVersion) -> pm_core::Result<i64> {
    use pm_core::EventLog;
    let log = PgBackend::from_pool(pool.clone()).log();
    let event = || NewEvent {
        event_type: "Race.Appended".to_owned(),
        payload: json!({}),
    };
    log.append("s", ExpectedVersion::NoStream, vec![event(), event()])
        .await
        .unwrap();
    let mut winner = pool.begin().await.unwrap();
    let version = log
        .append_in(&mut winner, "s", ExpectedVersion::Exact(2), vec![event()])
        .await
        .unwrap();
    assert_eq!(version, 3);
    let loser = tokio::spawn({
        let log = log.clone();
        async move { log.append("s", expected, vec![event()]).await }
    });
    until_an_append_waits(pool).await;
    winner.commit().await.unwrap();
    loser.await.unwrap()
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn append_without_expectation_retries_after_losing_a_race(pool: PgPool) {
    use pm_core::EventLog;
    let version = lose_an_append_race(&pool, ExpectedVersion::Any).await;
    assert_eq!(version.unwrap(), 4, "the append lost to the race");
    let log = PgBackend::from_pool(pool).log();
    let versions: Vec<i64> = log
        .read_stream("s")
        .await
        .unwrap()
        .iter()
        .map(|event| event.stream_version)
        .collect();
    assert_eq!(versions, [1, 2, 3, 4]);
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn append_losing_a_race_reports_the_version_the_winner_left(pool: PgPool) {
    let error = lose_an_append_race(&pool, ExpectedVersion::Exact(2))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "stream `s` is at version 3, not the expected 2"
    );
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn an_empty_append_still_checks_its_expectation(pool: PgPool) {
    use pm_core::EventLog;
    let log = PgBackend::from_pool(pool).log();
    let event = NewEvent {
        event_type: "Load.Appended".to_owned(),
        payload: json!({}),
    };
    log.append("s", ExpectedVersion::NoStream, vec![event])
        .await
        .unwrap();
    assert_eq!(
        log.append("s", ExpectedVersion::Exact(1), vec![])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        log.append("new", ExpectedVersion::NoStream, vec![])
            .await
            .unwrap(),
        0
    );
    let error = log
        .append("s", ExpectedVersion::NoStream, vec![])
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "stream `s` is at version 1, not the expected no stream"
    );
}
