//! State versioning on Postgres: stored state of an older schema version is
//! migrated when loaded; a newer one parks the instance and is never
//! overwritten.

mod common;

use common::door::*;
use common::{append_door, eventually};
use pm_core::backend::{Batch, InstanceWrite, Operations, Store};
use pm_core::prelude::*;
use pm_core::{InstanceStatus, Position};
use pm_postgres::{PgBackend, PgStore};
use serde_json::{json, Value};
use sqlx::PgPool;

/// Stores door `id` as an earlier build would have.
async fn store_door(store: &PgStore, id: &str, state: Value, schema_version: i32) {
    let batch = Batch {
        process: "door".to_owned(),
        instances: vec![InstanceWrite {
            id: id.to_owned(),
            state,
            expected_version: 0,
            status: InstanceStatus::Active,
            schema_version,
            last_position: Position::START,
        }],
        ..Batch::default()
    };
    store.commit(batch).await.unwrap();
}

async fn record(store: &PgStore, id: &str) -> pm_core::backend::InstanceRecord {
    store
        .load_instances("door", &[id.to_owned()])
        .await
        .unwrap()
        .remove(0)
}

#[derive(Clone)]
struct NoAlarms;

impl Dispatch<DoorCommand> for NoAlarms {
    async fn dispatch(&self, _: DoorCommand, _: CommandMeta) -> Result<(), DispatchError> {
        Ok(())
    }
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn stored_state_is_migrated_or_parked_by_schema_version(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let store = backend.store();
    store_door(
        &store,
        "old",
        json!({ "phase": "Closed", "colour": "red" }),
        1,
    )
    .await;
    let newer = json!({ "phase": "Closed", "color": "blue", "hinges": 3 });
    store_door(&store, "new", newer.clone(), 3).await;

    let engine = Engine::new(store.clone(), backend.log())
        .register::<Door, _>(NoAlarms)
        .start()
        .unwrap();
    append_door(&backend.log(), "old", DoorEvent::Opened).await;
    append_door(&backend.log(), "new", DoorEvent::Opened).await;
    eventually("both events are applied", || async {
        record(&store, "old").await.version == 2
            && record(&store, "new").await.status == InstanceStatus::Parked
    })
    .await;
    engine.shutdown().await.unwrap();

    let old = record(&store, "old").await;
    assert_eq!(old.schema_version, 2);
    assert_eq!(old.state, json!({ "phase": "Open", "color": "red" }));
    let new = record(&store, "new").await;
    assert_eq!(
        (new.state, new.schema_version),
        (newer, 3),
        "newer state was overwritten"
    );
    let parked = store.parked_events("door").await.unwrap();
    assert_eq!(
        parked[0].parked.error.as_deref(),
        Some("stored state has schema version 3, newer than this build's 2; run a build that knows version 3")
    );
}
