//! The transition table: every event and timeout variant the process names,
//! with the handlers and `ignore(..)` entries that cover it and the states
//! they cover it in. The checks, the routing, the const coverage checks and
//! the descriptor (hence the process graph) all read this one table.

use syn::{Ident, Path};

use crate::ast::{path_string, Handler, Process};
use crate::attr::IgnoreEntry;
use crate::prop::variant_of;

/// Which enum a row's variant belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Group {
    /// The subscribed event enum at this index of `subscribe(..)`.
    Event(usize),
    /// The `timeouts(..)` enum.
    Timeout,
}

/// One variant and what covers it.
pub(crate) struct Row<'p, 'a> {
    /// The enum it belongs to.
    pub(crate) group: Group,
    /// The variant's name.
    pub(crate) variant: &'p Ident,
    /// The handlers of this variant, in source order.
    pub(crate) handlers: Vec<&'p Handler<'a>>,
    /// The `ignore(..)` entries of this variant.
    pub(crate) ignores: Vec<&'p IgnoreEntry>,
}

/// Who covers a variant in some states.
pub(crate) enum Cover<'p, 'a> {
    /// A handler.
    Handler(&'p Handler<'a>),
    /// An `ignore(..)` entry.
    Ignore(&'p IgnoreEntry),
}

impl Cover<'_, '_> {
    /// The states covered; empty means every state.
    pub(crate) fn states(&self) -> &[Path] {
        match self {
            Cover::Handler(handler) => &handler.states().from,
            Cover::Ignore(entry) => &entry.states,
        }
    }
}

impl<'p, 'a> Row<'p, 'a> {
    /// Handlers first, then ignore entries.
    pub(crate) fn covers(&self) -> Vec<Cover<'p, 'a>> {
        let handlers = self.handlers.iter().map(|handler| Cover::Handler(handler));
        handlers
            .chain(self.ignores.iter().map(|entry| Cover::Ignore(entry)))
            .collect()
    }

    /// The variant as first written, for messages.
    pub(crate) fn path(&self) -> Option<&'p Path> {
        self.handlers
            .first()
            .and_then(|handler| handler.path())
            .or_else(|| self.ignores.first().map(|entry| &entry.path))
    }
}

/// Groups the handlers and ignore entries of `process` by variant, in the
/// order variants first appear. Entries that belong to no known enum are
/// left out (the checks report them).
pub(crate) fn lower<'p, 'a>(process: &'p Process<'a>) -> Vec<Row<'p, 'a>> {
    let mut rows: Vec<Row<'p, 'a>> = Vec::new();
    for handler in &process.handlers {
        let Some(path) = handler.path() else {
            continue;
        };
        let group = if handler.is_event_handler() {
            process.subscription_of(path).map(Group::Event)
        } else {
            process.is_timeout_kind(path).then_some(Group::Timeout)
        };
        if let (Some(group), Some(variant)) = (group, variant_of(path)) {
            row_for(&mut rows, group, variant).handlers.push(handler);
        }
    }
    for entry in &process.attr.ignore {
        let group = process
            .subscription_of(&entry.path)
            .map(Group::Event)
            .or_else(|| {
                process
                    .is_timeout_kind(&entry.path)
                    .then_some(Group::Timeout)
            });
        if let (Some(group), Some(variant)) = (group, variant_of(&entry.path)) {
            row_for(&mut rows, group, variant).ignores.push(entry);
        }
    }
    rows
}

fn row_for<'r, 'p, 'a>(
    rows: &'r mut Vec<Row<'p, 'a>>,
    group: Group,
    variant: &'p Ident,
) -> &'r mut Row<'p, 'a> {
    let index = match rows
        .iter()
        .position(|row| row.group == group && row.variant == variant)
    {
        Some(index) => index,
        None => {
            rows.push(Row {
                group,
                variant,
                handlers: Vec::new(),
                ignores: Vec::new(),
            });
            rows.len() - 1
        }
    };
    &mut rows[index]
}

/// The states two covers share: `None` when disjoint, `Some(None)` when
/// they overlap in every state, `Some(Some(state))` for a first shared one.
pub(crate) fn overlap(first: &[Path], second: &[Path]) -> Option<Option<String>> {
    match (first.is_empty(), second.is_empty()) {
        (true, true) => Some(None),
        (true, false) => Some(Some(path_string(&second[0]))),
        (false, true) => Some(Some(path_string(&first[0]))),
        (false, false) => first
            .iter()
            .map(path_string)
            .find(|state| second.iter().any(|other| path_string(other) == *state))
            .map(Some),
    }
}
