//! The booking simulation on Postgres survives a crash: a run killed with
//! SIGKILL part way and started again finishes with every invariant holding
//! and no command recorded twice, and the checkpoint it left behind spares
//! the resumed run what was done.
#![allow(clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::PgPool;

const BOOKINGS: &str = "600";

/// The URL of the database `pool` is connected to, on DATABASE_URL's server.
async fn url_of(pool: &PgPool) -> String {
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let server =
        std::env::var("DATABASE_URL").expect("DATABASE_URL is set (see .cargo/config.toml)");
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    format!("{base}/{database}")
}

fn booking(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_booking"));
    command.args([
        "--database-url",
        url,
        "--bookings",
        BOOKINGS,
        "--seed",
        "7",
        "--payment-window-ms",
        "200",
        "--no-progress",
    ]);
    command
}

async fn completed(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pm.instances WHERE process = 'booking' AND status = 'completed'",
    )
    .fetch_one(pool)
    .await
    .unwrap_or(0)
}

/// Kills `child` with SIGKILL once some bookings, but not all, completed.
async fn kill_part_way(pool: &PgPool, mut child: Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = completed(pool).await;
        if done >= 100 {
            child.kill().expect("SIGKILL the simulation");
            child.wait().expect("reap the killed simulation");
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the simulation ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "the simulation made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn a_run_killed_part_way_resumes_without_loss_or_duplicates(pool: PgPool) {
    let url = url_of(&pool).await;
    let first = booking(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    kill_part_way(&pool, first).await;
    let completed_at_kill = completed(&pool).await;
    assert!(
        completed_at_kill < BOOKINGS.parse::<i64>().unwrap(),
        "killed too late to prove anything ({completed_at_kill} completed)"
    );
    // The checkpoint moved with every commit: every event of a completed
    // booking lies behind it, so the resumed run does not read them again.
    let (behind, logged): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE (e.transaction_id::text::bigint, e.position)
                                       <= (c.checkpoint_tx, c.checkpoint_position)),
                count(*)
         FROM pm.events e,
              (SELECT checkpoint_tx, checkpoint_position FROM pm.partitions
               WHERE process = 'booking'
               ORDER BY checkpoint_tx, checkpoint_position LIMIT 1) AS c",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        behind >= 5 * completed_at_kill,
        "the checkpoint was not saved as the run went: only {behind} of {logged} events \
         lie behind it with {completed_at_kill} bookings completed, so the resumed run reads \
         the rest again"
    );

    let second = booking(&url).output().unwrap();
    let stdout = String::from_utf8_lossy(&second.stdout);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        second.status.success(),
        "the resumed run failed:\n{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("no finished booking holds tickets"),
        "{stdout}"
    );
    assert_eq!(completed(&pool).await, BOOKINGS.parse::<i64>().unwrap());

    // Each booking issues each kind of command at most once; a command
    // recorded twice would show up twice across the outbox, the ledger of
    // delivered commands and the dead letters.
    let duplicates: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT instance_id, command_type, count(*) FROM (
             SELECT instance_id, command_type FROM pm.outbox WHERE process = 'booking'
             UNION ALL SELECT instance_id, command_type FROM pm.delivered WHERE process = 'booking'
             UNION ALL SELECT instance_id, command_type FROM pm.dead_letters WHERE process = 'booking'
         ) AS commands
         GROUP BY instance_id, command_type
         HAVING count(*) > 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        duplicates.is_empty(),
        "commands recorded twice: {duplicates:?}"
    );
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM pm.outbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "commands left undelivered");
}
