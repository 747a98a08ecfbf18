//! G1 under network faults: a TCP proxy between the engine and Postgres
//! forwards COMMIT and drops the server's answer, several times during a run
//! of thousands of events. The engine cannot know whether those batches
//! committed; it must find out from the store, never apply an event twice
//! and lose none. Checked from state against the log, not from command ids.

mod common;

use std::time::Duration;

use common::pg::{server_of, tally_mismatches, wait_until_consumed};
use common::tally::{count, Accept, Tally};
use pm_core::{Engine, EngineOptions};
use pm_postgres::PgBackend;
use pm_tests::proxy::FaultProxy;
use sqlx::PgPool;

const STREAMS: u64 = 200;
const ROUNDS: u64 = 20;
const CUTS: u32 = 8;

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g1_commits_whose_reply_is_lost_are_applied_once(pool: PgPool) {
    let (server, url) = server_of(&pool);
    let proxy = FaultProxy::start(server).await.unwrap();
    let engine_backend = PgBackend::connect(&proxy.url(&url)).await.unwrap();
    let options = EngineOptions {
        batch_size: 150,
        poll_interval: Duration::from_millis(20),
        max_error_backoff: Duration::from_millis(200),
        ..EngineOptions::default()
    };
    let engine = Engine::new(engine_backend.store(), engine_backend.log())
        .with_options(options)
        .register::<Tally, _>(Accept)
        .start()
        .unwrap();

    // The events are appended directly, not through the proxy.
    let log = PgBackend::from_pool(pool.clone()).log();
    let mut cuts_asked = 0;
    for round in 0..ROUNDS {
        for stream in 0..STREAMS {
            count(&log, &format!("tally-{stream}"), round * STREAMS + stream).await;
        }
        if round % 2 == 1 && cuts_asked < CUTS {
            // Cut the next COMMIT after the server answered, and wait until
            // it happened before going on.
            proxy.cut_after_commits(1);
            cuts_asked += 1;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while proxy.commits_cut() < cuts_asked {
                assert!(tokio::time::Instant::now() < deadline, "no COMMIT was cut");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    wait_until_consumed(&pool, "tally", Duration::from_secs(60)).await;
    engine.shutdown().await.unwrap();

    assert_eq!(proxy.commits_cut(), CUTS);
    let mismatches = tally_mismatches(&pool).await;
    assert!(
        mismatches.is_empty(),
        "{} tallies disagree with the log, e.g. {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
    let instances: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pm.instances WHERE process = 'tally'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(instances, i64::try_from(STREAMS).unwrap());
}
