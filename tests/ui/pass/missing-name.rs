// `name = ".."` gives the process the name its stored state is kept under.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
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
}

fn main() {
    assert_eq!(<Booking as ProcessManager>::NAME, "booking");
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .then_active();
}
