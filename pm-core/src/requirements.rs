//! What a command type must implement, one trait per requirement, each
//! implemented for every type that meets it: `Debug`, `Clone`, `PartialEq`,
//! `Serialize` and `Deserialize`. The command enum `#[process_manager]`
//! generates asks for them one at a time, at the command's entry in
//! `sends(..)`, so that a build error names the one that is missing
//! ("`ProcessFile` is sent as a command, so it must implement `PartialEq`")
//! instead of failing inside a derive.
//!
//! `#[diagnostic::do_not_recommend]` on each blanket impl makes rustc report
//! the trait, with its message, rather than the bound of the impl.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A command type that is `PartialEq`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is sent as a command, so it must implement `PartialEq`",
    label = "add `#[derive(PartialEq)]` to `{Self}`",
    note = "tests compare the commands a process sends, so every command is `Debug`, `Clone`, `PartialEq`, `Serialize` and `Deserialize`"
)]
pub trait CommandPartialEq: PartialEq {}
#[diagnostic::do_not_recommend]
impl<T: PartialEq> CommandPartialEq for T {}

/// A command type that is `Clone`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is sent as a command, so it must implement `Clone`",
    label = "add `#[derive(Clone)]` to `{Self}`",
    note = "every command is `Debug`, `Clone`, `PartialEq`, `Serialize` and `Deserialize`"
)]
pub trait CommandClone: Clone {}
#[diagnostic::do_not_recommend]
impl<T: Clone> CommandClone for T {}

/// A command type that is `Debug`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is sent as a command, so it must implement `Debug`",
    label = "add `#[derive(Debug)]` to `{Self}`",
    note = "every command is `Debug`, `Clone`, `PartialEq`, `Serialize` and `Deserialize`"
)]
pub trait CommandDebug: Debug {}
#[diagnostic::do_not_recommend]
impl<T: Debug> CommandDebug for T {}

/// A command type that is `Serialize`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is sent as a command, so it must implement `Serialize`",
    label = "add `#[derive(Serialize)]` to `{Self}`",
    note = "commands wait in the outbox as JSON; every command is `Debug`, `Clone`, `PartialEq`, `Serialize` and `Deserialize`"
)]
pub trait CommandSerialize: Serialize {}
#[diagnostic::do_not_recommend]
impl<T: Serialize> CommandSerialize for T {}

/// A command type that is `Deserialize`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is sent as a command, so it must implement `Deserialize`",
    label = "add `#[derive(Deserialize)]` to `{Self}`",
    note = "commands wait in the outbox as JSON; every command is `Debug`, `Clone`, `PartialEq`, `Serialize` and `Deserialize`"
)]
pub trait CommandDeserialize: DeserializeOwned {}
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned> CommandDeserialize for T {}

/// A field that orders deliveries (`order(Command(by = field))`): its
/// `Display` text is the ordering key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an ordering key: it must implement `Display`",
    label = "commands are ordered by the text of this field",
    note = "order by a field whose type implements `Display`, such as a `String` or an id"
)]
pub trait OrderingKey {
    /// The key: the field's text.
    fn ordering_key(&self) -> String;
}
#[diagnostic::do_not_recommend]
impl<T: std::fmt::Display + ?Sized> OrderingKey for T {
    fn ordering_key(&self) -> String {
        self.to_string()
    }
}
