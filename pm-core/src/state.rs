//! The states of a process with `state = ..`: the [`State`] trait that
//! `#[derive(State)]` implements on a fieldless enum.

/// An enum of the states a process can be in; each variant is one state.
///
/// Derive it with `#[derive(State)]` on an enum of unit variants, marking the
/// state of a new instance with `#[default]` (with `#[derive(Default)]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a state enum",
    label = "the field named by `state = ..` must hold a state enum",
    note = "add `#[derive(State)]` to `{Self}`"
)]
pub trait State: Send + Sync + 'static {
    /// The enum's name.
    const NAME: &'static str;

    /// Every state's name, in declaration order.
    const VARIANTS: &'static [&'static str];

    /// The state of a new instance, if marked with `#[default]`.
    const INITIAL: Option<&'static str>;

    /// This state's name.
    fn name(&self) -> &'static str;
}
