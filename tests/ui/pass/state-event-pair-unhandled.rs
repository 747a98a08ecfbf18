// Every (state, event) pair is handled or ignored: `Paid` moves a placed booking
// to `Stage::Paid` and is ignored once paid.
use pm_core::prelude::*;
use pm_core::testing::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Placed,
    #[state(final)]
    Paid,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Paid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IssueTickets;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    stage: Stage,
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent),
    state = stage,
    ignore(
        BookingEvent::Placed except(Stage::New),
        BookingEvent::Paid in(Stage::New, Stage::Paid),
    )
)]
impl Booking {
    #[on(BookingEvent::Placed, start, in(Stage::New), to(Stage::Placed))]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.stage = Stage::Placed;
    }

    #[on(
        BookingEvent::Paid,
        in(Stage::Placed),
        to(Stage::Paid),
        sends(IssueTickets)
    )]
    fn paid(&mut self, cx: &mut Context<Self>) {
        self.stage = Stage::Paid;
        cx.send(IssueTickets);
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .then_state(|booking| assert_eq!(booking.stage, Stage::Placed))
        .when(BookingEvent::Paid)
        .then_sends([IssueTickets.into()])
        .then_state(|booking| assert_eq!(booking.stage, Stage::Paid))
        .when(BookingEvent::Paid)
        .then_sends_nothing()
        .then_state(|booking| assert_eq!(booking.stage, Stage::Paid));
}
