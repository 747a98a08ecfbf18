//! The whole simulation, in memory and on Postgres (the process reading the
//! application's own table): every batch ends as its files say.

use std::time::Duration;

use batch_import::simulation::{run, run_on_pool, Config};
use sqlx::PgPool;

fn config() -> Config {
    Config {
        batches: 25,
        max_files: 4,
        seed: 11,
        // Long enough that an answered file is rarely overtaken; the checks
        // allow it either way.
        deadline: Duration::from_millis(1500),
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_batch_ends_as_its_files_say_in_memory() {
    let report = run(&config()).await.unwrap();
    assert!(report.holds(), "{report}");
    assert_eq!(
        report.tally.succeeded + report.tally.failed + report.tally.timed_out,
        25
    );
    assert!(
        report.tally.timed_out > 0,
        "no batch met a silent file: {report}"
    );
    assert!(
        report.tally.failed > 0,
        "no batch met a failing file: {report}"
    );
    assert_eq!(report.timeouts_fired, report.tally.timed_out);
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn every_batch_ends_as_its_files_say_on_the_applications_table(pool: PgPool) {
    let report = run_on_pool(pool.clone(), &config()).await.unwrap();
    assert!(report.holds(), "{report}");
    assert!(report.tally.timed_out > 0, "{report}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM batch_import.events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(rows > 25, "the services wrote to the application's table");
    // A second run on the same database goes on numbering and holds too.
    let again = run_on_pool(
        pool,
        &Config {
            batches: 5,
            ..config()
        },
    )
    .await
    .unwrap();
    assert!(again.holds(), "{again}");
}
