// `BookingEvent` is listed twice in `subscribe(..)`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum PaymentEvent {
    Succeeded,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent, PaymentEvent, BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.placed = true;
    }

    #[on(PaymentEvent::Succeeded)]
    fn paid(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }
}

fn main() {}
