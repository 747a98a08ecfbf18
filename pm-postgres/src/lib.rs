//! The Postgres backend of `pm-core`: a gap-safe event log ([`PgEventLog`]),
//! a store that commits each batch in one transaction ([`PgStore`]), an
//! outbox claimed with `FOR UPDATE SKIP LOCKED` and leases, durable
//! timeouts, and LISTEN/NOTIFY wake-ups with polling as the fallback.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let backend = pm_postgres::PgBackend::connect("postgres://postgres@127.0.0.1/postgres").await?;
//! let engine = pm_core::Engine::new(backend.store(), backend.log());
//! # let _ = engine;
//! # Ok(()) }
//! ```
//!
//! Everything lives in the `pm` schema, created by the embedded migrations
//! ([`MIGRATOR`], applied by [`PgBackend::connect`] and [`migrate`]). The
//! engine can also read the application's own events table instead of the
//! built-in log: see [`EventTable`].
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod admin;
mod dispatch;
mod error;
mod lease;
mod listen;
mod log;
mod store;
mod table;
mod timeout;

pub use admin::{
    Admin, DeliveredCommand, DeliveryStatus, InstancePartition, InstanceView, OneLine,
    PartitionStatus, PendingCommand, PendingTimeout, ProcessStatus, Selection, WaitingHead,
    WorkerStatus, DELIVERED_SHOWN,
};
pub use error::Error;
pub use log::{LogHorizon, PgEventLog};
pub use store::PgStore;
pub use table::{EventTable, PgTableSource};

use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::watch;

/// The embedded migrations of the `pm` schema.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies the migrations (already-applied ones are skipped, so running it
/// again is harmless).
pub async fn migrate(pool: &PgPool) -> Result<(), Error> {
    MIGRATOR.run(pool).await.map_err(Error::Migrate)
}

/// A connection pool with the log and the store over it, and the listener
/// that wakes them.
#[derive(Debug, Clone)]
pub struct PgBackend {
    pool: PgPool,
    log: PgEventLog,
    store: PgStore,
}

impl PgBackend {
    /// Connects to `url`, applies the migrations and starts listening for
    /// wake-ups. Must be called on a tokio runtime.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let options: PgConnectOptions = url.parse().map_err(|source| Error::Connect {
            url: redact(url),
            source,
        })?;
        // The engine runs the same few statements with new arrays each time:
        // one generic plan each beats re-planning every batch.
        let options = options.options([("plan_cache_mode", "force_generic_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            // A broken connection fails its statement, which the loops
            // retry; a ping before every statement would cost a round trip.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|source| Error::Connect {
                url: redact(url),
                source,
            })?;
        migrate(&pool).await?;
        Ok(Self::from_pool(pool))
    }

    /// The backend over an existing pool whose database is migrated.
    pub fn from_pool(pool: PgPool) -> Self {
        let (appended, _) = watch::channel(0);
        let (outbox_changed, _) = watch::channel(0);
        let appended = Arc::new(appended);
        let outbox_changed = Arc::new(outbox_changed);
        listen::spawn_listener(
            pool.clone(),
            Arc::downgrade(&appended),
            Arc::downgrade(&outbox_changed),
        );
        Self {
            log: PgEventLog::new(pool.clone(), appended),
            store: PgStore::new(pool.clone(), outbox_changed),
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
