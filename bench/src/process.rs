//! The benchmarked process: a small booking saga.
//!
//! Each booking sees five events: `BookingEvent::Placed` (starts it, sends
//! `ReserveTickets`), `BookingEvent::Confirmed` (sends `RequestPayment`,
//! schedules `PaymentDue`), `PaymentEvent::Initiated` (notes the payment
//! reference), `PaymentEvent::Succeeded` (sends `SettleBooking`, cancels the
//! timeout) and `BookingEvent::Settled` (completes the instance). Booking
//! events sit on the booking's stream (the stream id is the booking id);
//! payment events sit on the payment's stream and are correlated by their
//! `booking_id` field. That is three commands and one timeout set and dropped
//! per booking.

use std::time::Duration;

use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

/// How long a confirmed booking waits for its payment.
pub const PAYMENT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Events of the booking service, on the booking's own stream.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub enum BookingEvent {
    /// A customer placed a booking.
    Placed(BookingPlaced),
    /// The tickets were reserved and priced.
    Confirmed(BookingConfirmed),
    /// The booking was paid and is final.
    Settled(BookingSettled),
}

/// Payload of [`BookingEvent::Placed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingPlaced {
    /// Who booked.
    pub customer: String,
    /// The show booked.
    pub show: String,
    /// How many seats.
    pub seats: u32,
}

/// Payload of [`BookingEvent::Confirmed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingConfirmed {
    /// The total price, in cents.
    pub price_cents: u64,
    /// The currency of the price.
    pub currency: String,
}

/// Payload of [`BookingEvent::Settled`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingSettled {
    /// The booking's reference printed on the tickets.
    pub reference: String,
}

/// Events of the payment service, on the payment's own stream.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub enum PaymentEvent {
    /// The payment service started collecting the payment.
    Initiated(PaymentInitiated),
    /// The payment was collected.
    Succeeded(PaymentSucceeded),
}

/// Payload of [`PaymentEvent::Initiated`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentInitiated {
    /// The booking paid for.
    pub booking_id: String,
    /// The payment service's reference.
    pub payment_id: String,
}

/// Payload of [`PaymentEvent::Succeeded`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    /// The booking paid for.
    pub booking_id: String,
    /// The amount collected, in cents.
    pub amount_cents: u64,
}

/// Reserve seats for a booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReserveTickets {
    /// The booking.
    pub booking_id: String,
    /// The show.
    pub show: String,
    /// How many seats.
    pub seats: u32,
}

/// Ask the payment service to collect the price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestPayment {
    /// The booking.
    pub booking_id: String,
    /// The amount, in cents.
    pub amount_cents: u64,
    /// The currency.
    pub currency: String,
}

/// Tell the booking service the booking is paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettleBooking {
    /// The booking.
    pub booking_id: String,
}

/// Give up on a booking whose payment did not come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpireBooking {
    /// The booking.
    pub booking_id: String,
}

/// Free the seats of an expired booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseTickets {
    /// The booking.
    pub booking_id: String,
    /// How many seats.
    pub seats: u32,
}

/// The timeouts of a booking.
#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
pub enum BookingTimeout {
    /// The payment did not arrive in time.
    PaymentDue,
}

/// Where a booking stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Placed; tickets being reserved.
    #[default]
    Reserving,
    /// Confirmed; waiting for the payment.
    AwaitingPayment,
    /// Paid; waiting for the booking service to settle.
    Settling,
    /// Settled.
    Settled,
    /// The payment did not come in time.
    Expired,
}

/// The state of one booking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    /// Where the booking stands.
    pub stage: Stage,
    /// The show booked.
    pub show: String,
    /// How many seats.
    pub seats: u32,
    /// The price, in cents, once confirmed.
    pub price_cents: u64,
    /// The payment service's reference, once initiated.
    pub payment_id: Option<String>,
}

#[process_manager(
    name = "booking-bench",
    id = String,
    subscribe(BookingEvent, PaymentEvent),
    timeouts(BookingTimeout),
)]
impl Booking {
    #[on(BookingEvent::Placed, start, sends(ReserveTickets))]
    fn placed(&mut self, event: &BookingPlaced, cx: &mut Context<Self>) {
        self.stage = Stage::Reserving;
        self.show.clone_from(&event.show);
        self.seats = event.seats;
        cx.send(ReserveTickets {
            booking_id: cx.id().clone(),
            show: event.show.clone(),
            seats: event.seats,
        });
    }

