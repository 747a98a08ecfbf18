//! The `pm` binary against a real database.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

use pm_postgres::{Admin, PgBackend};
use sqlx::PgPool;

/// The URL of the database `pool` is connected to, on the server of
/// DATABASE_URL.
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

fn pm(url: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_pm"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .expect("the pm binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn status_reports_an_empty_database(pool: PgPool) {
    let url = url_of(&pool).await;
    let (ok, stdout, stderr) = pm(&url, &["status"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("no process has run against this database yet"),
        "{stdout}"
    );
    assert!(
        stdout.contains("readers see transactions below"),
        "{stdout}"
    );
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let (ok, _, stderr) = pm("postgres://nobody@127.0.0.1:1/none", &["status"]);
    assert!(!ok);
    assert!(stderr.contains("opening the database"), "{stderr}");
    assert!(
        stderr.contains("could not connect to postgres://nobody@127.0.0.1:1/none"),
        "{stderr}"
    );
}

/// A registered `booking` process with one parked instance (`b-1`), a
/// parked event whose error and stream id span lines and run long, a dead
/// letter with a multi-line error, and one partition: enough for every
/// command to print something.
async fn seed(pool: &PgPool) {
    let long = format!("first line\nsecond line\t{}", "x".repeat(10_000));
    for statement in [
        "INSERT INTO pm.processes (name, descriptor) VALUES ('booking', '{}'), ('payment', '{}')",
        "INSERT INTO pm.partitions (process, partition, source) VALUES ('booking', 0, 'pm.events')",
        "INSERT INTO pm.instances (process, instance_id, state, version, status, schema_version)
         VALUES ('booking', 'b-1', '{\"seats\": 2}', 1, 'parked', 1)",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
    sqlx::query(
        "INSERT INTO pm.parked (process, instance_id, error, event_tx, event_position, stream_id,
                                stream_version, event_type, payload, recorded_at)
         VALUES ('booking', 'b-1', $1, 1, 1, $1, 1, 'BookingEvent.Placed', '{}', now())",
    )
    .bind(&long)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO pm.dead_letters (id, process, instance_id, ordering_key, command_type, payload,
                                      created_at, attempts, error)
         VALUES (gen_random_uuid(), 'booking', 'b-1', 'instance:b-1', 'ChargeCard', '{}', now(), 3, $1)",
    )
    .bind(&long)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn unknown_process_and_instance_names_are_errors(pool: PgPool) {
    seed(&pool).await;
    let url = url_of(&pool).await;
    for command in [
        &["parked", "nosuch"][..],
        &["show", "nosuch", "b-1"],
        &["release", "nosuch", "b-1"],
        &["release", "nosuch", "--id", "1"],
        &["dead-letters", "nosuch"],
        &["retry-dead-letters", "nosuch"],
        &["purge-dead-letters", "nosuch"],
        &["repartition", "nosuch", "--partitions", "2"],
    ] {
        let (ok, stdout, stderr) = pm(&url, command);
        assert!(!ok, "`pm {}` succeeded: {stdout}", command.join(" "));
        assert!(
            stderr.contains(
                "no process `nosuch` has run against this database; known: booking, payment"
            ),
            "`pm {}`: {stderr}",
            command.join(" ")
        );
    }
    for command in [&["show", "booking", "x"][..], &["release", "booking", "x"]] {
        let (ok, stdout, stderr) = pm(&url, command);
        assert!(!ok, "`pm {}` succeeded: {stdout}", command.join(" "));
        assert!(
            stderr.contains("instance `x` of `booking` does not exist"),
            "`pm {}`: {stderr}",
            command.join(" ")
        );
    }
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn no_process_known_is_said_so(pool: PgPool) {
    let url = url_of(&pool).await;
    for command in [&["parked", "booking"][..], &["dead-letters", "booking"]] {
        let (ok, stdout, stderr) = pm(&url, command);
        assert!(!ok, "`pm {}` succeeded: {stdout}", command.join(" "));
        assert!(
            stderr.contains("no process `booking` has run against this database; none has yet"),
            "{stderr}"
        );
    }
}

/// Runs `pm` with its stdout closed before it writes anything, as
/// `pm status | head -0` would: returns whether it exited successfully and
/// its stderr.
fn pm_into_closed_pipe(url: &str, args: &[&str]) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pm"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pm binary starts");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("the pm binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn a_closed_stdout_ends_every_command_cleanly(pool: PgPool) {
    seed(&pool).await;
    let url = url_of(&pool).await;
    for command in [
        &["status"][..],
        &["show", "booking", "b-1"],
        &["parked", "booking"],
        &["dead-letters", "booking"],
        &["release", "booking", "b-1"],
        &["retry-dead-letters", "booking"],
        &["purge-dead-letters", "booking"],
        &["repartition", "booking", "--partitions", "2"],
        &["migrate"],
    ] {
        let (ok, stderr) = pm_into_closed_pipe(&url, command);
        assert!(
            ok,
            "`pm {}` failed on a closed pipe: {stderr}",
            command.join(" ")
        );
        assert!(stderr.is_empty(), "`pm {}`: {stderr}", command.join(" "));
    }
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn stored_text_is_printed_on_one_bounded_line(pool: PgPool) {
    seed(&pool).await;
    let url = url_of(&pool).await;
    for command in [&["parked", "booking"][..], &["dead-letters", "booking"]] {
        let (ok, stdout, stderr) = pm(&url, command);
        assert!(ok, "{stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "`pm {}` printed {stdout}",
            command.join(" ")
        );
        assert!(
            lines[0].contains(r"first line\nsecond line\t"),
            "`pm {}`: {}",
            command.join(" "),
            lines[0]
        );
        assert!(
            lines[0].len() < 2_000,
            "`pm {}` printed a line of {} bytes",
            command.join(" "),
            lines[0].len()
        );
        assert!(lines[0].contains("more bytes)"), "{}", lines[0]);
    }
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn status_says_when_the_dispatcher_makes_no_progress(pool: PgPool) {
    seed(&pool).await;
    sqlx::query(
        "WITH command AS (
             INSERT INTO pm.outbox (id, process, instance_id, ordering_key, command_type, payload,
                                    created_at, attempts, last_error)
             VALUES (gen_random_uuid(), 'booking', 'b-1', 'instance:b-1', 'ChargeCard', '{}',
                     now() - interval '5 minutes', 3, E'gateway down\\n(503)')
             RETURNING process, ordering_key, id
         )
         INSERT INTO pm.outbox_heads (process, ordering_key, command_id, available_at)
         SELECT process, ordering_key, id, now() + interval '20 seconds' FROM command",
    )
    .execute(&pool)
    .await
    .unwrap();
    let url = url_of(&pool).await;
    let (ok, stdout, stderr) = pm(&url, &["status"]);
    assert!(ok, "{stderr}");
    for expected in [
        "delivery: 0 delivered in the last minute (0.00/s); the oldest pending command was issued 30",
        "PROBLEM: 1 commands pending, none delivered in the last minute: the dispatcher makes no progress. \
         The head waiting longest is ChargeCard ",
        " of instance `b-1` (ordering key `instance:b-1`), issued 300 s ago, failed attempts: 3, \
         next attempt in ",
        "; last error: gateway down\\n(503)\n",
    ] {
        assert!(stdout.contains(expected), "no `{expected}` in:\n{stdout}");
    }

    sqlx::query(
        "INSERT INTO pm.delivered (id, process, instance_id, command_type, created_at, attempts)
         VALUES (gen_random_uuid(), 'booking', 'b-1', 'Reserve', now(), 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (ok, stdout, stderr) = pm(&url, &["status"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("delivery: 1 delivered in the last minute (0.02/s)"),
        "{stdout}"
    );
    assert!(!stdout.contains("makes no progress"), "{stdout}");
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn status_names_a_forgotten_prepared_transaction(pool: PgPool) {
    let limit: String = sqlx::query_scalar("SHOW max_prepared_transactions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_ne!(
        limit, "0",
        "this server has max_prepared_transactions = 0, so no transaction can be prepared; \
         raise it (.ci/run does: ALTER SYSTEM SET max_prepared_transactions = 4, then restart Postgres)"
    );
    let url = url_of(&pool).await;
    let gid = format!("pm-cli-test-{}", uuid::Uuid::new_v4());
    let mut connection = pool.acquire().await.unwrap();
    sqlx::query("BEGIN")
        .execute(&mut *connection)
        .await
        .unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *connection)
        .await
        .unwrap();
    sqlx::query(&format!("PREPARE TRANSACTION '{gid}'"))
        .execute(&mut *connection)
        .await
        .unwrap();
    drop(connection);
    // Until it is rolled back, the prepared transaction holds back the
    // readers of every test on the server: check in a task, so the rollback
    // below runs whether the checks pass or panic.
    let checks = tokio::spawn({
        let (pool, gid) = (pool.clone(), gid.clone());
        async move {
            let horizon = Admin::new(PgBackend::from_pool(pool))
                .horizon()
                .await
                .unwrap();
            assert_eq!(
                horizon.prepared_gid.as_deref(),
                Some(gid.as_str()),
                "{horizon:?}"
            );
            let (ok, stdout, stderr) = pm(&url, &["status"]);
            assert!(ok, "{stderr}");
            let database = url.rsplit('/').next().unwrap();
            assert!(
                stdout.contains(&format!(
                    "prepared transaction `{gid}` in database {database}, prepared "
                )),
                "{stdout}"
            );
            assert!(
                stdout
                    .contains("s ago, holds readers back; COMMIT PREPARED or ROLLBACK PREPARED it"),
                "{stdout}"
            );
            assert!(!stdout.contains("nothing holds them back"), "{stdout}");
        }
    })
    .await;
    sqlx::query(&format!("ROLLBACK PREPARED '{gid}'"))
        .execute(&pool)
        .await
        .unwrap();
    if let Err(failed) = checks {
        std::panic::resume_unwind(failed.into_panic());
    }
}

/// A database the engine never ran on: `pm status` says to migrate and
/// leaves it as it was; `pm migrate` migrates it.
#[sqlx::test(migrations = false)]
async fn status_does_not_migrate_the_database_it_inspects(pool: PgPool) {
    let url = url_of(&pool).await;
    let (ok, _, stderr) = pm(&url, &["status"]);
    assert!(!ok);
    assert!(
        stderr.contains("the pm schema of this database lacks migration"),
        "{stderr}"
    );
    assert!(stderr.contains("pm migrate"), "{stderr}");
    let schema: Option<String> = sqlx::query_scalar("SELECT to_regnamespace('pm')::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(schema, None, "`pm status` created the pm schema");

    let (ok, stdout, stderr) = pm(&url, &["migrate"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("the pm schema is up to date"), "{stdout}");
    let (ok, stdout, stderr) = pm(&url, &["status"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("no process has run against this database yet"),
        "{stdout}"
    );
}
