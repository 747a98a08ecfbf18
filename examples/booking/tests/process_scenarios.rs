//! Scenario tests of `BookingProcess`: each step of the booking, the
//! payment deadline and its race with the payment, and events that arrive
//! where they do not fit.

use std::time::Duration;

use booking::commands::*;
use booking::events::*;
use booking::{BookingId, BookingProcess, BookingTimeout, Stage};
use pm_core::testing::{assert_converges, Input, Scenario};

const ID: BookingId = BookingId(42);
const WINDOW_MS: u64 = 300;
const PRICE: u64 = 4_500;

fn placed() -> BookingEvent {
    BookingEvent::Placed(BookingPlaced {
        seats: 2,
        payment_window_ms: WINDOW_MS,
    })
}

fn reserved() -> Input {
    Input::from(TicketsEvent::Reserved(TicketsReserved {
        booking_id: ID,
        price: PRICE,
    }))
    .on_stream(ID.tickets_stream())
}

fn unavailable() -> Input {
    Input::from(TicketsEvent::Unavailable(TicketsUnavailable {
        booking_id: ID,
    }))
    .on_stream(ID.tickets_stream())
}

fn confirmed() -> BookingEvent {
    BookingEvent::Confirmed(BookingConfirmed { price: PRICE })
}

fn paid() -> Input {
    Input::from(PaymentEvent::Succeeded(PaymentSucceeded {
        booking_id: ID,
        amount: PRICE,
    }))
    .on_stream(ID.payment_stream())
}

fn payment_failed() -> Input {
    Input::from(PaymentEvent::Failed(PaymentFailed {
        booking_id: ID,
        reason: "card declined".to_owned(),
    }))
    .on_stream(ID.payment_stream())
}

fn payment_cancelled() -> Input {
    Input::from(PaymentEvent::Cancelled(PaymentCancelled { booking_id: ID }))
        .on_stream(ID.payment_stream())
}

fn sold() -> Input {
    Input::from(TicketsEvent::Sold(TicketsSold { booking_id: ID })).on_stream(ID.tickets_stream())
}

/// A booking confirmed and waiting for payment.
fn awaiting_payment() -> Scenario<BookingProcess> {
    Scenario::new(ID)
        .given(placed())
        .given(reserved())
        .given(confirmed())
}

fn in_stage(stage: Stage) -> impl FnOnce(&BookingProcess) {
    move |state| assert_eq!(state.stage, stage)
}

#[test]
fn placed_booking_reserves_tickets() {
    Scenario::<BookingProcess>::new(ID)
        .when(placed())
        .then_sends([ReserveTickets {
            booking_id: ID,
            seats: 2,
        }
        .into()])
        .then_state(in_stage(Stage::Reserving))
        .then_active();
}

#[test]
fn reserved_tickets_confirm_the_booking_at_their_price() {
    Scenario::<BookingProcess>::new(ID)
        .given(placed())
        .when(reserved())
        .then_sends([ConfirmBooking {
            booking_id: ID,
            price: PRICE,
        }
        .into()])
        .then_state(in_stage(Stage::Confirming));
}

#[test]
fn unavailable_tickets_deny_the_booking_which_then_completes() {
    Scenario::<BookingProcess>::new(ID)
        .given(placed())
        .when(unavailable())
        .then_sends([DenyBooking { booking_id: ID }.into()])
        .then_state(in_stage(Stage::Denying))
        .when(BookingEvent::Denied)
        .then_sends_nothing()
        .then_state(in_stage(Stage::Denied))
        .then_completed();
}

#[test]
fn confirmed_booking_requests_payment_before_a_deadline() {
    let scenario = Scenario::<BookingProcess>::new(ID)
        .given(placed())
        .given(reserved());
    let due = scenario.now() + Duration::from_millis(WINDOW_MS);
    scenario
        .when(confirmed())
        .then_sends([RequestPayment {
            booking_id: ID,
            amount: PRICE,
        }
        .into()])
        .then_state(in_stage(Stage::AwaitingPayment))
        .then_timeout_at(BookingTimeout::PaymentDue, due);
}

#[test]
fn payment_settles_the_booking_and_sells_the_tickets() {
    awaiting_payment()
        .when(paid())
        .then_sends([
            SettleBooking { booking_id: ID }.into(),
            SellTickets { booking_id: ID }.into(),
        ])
        .then_state(in_stage(Stage::Settling))
        .then_no_timeout(BookingTimeout::PaymentDue)
        .when(BookingEvent::Settled)
        .then_sends_nothing()
        .then_state(in_stage(Stage::Settled))
        .then_completed();
}

