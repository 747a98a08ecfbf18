//! Partitions on Postgres: the partition rule in SQL is the stored one, and
//! a process repartitioned while two workers run applies no event twice.

mod common;

use std::time::Duration;

use common::pg::{tally_mismatches, wait_until_consumed};
use common::tally::{count, Accept, Tally};
use pm_core::{Engine, EngineOptions, RunningEngine};
use pm_postgres::{Admin, PgBackend};
use sqlx::PgPool;

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn the_partition_rule_in_sql_is_the_stored_one(pool: PgPool) {
    let ids: Vec<String> = (0..2000)
        .map(|n| format!("instance-{n}"))
        .chain([
            "".to_owned(),
            "a".to_owned(),
            "booking-1".to_owned(),
            "ü-ß".to_owned(),
        ])
        .collect();
    for count in [1u32, 2, 7, 16, 64] {
        let in_sql: Vec<i32> =
            sqlx::query_scalar("SELECT pm.partition_of(id, $2) FROM unnest($1::text[]) AS id")
                .bind(&ids)
                .bind(i32::try_from(count).unwrap())
                .fetch_all(&pool)
                .await
                .unwrap();
        let in_rust: Vec<i32> = ids
            .iter()
            .map(|id| i32::try_from(pm_core::backend::partition_of(id, count)).unwrap())
            .collect();
        assert_eq!(in_sql, in_rust, "count {count}");
    }
}

fn start(backend: &PgBackend, partitions: u32) -> RunningEngine {
    let options = EngineOptions {
        batch_size: 100,
        poll_interval: Duration::from_millis(20),
        partitions,
        partition_lease: Duration::from_millis(600),
        ..EngineOptions::default()
    };
    Engine::new(backend.store(), backend.log())
        .with_options(options)
        .register::<Tally, _>(Accept)
        .start()
        .unwrap()
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g1_repartitioning_while_two_workers_run_applies_nothing_twice(pool: PgPool) {
    let backend = PgBackend::from_pool(pool.clone());
    let (first, second) = (start(&backend, 4), start(&backend, 4));
    let log = backend.log();
    let admin = Admin::new(backend.clone());
    for round in 0..30u64 {
        for stream in 0..40u64 {
            count(&log, &format!("tally-{stream}"), round * 40 + stream).await;
        }
        if round == 12 {
            // The two workers' partitions stand at different checkpoints
            // now; the new ones start from the lowest.
            admin.repartition("tally", 7).await.unwrap();
        }
    }
    wait_until_consumed(&pool, "tally", Duration::from_secs(60)).await;
    let partitions = admin.partitions("tally").await.unwrap();
    assert_eq!(partitions.len(), 7);
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
    let mismatches = tally_mismatches(&pool).await;
    assert!(mismatches.is_empty(), "{mismatches:?}");
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn repartitioning_a_process_that_never_ran_is_an_error(pool: PgPool) {
    let admin = Admin::new(PgBackend::from_pool(pool));
    let error = admin.repartition("nothing", 4).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot repartition process `nothing`"),
        "{error}"
    );
    let error = admin.repartition("nothing", 0).await.unwrap_err();
    assert!(error.to_string().contains("over 0 partitions"), "{error}");
}
