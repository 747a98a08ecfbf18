//! What the generated command enum's impls call for each command type,
//! each bounded by one trait of [`crate::requirements`].

use std::fmt::Debug;

use serde::de::{Deserializer, Error as _};
use serde::ser::{Error as _, SerializeMap, Serializer};
use serde::Deserialize;
use serde_json::Value;

use crate::command::Command;
use crate::requirements::{
    CommandClone, CommandDebug, CommandDeserialize, CommandPartialEq, CommandSerialize,
};

/// `left == right`.
pub fn command_eq<T: CommandPartialEq>(left: &T, right: &T) -> bool {
    left == right
}

/// `command.clone()`.
pub fn command_clone<T: CommandClone>(command: &T) -> T {
    command.clone()
}

/// `command` as something to format.
pub fn command_debug<T: CommandDebug>(command: &T) -> &dyn Debug {
    command
}

/// The command's JSON payload.
pub fn encode_command<T: CommandSerialize>(command: &T) -> Result<Value, serde_json::Error> {
    serde_json::to_value(command)
}

/// A command of type `T` from its JSON payload.
pub fn decode_command<T: CommandDeserialize>(payload: &Value) -> Result<T, serde_json::Error> {
    T::deserialize(payload)
}

/// Serializes a command enum as `{"<command type>": payload}`, as serde
/// writes an externally tagged enum.
pub fn serialize_command<C: Command, S: Serializer>(
    command: &C,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let payload = command.encode().map_err(S::Error::custom)?;
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(command.command_type(), &payload)?;
    map.end()
}

/// Reads what [`serialize_command`] writes.
pub fn deserialize_command<'de, C: Command, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<C, D::Error> {
    let value = Value::deserialize(deserializer)?;
    let Value::Object(map) = value else {
        return Err(D::Error::custom(
            "a command is an object with one key, its type",
        ));
    };
    let mut entries = map.into_iter();
    match (entries.next(), entries.next()) {
        (Some((command_type, payload)), None) => {
            C::decode(&command_type, &payload).map_err(D::Error::custom)
        }
        _ => Err(D::Error::custom(
            "a command is an object with one key, its type",
        )),
    }
}

pub use crate::requirements::OrderingKey;
