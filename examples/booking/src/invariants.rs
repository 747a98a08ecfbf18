//! The invariants of a booking run, each a small function from the log's
//! [`Histories`] (or the store's leftovers) to a list of violations. They
//! read only durable data, so they hold across restarts.

use std::collections::BTreeMap;

use pm_core::backend::{DeadLetter, EventSource, Operations, ParkedEvent, Store};
use pm_core::ProcessManager;

use crate::events::{BookingEvent, PaymentEvent, TicketsEvent};
use crate::history::{Histories, History};
use crate::id::BookingId;
use crate::process::BookingProcess;

/// One invariant and what broke it.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What must hold.
    pub name: &'static str,
    /// Each violation, naming the booking.
    pub violations: Vec<String>,
}

impl Check {
    /// Whether the invariant holds.
    pub fn holds(&self) -> bool {
        self.violations.is_empty()
    }
}

/// An invariant of the log.
type Rule = fn(&Histories) -> Vec<String>;

/// Every invariant of the log, with its name.
const LOG_RULES: &[(&str, Rule)] = &[
    (
        "every placed booking ends exactly once: settled, denied or expired",
        every_booking_ends_once,
    ),
    (
        "settled => payment succeeded and tickets sold",
        settled_was_paid_and_sold,
    ),
    (
        "expired => payment cancelled (never taken) and tickets released",
        expired_was_cancelled_and_released,
    ),
    ("denied => tickets unavailable", denied_had_no_tickets),
    (
        "no finished booking holds tickets",
        no_finished_booking_holds_tickets,
    ),
    (
        "no payment is kept for a booking that was not settled",
        no_payment_without_settlement,
    ),
    ("every event in the log decodes", every_event_decodes),
];

/// The name of the store invariant.
const STORE_RULE: &str = "no parked instances and no dead letters";

/// The name of the invariant that compares state with the log.
const APPLIED_RULE: &str =
    "G1: each booking's state applied every event of its history exactly once";

/// Instances loaded per call when comparing state with the log.
const LOAD_CHUNK: usize = 1_000;

/// Checks every invariant of the log.
pub fn check_log(histories: &Histories) -> Vec<Check> {
    LOG_RULES
        .iter()
        .map(|(name, rule)| Check {
            name,
            violations: rule(histories),
        })
        .collect()
}

/// Reads the log and the store's leftovers and checks every invariant.
pub async fn check_all<S: Store + Operations, L: EventSource>(
    store: &S,
    log: &L,
) -> pm_core::Result<(Histories, Vec<Check>)> {
    let histories = Histories::read(log).await?;
    let mut checks = check_log(&histories);
    let parked: Vec<ParkedEvent> = store
        .parked_events(BookingProcess::NAME)
        .await?
        .into_iter()
        .map(|entry| entry.parked)
        .collect();
    let dead = store.dead_letters(BookingProcess::NAME).await?;
    checks.push(Check {
        name: STORE_RULE,
        violations: nothing_parked_or_dead_lettered(&parked, &dead),
    });
    let applied = events_applied(store, &histories).await?;
    checks.push(Check {
        name: APPLIED_RULE,
        violations: each_event_applied_once(&histories, &applied),
    });
    Ok((histories, checks))
}

/// How many events the stored state of each booking says were applied
/// (`None`: no instance, or a state that does not decode).
async fn events_applied<S: Store>(
    store: &S,
    histories: &Histories,
) -> pm_core::Result<BTreeMap<BookingId, Option<u32>>> {
    let ids: Vec<BookingId> = histories.bookings.keys().copied().collect();
    let mut applied = BTreeMap::new();
    for chunk in ids.chunks(LOAD_CHUNK) {
        let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let records = store.load_instances(BookingProcess::NAME, &keys).await?;
        for id in chunk {
            let count = records
                .iter()
                .find(|record| record.id == id.to_string())
                .and_then(|record| {
                    serde_json::from_value::<BookingProcess>(record.state.clone()).ok()
                })
                .map(|state| state.events_applied);
            applied.insert(*id, count);
        }
    }
    Ok(applied)
}

/// Every event of a booking's history that its process handles was applied
/// once: the stored count equals the log's (tickets released or sold are
/// ignored in every stage, so they are not counted).
pub fn each_event_applied_once(
    histories: &Histories,
    applied: &BTreeMap<BookingId, Option<u32>>,
) -> Vec<String> {
    histories
        .bookings
        .iter()
        .filter_map(|(id, history)| {
            let handled = history.booking.len()
                + history.payment.len()
                + history
                    .tickets
                    .iter()
                    .filter(|event| {
                        !matches!(event, TicketsEvent::Released(_) | TicketsEvent::Sold(_))
                    })
                    .count();
            match applied.get(id).copied().flatten() {
                Some(count) if usize::try_from(count).ok() == Some(handled) => None,
                Some(count) => Some(format!(
                    "{id} applied {count} events; its history holds {handled}"
                )),
                None => Some(format!("{id} has {handled} events but no readable state")),
            }
        })
        .collect()
}

