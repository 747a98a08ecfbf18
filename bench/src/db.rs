//! The benchmark's own database: created fresh on the server, reset
//! between runs and dropped at the end. `PgBackend::connect` migrates it.

use std::str::FromStr;

use anyhow::{ensure, Context as _, Result};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};

/// A database created for this run.
#[derive(Debug)]
pub struct BenchDb {
    admin: PgConnectOptions,
    name: String,
    url: String,
}

impl BenchDb {
    /// Creates database `pm_bench_<pid>` on the server of `admin_url`.
    pub async fn create(admin_url: &str) -> Result<Self> {
        let name = format!("pm_bench_{}", std::process::id());
        let url = with_database(admin_url, &name)?;
        let admin = PgConnectOptions::from_str(admin_url)
            .with_context(|| format!("parsing the database URL `{admin_url}`"))?;
        let mut connection = PgConnection::connect_with(&admin).await.with_context(|| {
            format!("connecting to `{admin_url}` to create the benchmark database")
        })?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await
            .with_context(|| format!("creating database `{name}`"))?;
        connection.close().await.ok();
        Ok(Self { admin, name, url })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of the database, for `PgBackend::connect`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database, closing any connection still open to it.
    pub async fn drop_database(self) -> Result<()> {
        let mut connection = PgConnection::connect_with(&self.admin)
            .await
            .context("connecting to drop the benchmark database")?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut connection)
        .await
        .with_context(|| format!("dropping database `{}`", self.name))?;
        connection.close().await.ok();
        Ok(())
    }
}

/// `url` with its database (the path of `postgres://user@host/database?..`)
/// replaced by `name`; user, host and parameters stay as given.
fn with_database(url: &str, name: &str) -> Result<String> {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base
        .split_once("://")
        .with_context(|| format!("`{url}` is not a postgres:// URL"))?;
    let authority = rest
        .split_once('/')
        .map_or(rest, |(authority, _)| authority);
    let mut with_name = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        with_name = format!("{with_name}?{query}");
    }
    let options = PgConnectOptions::from_str(&with_name)
        .with_context(|| format!("parsing the database URL `{url}`"))?;
    ensure!(
        options.get_database() == Some(name),
        "could not point `{url}` at database `{name}` (does it set `dbname`?)"
    );
    Ok(with_name)
}

/// Empties every table of process state (not the event log), the engine's
/// and the baseline's, then takes a Postgres checkpoint so that runs start
/// on an equal footing.
pub async fn reset_state(pool: &PgPool) -> Result<()> {
    crate::baseline::reset(pool).await?;
    sqlx::query(
        "TRUNCATE pm.instances, pm.outbox, pm.delivered, pm.timeouts, pm.checkpoints, pm.parked, \
         pm.dead_letters, pm.partitions, pm.workers, pm.outbox_heads",
    )
    .execute(pool)
    .await
    .context("emptying the process tables")?;
    sqlx::query("CHECKPOINT")
        .execute(pool)
        .await
        .context("running CHECKPOINT")?;
    Ok(())
}

/// The server and the settings a `PgBackend::connect` connection runs with.
pub async fn describe_server(pool: &PgPool) -> Result<String> {
    let row: (String, String, String, String, String) = sqlx::query_as(
        "SELECT current_setting('server_version'), current_setting('fsync'), \
                current_setting('synchronous_commit'), current_setting('shared_buffers'), \
                current_setting('plan_cache_mode')",
    )
    .fetch_one(pool)
    .await
    .context("reading the server settings")?;
    Ok(format!(
        "PostgreSQL {}, fsync={}, synchronous_commit={}, shared_buffers={}, plan_cache_mode={}",
        row.0, row.1, row.2, row.3, row.4
    ))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_database() -> anyhow::Result<()> {
        assert_eq!(
            with_database("postgres://me:pw@db:5432/postgres?sslmode=disable", "x")?,
            "postgres://me:pw@db:5432/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://me@db", "x")?,
            "postgres://me@db/x"
        );
        assert!(with_database("postgres://me@db/postgres?dbname=y", "x").is_err());
        Ok(())
    }
}
