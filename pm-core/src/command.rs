//! Commands a process sends: the [`Command`] trait of the generated command
//! enum, and [`SentBy`], which checks each handler's `sends(..)` at compile time.

use std::fmt::Debug;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::error::DecodeError;
use crate::log::Position;

/// The command enum `#[process_manager]` generates: one variant per type
/// named in any `sends(..)`.
pub trait Command:
    Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The stable name of this command's type, such as `ReserveTickets`.
    fn command_type(&self) -> &'static str;

    /// Encodes the command's payload (without its type) as JSON.
    fn encode(&self) -> Result<Value, serde_json::Error>;

    /// Decodes a command from its type and JSON payload.
    fn decode(command_type: &str, payload: &Value) -> Result<Self, DecodeError>;

    /// Which commands this one is delivered in order with (G3): by default
    /// the other commands of its instance.
    fn delivery_order(&self) -> DeliveryOrder {
        DeliveryOrder::PerInstance
    }
}

/// How a command is ordered against others: commands with the same
/// ordering key are delivered in the order they were issued, one at a time;
/// a command that keeps failing holds back the ones behind it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeliveryOrder {
    /// With the other commands of its instance (the default).
    PerInstance,
    /// With the commands of this key (of this process), whichever instance
    /// sent them: e.g. the file a command is about.
    ByKey(String),
    /// In no order: delivered as soon as possible, beside any other.
    Unordered,
}

impl DeliveryOrder {
    /// The ordering key stored with a command of `instance` (with id
    /// `command_id`): instance and explicit keys never share a key space,
    /// and an unordered command is a group of its own.
    pub fn key(&self, instance: &str, command_id: &uuid::Uuid) -> String {
        match self {
            DeliveryOrder::PerInstance => format!("instance:{instance}"),
            DeliveryOrder::ByKey(key) => format!("key:{key}"),
            DeliveryOrder::Unordered => format!("command:{command_id}"),
        }
    }
}

/// What made a handler send a command: with the process, the instance and
/// the command's place among those the call sent, it fixes the command's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandCause<'a> {
    /// The event at `position` of the event source named `source`.
    Event {
        /// The event source's name ([`EventSource::source_name`](crate::backend::EventSource::source_name)).
        source: &'a str,
        /// Where the event is in that source.
        position: Position,
    },
    /// The timeout of kind `kind` that was due at `due_at`.
    Timeout {
        /// The timeout's kind, as the timeout enum names it.
        kind: &'a str,
        /// When it was due.
        due_at: DateTime<Utc>,
    },
}

/// The namespace of command ids (UUID version 5).
const COMMAND_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d1c_53a4_0f7e_4b8e_9a51_2c3d_4e5f_6a7b);

/// The id of the `index`-th command (from 0) that process `process` sent
/// for `instance` when `cause` was applied: the same inputs always give the
/// same id, so a batch applied again (after a crash or a lost commit reply)
/// records each command once, and a gateway can use the id as its
/// idempotency key ([`CommandMeta::idempotency_key`](crate::CommandMeta)).
/// The id is stored, so this rule is part of the storage format.
///
/// ```
/// use pm_core::{command_id, CommandCause, Position};
///
/// let position = Position { transaction: 7, sequence: 42 };
/// let cause = CommandCause::Event { source: "pm.events", position };
/// let id = command_id("booking", "b-1", cause, 0);
/// assert_eq!(id, command_id("booking", "b-1", cause, 0));
/// assert_ne!(id, command_id("booking", "b-1", cause, 1));
/// ```
pub fn command_id(process: &str, instance: &str, cause: CommandCause<'_>, index: usize) -> Uuid {
    let cause = match cause {
        CommandCause::Event { source, position } => {
            format!("{source}@{}:{}", position.transaction, position.sequence)
        }
        CommandCause::Timeout { kind, due_at } => {
            format!("timeout:{kind}@{}", due_at.timestamp_micros())
        }
    };
    let name = format!("{process}\n{instance}\n{cause}\n{index}");
    Uuid::new_v5(&COMMAND_ID_NAMESPACE, name.as_bytes())
}

/// Implemented by each command type for the marker type of every handler
/// whose `sends(..)` declares it; `Context::send` requires it.
///
/// The command is the `Self` type (not a parameter) so that rustc reports a
/// missing impl instead of guessing the command from a handler's only one.
#[diagnostic::on_unimplemented(
    message = "this handler sends `{Self}`, which its `sends(..)` does not declare",
    label = "add `{Self}` to the `sends(..)` of this handler",
    note = "a handler may send only the commands listed in the `sends(..)` of its `#[on(..)]` or `#[timeout(..)]`, and call only `#[sends(..)]` helpers whose commands it lists too"
)]
pub trait SentBy<Handler> {
    /// The process's command enum.
    type Command;

    /// Wraps the command in the process's command enum.
    fn wrap(self) -> Self::Command;
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Ids are stored: the rule must not change under existing rows.
    #[test]
    fn command_ids_follow_the_stored_rule() {
        let position = Position {
            transaction: 7,
            sequence: 42,
        };
        let event = CommandCause::Event {
            source: "pm.events",
            position,
        };
        assert_eq!(
            command_id("booking", "b-1", event, 1).to_string(),
            "b0654e72-7951-59d0-b2d5-818f44446d18"
        );
        let due_at = Utc.timestamp_opt(1_800_000_000, 123_456_000).unwrap();
        let timeout = CommandCause::Timeout {
            kind: "PaymentDue",
            due_at,
        };
        assert_eq!(
            command_id("booking", "b-1", timeout, 0).to_string(),
            "efc74cf7-d257-5eed-9c1a-0b2b7f0e51db"
        );
    }
}
