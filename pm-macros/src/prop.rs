//! Questions asked of the model, shared by the checks and the expansion.

use syn::{Ident, Path};

use crate::ast::{path_string, Handler, Process};

impl Process<'_> {
    /// The event handlers, in source order.
    pub(crate) fn event_handlers(&self) -> impl Iterator<Item = &Handler<'_>> {
        self.handlers
            .iter()
            .filter(|handler| handler.is_event_handler())
    }

    /// The timeout handlers, in source order.
    pub(crate) fn timeout_handlers(&self) -> impl Iterator<Item = &Handler<'_>> {
        self.handlers
            .iter()
            .filter(|handler| !handler.is_event_handler())
    }

    /// Whether some handler is marked `start`.
    pub(crate) fn has_start_handler(&self) -> bool {
        self.event_handlers()
            .any(|handler| handler.on().is_some_and(|on| on.start.is_some()))
    }

    /// Every command type any handler declares, first occurrence first,
    /// without repeats.
    pub(crate) fn all_commands(&self) -> Vec<&Path> {
        let mut seen = Vec::new();
        let mut commands = Vec::new();
        for path in self.handlers.iter().flat_map(|handler| handler.sends()) {
            let key = path_string(path);
            if !seen.contains(&key) {
                seen.push(key);
                commands.push(path);
            }
        }
        commands
    }

    /// The index in `subscribe(..)` of the enum `path` (`Enum::Variant`)
    /// belongs to.
    pub(crate) fn subscription_of(&self, path: &Path) -> Option<usize> {
        let enum_path = enum_of(path)?;
        let written = path_string(&enum_path);
        let last = enum_path.segments.last().map(|segment| &segment.ident);
        self.attr
            .subscribe
            .iter()
            .position(|subscribed| path_string(subscribed) == written)
            .or_else(|| {
                self.attr.subscribe.iter().position(|subscribed| {
                    subscribed.segments.last().map(|segment| &segment.ident) == last
                })
            })
    }

    /// Whether `path` (`Enum::Variant`) names a variant of the timeouts enum.
    pub(crate) fn is_timeout_kind(&self, path: &Path) -> bool {
        let (Some(timeouts), Some(enum_path)) = (&self.attr.timeouts, enum_of(path)) else {
            return false;
        };
        path_string(timeouts) == path_string(&enum_path)
            || timeouts.segments.last().map(|segment| &segment.ident)
                == enum_path.segments.last().map(|segment| &segment.ident)
    }

    /// The generated command enum's name: `<Process>Command`.
    pub(crate) fn command_enum(&self) -> Ident {
        quote::format_ident!("{}Command", self.ident)
    }

    /// The generated (hidden) enum of decoded subscribed events.
    pub(crate) fn event_enum(&self) -> Ident {
        quote::format_ident!("__Pm{}Events", self.ident)
    }
}

impl Handler<'_> {
    /// The marker type that carries this handler's `sends(..)`.
    pub(crate) fn marker(&self, process: &Ident) -> Ident {
        quote::format_ident!("__Pm{}_{}", process, self.name())
    }
}

/// `Enum` of `Enum::Variant`.
pub(crate) fn enum_of(path: &Path) -> Option<Path> {
    if path.segments.len() < 2 {
        return None;
    }
    let mut enum_path = path.clone();
    enum_path.segments.pop();
    enum_path.segments.pop_punct();
    Some(enum_path)
}

/// `Variant` of `Enum::Variant`.
pub(crate) fn variant_of(path: &Path) -> Option<&Ident> {
    path.segments.last().map(|segment| &segment.ident)
}

/// The command enum's variant for a command type: its last path segment.
pub(crate) fn command_variant(path: &Path) -> Option<&Ident> {
    path.segments.last().map(|segment| &segment.ident)
}
