//! What the worker tests read from the database: where it is, the workers
//! and their partitions, progress, and the commands recorded.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use sqlx::PgPool;

use super::eventually;

/// The server address and a URL of the database `pool` is connected to.
pub fn server_of(pool: &PgPool) -> (SocketAddr, String) {
    let options = pool.connect_options();
    let address = (options.get_host(), options.get_port())
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap();
    let database = options.get_database().unwrap_or("postgres");
    let user = options.get_username();
    (address, format!("postgres://{user}@{address}/{database}"))
}

/// The worker id of the booking worker with process id `pid`, once it has
/// registered (its name is `host:pid`).
pub async fn worker_id(pool: &PgPool, pid: u32) -> String {
    let what = format!("the worker with pid {pid} registered");
    eventually(Duration::from_secs(30), &what, || async {
        sqlx::query_scalar(
            "SELECT worker_id FROM pm.workers WHERE process = 'booking' AND name LIKE '%:' || $1",
        )
        .bind(pid.to_string())
        .fetch_optional(pool)
        .await
        .unwrap()
    })
    .await
}

/// Bookings completed so far.
pub async fn completed(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pm.instances WHERE process = 'booking' AND status = 'completed'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A partition of the booking process as it is now.
#[derive(Debug, sqlx::FromRow)]
pub struct Partition {
    pub partition: i32,
    pub owner: Option<String>,
    pub epoch: i64,
    /// Whether the owner's lease has not run out.
    pub live: bool,
}

impl Partition {
    /// Whether `worker` holds it, with a lease that has not run out.
    pub fn held_by(&self, worker: &str) -> bool {
        self.live && self.owner.as_deref() == Some(worker)
    }
}

/// Every partition of the booking process.
pub async fn partitions(pool: &PgPool) -> Vec<Partition> {
    sqlx::query_as(
        "SELECT partition, owner, epoch, lease_until > now() AS live
         FROM pm.partitions WHERE process = 'booking' ORDER BY partition",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The partitions `worker` holds, with their epochs.
pub async fn held_by(pool: &PgPool, worker: &str) -> Vec<(i32, i64)> {
    partitions(pool)
        .await
        .into_iter()
        .filter(|partition| partition.held_by(worker))
        .map(|partition| (partition.partition, partition.epoch))
        .collect()
}

/// Waits until the outbox is empty, then checks that no command was
/// recorded twice: each booking issues each kind of command at most once,
/// so a command recorded twice shows up twice across the outbox, the ledger
/// of delivered commands and the dead letters.
pub async fn assert_every_command_recorded_once(pool: &PgPool) {
    let pending = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pm.outbox")
            .fetch_one(pool)
            .await
            .unwrap()
    };
    eventually(
        Duration::from_secs(30),
        "every command was delivered",
        || async { (pending().await == 0).then_some(()) },
    )
    .await;
    let duplicates: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT instance_id, command_type, count(*) FROM (
             SELECT instance_id, command_type FROM pm.outbox WHERE process = 'booking'
             UNION ALL SELECT instance_id, command_type FROM pm.delivered WHERE process = 'booking'
             UNION ALL SELECT instance_id, command_type FROM pm.dead_letters WHERE process = 'booking'
         ) AS commands
         GROUP BY instance_id, command_type
         HAVING count(*) > 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        duplicates.is_empty(),
        "commands recorded twice: {duplicates:?}"
    );
}
