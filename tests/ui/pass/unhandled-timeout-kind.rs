// Every timeout kind has a handler; handlers schedule, cancel and complete through the context.
use std::time::Duration;

use pm_core::prelude::*;
use pm_core::testing::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum BookingTimeout {
    Reminder,
    PaymentDue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SendReminder;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ExpireBooking;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(
    name = "booking",
    id = String,
    subscribe(BookingEvent),
    timeouts(BookingTimeout)
)]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, cx: &mut Context<Self>) {
        self.placed = true;
        cx.schedule(BookingTimeout::Reminder, Duration::from_secs(10 * 60));
        cx.schedule(BookingTimeout::PaymentDue, Duration::from_secs(15 * 60));
    }

    #[on(BookingEvent::Paid)]
    fn paid(&mut self, cx: &mut Context<Self>) {
        cx.cancel(BookingTimeout::Reminder);
        cx.cancel(BookingTimeout::PaymentDue);
    }

    #[timeout(BookingTimeout::Reminder, sends(SendReminder))]
    fn remind(&mut self, cx: &mut Context<Self>) {
        cx.send(SendReminder);
    }

    #[timeout(BookingTimeout::PaymentDue, sends(ExpireBooking))]
    fn payment_due(&mut self, cx: &mut Context<Self>) {
        cx.send(ExpireBooking);
        cx.complete();
    }
}

fn main() {
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .advance(Duration::from_secs(11 * 60))
        .then_sends([SendReminder.into()])
        .advance(Duration::from_secs(5 * 60))
        .then_sends([ExpireBooking.into()])
        .then_completed();

    Scenario::<Booking>::new("b-2".to_owned())
        .when(BookingEvent::Placed)
        .when(BookingEvent::Paid)
        .then_no_timeout(BookingTimeout::Reminder)
        .then_no_timeout(BookingTimeout::PaymentDue)
        .advance(Duration::from_secs(60 * 60))
        .then_sends_nothing()
        .then_active();
}
