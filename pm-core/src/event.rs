//! Events: the [`Event`] trait that `#[derive(Event)]` implements, and the
//! envelope ([`RecordedEvent`]) in which events travel through a log.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::DecodeError;
use crate::log::Position;

/// A family of events: an enum whose variants each have a stable type name.
///
/// Derive it with `#[derive(Event)]`. A variant's type name is
/// `"<family>.<variant>"`; the family defaults to the enum's name and can be
/// set with `#[event(family = "..")]`, a variant's part with
/// `#[event(name = "..")]`. Renaming either changes what is stored, so pick
/// them once.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event enum",
    label = "add `#[derive(Event)]` to `{Self}`",
    note = "every enum in `subscribe(..)` needs `#[derive(Event)]`"
)]
pub trait Event: Sized + Send + Sync + 'static {
    /// The prefix shared by the type names of this family.
    const FAMILY: &'static str;

    #[doc(hidden)]
    /// One entry per variant, in declaration order (used by the compile-time checks).
    const VARIANTS: &'static [VariantInfo];

    /// The stable type name of this value's variant.
    fn type_name(&self) -> &'static str;

    /// Decodes a value from its type name and JSON payload.
    fn decode(event_type: &str, payload: &Value) -> Result<Self, DecodeError>;

    /// Encodes this value's payload (without the type name) as JSON.
    fn encode(&self) -> Result<Value, serde_json::Error>;

    /// Whether `event_type` belongs to this family, known variant or not.
    fn is_family(event_type: &str) -> bool {
        in_family(event_type, Self::FAMILY)
    }

    /// The Rust names of the variants, in declaration order.
    fn variant_names() -> Vec<&'static str> {
        Self::VARIANTS.iter().map(|variant| variant.name).collect()
    }

    /// The Rust name of the variant whose type name is `event_type`.
    fn variant_of(event_type: &str) -> Option<&'static str> {
        Self::VARIANTS
            .iter()
            .find(|variant| variant.type_name == event_type)
            .map(|variant| variant.name)
    }
}

/// What the compile-time checks know of one variant of an event family or
/// timeout enum.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct VariantInfo {
    /// The Rust identifier of the variant.
    pub name: &'static str,
    /// The stable type name stored with the value.
    pub type_name: &'static str,
    /// The build error shown when a process subscribes to the family and
    /// neither handles nor ignores this variant.
    pub unhandled: &'static str,
}

/// An event as a log records it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Where the event sits in the log.
    pub position: Position,
    /// The stream (usually an aggregate id) the event belongs to.
    pub stream_id: String,
    /// The version of the stream after this event (1 for its first event).
    pub stream_version: i64,
    /// The stable type name, such as `BookingEvent.Placed`.
    pub event_type: String,
    /// The JSON payload.
    pub payload: Value,
    /// When the log recorded the event.
    pub recorded_at: DateTime<Utc>,
}

/// An event ready to be appended to a log.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The stable type name.
    pub event_type: String,
    /// The JSON payload.
    pub payload: Value,
}

impl NewEvent {
    /// Encodes a typed event.
    pub fn encode<E: Event>(event: &E) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_type: event.type_name().to_owned(),
            payload: event.encode()?,
        })
    }
}

/// Whether `event_type` is `family` followed by `.` and a variant name.
pub fn in_family(event_type: &str, family: &str) -> bool {
    event_type
        .strip_prefix(family)
        .is_some_and(|rest| rest.starts_with('.'))
}
