//! Commands a process sends: the [`Command`] trait of the generated command
//! enum, and [`SentBy`], which checks each handler's `sends(..)` at compile time.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::DecodeError;

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