/// Each booking has one `Placed` and exactly one final event.
pub fn every_booking_ends_once(histories: &Histories) -> Vec<String> {
    each_booking(histories, |history| {
        let mut wrong = Vec::new();
        match history.placements() {
            1 => {}
            0 => wrong.push("has events but was never placed".to_owned()),
            n => wrong.push(format!("was placed {n} times")),
        }
        match history.endings().as_slice() {
            [_] => {}
            [] => wrong.push("never ended".to_owned()),
            endings => wrong.push(format!("ended {} times: {endings:?}", endings.len())),
        }
        wrong
    })
}

/// A settled booking was paid and its tickets sold.
pub fn settled_was_paid_and_sold(histories: &Histories) -> Vec<String> {
    each_ending(histories, &BookingEvent::Settled, |history| {
        let mut wrong = Vec::new();
        if !history.has_payment(|e| matches!(e, PaymentEvent::Succeeded(_))) {
            wrong.push("settled without a successful payment".to_owned());
        }
        if !history.has_tickets(|e| matches!(e, TicketsEvent::Sold(_))) {
            wrong.push("settled but its tickets were not sold".to_owned());
        }
        wrong
    })
}

/// An expired booking's payment was cancelled and never taken, and its
/// tickets were released.
pub fn expired_was_cancelled_and_released(histories: &Histories) -> Vec<String> {
    each_ending(histories, &BookingEvent::Expired, |history| {
        let mut wrong = Vec::new();
        if !history.has_payment(|e| matches!(e, PaymentEvent::Cancelled(_))) {
            wrong.push("expired without its payment being cancelled".to_owned());
        }
        if history.has_payment(|e| matches!(e, PaymentEvent::Succeeded(_))) {
            wrong.push("expired although its payment succeeded".to_owned());
        }
        if !history.has_tickets(|e| matches!(e, TicketsEvent::Released(_))) {
            wrong.push("expired but its tickets were not released".to_owned());
        }
        wrong
    })
}

/// A denied booking found its tickets unavailable and reserved none.
pub fn denied_had_no_tickets(histories: &Histories) -> Vec<String> {
    each_ending(histories, &BookingEvent::Denied, |history| {
        let mut wrong = Vec::new();
        if !history.has_tickets(|e| matches!(e, TicketsEvent::Unavailable(_))) {
            wrong.push("denied although its tickets were not unavailable".to_owned());
        }
        if history.has_tickets(|e| matches!(e, TicketsEvent::Reserved(_))) {
            wrong.push("denied although tickets were reserved for it".to_owned());
        }
        wrong
    })
}

/// Tickets reserved for a finished booking were sold or released, not both.
pub fn no_finished_booking_holds_tickets(histories: &Histories) -> Vec<String> {
    each_booking(histories, |history| {
        if history.endings().is_empty()
            || !history.has_tickets(|e| matches!(e, TicketsEvent::Reserved(_)))
        {
            return Vec::new();
        }
        let sold = history.has_tickets(|e| matches!(e, TicketsEvent::Sold(_)));
        let released = history.has_tickets(|e| matches!(e, TicketsEvent::Released(_)));
        match (sold, released) {
            (false, false) => vec!["finished but still holds its tickets".to_owned()],
            (true, true) => vec!["its tickets were both sold and released".to_owned()],
            _ => Vec::new(),
        }
    })
}

/// Money taken belongs to a settled booking.
pub fn no_payment_without_settlement(histories: &Histories) -> Vec<String> {
    each_booking(histories, |history| {
        let paid = history.has_payment(|e| matches!(e, PaymentEvent::Succeeded(_)));
        match history.ending() {
            Some(ending) if paid && *ending != BookingEvent::Settled => {
                vec![format!("was paid but ended {ending:?}")]
            }
            _ => Vec::new(),
        }
    })
}

/// The log holds nothing the checks cannot read.
pub fn every_event_decodes(histories: &Histories) -> Vec<String> {
    histories.unreadable.clone()
}

