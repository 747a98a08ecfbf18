//! The events of the three services the booking process listens to, and
//! their payloads.
//!
//! Streams: the booking's own stream (`b-000042`), its tickets stream
//! (`tickets-b-000042`) and its payment stream (`payment-b-000042`).
//! Amounts are in cents.

use pm_core::Event;
use serde::{Deserialize, Serialize};

use crate::id::BookingId;

/// What happens to a booking, on the booking's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Event)]
pub enum BookingEvent {
    /// A customer placed the booking (starts the process).
    Placed(BookingPlaced),
    /// The booking was confirmed at a price; payment is now expected.
    Confirmed(BookingConfirmed),
    /// The booking was denied: no tickets.
    Denied,
    /// The booking was paid and is final.
    Settled,
    /// The booking was not paid in time.
    Expired,
}

/// A booking was placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingPlaced {
    /// How many seats the customer wants.
    pub seats: u32,
    /// How long the customer has to pay once the booking is confirmed.
    pub payment_window_ms: u64,
}

/// A booking was confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingConfirmed {
    /// The price of the reserved tickets, in cents.
    pub price: u64,
}

/// What happens to a booking's tickets, on its tickets stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Event)]
pub enum TicketsEvent {
    /// The seats are held for the booking.
    Reserved(TicketsReserved),
    /// The seats could not be had.
    Unavailable(TicketsUnavailable),
    /// The held seats were given back.
    Released(TicketsReleased),
    /// The held seats were sold.
    Sold(TicketsSold),
}

/// Seats were reserved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketsReserved {
    /// The booking they are held for.
    pub booking_id: BookingId,
    /// Their price, in cents.
    pub price: u64,
}

/// No seats could be reserved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketsUnavailable {
    /// The booking that asked.
    pub booking_id: BookingId,
}

/// Held seats were released.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketsReleased {
    /// The booking that held them.
    pub booking_id: BookingId,
}

/// Held seats were sold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketsSold {
    /// The booking that bought them.
    pub booking_id: BookingId,
}

/// What happens to a booking's payment, on its payment stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Event)]
pub enum PaymentEvent {
    /// The customer paid.
    Succeeded(PaymentSucceeded),
    /// An attempt to pay failed; the customer may try again.
    Failed(PaymentFailed),
    /// The payment was cancelled before the customer paid.
    Cancelled(PaymentCancelled),
}

/// A payment went through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    /// The booking paid for.
    pub booking_id: BookingId,
    /// The amount taken, in cents.
    pub amount: u64,
}

/// A payment attempt failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentFailed {
    /// The booking being paid for.
    pub booking_id: BookingId,
    /// Why, as the payment provider put it.
    pub reason: String,
}

/// A payment was cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentCancelled {
    /// The booking whose payment was cancelled.
    pub booking_id: BookingId,
}
