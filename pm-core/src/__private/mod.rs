mod command;
pub mod reach;

pub use crate::context::{Effects, TimeoutChange};
pub use crate::event::VariantInfo;
pub use crate::process::{Now, Outcome, Routed};
pub use command::*;
pub use serde;
pub use serde_json;

/// Whether `list` contains `name` (usable in the generated const checks).
pub const fn contains_str(list: &[&str], name: &str) -> bool {
    let mut index = 0;
    while index < list.len() {
        if str_eq(list[index], name) {
            return true;
        }
        index += 1;
    }
    false
}

/// Whether two strings are equal (usable in const checks).
pub const fn str_eq(left: &str, right: &str) -> bool {
    let (left, right) = (left.as_bytes(), right.as_bytes());
    if left.len() != right.len() {
        return false;
    }
    let mut index = 0;
    while index < left.len() {
        if left[index] != right[index] {
            return false;
        }
        index += 1;
    }
    true
}

/// How far the handlers and `ignore(..)` entries cover one variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Covered in every state.
    Full,
    /// Named by no handler and no `ignore(..)` entry.
    NoHandler,
    /// Not covered in the state at this index.
    MissingState(usize),
}

/// How far `covers` (variant name, listed states, whether the listed
/// states are exceptions; nothing listed: every state) cover `variant`
/// over `states` (none: the process has no states).
pub const fn coverage(
    variant: &str,
    covers: &[(&str, &[&str], bool)],
    states: &[&str],
) -> Coverage {
    let mut named = false;
    let mut index = 0;
    while index < covers.len() {
        if str_eq(covers[index].0, variant) {
            named = true;
        }
        index += 1;
    }
    if !named {
        return Coverage::NoHandler;
    }
    // A cover naming a state the enum does not have is reported where it
    // is written; do not add a second, misleading error here.
    let mut index = 0;
    while index < covers.len() {
        let (name, listed, _) = covers[index];
        let mut listed_index = 0;
        while str_eq(name, variant) && listed_index < listed.len() {
            if !contains_str(states, listed[listed_index]) {
                return Coverage::Full;
            }
            listed_index += 1;
        }
        index += 1;
    }
    let mut state = 0;
    while state < states.len() {
        let mut covered = false;
        let mut index = 0;
        while index < covers.len() {
            let (name, listed, except) = covers[index];
            let applies = listed.is_empty() || (contains_str(listed, states[state]) != except);
            if str_eq(name, variant) && applies {
                covered = true;
            }
            index += 1;
        }
        if !covered {
            return Coverage::MissingState(state);
        }
        state += 1;
    }
    Coverage::Full
}

/// The handlers of `variant` as a message fragment (`` `a` or `b` ``), or
/// `""` if it has none.
pub const fn handlers_of<'a>(variant: &str, handlers: &[(&str, &'a str)]) -> &'a str {
    let mut index = 0;
    while index < handlers.len() {
        if str_eq(handlers[index].0, variant) {
            return handlers[index].1;
        }
        index += 1;
    }
    ""
}

/// The first of `candidates` that is one of `states`, unless some state in
/// `listed` is not one of `states` (a misspelt state is reported where it
/// is written, not as an overlap).
pub const fn first_shared_state<'a>(
    candidates: &[&'a str],
    listed: &[&str],
    states: &[&str],
) -> Option<&'a str> {
    let mut index = 0;
    while index < listed.len() {
        if !contains_str(states, listed[index]) {
            return None;
        }
        index += 1;
    }
    let mut index = 0;
    while index < candidates.len() {
        if contains_str(states, candidates[index]) {
            return Some(candidates[index]);
        }
        index += 1;
    }
    None
}

/// The longest build-error message [`concat`] can build.
pub const MESSAGE_CAPACITY: usize = 1024;

/// Joins `parts` into a buffer at compile time (const code cannot
/// allocate); returns the buffer and the length used.
pub const fn concat(parts: &[&str]) -> ([u8; MESSAGE_CAPACITY], usize) {
    let mut buffer = [0u8; MESSAGE_CAPACITY];
    let mut length = 0;
    let mut part = 0;
    while part < parts.len() {
        let bytes = parts[part].as_bytes();
        let mut index = 0;
        while index < bytes.len() && length < MESSAGE_CAPACITY {
            buffer[length] = bytes[index];
            length += 1;
            index += 1;
        }
        part += 1;
    }
    (buffer, length)
}

/// Joins `parts`, then `list` as `` `a`, `b`, `c` `` (at compile time, like
/// [`concat`]).
pub const fn concat_list(parts: &[&str], list: &[&str]) -> ([u8; MESSAGE_CAPACITY], usize) {
    let (mut buffer, mut length) = concat(parts);
    let mut item = 0;
    while item < list.len() {
        let separator: &[u8] = if item == 0 { b"`" } else { b"`, `" };
        (buffer, length) = append(buffer, length, separator);
        (buffer, length) = append(buffer, length, list[item].as_bytes());
        item += 1;
    }
    if !list.is_empty() {
        (buffer, length) = append(buffer, length, b"`");
    }
    (buffer, length)
}

/// Appends `bytes` to a [`concat`] buffer.
pub const fn append(
    mut buffer: [u8; MESSAGE_CAPACITY],
    mut length: usize,
    bytes: &[u8],
) -> ([u8; MESSAGE_CAPACITY], usize) {
    let mut index = 0;
    while index < bytes.len() && length < MESSAGE_CAPACITY {
        buffer[length] = bytes[index];
        length += 1;
        index += 1;
    }
    (buffer, length)
}

