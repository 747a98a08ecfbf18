// `#[process_manager(..)]` without `name = ".."`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.placed = true;
    }
}

fn main() {}