/// The engine parked no instance and dead-lettered no command.
pub fn nothing_parked_or_dead_lettered(parked: &[ParkedEvent], dead: &[DeadLetter]) -> Vec<String> {
    let parked = parked.iter().map(|parked| {
        format!(
            "instance `{}` parked: {}",
            parked.instance.as_deref().unwrap_or("?"),
            parked
                .error
                .as_deref()
                .unwrap_or("held behind an earlier failure")
        )
    });
    let dead = dead.iter().map(|letter| {
        format!(
            "command `{}` of `{}` dead-lettered: {}",
            letter.command.command_type, letter.command.instance, letter.error
        )
    });
    parked.chain(dead).collect()
}

/// Runs `rule` on every booking, prefixing each violation with its id.
fn each_booking(histories: &Histories, rule: impl Fn(&History) -> Vec<String>) -> Vec<String> {
    histories
        .bookings
        .iter()
        .flat_map(|(id, history)| {
            rule(history)
                .into_iter()
                .map(move |violation| format!("{id} {violation}"))
        })
        .collect()
}

/// Runs `rule` on every booking whose only ending is `ending`.
fn each_ending(
    histories: &Histories,
    ending: &BookingEvent,
    rule: impl Fn(&History) -> Vec<String>,
) -> Vec<String> {
    each_booking(histories, |history| {
        if history.ending() == Some(ending) {
            rule(history)
        } else {
            Vec::new()
        }
    })
}

#[cfg(test)]
mod tests {
    use pm_core::backend::OutboxCommand;
    use pm_core::{Event, Position, RecordedEvent};

    use super::*;
    use crate::events::*;
    use crate::id::BookingId;

    fn recorded(sequence: i64, stream: &str, event: &impl Event) -> RecordedEvent {
        RecordedEvent {
            position: Position {
                transaction: sequence,
                sequence,
            },
            stream_id: stream.to_owned(),
            stream_version: sequence,
            event_type: event.type_name().to_owned(),
            payload: event.encode().unwrap(),
            recorded_at: Default::default(),
        }
    }

    /// A log under construction.
    #[derive(Default)]
    struct Log(Vec<RecordedEvent>);

    impl Log {
        fn on(mut self, stream: impl Into<String>, event: impl Event) -> Self {
            let sequence = self.0.len() as i64 + 1;
            self.0.push(recorded(sequence, &stream.into(), &event));
            self
        }

        fn without(mut self, event_type: &str) -> Self {
            self.0.retain(|event| event.event_type != event_type);
            self
        }

        fn histories(&self) -> Histories {
            Histories::from_events(&self.0)
        }
    }

    const ID: BookingId = BookingId(1);

    fn placed() -> Log {
        Log::default().on(
            ID.to_string(),
            BookingEvent::Placed(BookingPlaced {
                seats: 2,
                payment_window_ms: 100,
            }),
        )
    }

    fn reserved() -> Log {
        placed()
            .on(
                ID.tickets_stream(),
                TicketsEvent::Reserved(TicketsReserved {
                    booking_id: ID,
                    price: 500,
                }),
            )
            .on(
                ID.to_string(),
                BookingEvent::Confirmed(BookingConfirmed { price: 500 }),
            )
    }

    fn settled() -> Log {
        reserved()
            .on(
                ID.payment_stream(),
                PaymentEvent::Succeeded(PaymentSucceeded {
                    booking_id: ID,
                    amount: 500,
                }),
            )
            .on(ID.to_string(), BookingEvent::Settled)
            .on(
                ID.tickets_stream(),
                TicketsEvent::Sold(TicketsSold { booking_id: ID }),
            )
    }

    fn expired() -> Log {
        reserved()
            .on(
                ID.payment_stream(),
                PaymentEvent::Cancelled(PaymentCancelled { booking_id: ID }),
            )
            .on(ID.to_string(), BookingEvent::Expired)
            .on(
                ID.tickets_stream(),
                TicketsEvent::Released(TicketsReleased { booking_id: ID }),
            )
    }

    fn denied() -> Log {
        placed()
            .on(
                ID.tickets_stream(),
                TicketsEvent::Unavailable(TicketsUnavailable { booking_id: ID }),
            )
            .on(ID.to_string(), BookingEvent::Denied)
    }

    fn assert_fails(rule: Rule, log: Log) {
        let violations = rule(&log.histories());
        assert!(!violations.is_empty(), "the bad log passed");
        assert!(
            violations.iter().all(|v| v.starts_with("b-000001")),
            "{violations:?}"
        );
    }

    #[test]
    fn good_logs_pass_every_rule() {
        for log in [settled(), expired(), denied()] {
            for check in check_log(&log.histories()) {
                assert!(check.holds(), "{}: {:?}", check.name, check.violations);
            }
        }
    }

