// `to(..)` names a variant of the state enum; the payment status is an ordinary field.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
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

    #[on(BookingEvent::Paid, in(Stage::Placed), to(Stage::Settled))]
    fn paid(&mut self, _cx: &mut Context<Self>) {
        self.payment = PaymentStatus::Paid;
        self.stage = Stage::Settled;
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .when(BookingEvent::Paid)
        .then_state(|booking| {
            assert_eq!(booking.stage, Stage::Settled);
            assert_eq!(booking.payment, PaymentStatus::Paid);
        })
        .then_completed();
}
