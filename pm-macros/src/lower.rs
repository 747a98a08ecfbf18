//! The transition table: every event and timeout variant the process names,
//! with the handlers and `ignore(..)` entries that cover it and the states
//! they cover it in. It is built once per macro call; the checks, the
//! routing, the const coverage checks and the descriptor (hence the process
//! graph) all read this one table.

use syn::{Ident, Path};

use crate::ast::{Handler, Process};
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

/// A process definition lowered to its transition table.
pub(crate) struct Table<'p, 'a> {
    /// One row per variant, in the order variants first appear.
    pub(crate) rows: Vec<Row<'p, 'a>>,
    /// Every handler the rows hold: the event handlers, then the timeout
    /// handlers, each in source order.
    pub(crate) handlers: Vec<&'p Handler<'a>>,
    /// Every `ignore(..)` entry the rows hold, in source order.
    pub(crate) ignores: Vec<&'p IgnoreEntry>,
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

/// The states a cover applies in.
#[derive(Clone, Copy)]
pub(crate) enum StateSet<'p> {
    /// Every state.
    All,
    /// These states.
    In(&'p [Path]),
    /// Every state but these.
    Except(&'p [Path]),
}

impl<'p> StateSet<'p> {
    fn of(states: &'p [Path], except: bool) -> Self {
        match (states.is_empty(), except) {
            (true, _) => StateSet::All,
            (false, false) => StateSet::In(states),
            (false, true) => StateSet::Except(states),
        }
    }

    /// The listed states (the ones covered, or the exceptions).
    pub(crate) fn listed(&self) -> &'p [Path] {
        match self {
            StateSet::All => &[],
            StateSet::In(states) | StateSet::Except(states) => states,
        }
    }

    /// Whether the listed states are the exceptions.
    pub(crate) fn is_except(&self) -> bool {
        matches!(self, StateSet::Except(_))
    }
}

impl<'p> Cover<'p, '_> {
    /// The states covered.
    pub(crate) fn states(&self) -> StateSet<'p> {
        match self {
            Cover::Handler(handler) => StateSet::of(&handler.states().from, false),
            Cover::Ignore(entry) => StateSet::of(&entry.states, entry.except),
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
pub(crate) fn lower<'p, 'a>(process: &'p Process<'a>) -> Table<'p, 'a> {
    let mut rows: Vec<Row<'p, 'a>> = Vec::new();
    let (mut event_handlers, mut timeout_handlers) = (Vec::new(), Vec::new());
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
            match group {
                Group::Event(_) => event_handlers.push(handler),
                Group::Timeout => timeout_handlers.push(handler),
            }
        }
    }
    let mut ignores = Vec::new();
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
            ignores.push(entry);
        }
    }
    event_handlers.append(&mut timeout_handlers);
    Table {
        rows,
        handlers: event_handlers,
        ignores,
    }
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

/// Where two covers of one variant overlap.
#[derive(Debug, PartialEq)]
pub(crate) enum Overlap {
    /// Nowhere.
    Disjoint,
    /// In states the macro cannot name (every state, or every state but
    /// some): certain whatever the state enum holds.
    Unnamed,
    /// In these states (variant names), if they are states of the enum:
    /// only the compiler knows, so the check is left to it (a misspelt
    /// state must not read as an overlap).
    Named(Vec<String>),
}

/// Where two covers overlap.
pub(crate) fn overlap(first: StateSet<'_>, second: StateSet<'_>) -> Overlap {
    let names = |states: &[Path]| -> Vec<String> {
        states
            .iter()
            .filter_map(variant_of)
            .map(ToString::to_string)
            .collect()
    };
    let shared = match (first, second) {
        (StateSet::In(listed), StateSet::All) | (StateSet::All, StateSet::In(listed)) => {
            names(listed)
        }
        (StateSet::In(first), StateSet::In(second)) => {
            let second = names(second);
            names(first)
                .into_iter()
                .filter(|state| second.contains(state))
                .collect()
        }
        (StateSet::In(listed), StateSet::Except(excepted))
        | (StateSet::Except(excepted), StateSet::In(listed)) => {
            let excepted = names(excepted);
            names(listed)
                .into_iter()
                .filter(|state| !excepted.contains(state))
                .collect()
        }
        _ => return Overlap::Unnamed,
    };
    if shared.is_empty() {
        Overlap::Disjoint
    } else {
        Overlap::Named(shared)
    }
}

#[cfg(test)]
mod tests {
    use super::{overlap, Overlap, StateSet};

    fn paths(names: &[&str]) -> Vec<syn::Path> {
        names
            .iter()
            .map(|name| syn::parse_str(name).expect("a path"))
            .collect()
    }

    #[test]
    fn states_compare_by_variant_name() {
        let (a, b) = (paths(&["Stage::New", "Stage::Open"]), paths(&["Open"]));
        assert_eq!(
            overlap(StateSet::In(&a), StateSet::In(&b)),
            Overlap::Named(vec!["Open".to_owned()])
        );
        assert_eq!(
            overlap(StateSet::In(&a), StateSet::Except(&a)),
            Overlap::Disjoint
        );
        assert_eq!(overlap(StateSet::All, StateSet::All), Overlap::Unnamed);
        assert_eq!(
            overlap(StateSet::All, StateSet::In(&b)),
            Overlap::Named(vec!["Open".to_owned()])
        );
    }
}
