//! Postgres helpers of the fault tests: where a test database is, and the
//! checks of tally state against the log.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use sqlx::PgPool;

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
    let url = format!("postgres://{user}@{address}/{database}");
    (address, url)
}

/// A tally that disagrees with the log.
#[derive(sqlx::FromRow)]
struct Mismatch {
    id: Option<String>,
    events: Option<i64>,
    total: Option<i64>,
    count: Option<i64>,
    sum: Option<i64>,
    commands: Option<i64>,
}

/// Every tally whose state does not match the log (count and sum of its
/// events) or whose recorded commands do not number its events, described.
pub async fn tally_mismatches(pool: &PgPool) -> Vec<String> {
    let rows: Vec<Mismatch> =
        sqlx::query_as(
            "WITH log AS (
                 SELECT stream_id, count(*) AS events, sum((payload->>'n')::bigint)::bigint AS total
                 FROM pm.events WHERE event_type = 'TallyEvent.Counted' GROUP BY stream_id
             ), state AS (
                 SELECT instance_id, (state->>'count')::bigint AS count, (state->>'sum')::bigint AS total
                 FROM pm.instances WHERE process = 'tally'
             ), commands AS (
                 SELECT instance_id, count(*) AS commands FROM (
                     SELECT instance_id FROM pm.outbox WHERE process = 'tally'
                     UNION ALL SELECT instance_id FROM pm.delivered WHERE process = 'tally'
                 ) c GROUP BY instance_id
             )
             SELECT coalesce(l.stream_id, s.instance_id) AS id, l.events, l.total, s.count,
                    s.total AS sum, c.commands
             FROM log l
             FULL JOIN state s ON s.instance_id = l.stream_id
             LEFT JOIN commands c ON c.instance_id = coalesce(l.stream_id, s.instance_id)
             WHERE s.count IS DISTINCT FROM l.events
                OR s.total IS DISTINCT FROM l.total
                OR c.commands IS DISTINCT FROM l.events
             ORDER BY 1",
        )
        .fetch_all(pool)
        .await
        .unwrap();
    rows.into_iter()
        .map(|row| {
            format!(
                "{}: the log has {:?} events summing to {:?}; the state counted {:?} summing to {:?}; {:?} commands recorded",
                row.id.unwrap_or_default(),
                row.events,
                row.total,
                row.count,
                row.sum,
                row.commands
            )
        })
        .collect()
}

/// Waits until every partition of `process` has read past the newest
/// event of the log.
pub async fn wait_until_consumed(pool: &PgPool, process: &str, patience: Duration) {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let behind: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pm.partitions p,
                 (SELECT e.transaction_id::text::bigint AS tx, e.position FROM pm.events e
                  ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1) AS newest
             WHERE p.process = $1
               AND (p.checkpoint_tx, p.checkpoint_position) < (newest.tx, newest.position)",
        )
        .bind(process)
        .fetch_one(pool)
        .await
        .unwrap();
        let partitions: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pm.partitions WHERE process = $1")
                .bind(process)
                .fetch_one(pool)
                .await
                .unwrap();
        if partitions > 0 && behind == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{behind} partitions of `{process}` are still behind the log"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
