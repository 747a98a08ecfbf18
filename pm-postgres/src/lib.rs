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
//! ([`MIGRATOR`], applied by [`PgBackend::connect`] and [`migrate`]; a
//! [`PgBackend::builder`] can leave them to someone else). The
//! engine can also read the application's own events table instead of the
//! built-in log: see [`EventTable`].
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod admin;
mod backend;
mod error;
mod lease;
mod listen;
mod log;
mod outbox;
mod status;
mod store;
mod table;
mod timeout;

pub use admin::{
    Admin, DeliveredCommand, DeliveryStatus, InstancePartition, InstanceView, OneLine,
    PartitionStatus, PendingCommand, PendingTimeout, ProcessStatus, Selection, WaitingHead,
    WorkerStatus, DELIVERED_SHOWN,
};
pub use backend::{PgBackend, PgBackendBuilder};
pub use error::Error;
pub use log::{LogHorizon, PgEventLog};
pub use store::PgStore;
pub use table::{EventTable, PgTableSource};

use sqlx::migrate::Migrator;
use sqlx::PgPool;

/// The embedded migrations of the `pm` schema.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies the migrations (already-applied ones are skipped, so running it
/// again is harmless).
pub async fn migrate(pool: &PgPool) -> Result<(), Error> {
    MIGRATOR.run(pool).await.map_err(Error::Migrate)
}
