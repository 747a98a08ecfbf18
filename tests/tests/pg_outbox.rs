//! The outbox on Postgres under load: commands recorded while the heads of
//! their keys are being acknowledged are never left without a head, and
//! each key's commands are delivered in the order issued (G3).

mod common;

use std::time::Duration;

use common::tally::{count, RecordingAccept, Tally};
use pm_core::{Engine, EngineOptions};
use pm_postgres::PgBackend;
use sqlx::PgPool;

const STREAMS: u64 = 20;
const ROUNDS: u64 = 60;

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g3_commands_recorded_during_acknowledgements_are_delivered_in_order(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let gateway = RecordingAccept::default();
    let options = EngineOptions {
        batch_size: 7,
        poll_interval: Duration::from_millis(10),
        claim_limit: 5,
        ..EngineOptions::default()
    };
    let engine = Engine::new(backend.store(), backend.log())
        .with_options(options)
        .register::<Tally, _>(gateway.clone())
        .start()
        .unwrap();
    let log = backend.log();
    for round in 0..ROUNDS {
        for stream in 0..STREAMS {
            count(&log, &format!("tally-{stream}"), round).await;
        }
    }
    let total = usize::try_from(STREAMS * ROUNDS).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while gateway.count() < total {
        let (pending, heads): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM pm.outbox), (SELECT count(*) FROM pm.outbox_heads)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {total} delivered; {pending} pending with {heads} heads",
            gateway.count()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    engine.shutdown().await.unwrap();
    let expected: Vec<u64> = (0..ROUNDS).collect();
    for (tally, numbers) in gateway.delivered() {
        assert_eq!(numbers, expected, "{tally} was delivered out of order");
    }
    let (pending, heads): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pm.outbox), (SELECT count(*) FROM pm.outbox_heads)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((pending, heads), (0, 0));
}

/// A batch commit recording one command, `$1` of key `key:k` created at
/// `$2`, with nothing else: the statement the engine commits with.
const RECORD_ONE: &str = "SELECT pm.commit_batch('race', '', '{}', '{}', '{}', '{}', '{}', '{}',
    '{}', '{}', '{}', '{}', '{}', '{}', '{}',
    ARRAY[$1::uuid], ARRAY['i-1'], ARRAY['key:k'], ARRAY['Record'], ARRAY['{\"n\": 2}'::jsonb],
    ARRAY[$2::timestamptz],
    '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')";

/// Built by hand: a batch records the next command of key K (not yet
/// committed) while K's head is being acknowledged. The acknowledgement must
/// wait for that batch and then make its command the head; acknowledging
/// first and finding no next command would leave it with no head, never
/// delivered.
#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g3_a_command_recorded_while_its_key_is_acknowledged_keeps_a_head(pool: PgPool) {
    use pm_core::backend::{Batch, Claim, NewCommand, Store};
    use uuid::Uuid;

    let store = PgBackend::from_pool(pool.clone()).store();
    let now = chrono::DateTime::from_timestamp(1_893_456_000, 0).unwrap();
    let command = |n: u128| NewCommand {
        id: Uuid::from_u128(n),
        instance: "i-1".to_owned(),
        ordering_key: "key:k".to_owned(),
        command_type: "Record".to_owned(),
        payload: serde_json::json!({ "n": n as u64 }),
        created_at: now,
    };
    let first = Batch {
        process: "race".to_owned(),
        commands: vec![command(1)],
        ..Batch::default()
    };
    store.commit(first).await.unwrap();
    let claim = Claim {
        lease: Uuid::new_v4(),
        lease_for: Duration::from_secs(30),
        now,
        limit: 10,
    };
    assert_eq!(store.claim_commands("race", claim).await.unwrap().len(), 1);

    // A batch records command 2 of key k and is not committed yet.
    let mut batch = pool.begin().await.unwrap();
    let second = command(2);
    sqlx::query(RECORD_ONE)
        .bind(second.id)
        .bind(second.created_at)
        .execute(&mut *batch)
        .await
        .unwrap();

    // Command 1 is acknowledged meanwhile: it has to wait for the batch.
    let acking = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .complete_commands(claim.lease, &[Uuid::from_u128(1)])
                .await
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if waiting > 0 || acking.is_finished() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the acknowledgement neither waited nor finished"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    batch.commit().await.unwrap();
    acking.await.unwrap().unwrap();

    let later = Claim {
        lease: Uuid::new_v4(),
        ..claim
    };
    let next = store.claim_commands("race", later).await.unwrap();
    let ids: Vec<u128> = next.iter().map(|command| command.id.as_u128()).collect();
    assert_eq!(
        ids,
        [2],
        "the command recorded during the acknowledgement is the next head"
    );
}
