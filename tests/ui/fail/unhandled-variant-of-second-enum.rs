// `PaymentEvent::Failed` has neither a handler nor an `ignore(..)` entry.
use pm_core::prelude::*;
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
}

fn main() {}