/// The text of a [`concat`] buffer.
pub const fn message(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => "a handler is missing (the message was cut inside a character)",
    }
}

/// What the compile-time checks know of a state enum.
#[derive(Debug, Clone, Copy)]
pub struct StateTable {
    /// The enum's name.
    pub name: &'static str,
    /// Every state's name.
    pub variants: &'static [&'static str],
    /// The `#[default]` state, if marked.
    pub initial: Option<&'static str>,
    /// The `#[state(final)]` states.
    pub finals: &'static [&'static str],
    /// The `#[state(legacy)]` states.
    pub legacy: &'static [&'static str],
    /// Whether the enum's derive failed (its own error is reported).
    pub stand_in: bool,
}

/// The [`StateTable`] of the enum a state field holds (one function, so
/// that a field whose type is not a state enum is reported once).
pub const fn state_table<P, S: crate::State>(_field: fn(&P) -> &S) -> StateTable {
    StateTable {
        name: S::NAME,
        variants: S::VARIANTS,
        initial: S::INITIAL,
        finals: S::FINAL,
        legacy: S::LEGACY,
        stand_in: S::STAND_IN,
    }
}

/// Reads an instance id from a field of a payload that failed to decode,
/// so the event can still park its own instance.
pub fn id_from_field<Id: std::str::FromStr>(
    payload: &serde_json::Value,
    field: &str,
) -> Option<Id> {
    match payload.get(field)? {
        serde_json::Value::String(text) => text.parse().ok(),
        serde_json::Value::Number(number) => number.to_string().parse().ok(),
        _ => None,
    }
}

/// The context marker used after a macro error: it allows any command,
/// so the real error is not buried under undeclared-command errors.
#[derive(Debug)]
pub enum AnySends<P> {
    #[allow(dead_code)]
    /// Never constructed.
    Never(std::convert::Infallible, std::marker::PhantomData<P>),
}

impl<C, P: crate::ProcessManager> crate::SentBy<AnySends<P>> for C {
    type Command = P::Command;

    fn wrap(self) -> P::Command {
        unreachable!("only emitted next to a compile error")
    }
}

/// The command type of the stub emitted after a macro error.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum FallbackCommand {}

impl crate::Command for FallbackCommand {
    fn command_type(&self) -> &'static str {
        match *self {}
    }

    fn encode(&self) -> Result<serde_json::Value, serde_json::Error> {
        match *self {}
    }

    fn decode(command_type: &str, _: &serde_json::Value) -> Result<Self, crate::DecodeError> {
        Err(crate::DecodeError::UnknownType {
            type_name: command_type.to_owned(),
            family: "FallbackCommand",
        })
    }
}

/// Parses a stream id as an instance id, describing a failure.
pub fn id_from_stream<Id: std::str::FromStr>(stream_id: &str, id_type: &str) -> Result<Id, String> {
    stream_id
        .parse()
        .map_err(|_| format!("stream id `{stream_id}` is not a valid `{id_type}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: &[&str] = &["New", "Open", "Closed"];

    #[test]
    fn coverage_tells_what_is_missing() {
        assert_eq!(coverage("Opened", &[], STATES), Coverage::NoHandler);
        assert_eq!(
            coverage("Opened", &[("Opened", &[], false)], STATES),
            Coverage::Full
        );
        let covers: &[(&str, &[&str], bool)] =
            &[("Opened", &["New"], false), ("Opened", &["Open"], false)];
        assert_eq!(
            coverage("Opened", covers, STATES),
            Coverage::MissingState(2)
        );
        let with_except: &[(&str, &[&str], bool)] =
            &[("Opened", &["New"], false), ("Opened", &["New"], true)];
        assert_eq!(coverage("Opened", with_except, STATES), Coverage::Full);
        assert_eq!(
            coverage("Opened", &[("Opened", &["New"], false)], &[]),
            Coverage::Full
        );
    }

    #[test]
    fn a_cover_naming_an_unknown_state_is_left_to_the_type_check() {
        let covers: &[(&str, &[&str], bool)] = &[("Opened", &["Opn"], false)];
        assert_eq!(coverage("Opened", covers, STATES), Coverage::Full);
    }

    #[test]
    fn overlaps_are_reported_in_a_real_state_only() {
        assert_eq!(
            first_shared_state(&["Ope", "Open"], &["Open"], STATES),
            Some("Open")
        );
        assert_eq!(first_shared_state(&["Open"], &["Opn"], STATES), None);
        assert_eq!(first_shared_state(&["Gone"], &[], STATES), None);
    }

    #[test]
    fn lists_join_in_backticks() {
        let (bytes, length) = concat_list(&["states are "], STATES);
        assert_eq!(
            message(bytes.split_at(length).0),
            "states are `New`, `Open`, `Closed`"
        );
        assert_eq!(handlers_of("B", &[("A", "`a`"), ("B", "`b`")]), "`b`");
        assert_eq!(handlers_of("C", &[("A", "`a`")]), "");
    }

    #[test]
    fn concat_builds_the_message() {
        let (bytes, length) = concat(&["`A::B` has no handler in state `", "S::X", "`"]);
        assert_eq!(
            message(bytes.split_at(length).0),
            "`A::B` has no handler in state `S::X`"
        );
    }
}
