//! Questions asked of the model, shared by the checks and the expansion.

use proc_macro2::TokenStream;
use quote::quote;
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

    /// Handlers that share their name with a helper method of the impl
    /// block, or with an earlier handler.
    pub(crate) fn clashing_handlers(&self) -> Vec<&Handler<'_>> {
        let methods: Vec<&syn::ImplItemFn> = self
            .original
            .items
            .iter()
            .filter_map(|item| match item {
                syn::ImplItem::Fn(method) => Some(method),
                _ => None,
            })
            .collect();
        let is_handler = |method: &syn::ImplItemFn| {
            self.handlers
                .iter()
                .any(|handler| std::ptr::eq(handler.original, method))
        };
        self.handlers
            .iter()
            .filter(|handler| {
                let at = methods
                    .iter()
                    .position(|method| std::ptr::eq(*method, handler.original));
                methods.iter().enumerate().any(|(index, method)| {
                    Some(index) != at
                        && method.sig.ident == *handler.name()
                        && (Some(index) < at || !is_handler(method))
                })
            })
            .collect()
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
        let helpers = self.helpers.iter().flat_map(|helper| &helper.sends);
        for path in self
            .handlers
            .iter()
            .flat_map(|handler| handler.sends())
            .chain(helpers)
        {
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

    /// The instance id type: `id = ..`, or `String` without it.
    pub(crate) fn id_type(&self) -> TokenStream {
        self.attr
            .id
            .as_ref()
            .map_or_else(|| quote!(::std::string::String), |id| quote!(#id))
    }
}

impl Process<'_> {
    /// The module of the handlers' marker types: `<process>_handlers`, in
    /// snake case, so that a marker that rustc must name reads as the
    /// handler it stands for (`batch_handlers::failed`, or just `failed`).
    pub(crate) fn marker_module(&self) -> Ident {
        quote::format_ident!("{}_handlers", snake_case(&self.ident.to_string()))
    }
}

impl Handler<'_> {
    /// The marker type that carries this handler's `sends(..)`: a type
    /// named like the handler, in the process's marker module.
    pub(crate) fn marker(&self, module: &Ident) -> syn::Path {
        let name = self.name();
        syn::parse_quote!(#module::#name)
    }
}

/// `BookingProcess` -> `booking_process`.
fn snake_case(camel: &str) -> String {
    let mut snake = String::with_capacity(camel.len() + 4);
    for (index, character) in camel.chars().enumerate() {
        if character.is_uppercase() {
            if index > 0 {
                snake.push('_');
            }
            snake.extend(character.to_lowercase());
        } else {
            snake.push(character);
        }
    }
    snake
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

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn process_names_become_snake_case() {
        assert_eq!(snake_case("BookingProcess"), "booking_process");
        assert_eq!(snake_case("Batch"), "batch");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }
}
