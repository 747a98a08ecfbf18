//! How the delivery of a process's commands gets on: the rate over the last
//! minute, the oldest pending command, and the head waiting longest.

use sqlx::PgPool;
use uuid::Uuid;

use pm_core::Result;

use crate::error::database;

const DELIVERY: &str = include_str!("../../sql/admin/delivery.sql");

/// How long the dispatcher must have had work without delivering any of it
/// before it counts as making no progress.
const WINDOW_SECONDS: f64 = 60.0;

/// How the delivery of one process's commands gets on.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryStatus {
    /// Commands delivered in the last minute (database clock).
    pub delivered_last_minute: u64,
    /// How long ago the oldest pending command was issued; `None` when
    /// nothing is pending.
    pub oldest_pending_seconds: Option<f64>,
    /// The pending command that has waited longest at the head of its
    /// ordering key.
    pub longest_waiting: Option<WaitingHead>,
}

impl DeliveryStatus {
    /// Commands delivered per second over the last minute.
    pub fn rate_per_second(&self) -> f64 {
        // Counts stay far below 2^52, where f64 is exact.
        #[allow(clippy::cast_precision_loss)]
        let delivered = self.delivered_last_minute as f64;
        delivered / WINDOW_SECONDS
    }

    /// Whether commands have been pending for over a minute and none was
    /// delivered in that minute: the dispatcher makes no progress (no
    /// dispatcher runs, or every attempt fails).
    pub fn stalled(&self) -> bool {
        self.delivered_last_minute == 0
            && self
                .oldest_pending_seconds
                .is_some_and(|seconds| seconds >= WINDOW_SECONDS)
    }
}

/// The head of an ordering key: the command delivered next for that key.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingHead {
    /// The command's id.
    pub command_id: Uuid,
    /// Its ordering key.
    pub ordering_key: String,
    /// The instance that issued it.
    pub instance: String,
    /// Its type name.
    pub command_type: String,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// Whether a dispatcher holds it right now (a delivery in flight).
    pub leased: bool,
    /// Seconds until it can next be claimed (negative: it has been
    /// claimable that long).
    pub available_in_seconds: f64,
    /// How long ago it was issued.
    pub waiting_seconds: f64,
}

/// A row of `delivery.sql`.
#[derive(sqlx::FromRow)]
struct DeliveryRow {
    delivered_last_minute: i64,
    oldest_pending_seconds: Option<f64>,
    head_command_id: Option<Uuid>,
    head_ordering_key: Option<String>,
    head_instance: Option<String>,
    head_command_type: Option<String>,
    head_attempts: Option<i32>,
    head_last_error: Option<String>,
    head_leased: Option<bool>,
    head_available_in_seconds: Option<f64>,
    head_waiting_seconds: Option<f64>,
}

impl From<DeliveryRow> for DeliveryStatus {
    fn from(row: DeliveryRow) -> Self {
        let longest_waiting = match (
            row.head_command_id,
            row.head_ordering_key,
            row.head_instance,
            row.head_command_type,
        ) {
            (Some(command_id), Some(ordering_key), Some(instance), Some(command_type)) => {
                Some(WaitingHead {
                    command_id,
                    ordering_key,
                    instance,
                    command_type,
                    attempts: row
                        .head_attempts
                        .and_then(|attempts| u32::try_from(attempts).ok())
                        .unwrap_or(0),
                    last_error: row.head_last_error,
                    leased: row.head_leased.unwrap_or(false),
                    available_in_seconds: row.head_available_in_seconds.unwrap_or(0.0),
                    waiting_seconds: row.head_waiting_seconds.unwrap_or(0.0),
                })
            }
            _ => None,
        };
        DeliveryStatus {
            delivered_last_minute: u64::try_from(row.delivered_last_minute).unwrap_or(0),
            oldest_pending_seconds: row.oldest_pending_seconds,
            longest_waiting,
        }
    }
}

/// How the delivery of `process`'s commands gets on.
pub(super) async fn delivery(pool: &PgPool, process: &str) -> Result<DeliveryStatus> {
    let row: DeliveryRow = sqlx::query_as(DELIVERY)
        .bind(process)
        .fetch_one(pool)
        .await
        .map_err(database("reading the delivery progress failed"))?;
    Ok(row.into())
}
