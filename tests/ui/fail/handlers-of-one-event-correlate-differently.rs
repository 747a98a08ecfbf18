// `paid` finds its booking by the payload's `booking` field, `paid_after_reminder` by stream id.
use pm_core::prelude::*;
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

fn main() {}
