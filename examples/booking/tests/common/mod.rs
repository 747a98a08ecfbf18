//! Helpers of the worker tests: child processes of the booking binary and
//! what the tests read from the database. Each test binary uses a part.
#![allow(dead_code)]

pub mod child;
pub mod db;

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often a test looks again while it waits for a condition.
pub const POLL: Duration = Duration::from_millis(20);

/// Waits until `probe` returns a value; fails naming `what` once `patience`
/// has passed.
pub async fn eventually<T, F, Fut>(patience: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + patience;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "waited {patience:?} in vain until {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}
