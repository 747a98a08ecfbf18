//! The whole simulation on the in-memory store and log: every invariant
//! holds, outcomes follow the plan, and a broken run is reported rather
//! than left hanging.

use std::collections::HashMap;
use std::time::Duration;

use booking::events::{TicketsEvent, TicketsSold};
use booking::plan::{Ending, Plan};
use booking::simulation::{self, Config};
use booking::{BookingId, Report};
use pm_core::{EventLog, ExpectedVersion, MemoryLog, MemoryStore, NewEvent};

fn config(bookings: u64, seed: u64) -> Config {
    let mut config = Config::new(bookings, seed);
    config.payment_window = Duration::from_millis(50);
    config.lost_reply_percent = 10;
    config
}

fn assert_holds(report: &Report) {
    assert!(report.holds(), "invariants failed:\n{report}");
    assert_eq!(report.stalled, None);
}

/// How many bookings of the run the plan says end each way.
fn planned(config: &Config) -> HashMap<Ending, u64> {
    let plan = Plan::new(config.seed, config.lost_reply_percent);
    let mut endings = HashMap::new();
    for number in 0..config.bookings {
        *endings
            .entry(plan.booking(BookingId(number)).ending())
            .or_default() += 1;
    }
    endings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_bookings_keep_every_invariant() {
    let config = config(300, 7);
    let report = simulation::run(&config).await.unwrap();
    assert_holds(&report);
    let planned = planned(&config);
    assert_eq!(report.settled, planned[&Ending::Settled]);
    assert_eq!(report.denied, planned[&Ending::Denied]);
    assert_eq!(report.expired, planned[&Ending::Expired]);
    let counted = report.in_process.unwrap();
    assert!(counted.services.replies_lost > 0, "no redelivery was tried");
    assert_eq!(counted.services.duplicates, counted.services.replies_lost);
    // A deadline that fired either expired the booking or lost to a payment.
    assert_eq!(
        counted.timeouts_fired,
        report.expired + counted.services.cancels_too_late
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_that_beats_every_payment_still_settles_the_paid() {
    let mut config = config(100, 11);
    config.payment_window = Duration::from_millis(1);
    let report = simulation::run(&config).await.unwrap();
    assert_holds(&report);
    assert_eq!(report.settled, planned(&config)[&Ending::Settled]);
    assert!(
        report.in_process.unwrap().services.cancels_too_late > 0,
        "no race was run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lettered_command_fails_the_invariants_instead_of_hanging() {
    let (store, log) = (MemoryStore::new(), MemoryLog::new());
    let victim = BookingId(3);
    // Tickets already sold to no one: reserving them for the booking fails
    // for good.
    let sold = TicketsEvent::Sold(TicketsSold { booking_id: victim });
    log.append(
        &victim.tickets_stream(),
        ExpectedVersion::NoStream,
        vec![NewEvent::encode(&sold).unwrap()],
    )
    .await
    .unwrap();
    let mut config = config(20, 5);
    config.lost_reply_percent = 0;
    config.stall_after = Duration::from_millis(500);

    let report = simulation::run_in_process(store, log, &config)
        .await
        .unwrap();

    assert!(report.stalled.is_some(), "{report}");
    assert!(!report.holds());
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|check| !check.holds())
        .map(|check| check.name)
        .collect();
    assert_eq!(
        failed,
        [
            "every placed booking ends exactly once: settled, denied or expired",
            "no parked instances and no dead letters"
        ]
    );
    let printed = report.to_string();
    assert!(printed.contains("b-000003 never ended"), "{printed}");
    assert!(printed.contains("FAILED"), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_its_deadline_is_an_error() {
    let mut config = config(50, 1);
    config.deadline = Duration::ZERO;
    let error = simulation::run(&config).await.unwrap_err();
    assert!(error.to_string().contains("did not finish"), "{error:#}");
}
