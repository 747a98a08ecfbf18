//! Procedural macros of `pm-core`: `#[process_manager]` and
//! `#[derive(Event, Timeout, State)]`. Use them through `pm_core`, which
//! re-exports them with their documentation.
//!
//! The attribute macro runs in three phases, each in its own module:
//! parse (`attr`, `ast`), lower to one transition table (`lower`), check
//! (`check`), expand (`expand`), sharing one error collector (`ctxt`) so
//! that every mistake is reported at once.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod ast;
mod attr;
mod check;
mod ctxt;
mod event;
mod expand;
mod fallback;
mod lower;
mod prop;
mod state;
mod suggest;
mod symbol;
mod timeout;

use proc_macro::TokenStream;

/// Turns an `impl` block of handlers into a process manager.
///
/// See the `pm_core` crate documentation for the full syntax.
#[proc_macro_attribute]
pub fn process_manager(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::process_manager(args.into(), input.into()).into()
}

/// Implements `pm_core::Event` for an enum of unit and one-field variants.
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    event::derive(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}

/// Implements `pm_core::State` for an enum of unit variants.
#[proc_macro_derive(State)]
pub fn derive_state(input: TokenStream) -> TokenStream {
    state::derive(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}

/// Implements `pm_core::Timeout` for an enum of unit variants.
#[proc_macro_derive(Timeout)]
pub fn derive_timeout(input: TokenStream) -> TokenStream {
    timeout::derive(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}
