//! Timeout kinds: the [`Timeout`] trait that `#[derive(Timeout)]` implements.

use std::fmt::Debug;

use crate::event::VariantInfo;

/// An enum of the timeouts a process can schedule; each variant is one kind.
///
/// Derive it with `#[derive(Timeout)]` on an enum of unit variants. An
/// instance has at most one pending timeout of each kind: scheduling a kind
/// again moves it. Keep any data a timeout needs in the process state.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a timeout enum",
    label = "add `#[derive(Timeout)]` to `{Self}`",
    note = "the enum in `timeouts(..)` needs `#[derive(Timeout)]`"
)]
pub trait Timeout: Copy + Debug + PartialEq + Send + Sync + 'static {
    #[doc(hidden)]
    /// One entry per variant, in declaration order (used by the compile-time checks).
    const VARIANTS: &'static [VariantInfo];

    /// The stable name stored with a scheduled timeout.
    fn name(&self) -> &'static str;

    /// The kind with the given stored name.
    fn from_name(name: &str) -> Option<Self>;
}

/// The timeout type of a process that declares no `timeouts(..)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoTimeout {}

impl Timeout for NoTimeout {
    const VARIANTS: &'static [VariantInfo] = &[];

    fn name(&self) -> &'static str {
        match *self {}
    }

    fn from_name(_: &str) -> Option<Self> {
        None
    }
}