    #[test]
    fn a_booking_that_never_ends_fails() {
        assert_fails(every_booking_ends_once, reserved());
    }

    #[test]
    fn a_booking_that_ends_twice_fails() {
        assert_fails(
            every_booking_ends_once,
            settled().on(ID.to_string(), BookingEvent::Expired),
        );
    }

    #[test]
    fn events_without_a_placed_booking_fail() {
        assert_fails(
            every_booking_ends_once,
            settled().without("BookingEvent.Placed"),
        );
    }

    #[test]
    fn settled_without_payment_fails() {
        assert_fails(
            settled_was_paid_and_sold,
            settled().without("PaymentEvent.Succeeded"),
        );
    }

    #[test]
    fn settled_without_sold_tickets_fails() {
        assert_fails(
            settled_was_paid_and_sold,
            settled().without("TicketsEvent.Sold"),
        );
    }

    #[test]
    fn expired_without_cancellation_fails() {
        assert_fails(
            expired_was_cancelled_and_released,
            expired().without("PaymentEvent.Cancelled"),
        );
    }

    #[test]
    fn expired_with_tickets_kept_fails() {
        assert_fails(
            expired_was_cancelled_and_released,
            expired().without("TicketsEvent.Released"),
        );
    }

    #[test]
    fn denied_with_reserved_tickets_fails() {
        let log = denied().on(
            ID.tickets_stream(),
            TicketsEvent::Reserved(TicketsReserved {
                booking_id: ID,
                price: 1,
            }),
        );
        assert_fails(denied_had_no_tickets, log);
    }

    #[test]
    fn denied_without_unavailable_tickets_fails() {
        assert_fails(
            denied_had_no_tickets,
            denied().without("TicketsEvent.Unavailable"),
        );
    }

    #[test]
    fn finished_booking_holding_tickets_fails() {
        assert_fails(
            no_finished_booking_holds_tickets,
            expired().without("TicketsEvent.Released"),
        );
        let both = settled().on(
            ID.tickets_stream(),
            TicketsEvent::Released(TicketsReleased { booking_id: ID }),
        );
        assert_fails(no_finished_booking_holds_tickets, both);
    }

    #[test]
    fn money_kept_for_an_expired_booking_fails() {
        let log = expired().on(
            ID.payment_stream(),
            PaymentEvent::Succeeded(PaymentSucceeded {
                booking_id: ID,
                amount: 500,
            }),
        );
        assert_fails(no_payment_without_settlement, log);
    }

    #[test]
    fn undecodable_events_fail() {
        let mut log = settled();
        log.0[1].payload = serde_json::json!({"nonsense": true});
        assert!(!every_event_decodes(&log.histories()).is_empty());
        let stray = Log::default().on("nobody", BookingEvent::Settled);
        assert!(!every_event_decodes(&stray.histories()).is_empty());
    }

    #[test]
    fn parked_instances_and_dead_letters_fail() {
        let parked = ParkedEvent {
            instance: Some(ID.to_string()),
            item: pm_core::backend::ParkedItem::Event(placed().0.remove(0)),
            error: Some("handler panicked".to_owned()),
        };
        let dead = DeadLetter {
            command: OutboxCommand {
                id: uuid::Uuid::nil(),
                instance: ID.to_string(),
                ordering_key: format!("instance:{ID}"),
                command_type: "ConfirmBooking".to_owned(),
                payload: serde_json::json!({}),
                attempts: 1,
                created_at: Default::default(),
            },
            error: "permanent failure: conflict".to_owned(),
        };
        let violations = nothing_parked_or_dead_lettered(&[parked], &[dead]);
        assert_eq!(violations.len(), 2);
        assert!(nothing_parked_or_dead_lettered(&[], &[]).is_empty());
    }

    #[test]
    fn an_event_applied_twice_or_never_fails_g1() {
        // settled(): placed, reserved, confirmed, succeeded, settled (and
        // tickets sold, which the process ignores): 5 handled events.
        let histories = settled().histories();
        let counted = |count| BTreeMap::from([(ID, Some(count))]);
        assert!(each_event_applied_once(&histories, &counted(5)).is_empty());
        for wrong in [4, 6] {
            let violations = each_event_applied_once(&histories, &counted(wrong));
            assert_eq!(
                violations,
                [format!(
                    "b-000001 applied {wrong} events; its history holds 5"
                )]
            );
        }
        let missing = BTreeMap::from([(ID, None)]);
        assert_eq!(each_event_applied_once(&histories, &missing).len(), 1);
    }
}
