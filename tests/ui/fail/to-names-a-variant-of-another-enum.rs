// `to(PaymentStatus::Paid)` names a variant of `PaymentStatus`, not of the state enum `Stage`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Placed,
    #[state(final)]
    Settled,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
enum PaymentStatus {
    #[default]
    Pending,
    Paid,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Paid,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    stage: Stage,
    payment: PaymentStatus,
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent),
    state = stage,
    ignore(
        BookingEvent::Placed except(Stage::New),
        BookingEvent::Paid except(Stage::Placed),
    )
)]
impl Booking {
    #[on(BookingEvent::Placed, start, in(Stage::New), to(Stage::Placed))]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Placed;
    }

    #[on(BookingEvent::Paid, in(Stage::Placed), to(PaymentStatus::Paid))]
    fn paid(&mut self, _cx: &mut Context<Self>) {
        self.payment = PaymentStatus::Paid;
        self.stage = Stage::Settled;
    }
}

fn main() {}
