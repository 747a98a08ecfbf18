// `PaymentEvent::Succeeded` has two handlers, `paid` and `issue_tickets`.
use pm_core::prelude::*;
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

    #[on(PaymentEvent::Succeeded, correlate = ids::booking_of)]
    fn paid(&mut self, _event: &Payment, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[on(PaymentEvent::Succeeded, correlate = ids::booking_of, sends(IssueTickets))]
    fn issue_tickets(&mut self, _event: &Payment, cx: &mut Context<Self>) {
        cx.send(IssueTickets);
    }
}

fn main() {}
