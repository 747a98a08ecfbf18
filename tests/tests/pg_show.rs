//! `Admin::instance` and `Admin::instance_json` (what `pm show` prints) on a
//! real engine run on Postgres.

mod common;

use common::*;
use pm_core::backend::Operations;
use pm_core::prelude::*;
use pm_core::{InstanceStatus, Position, RunningEngine};
use pm_postgres::{Admin, PgBackend};
use sqlx::PgPool;

/// Runs task `t-1` until it has a delivered command, a dead letter, a
/// command waiting for a retry (the manual clock never reaches it) with one
/// behind it, a pending reminder, and two parked events (one failed, one
/// held behind it); returns the positions of its events.
async fn run_a_task(backend: &PgBackend, gateway: &Recorder) -> (RunningEngine, Vec<Position>) {
    let (store, log) = (backend.store(), backend.log());
    gateway.fail(
        "refused",
        [DispatchError::Permanent("no such customer".into())],
    );
    gateway.fail(
        "flaky",
        [DispatchError::Transient("gateway down\nretry later".into())],
    );
    let engine = start_engine(&store, &log, ManualClock::fixed(), gateway);
    append(&log, "t-1", opened("first")).await;
    for text in ["refused", "flaky", "behind"] {
        append(&log, "t-1", noted("t-1", text)).await;
    }
    append(&log, "t-1", TaskEvent::Exploded).await;
    append(&log, "t-1", noted("t-1", "held")).await;
    let admin = Admin::new(backend.clone());
    eventually(
        "t-1 is parked with a command waiting for its retry",
        || async {
            let view = admin.instance_json("task", "t-1").await.unwrap();
            view.is_some_and(|view| {
                view.status == InstanceStatus::Parked
                    && view.parked.len() == 2
                    && view.dead_letters.len() == 1
                    && view.pending.len() == 2
                    && view.pending[0].last_error.is_some()
            })
        },
    )
    .await;
    let positions = log
        .read_stream("t-1")
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.position)
        .collect();
    (engine, positions)
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn an_instance_is_shown_with_everything_stored_about_it(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    let gateway = Recorder::default();
    let (engine, positions) = run_a_task(&backend, &gateway).await;
    let admin = Admin::new(backend.clone());
    let view = admin.instance_json("task", "t-1").await.unwrap().unwrap();

    assert_eq!(view.process, "task");
    assert_eq!(view.id, "t-1");
    assert_eq!(view.status, InstanceStatus::Parked);
    assert_eq!(view.schema_version, 1);
    assert_eq!(
        view.last_position, positions[5],
        "parked events count as taken too (a replay skips them)"
    );
    let partition = view.partition.clone().unwrap();
    assert_eq!(partition.partitions, 16);
    assert_eq!(
        partition.partition,
        pm_core::backend::partition_of("t-1", 16)
    );
    assert!(
        partition.leased && partition.owner.is_some(),
        "{partition:?}"
    );
    assert_eq!(view.timeouts.len(), 1);
    assert_eq!(view.timeouts[0].kind, "Reminder");

    let [flaky, behind] = &view.pending[..] else {
        panic!("two pending commands: {:?}", view.pending);
    };
    assert_eq!(flaky.command.payload["text"], "flaky");
    assert_eq!(flaky.command.ordering_key, "instance:t-1");
    assert_eq!(flaky.command.attempts, 1);
    assert!(flaky.head && !flaky.leased && flaky.available_at.is_some());
    assert!(
        flaky
            .last_error
            .as_deref()
            .unwrap()
            .contains("gateway down\nretry later"),
        "{flaky:?}"
    );
    assert_eq!(behind.command.payload["text"], "behind");
    assert!(!behind.head && behind.available_at.is_none());

    assert_eq!(view.delivered.len(), 1);
    assert_eq!(view.delivered_total, 1);
    assert_eq!(
        view.delivered[0].id,
        gateway.deliveries()[0].meta.idempotency_key
    );
    assert_eq!(view.dead_letters[0].command.payload["text"], "refused");
    assert!(view.dead_letters[0].error.contains("no such customer"));
    assert!(view.parked[0]
        .parked
        .error
        .as_deref()
        .unwrap()
        .contains("task exploded on purpose"));
    assert_eq!(
        view.parked[1].parked.error, None,
        "held behind the failed one"
    );

    let shown = view.to_string();
    for expected in [
        "instance `t-1` of process `task`: parked, version ",
        &format!(
            "last applied position {}:{}",
            positions[5].transaction, positions[5].sequence
        ),
        &format!("partition {} of 16, owned by ", partition.partition),
        "\"title\": \"first\"",
        "Reminder due 2030-01-01T00:10:00.000Z",
        "ordering key `instance:t-1`, failed attempts: 1, available 2030-01-01T00:00:00.0",
        "; last error: gateway down\\nretry later\n",
        "waits for the commands before it of its ordering key",
        "delivered commands (the last 1 of 1):",
        "gave up: permanent failure: no such customer",
        &format!("id {}: event TaskEvent.Exploded at ", view.parked[0].id),
        "failed: ",
        "held behind an earlier failure",
    ] {
        assert!(shown.contains(expected), "no `{expected}` in:\n{shown}");
    }
    let state_lines = shown
        .lines()
        .skip_while(|line| *line != "state:")
        .take_while(|line| !line.starts_with("timeouts:"))
        .count();
    assert!(
        state_lines > 3,
        "the state is pretty JSON, one field a line:\n{shown}"
    );
    engine.shutdown().await.unwrap();
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn the_typed_view_decodes_the_state(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let gateway = Recorder::default();
    let (engine, _) = run_a_task(&backend, &gateway).await;
    engine.shutdown().await.unwrap();
    let admin = Admin::new(backend.clone());

    let view = admin
        .instance::<Task>(&"t-1".to_owned())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        view.state,
        Some(Task {
            title: "first".into(),
            notes: vec!["refused".into(), "flaky".into(), "behind".into()],
        })
    );
    assert_eq!(view.pending.len(), 2);
    assert!(admin
        .instance::<Task>(&"nosuch".to_owned())
        .await
        .unwrap()
        .is_none());
    assert!(admin
        .instance_json("task", "nosuch")
        .await
        .unwrap()
        .is_none());
    assert!(admin.instance_json("other", "t-1").await.unwrap().is_none());

    // A state this build cannot read is an error naming the instance; the
    // JSON view still shows it.
    sqlx::query("UPDATE pm.instances SET state = '{\"title\": 5}' WHERE instance_id = 't-1'")
        .execute(&pool)
        .await
        .unwrap();
    let error = admin.instance::<Task>(&"t-1".to_owned()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the state of instance `t-1` of process `task` does not decode"
    );
    assert!(
        std::error::Error::source(&error)
            .unwrap()
            .to_string()
            .contains("invalid type"),
        "{error:?}"
    );
    let json = admin.instance_json("task", "t-1").await.unwrap().unwrap();
    assert_eq!(json.state.unwrap()["title"], 5);

    sqlx::query("UPDATE pm.instances SET schema_version = 2 WHERE instance_id = 't-1'")
        .execute(&pool)
        .await
        .unwrap();
    let error = admin.instance::<Task>(&"t-1".to_owned()).await.unwrap_err();
    assert!(
        std::error::Error::source(&error)
            .unwrap()
            .to_string()
            .contains("schema version 2, newer than this build's 1"),
        "{error:?}"
    );
    assert_eq!(
        backend.store().stats("task").await.unwrap().parked,
        1,
        "reading changes nothing"
    );
}
