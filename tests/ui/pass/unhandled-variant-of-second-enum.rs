// Every variant of both subscribed enums is handled or ignored; payment events are correlated by a payload field.
use pm_core::prelude::*;
use pm_core::testing::{Input, Scenario};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed(BookingPlaced),
    Settled,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum PaymentEvent {
    Succeeded(Payment),
    Failed(Payment),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookingPlaced {
    seats: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Payment {
    booking_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReserveTickets {
    seats: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReleaseTickets {
    seats: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    seats: u32,
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent, PaymentEvent),
    ignore(BookingEvent::Settled)
)]
impl Booking {
    #[on(BookingEvent::Placed, start, sends(ReserveTickets))]
    fn placed(&mut self, event: &BookingPlaced, cx: &mut Context<Self>) {
        self.seats = event.seats;
        cx.send(ReserveTickets { seats: event.seats });
    }

    #[on(PaymentEvent::Succeeded, correlate = booking_id)]
    fn paid(&mut self, _event: &Payment, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[on(PaymentEvent::Failed, correlate = booking_id, sends(ReleaseTickets))]
    fn payment_failed(&mut self, _event: &Payment, cx: &mut Context<Self>) {
        cx.send(ReleaseTickets { seats: self.seats });
        cx.complete();
    }
}

fn main() {
    let failed = PaymentEvent::Failed(Payment {
        booking_id: "b-1".to_owned(),
    });
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed(BookingPlaced { seats: 2 }))
        .then_sends([ReserveTickets { seats: 2 }.into()])
        .when(BookingEvent::Settled)
        .then_sends_nothing()
        .when(Input::from(failed).on_stream("payment-7"))
        .then_sends([ReleaseTickets { seats: 2 }.into()])
        .then_completed();
}
