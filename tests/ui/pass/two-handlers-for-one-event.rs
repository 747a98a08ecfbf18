// One handler per event; payments find their booking through a correlation function.
use pm_core::prelude::*;
use pm_core::testing::{Input, Scenario};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum PaymentEvent {
    Succeeded(Payment),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Payment {
    reference: String,
}

mod ids {
    use super::Payment;

    /// Payment references look like `booking:<id>`.
    pub fn booking_of(payment: &Payment) -> Option<String> {
        payment
            .reference
            .strip_prefix("booking:")
            .map(str::to_owned)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IssueTickets;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Booking {
    placed: bool,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent, PaymentEvent))]
impl Booking {
    #[on(BookingEvent::Placed, start)]
    fn placed(&mut self, _cx: &mut Context<Self>) {
        self.placed = true;
    }

    #[on(PaymentEvent::Succeeded, correlate = ids::booking_of, sends(IssueTickets))]
    fn paid(&mut self, _event: &Payment, cx: &mut Context<Self>) {
        cx.send(IssueTickets);
        cx.complete();
    }
}

fn main() {
    let paid = PaymentEvent::Succeeded(Payment {
        reference: "booking:b-1".to_owned(),
    });
    Scenario::<Booking>::new("b-1".to_owned())
        .when(BookingEvent::Placed)
        .when(Input::from(paid).on_stream("payment-3"))
        .then_sends([IssueTickets.into()])
        .then_completed();
}
