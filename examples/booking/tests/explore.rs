//! The testing kit's explorer walks the booking process without finding a
//! problem, takes every declared move, and reports an invariant that does
//! not hold with the shortest path to it.

use booking::events::{
    BookingConfirmed, BookingEvent, BookingPlaced, PaymentCancelled, PaymentEvent, PaymentFailed,
    PaymentSucceeded, TicketsEvent, TicketsReserved, TicketsSold, TicketsUnavailable,
};
use booking::{BookingId, BookingProcess};
use pm_core::testing::{Explorer, Input, ProblemKind};
use pm_core::ProcessManager;

const BOOKING: BookingId = BookingId(42);

fn booking_events() -> Vec<Input> {
    let tickets = BOOKING.tickets_stream();
    let payment = BOOKING.payment_stream();
    vec![
        Input::from(BookingEvent::Placed(BookingPlaced {
            seats: 2,
            payment_window_ms: 300,
        })),
        Input::from(TicketsEvent::Reserved(TicketsReserved {
            booking_id: BOOKING,
            price: 4_500,
        }))
        .on_stream(&tickets),
        Input::from(TicketsEvent::Unavailable(TicketsUnavailable {
            booking_id: BOOKING,
        }))
        .on_stream(&tickets),
        Input::from(BookingEvent::Confirmed(BookingConfirmed { price: 4_500 })),
        Input::from(BookingEvent::Denied),
        Input::from(PaymentEvent::Succeeded(PaymentSucceeded {
            booking_id: BOOKING,
            amount: 4_500,
        }))
        .on_stream(&payment),
        Input::from(PaymentEvent::Failed(PaymentFailed {
            booking_id: BOOKING,
            reason: "card declined".to_owned(),
        }))
        .on_stream(&payment),
        Input::from(PaymentEvent::Cancelled(PaymentCancelled {
            booking_id: BOOKING,
        }))
        .on_stream(&payment),
        Input::from(BookingEvent::Settled),
        Input::from(BookingEvent::Expired),
        Input::from(TicketsEvent::Sold(TicketsSold {
            booking_id: BOOKING,
        }))
        .on_stream(&tickets),
    ]
}

#[test]
fn the_booking_process_takes_every_declared_move_without_a_problem() {
    let explored = Explorer::<BookingProcess>::new(BOOKING)
        .events(booking_events())
        .depth(6)
        .invariant("failed payments are events applied", |booking| {
            booking.failed_payments <= booking.events_applied
        })
        .invariant_in("Settled", "a settled booking has a price", |booking| {
            booking.price.is_some()
        })
        .invariant_in("Denied", "a denied booking has no price", |booking| {
            booking.price.is_none()
        })
        .assert();
    assert_eq!(
        explored.transitions,
        BookingProcess::descriptor().transitions().len()
    );
}

#[test]
fn too_shallow_a_walk_reports_the_moves_it_never_took() {
    let problems = Explorer::<BookingProcess>::new(BOOKING)
        .events(booking_events())
        .depth(2)
        .run()
        .unwrap_err();
    let never_taken: Vec<String> = problems
        .problems
        .iter()
        .filter_map(|problem| match &problem.kind {
            ProblemKind::NeverTaken(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(never_taken.len(), problems.problems.len());
    assert!(never_taken.contains(
        &"`Settling --> Settled` by `settled` (BookingEvent::Settled); add a sample event that leads there, or a greater depth".to_owned()
    ), "{never_taken:#?}");
}

#[test]
fn an_invariant_that_does_not_hold_is_reported_with_the_shortest_path() {
    let problems = Explorer::<BookingProcess>::new(BOOKING)
        .events(booking_events())
        .depth(6)
        .invariant_in("Settling", "nobody pays twice", |booking| {
            booking.failed_payments == 0
        })
        .run()
        .unwrap_err();
    let problem = &problems.problems[0];
    assert_eq!(
        problem.kind,
        ProblemKind::Invariant("nobody pays twice".to_owned())
    );
    let path: Vec<String> = problem.path.iter().map(ToString::to_string).collect();
    assert_eq!(path.len(), 5, "{path:#?}");
    assert!(path[0].starts_with("BookingEvent.Placed"), "{path:#?}");
    // A failed attempt counted after the payment went through.
    assert!(path[3].starts_with("PaymentEvent.Succeeded"), "{path:#?}");
    assert!(path[4].starts_with("PaymentEvent.Failed"), "{path:#?}");
}
