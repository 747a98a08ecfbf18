// Both handlers of `PaymentEvent::Succeeded` find the booking by the payload's `booking` field,
// whichever state the booking is in.
use pm_core::prelude::*;
use pm_core::testing::{Input, Scenario};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Placed,
    Reminded,
    #[state(final)]
    Paid,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Reminded,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum PaymentEvent {
    Succeeded(Payment),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Payment {
    booking: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IssueTickets;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StopReminders;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    stage: Stage,
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent, PaymentEvent),
    state = stage,
    ignore(
        BookingEvent::Placed except(Stage::New),
        BookingEvent::Reminded except(Stage::Placed),
        PaymentEvent::Succeeded in(Stage::New, Stage::Paid),
    )
)]
impl Booking {
    #[on(BookingEvent::Placed, start, in(Stage::New), to(Stage::Placed))]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Placed;
    }

    #[on(BookingEvent::Reminded, in(Stage::Placed), to(Stage::Reminded))]
    fn reminded(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Reminded;
    }

    #[on(
        PaymentEvent::Succeeded,
        correlate = booking,
        in(Stage::Placed),
        to(Stage::Paid),
        sends(IssueTickets)
    )]
    fn paid(&mut self, _event: &Payment, cx: &mut Context<Self>) {
        self.stage = Stage::Paid;
        cx.send(IssueTickets);
    }

    #[on(
        PaymentEvent::Succeeded,
        correlate = booking,
        in(Stage::Reminded),
        to(Stage::Paid),
        sends(IssueTickets, StopReminders)
    )]
    fn paid_after_reminder(&mut self, _event: &Payment, cx: &mut Context<Self>) {
        self.stage = Stage::Paid;
        cx.send(IssueTickets);
        cx.send(StopReminders);
    }
}

/// A payment for booking `b-1`, on the payment service's own stream.
fn payment() -> Input {
    let payment = PaymentEvent::Succeeded(Payment {
        booking: "b-1".to_owned(),
    });
    Input::from(payment).on_stream("payment-7")
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .when(payment())
        .then_sends([IssueTickets.into()])
        .then_state(|booking| assert_eq!(booking.stage, Stage::Paid));

    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .when(BookingEvent::Reminded)
        .when(payment())
        .then_sends([IssueTickets.into(), StopReminders.into()])
        .then_state(|booking| assert_eq!(booking.stage, Stage::Paid))
        .when(payment())
        .then_sends_nothing();
}
