//! The commands the booking process sends, one struct each. The process's
//! generated `BookingProcessCommand` enum wraps them.

use serde::{Deserialize, Serialize};

use crate::id::BookingId;

/// Ask the tickets service to hold seats for a booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReserveTickets {
    /// The booking.
    pub booking_id: BookingId,
    /// How many seats.
    pub seats: u32,
}

/// Confirm a booking at the price of its reserved tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmBooking {
    /// The booking.
    pub booking_id: BookingId,
    /// The price, in cents.
    pub price: u64,
}

/// Deny a booking whose tickets could not be reserved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenyBooking {
    /// The booking.
    pub booking_id: BookingId,
}

/// Ask the customer to pay for a confirmed booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestPayment {
    /// The booking.
    pub booking_id: BookingId,
    /// The amount due, in cents.
    pub amount: u64,
}

/// Stop accepting payment for a booking whose deadline passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelPayment {
    /// The booking.
    pub booking_id: BookingId,
}

/// Make a paid booking final.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettleBooking {
    /// The booking.
    pub booking_id: BookingId,
}

/// Sell the seats held for a paid booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SellTickets {
    /// The booking.
    pub booking_id: BookingId,
}

/// Expire a booking that was not paid in time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpireBooking {
    /// The booking.
    pub booking_id: BookingId,
}

/// Give back the seats held for an expired booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseTickets {
    /// The booking.
    pub booking_id: BookingId,
}
