//! [`PgBackend`]: the pool, the log and the store over it, and the
//! listener that wakes them; [`PgBackendBuilder`] for its settings.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::error::Error;
use crate::log::PgEventLog;
use crate::store::PgStore;
use crate::{listen, migrate, MIGRATOR};

/// How long the server lets one of the backend's connections sit idle
/// inside a transaction before it ends the session.
const IDLE_IN_TRANSACTION: &str = "5s";

/// A connection pool with the log and the store over it, and the listener
/// that wakes them. The listener (one connection doing `LISTEN`) runs while
/// any clone of the backend, its log or its store does, and stops when the
/// last is dropped.
#[derive(Debug, Clone)]
pub struct PgBackend {
    pool: PgPool,
    log: PgEventLog,
    store: PgStore,
}

impl PgBackend {
    /// Connects to `url` with the default settings, applies the migrations
    /// and starts listening for wake-ups. Must be called on a tokio runtime.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder(url).connect().await
    }

    /// Settings for a connection to `url`: pool size, acquire timeout and
    /// whether to apply the migrations.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), pm_postgres::Error> {
    /// let backend = pm_postgres::PgBackend::builder("postgres://postgres@127.0.0.1/app")
    ///     .max_connections(4)
    ///     .migrate(false)
    ///     .connect()
    ///     .await?;
    /// # let _ = backend;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: &str) -> PgBackendBuilder {
        PgBackendBuilder {
            url: url.to_owned(),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            migrate: true,
        }
    }

    /// The backend over an existing pool whose database is migrated.
    pub fn from_pool(pool: PgPool) -> Self {
        let (appended, _) = watch::channel(0);
        let (outbox_changed, _) = watch::channel(0);
        let appended = Arc::new(appended);
        let outbox_changed = Arc::new(outbox_changed);
        let listener = Arc::new(listen::spawn_listener(
            pool.clone(),
            Arc::clone(&appended),
            Arc::clone(&outbox_changed),
        ));
        Self {
            log: PgEventLog::new(pool.clone(), appended, Arc::clone(&listener)),
            store: PgStore::new(pool.clone(), outbox_changed, listener),
            pool,
        }
    }

    /// The event log.
    pub fn log(&self) -> PgEventLog {
        self.log.clone()
    }

    /// The store.
    pub fn store(&self) -> PgStore {
        self.store.clone()
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// How [`PgBackend::builder`] connects.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct PgBackendBuilder {
    url: String,
    max_connections: u32,
    acquire_timeout: Duration,
    migrate: bool,
}

impl PgBackendBuilder {
    /// The most connections the pool opens (default 16). An engine uses
    /// about two per registered process and one to listen.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// How long a statement waits for a free connection before it fails
    /// (default 5 s; the engine's loops retry).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Whether [`connect`](Self::connect) applies the migrations (default
    /// `true`). With `false` it only checks that every one is applied, and
    /// fails with [`Error::NotMigrated`] otherwise: for tools that inspect
    /// a database and must not change it, and for deployments that migrate
    /// in a step of their own.
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// Connects, migrates (or checks), and starts listening for wake-ups.
    /// Must be called on a tokio runtime.
    pub async fn connect(self) -> Result<PgBackend, Error> {
        let options: PgConnectOptions = self.url.parse().map_err(|source| Error::Connect {
            url: redact(&self.url),
            source,
        })?;
        // The engine runs the same few statements with new arrays each time:
        // one generic plan each beats re-planning every batch. Its only
        // transactions of several statements (acknowledging deliveries) last
        // milliseconds; one left open by a worker frozen mid-way would hold
        // locks that other workers' batches wait for, so the server ends it.
        let options = options.options([
            ("plan_cache_mode", "force_generic_plan"),
            ("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            // A broken connection fails its statement, which the loops
            // retry; a ping before every statement would cost a round trip.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|source| Error::Connect {
                url: redact(&self.url),
                source,
            })?;
        if self.migrate {
            migrate(&pool).await?;
        } else {
            check_migrated(&pool).await?;
        }
        Ok(PgBackend::from_pool(pool))
    }
}

/// Fails with [`Error::NotMigrated`] unless every embedded migration is
/// applied to the database of `pool`.
async fn check_migrated(pool: &PgPool) -> Result<(), Error> {
    let ledger: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await
        .map_err(|source| Error::Database {
            context: "checking the pm schema's migrations failed",
            source,
        })?;
    let applied: Vec<i64> = match ledger {
        Some(_) => sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
            .map_err(|source| Error::Database {
                context: "reading the applied migrations failed",
                source,
            })?,
        None => Vec::new(),
    };
    match MIGRATOR
        .iter()
        .find(|migration| !applied.contains(&migration.version))
    {
        Some(missing) => Err(Error::NotMigrated {
            version: missing.version,
            description: missing.description.to_string(),
        }),
        None => Ok(()),
    }
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            redact("postgres://me:secret@db:5432/app"),
            "postgres://me@db:5432/app"
        );
        assert_eq!(redact("postgres://me@db/app"), "postgres://me@db/app");
        assert_eq!(redact("not a url"), "not a url");
    }
}