#[test]
fn failed_payment_is_counted_and_the_booking_keeps_waiting() {
    awaiting_payment()
        .when(payment_failed())
        .then_sends_nothing()
        .then_state(|state| {
            assert_eq!(state.stage, Stage::AwaitingPayment);
            assert_eq!(state.failed_payments, 1);
        })
        .when(paid())
        .then_state(in_stage(Stage::Settling));
}

#[test]
fn deadline_cancels_the_payment_then_the_booking_expires_and_releases_tickets() {
    awaiting_payment()
        .advance(Duration::from_millis(WINDOW_MS - 1))
        .then_sends_nothing()
        .advance(Duration::from_millis(1))
        .then_sends([CancelPayment { booking_id: ID }.into()])
        .then_state(in_stage(Stage::CancellingPayment))
        .when(payment_cancelled())
        .then_sends([
            ExpireBooking { booking_id: ID }.into(),
            ReleaseTickets { booking_id: ID }.into(),
        ])
        .then_state(in_stage(Stage::Expiring))
        .when(BookingEvent::Expired)
        .then_state(in_stage(Stage::Expired))
        .then_completed();
}

#[test]
fn payment_that_beat_the_cancellation_still_settles() {
    awaiting_payment()
        .advance(Duration::from_millis(WINDOW_MS))
        .then_sends([CancelPayment { booking_id: ID }.into()])
        .when(paid())
        .then_sends([
            SettleBooking { booking_id: ID }.into(),
            SellTickets { booking_id: ID }.into(),
        ])
        .then_state(in_stage(Stage::Settling));
}

#[test]
fn deadline_does_not_fire_after_payment() {
    awaiting_payment()
        .given(paid())
        .advance(Duration::from_millis(WINDOW_MS * 10))
        .then_sends_nothing()
        .then_state(in_stage(Stage::Settling));
}

#[test]
fn events_that_do_not_fit_the_stage_change_nothing() {
    let reserving = Scenario::<BookingProcess>::new(ID).given(placed());
    let before = reserving.state();
    reserving
        .when(confirmed())
        .then_sends_nothing()
        .when(paid())
        .then_sends_nothing()
        .when(payment_cancelled())
        .then_sends_nothing()
        .when(BookingEvent::Settled)
        .then_sends_nothing()
        .when(BookingEvent::Expired)
        .then_sends_nothing()
        .when(BookingEvent::Denied)
        .then_sends_nothing()
        .when(placed())
        .then_sends_nothing()
        .then_state(|state| assert_eq!(Some(state), before.as_ref()))
        .then_active();
}

#[test]
fn a_second_reservation_answer_is_ignored() {
    Scenario::<BookingProcess>::new(ID)
        .given(placed())
        .given(reserved())
        .when(unavailable())
        .then_sends_nothing()
        .then_state(in_stage(Stage::Confirming));
}

#[test]
fn events_before_the_booking_is_placed_start_nothing() {
    Scenario::<BookingProcess>::new(ID)
        .when(reserved())
        .then_sends_nothing()
        .when(confirmed())
        .then_sends_nothing()
        .then_not_started();
}

#[test]
fn sold_and_released_tickets_are_ignored() {
    awaiting_payment()
        .when(sold())
        .then_sends_nothing()
        .when(
            Input::from(TicketsEvent::Released(TicketsReleased { booking_id: ID }))
                .on_stream(ID.tickets_stream()),
        )
        .then_sends_nothing()
        .then_state(in_stage(Stage::AwaitingPayment));
}

#[test]
fn events_after_completion_are_skipped() {
    awaiting_payment()
        .given(paid())
        .given(BookingEvent::Settled)
        .when(paid())
        .then_sends_nothing()
        .when(sold())
        .then_sends_nothing()
        .then_state(in_stage(Stage::Settled))
        .then_completed();
}

#[test]
fn payment_attempts_and_sale_converge_in_any_order() {
    let outcome = assert_converges(awaiting_payment, [payment_failed(), paid(), sold()]);
    let state = outcome.state.expect("the instance exists");
    assert_eq!(state.stage, Stage::Settling);
    assert_eq!(state.failed_payments, 1);
}
