//! What to emit after an error: the errors, plus enough of the expansion
//! that the rest of the user's code still compiles, so they see only the
//! real mistakes (after thiserror's `fallback`).

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::ast::Process;
use crate::expand::{expand_exhaustive_checks, rewrite_impl, ContextMarker};

/// The errors, the impl block (handlers may send anything, so no second
/// round of undeclared-command errors), a stub `ProcessManager` impl, and
/// the missing-handler checks, which still report in the same build.
pub(crate) fn expand(process: &Process<'_>, errors: TokenStream) -> TokenStream {
    let impl_block = rewrite_impl(process, ContextMarker::AnyCommand);
    let self_ty = &process.original.self_ty;
    let id = process
        .attr
        .id
        .as_ref()
        .map_or_else(|| quote!(::std::string::String), |id| quote!(#id));
    let timeout = process
        .attr
        .timeouts
        .as_ref()
        .map_or_else(|| quote!(::pm_core::NoTimeout), |path| quote!(#path));
    let checks = expand_exhaustive_checks(process);
    quote! {
        #errors
        #impl_block

        impl ::pm_core::ProcessManager for #self_ty {
            type Id = #id;
            type Event = ();
            type Command = ::pm_core::__private::FallbackCommand;
            type Timeout = #timeout;

            const NAME: &'static str = "";

            fn descriptor() -> &'static ::pm_core::Descriptor {
                ::core::unreachable!()
            }

            fn route(_: &::pm_core::RecordedEvent) -> ::pm_core::Routed<Self> {
                ::core::unreachable!()
            }

            fn handle(&mut self, _: &Self::Event, _: &Self::Id, _: ::pm_core::Now) -> ::pm_core::Outcome<Self> {
                ::core::unreachable!()
            }

            fn on_timeout(&mut self, _: Self::Timeout, _: &Self::Id, _: ::pm_core::Now) -> ::pm_core::Outcome<Self> {
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
