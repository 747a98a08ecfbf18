//! Every keyword of the attribute syntax, in one place.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// A keyword of the attribute syntax.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Symbol(pub(crate) &'static str);

// `#[process_manager(..)]`
pub(crate) const NAME: Symbol = Symbol("name");
pub(crate) const ID: Symbol = Symbol("id");
pub(crate) const SUBSCRIBE: Symbol = Symbol("subscribe");
pub(crate) const IGNORE: Symbol = Symbol("ignore");
pub(crate) const TIMEOUTS: Symbol = Symbol("timeouts");
pub(crate) const STATE: Symbol = Symbol("state");
pub(crate) const VERSION: Symbol = Symbol("version");
pub(crate) const MIGRATE: Symbol = Symbol("migrate");
pub(crate) const ORDER: Symbol = Symbol("order");
pub(crate) const BY: Symbol = Symbol("by");
pub(crate) const UNORDERED: Symbol = Symbol("unordered");

// `#[on(..)]` and `#[timeout(..)]`
pub(crate) const ON: Symbol = Symbol("on");
pub(crate) const TIMEOUT: Symbol = Symbol("timeout");
pub(crate) const START: Symbol = Symbol("start");
pub(crate) const CORRELATE: Symbol = Symbol("correlate");
pub(crate) const SENDS: Symbol = Symbol("sends");
pub(crate) const IN: Symbol = Symbol("in");
pub(crate) const TO: Symbol = Symbol("to");
pub(crate) const EXCEPT: Symbol = Symbol("except");

// `#[event(..)]` on event enums and their variants
pub(crate) const EVENT: Symbol = Symbol("event");
pub(crate) const FAMILY: Symbol = Symbol("family");

// `#[state(..)]` on state variants
pub(crate) const FINAL: Symbol = Symbol("final");
pub(crate) const LEGACY: Symbol = Symbol("legacy");

// The handler's context type.
pub(crate) const CONTEXT: Symbol = Symbol("Context");

/// The keys `#[process_manager(..)]` accepts.
pub(crate) const PROCESS_KEYS: &[Symbol] = &[
    NAME, ID, SUBSCRIBE, IGNORE, TIMEOUTS, STATE, VERSION, MIGRATE, ORDER,
];
/// The keys of one command's entry in `order(..)`.
pub(crate) const ORDER_KEYS: &[Symbol] = &[BY, UNORDERED];
/// The keys `#[on(..)]` accepts besides the event.
pub(crate) const ON_KEYS: &[Symbol] = &[START, CORRELATE, SENDS, IN, TO];
/// The keys `#[timeout(..)]` accepts besides the kind.
pub(crate) const TIMEOUT_KEYS: &[Symbol] = &[SENDS, IN, TO];
/// The keys `#[event(..)]` accepts on an enum.
pub(crate) const EVENT_ENUM_KEYS: &[Symbol] = &[FAMILY];
/// The keys `#[state(..)]` accepts on a state variant.
pub(crate) const STATE_VARIANT_KEYS: &[Symbol] = &[FINAL, LEGACY];
/// The keys `#[event(..)]` accepts on a variant.
pub(crate) const EVENT_VARIANT_KEYS: &[Symbol] = &[NAME];

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}
