// Variants with named fields: the handler writes `Enum::Variant { .. }` and
// takes the fields it needs by name (`&str` for a `String` field); `correlate = field` names one;
// the payload is stored as an object of the fields, with their serde attributes.
use pm_core::prelude::*;
use pm_core::testing::{Input, Scenario};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BookingEvent {
    Placed {
        seats: u32,
        #[serde(rename = "who")]
        customer: String,
    },
    Cancelled {},
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum PaymentEvent {
    Paid { booking_id: String, amount: u64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Reserve {
    seats: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Booking {
    seats: u32,
    customer: String,
    paid: u64,
}

#[process_manager(name = "booking", id = String, subscribe(BookingEvent, PaymentEvent))]
impl Booking {
    #[on(BookingEvent::Placed { .. }, start, sends(Reserve))]
    fn placed(&mut self, seats: &u32, customer: &str, cx: &mut Context<Self>) {
        self.seats = *seats;
        self.customer = customer.to_owned();
        cx.send(Reserve { seats: *seats });
    }

    #[on(BookingEvent::Cancelled { .. })]
    fn cancelled(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[on(BookingEvent::Closed)]
    fn closed(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[on(PaymentEvent::Paid { .. }, correlate = booking_id)]
    fn paid(&mut self, amount: &u64, _cx: &mut Context<Self>) {
        self.paid = *amount;
    }
}

fn main() {
    let placed = BookingEvent::Placed {
        seats: 2,
        customer: "ada".to_owned(),
    };
    let input = Input::from(placed.clone());
    assert_eq!(input.payload(), &json!({ "seats": 2, "who": "ada" }));
    let paid = Input::from(PaymentEvent::Paid {
        booking_id: "b-1".to_owned(),
        amount: 7,
    })
    .on_stream("payment-1");
    Scenario::<Booking>::new("b-1".to_owned())
        .when(placed)
        .then_sends([Reserve { seats: 2 }.into()])
        .when(paid)
        .then_state_is(&Booking {
            seats: 2,
            customer: "ada".to_owned(),
            paid: 7,
        })
        .when(BookingEvent::Cancelled {})
        .then_completed();
}
