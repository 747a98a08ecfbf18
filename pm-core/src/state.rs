//! The states of a process with `state = ..`: the [`State`] trait that
//! `#[derive(State)]` implements on a fieldless enum.

/// An enum of the states a process can be in; each variant is one state.
///
/// Derive it with `#[derive(State)]` on an enum of unit variants, marking the
/// state of a new instance with `#[default]` (with `#[derive(Default)]`),
/// the states where the process ends with `#[state(final)]`, and states kept
/// only so that stored instances of an older version still load with
/// `#[state(legacy)]`.
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

    /// The final states (`#[state(final)]`): entering one completes the
    /// instance.
    const FINAL: &'static [&'static str] = &[];

    /// The states kept for stored instances of an older version
    /// (`#[state(legacy)]`): the build does not require that a handler
    /// leads to them.
    const LEGACY: &'static [&'static str] = &[];

    #[doc(hidden)]
    /// Set by the stand-in impl the derive emits after an error in the
    /// enum, so that the process's checks do not report what follows from
    /// that error.
    const STAND_IN: bool = false;

    /// This state's name.
    fn name(&self) -> &'static str;

    /// Whether this state is final.
    fn is_final(&self) -> bool {
        Self::FINAL.contains(&self.name())
    }
}
