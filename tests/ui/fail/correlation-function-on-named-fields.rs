// A variant with named fields has no payload type to pass to `correlate = path::to_fn`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed {
        seats: u32,
        #[serde(rename = "who")]
        customer: String,
    },
    Cancelled {},
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum PaymentEvent {
    Paid { booking_id: String, amount: u64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Reserve {
    seats: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Booking {
    seats: u32,
    customer: String,
    paid: u64,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent, PaymentEvent))]
impl Booking {
    #[on(BookingEvent::Placed { .. }, start, sends(Reserve))]
    fn placed(&mut self, seats: &u32, customer: &str, cx: &mut Context<Self>) {
        self.seats = *seats;
        self.customer = customer.to_owned();
        cx.send(Reserve { seats: *seats });
    }

    #[on(BookingEvent::Cancelled { .. })]
    fn cancelled(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[on(BookingEvent::Closed)]
    fn closed(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[on(PaymentEvent::Paid { .. }, correlate = crate::booking_of)]
    fn paid(&mut self, amount: &u64, _cx: &mut Context<Self>) {
        self.paid = *amount;
    }
}

fn booking_of(_: &PaymentEvent) -> Option<String> {
    None
}

fn main() {}