    #[on(BookingEvent::Confirmed, sends(RequestPayment))]
    fn confirmed(&mut self, event: &BookingConfirmed, cx: &mut Context<Self>) {
        self.stage = Stage::AwaitingPayment;
        self.price_cents = event.price_cents;
        cx.send(RequestPayment {
            booking_id: cx.id().clone(),
            amount_cents: event.price_cents,
            currency: event.currency.clone(),
        });
        cx.schedule(BookingTimeout::PaymentDue, PAYMENT_WINDOW);
    }

    #[on(PaymentEvent::Initiated, correlate = booking_id)]
    fn initiated(&mut self, event: &PaymentInitiated, _cx: &mut Context<Self>) {
        self.payment_id = Some(event.payment_id.clone());
    }

    #[on(PaymentEvent::Succeeded, correlate = booking_id, sends(SettleBooking))]
    fn paid(&mut self, _event: &PaymentSucceeded, cx: &mut Context<Self>) {
        if self.stage != Stage::AwaitingPayment {
            return;
        }
        self.stage = Stage::Settling;
        cx.cancel(BookingTimeout::PaymentDue);
        cx.send(SettleBooking {
            booking_id: cx.id().clone(),
        });
    }

    #[on(BookingEvent::Settled)]
    fn settled(&mut self, _event: &BookingSettled, cx: &mut Context<Self>) {
        self.stage = Stage::Settled;
        cx.complete();
    }

    #[timeout(BookingTimeout::PaymentDue, sends(ExpireBooking, ReleaseTickets))]
    fn payment_due(&mut self, cx: &mut Context<Self>) {
        self.stage = Stage::Expired;
        cx.send(ExpireBooking {
            booking_id: cx.id().clone(),
        });
        cx.send(ReleaseTickets {
            booking_id: cx.id().clone(),
            seats: self.seats,
        });
        cx.complete();
    }
}

/// The booking id of the `index`-th booking (also its stream id).
pub fn booking_id(index: u64) -> String {
    format!("booking-{index:08}")
}

/// The payment stream of the `index`-th booking.
pub fn payment_stream(index: u64) -> String {
    format!("payment-{index:08}")
}

/// One event of the benchmark's log, before it is appended.
#[derive(Debug, Clone)]
pub struct SeedEvent {
    /// The stream.
    pub stream_id: String,
    /// The version of the stream after this event.
    pub stream_version: i64,
    /// The stable type name.
    pub event_type: &'static str,
    /// The JSON payload.
    pub payload: serde_json::Value,
}

/// The five events of booking `index`, in order.
pub fn booking_events(index: u64) -> [SeedEvent; 5] {
    let id = booking_id(index);
    let payment = payment_stream(index);
    let price = 2_500 + (index % 7) * 1_000;
    let seats = index % 4 + 1;
    let event = |stream_id: &str, stream_version, event_type, payload| SeedEvent {
        stream_id: stream_id.to_owned(),
        stream_version,
        event_type,
        payload,
    };
    [
        event(
            &id,
            1,
            "BookingEvent.Placed",
            serde_json::json!({
                "customer": format!("customer-{}", index % 5_000),
                "show": format!("show-{}", index % 40),
                "seats": seats,
            }),
        ),
        event(
            &id,
            2,
            "BookingEvent.Confirmed",
            serde_json::json!({ "price_cents": price, "currency": "EUR" }),
        ),
        event(
            &payment,
            1,
            "PaymentEvent.Initiated",
            serde_json::json!({ "booking_id": id, "payment_id": format!("pay-{index:08}") }),
        ),
        event(
            &payment,
            2,
            "PaymentEvent.Succeeded",
            serde_json::json!({ "booking_id": id, "amount_cents": price }),
        ),
        event(
            &id,
            3,
            "BookingEvent.Settled",
            serde_json::json!({ "reference": format!("REF{index:08}") }),
        ),
    ]
}
