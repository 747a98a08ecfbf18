// `finished` has two `#[on(..)]`, one for `Settled` and one for `Cancelled`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Settled,
    Cancelled,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.placed = true;
    }

    #[on(BookingEvent::Settled)]
    #[on(BookingEvent::Cancelled)]
    fn finished(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }
}

fn main() {}
