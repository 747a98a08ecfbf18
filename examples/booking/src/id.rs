//! [`BookingId`]: the id of a booking, printed as `b-000042`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The id of a booking, and of the booking process instance that runs it.
///
/// Its text form (`b-000042`) is the booking's stream id; the tickets and
/// payment streams of the booking are `tickets-b-000042` and
/// `payment-b-000042`. It serializes as that text, so payloads stay readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BookingId(pub u64);

/// The prefix of a booking id's text form.
const PREFIX: &str = "b-";

impl BookingId {
    /// The booking's number (its index in a simulation).
    pub fn number(self) -> u64 {
        self.0
    }

    /// The id of the booking's tickets stream.
    pub fn tickets_stream(self) -> String {
        format!("tickets-{self}")
    }

    /// The id of the booking's payment stream.
    pub fn payment_stream(self) -> String {
        format!("payment-{self}")
    }
}

impl fmt::Display for BookingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{:06}", self.0)
    }
}

/// Why a text is not a booking id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseBookingIdError(String);

impl fmt::Display for ParseBookingIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a booking id like `b-000042`", self.0)
    }
}

impl std::error::Error for ParseBookingIdError {}

impl FromStr for BookingId {
    type Err = ParseBookingIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseBookingIdError(text.to_owned());
        let digits = text.strip_prefix(PREFIX).ok_or_else(error)?;
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(error());
        }
        let id = digits.parse().map(BookingId).map_err(|_| error())?;
        // One text per id: `b-42` would otherwise name the instance `b-000042`.
        if id.to_string() != text {
            return Err(error());
        }
        Ok(id)
    }
}

impl TryFrom<String> for BookingId {
    type Error = ParseBookingIdError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<BookingId> for String {
    fn from(id: BookingId) -> Self {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::BookingId;

    #[test]
    fn prints_and_parses_back() {
        let id = BookingId(42);
        assert_eq!(id.to_string(), "b-000042");
        assert_eq!("b-000042".parse::<BookingId>().unwrap(), id);
        assert_eq!(
            "b-1234567".parse::<BookingId>().unwrap(),
            BookingId(1_234_567)
        );
    }

    #[test]
    fn rejects_other_streams() {
        for text in [
            "tickets-b-000042",
            "b-",
            "b-+1",
            "42",
            "b-00x",
            "b-42",
            "b-0000042",
        ] {
            assert!(text.parse::<BookingId>().is_err(), "{text} parsed");
        }
    }

    #[test]
    fn serializes_as_text() {
        let json = serde_json::to_value(BookingId(7)).unwrap();
        assert_eq!(json, serde_json::json!("b-000007"));
        let back: BookingId = serde_json::from_value(json).unwrap();
        assert_eq!(back, BookingId(7));
    }
}
