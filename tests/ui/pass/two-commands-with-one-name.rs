// Command types have distinct names, since each becomes a variant of the command enum.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
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
    pub struct NotifyOrganizer {
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

    #[on(BookingEvent::Paid, sends(b::NotifyOrganizer))]
    fn paid(&mut self, cx: &mut Context<Self>) {
        let booking = cx.id().clone();
        cx.send(b::NotifyOrganizer { booking });
    }
}

fn main() {
    let booking = "b-1".to_owned();
    Scenario::<Booking>::new(booking.clone())
        .when(BookingEvent::Placed)
        .then_sends([a::Notify {
            booking: booking.clone(),
        }
        .into()])
        .when(BookingEvent::Paid)
        .then_sends([b::NotifyOrganizer { booking }.into()]);
}
