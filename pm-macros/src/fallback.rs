//! What to emit after an error: the errors, plus enough of the expansion
//! that the rest of the user's code still compiles, so they see only the
//! real mistakes (after thiserror's `fallback`).

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::ast::Process;
use crate::expand::{expand_command_enum, expand_exhaustive_checks, rewrite_impl, ContextMarker};
use crate::lower::Table;
use crate::prop::{command_variant, enum_of};

/// The errors, the impl block (handlers may send anything, so no second
/// round of undeclared-command errors), the command enum, a stub
/// `ProcessManager` impl, and the missing-handler checks, which still
/// report in the same build.
pub(crate) fn expand(
    process: &Process<'_>,
    table: &Table<'_, '_>,
    errors: TokenStream,
) -> TokenStream {
    let impl_block = rewrite_impl(process, ContextMarker::AnyCommand);
    let self_ty = &process.original.self_ty;
    let id = process.id_type();
    // Without `timeouts(..)`, the enum of a `#[timeout(..)]` handler, so
    // its `cx.schedule(..)` calls type-check and only the real error shows.
    let timeout = process
        .attr
        .timeouts
        .clone()
        .or_else(|| {
            process
                .timeout_handlers()
                .find_map(|handler| handler.path().and_then(enum_of))
        })
        .map_or_else(|| quote!(::pm_core::NoTimeout), |path| quote!(#path));
    let checks = expand_exhaustive_checks(process, table);
    // The command enum too, unless its variant names clash, so that code
    // naming it elsewhere does not fail for a reason that is not the user's.
    let (commands, command_type) = if has_unique_command_names(process) {
        let name = process.command_enum();
        (expand_command_enum(process), quote!(#name))
    } else {
        (
            TokenStream::new(),
            quote!(::pm_core::__private::FallbackCommand),
        )
    };
    // `cx.complete()` compiles without states, as in the real expansion.
    let without_states = process
        .attr
        .state
        .is_none()
        .then(|| quote!(impl ::pm_core::WithoutStates for #self_ty {}));
    quote! {
        #errors
        #impl_block
        #commands
        #without_states

        impl ::pm_core::ProcessManager for #self_ty {
            type Id = #id;
            type Event = ();
            type Command = #command_type;
            type Timeout = #timeout;

            const NAME: &'static str = "";

            fn descriptor() -> &'static ::pm_core::descriptor::Descriptor {
                ::core::unreachable!()
            }

            fn route(_: &::pm_core::RecordedEvent) -> ::pm_core::__private::Routed<Self> {
                ::core::unreachable!()
            }

            fn handle(&mut self, _: &Self::Event, _: &Self::Id, _: ::pm_core::__private::Now) -> ::pm_core::__private::Outcome<Self> {
                ::core::unreachable!()
            }

            fn on_timeout(&mut self, _: Self::Timeout, _: &Self::Id, _: ::pm_core::__private::Now) -> ::pm_core::__private::Outcome<Self> {
                ::core::unreachable!()
            }
        }

        #checks
    }
}

/// Input that is not an impl block: the original tokens (so the IDE and
/// rustc still see the user's code) plus the error.
pub(crate) fn unparseable(input: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        Span::call_site(),
        "`#[process_manager]` goes on an `impl` block of the process struct, such as `impl BookingProcess { .. }`",
    )
    .to_compile_error();
    quote!(#input #error)
}

/// Whether no two declared command types share a last path segment (the
/// command enum's variant name).
fn has_unique_command_names(process: &Process<'_>) -> bool {
    let names: Vec<String> = process
        .all_commands()
        .into_iter()
        .filter_map(command_variant)
        .map(ToString::to_string)
        .collect();
    names
        .iter()
        .enumerate()
        .all(|(index, name)| !names[..index].contains(name))
}
