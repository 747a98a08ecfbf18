// `a::Notify` and `b::Notify` would both be the command enum's variant `Notify`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Commands of the customer service.
mod a {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Notify {
        pub booking: String,
    }
}

/// Commands of the organizer service.
mod b {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Notify {
        pub booking: String,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Paid,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start, sends(a::Notify))]
    fn placed(&mut self, cx: &mut Context<Self>) {
        self.placed = true;
        let booking = cx.id().clone();
        cx.send(a::Notify { booking });
    }

    #[on(BookingEvent::Paid, sends(b::Notify))]
    fn paid(&mut self, cx: &mut Context<Self>) {
        let booking = cx.id().clone();
        cx.send(b::Notify { booking });
    }
}

fn main() {}
