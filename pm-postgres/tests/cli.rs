//! The `pm` binary against a real database.
#![allow(clippy::unwrap_used)]

use std::process::Command;

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
    let (ok, stdout, _) = pm(&url, &["dead-letters", "booking"]);
    assert!(ok);
    assert!(stdout.is_empty());
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
