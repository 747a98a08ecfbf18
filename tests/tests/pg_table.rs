//! The application's own events table as an event source: gap-safe under
//! concurrent writers (G6), its names quoted (never injected), its type
//! names mapped, a wrong description refused at connect, and the engine
//! running a process from it.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use pm_core::backend::EventSource;
use pm_core::prelude::*;
use pm_core::{EngineOptions, Position, RecordedEvent};
use pm_postgres::{EventTable, PgBackend, PgTableSource};
use rand::{Rng, SeedableRng};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::watch;

const WRITERS: usize = 16;
const INSERTS_PER_WRITER: usize = 25;

/// A table with names of its own, one of them needing quotes.
const CREATE_TABLE: &str = r#"
    CREATE SCHEMA app;
    CREATE TABLE app."file ""events""" (
        id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        xid    xid8 NOT NULL DEFAULT pg_current_xact_id(),
        batch  text NOT NULL,
        kind   text NOT NULL,
        body   jsonb NOT NULL,
        at     timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX file_events_by_transaction ON app."file ""events""" (xid, id);
"#;

const INSERT: &str = r#"INSERT INTO app."file ""events""" (batch, kind, body) VALUES ($1, $2, $3)"#;

async fn create_table(pool: &PgPool) {
    sqlx::raw_sql(CREATE_TABLE).execute(pool).await.unwrap();
}

fn describe() -> EventTable {
    EventTable::new("file \"events\"")
        .schema("app")
        .position_column("id")
        .transaction_column("xid")
        .stream_column("batch")
        .type_column("kind")
        .payload_column("body")
        .recorded_at_column("at")
        .map_type("load_appended", "Load.Appended")
}

/// (stream, number) of every committed row.
type Committed = BTreeMap<(String, i64), ()>;

/// Inserts one row per transaction, with rows of another type in between;
/// holds some transactions open a random while and rolls some back.
async fn write(pool: PgPool, writer: usize) -> Committed {
    let mut rng = rand::rngs::StdRng::seed_from_u64(writer as u64);
    let stream = format!("writer-{writer}");
    let mut committed = Committed::new();
    for n in 0..INSERTS_PER_WRITER {
        let number = (writer * 1000 + n) as i64;
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(INSERT)
            .bind(&stream)
            .bind("load_appended")
            .bind(json!({ "n": number }))
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(INSERT)
            .bind(&stream)
            .bind("noise")
            .bind(json!({}))
            .execute(&mut *tx)
            .await
            .unwrap();
        if rng.gen_bool(0.3) {
            tokio::time::sleep(Duration::from_millis(rng.gen_range(1..40))).await;
        }
        if rng.gen_bool(0.2) {
            tx.rollback().await.unwrap();
        } else {
            tx.commit().await.unwrap();
            committed.insert((stream.clone(), number), ());
        }
    }
    committed
}

/// Reads from the start as the engine does until `total` rows are read
/// (once known) or a deadline passes.
async fn read(
    source: PgTableSource,
    mut total: watch::Receiver<Option<usize>>,
) -> Vec<RecordedEvent> {
    let mut checkpoint = Position::START;
    let mut read = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let batch = source.read(checkpoint, &["Load"], 50).await.unwrap();
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
async fn g6_table_reader_never_skips_a_row_committed_late(
    pool_options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let pool = pool_options
        .max_connections(WRITERS as u32 + 4)
        .connect_with(connect)
        .await
        .unwrap();
    create_table(&pool).await;
    let source = describe().connect(pool.clone()).await.unwrap();
    let (total_sender, total) = watch::channel(None);
    let reader = tokio::spawn(read(source, total));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| tokio::spawn(write(pool.clone(), writer)))
        .collect();
    let mut committed = Committed::new();
    for writer in writers {
        committed.extend(writer.await.unwrap());
    }
    total_sender.send_replace(Some(committed.len()));
    let read = reader.await.unwrap();

    let mut seen = Committed::new();
    for event in &read {
        assert_eq!(
            event.event_type, "Load.Appended",
            "only mapped rows are read"
        );
        let key = (
            event.stream_id.clone(),
            event.payload["n"].as_i64().unwrap(),
        );
        assert!(
            seen.insert(key.clone(), ()).is_none(),
            "read twice: {key:?}"
        );
    }
    assert_eq!(
        seen, committed,
        "the rows read are not exactly the committed ones"
    );
    for writer in 0..WRITERS {
        let stream = format!("writer-{writer}");
        let numbers: Vec<i64> = read
            .iter()
            .filter(|event| event.stream_id == stream)
            .map(|event| event.payload["n"].as_i64().unwrap())
            .collect();
        let mut in_order = numbers.clone();
        in_order.sort_unstable();
        assert_eq!(numbers, in_order, "stream {stream} out of order");
    }
    assert!(
        committed.len() < WRITERS * INSERTS_PER_WRITER,
        "no rollback happened"
    );
}

/// One read after every row committed so far is visible: an open
/// transaction anywhere on the server holds the snapshot's xmin back, and
/// other tests run alongside.
async fn read_when_visible(
    source: &PgTableSource,
    after: Position,
    families: &[&str],
) -> pm_core::backend::ReadBatch {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let batch = source.read(after, families, 100).await.unwrap();
        if !batch.held_back {
            return batch;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rows stayed held back by an open transaction"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn stored_types_map_to_events_and_other_rows_are_passed_over(pool: PgPool) {
    create_table(&pool).await;
    for (kind, body) in [
        ("load_appended", json!({ "n": 1 })),
        ("noise", json!({})),
        ("Load.Renamed", json!({ "n": 2 })),
        ("noise", json!({})),
    ] {
        sqlx::query(INSERT)
            .bind("s-1")
            .bind(kind)
            .bind(body)
            .execute(&pool)
            .await
            .unwrap();
    }
    let source = describe().connect(pool).await.unwrap();
    assert_eq!(source.source_name(), "app.file \"events\"");
    let batch = read_when_visible(&source, Position::START, &["Load"]).await;
    let types: Vec<&str> = batch.events.iter().map(|e| e.event_type.as_str()).collect();
    // A mapped name is renamed; a name already in the family passes as is.
    assert_eq!(types, ["Load.Appended", "Load.Renamed"]);
    assert!(
        batch.end > batch.events[1].position,
        "the checkpoint moves past the rows of other types"
    );
    let nothing = read_when_visible(&source, batch.end, &["Load"]).await;
    assert!(nothing.events.is_empty());
    let all = read_when_visible(&source, Position::START, &[]).await;
    assert_eq!(all.events.len(), 4, "no families: every row");
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn names_are_quoted_never_run_as_sql(pool: PgPool) {
    let hostile = r#"x"; DROP TABLE victim; --"#;
    sqlx::raw_sql(
        r#"CREATE TABLE victim (id int);
           CREATE TABLE "x""; DROP TABLE victim; --" (
               position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
               transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
               stream_id text NOT NULL, event_type text NOT NULL,
               payload jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now());
           INSERT INTO "x""; DROP TABLE victim; --" (stream_id, event_type, payload)
               VALUES ('s', 'Load.Appended', '{}');"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    let source = EventTable::new(hostile)
        .connect(pool.clone())
        .await
        .unwrap();
    let batch = read_when_visible(&source, Position::START, &["Load"]).await;
    assert_eq!(batch.events.len(), 1);
    let victim: Option<String> = sqlx::query_scalar("SELECT to_regclass('victim')::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        victim.as_deref(),
        Some("victim"),
        "the table name ran as SQL"
    );
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn a_wrong_description_fails_at_connect_with_what_is_wrong(pool: PgPool) {
    create_table(&pool).await;
    let missing_column = describe()
        .payload_column("data")
        .connect(pool.clone())
        .await;
    let error = missing_column.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(r#"the events table "app"."file ""events""" cannot be read"#),
        "{error}"
    );
    let cause = std::error::Error::source(&error).map(ToString::to_string);
    assert!(
        cause.is_some_and(|cause| cause.contains("data")),
        "{error:?}"
    );

    let not_xid8 = describe()
        .transaction_column("id")
        .connect(pool.clone())
        .await;
    assert!(not_xid8.is_err(), "a bigint column is not a transaction id");

    let too_long = describe()
        .type_column("k".repeat(64))
        .connect(pool.clone())
        .await;
    assert_eq!(
        too_long.unwrap_err().to_string(),
        format!(
            "the type column name `{}` cannot be used: it is longer than the 63 bytes Postgres keeps of a name",
            "k".repeat(64)
        )
    );

    let unknown = describe()
        .map_event::<TaskEvent>("task_shut", "Shut")
        .connect(pool.clone())
        .await;
    assert_eq!(
        unknown.unwrap_err().to_string(),
        "`TaskEvent` has no variant `Shut` to map the stored type `task_shut` to; its variants are `Opened`, `Noted`, `Closed`, `Exploded`, `Archived`"
    );

    let twice = describe()
        .map_type("load_appended", "Load.Other")
        .connect(pool)
        .await;
    assert!(twice
        .unwrap_err()
        .to_string()
        .starts_with("the stored type `load_appended` is mapped twice"),);
}

/// The task process's events, as an application might store them.
const CREATE_TASK_TABLE: &str = r#"
    CREATE TABLE task_log (
        seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        task_id    uuid NOT NULL,
        what       text NOT NULL,
        data       json NOT NULL
    );
    CREATE INDEX task_log_by_transaction ON task_log (transaction_id, seq);
    CREATE FUNCTION notify_task_log() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_notify('task_log', ''); RETURN NULL; END $$;
    CREATE TRIGGER task_log_notify AFTER INSERT ON task_log
        FOR EACH STATEMENT EXECUTE FUNCTION notify_task_log();
"#;

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn the_engine_runs_a_process_from_the_table_woken_by_notify(pool: PgPool) {
    sqlx::raw_sql(CREATE_TASK_TABLE)
        .execute(&pool)
        .await
        .unwrap();
    let source = EventTable::new("task_log")
        .position_column("seq")
        .stream_column("task_id")
        .type_column("what")
        .payload_column("data")
        .without_recorded_at()
        .map_event::<TaskEvent>("task_opened", "Opened")
        .map_event::<TaskEvent>("task_noted", "Noted")
        .notify_channel("task_log")
        .connect(pool.clone())
        .await
        .unwrap();
    let backend = PgBackend::from_pool(pool.clone());
    let gateway = Recorder::default();
    // It would poll once a minute (and renew its partitions, which also
    // wakes it, every few minutes): only the trigger's NOTIFY wakes it in time.
    let engine = Engine::new(backend.store(), source)
        .with_clock(ManualClock::fixed())
        .with_options(EngineOptions {
            poll_interval: Duration::from_secs(60),
            partition_lease: Duration::from_secs(600),
            ..fast_options()
        })
        .register::<Task, _>(gateway.clone())
        .start()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let task = "7f0c1e9a-0000-4000-8000-000000000001";
    sqlx::query("INSERT INTO task_log (task_id, what, data) VALUES ($1::uuid, 'task_opened', $2)")
        .bind(task)
        .bind(json!({ "title": "from the app" }))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO task_log (task_id, what, data) VALUES ($1::uuid, 'task_noted', $2)")
        .bind(task)
        .bind(json!({ "task": task, "text": "first note" }))
        .execute(&pool)
        .await
        .unwrap();
    eventually("both events are handled", || async {
        gateway.texts().len() == 2
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(gateway.texts(), ["opened from the app", "first note"]);
    let (status, state) = task_state(&backend.store(), task).await.unwrap();
    assert_eq!(status, pm_core::InstanceStatus::Active);
    assert_eq!(state.unwrap().notes, ["first note"]);
    let checkpoint: i64 = sqlx::query_scalar(
        "SELECT min(checkpoint_position) FROM pm.partitions WHERE process = 'task' AND source = 'task_log'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        checkpoint, 2,
        "the checkpoint is kept under the table's name"
    );
}
