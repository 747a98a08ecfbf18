//! Procedural macros of `pm-core`: `#[process_manager]` (with `#[on]`,
//! `#[timeout]` and `#[sends]` inside it) and `#[derive(Event, Timeout,
//! State)]`. Use them through `pm_core`, which re-exports them with their
//! documentation, the syntax reference.
//!
//! The attribute macro runs in three phases, each in its own module:
//! parse (`attr`, `ast`), lower to one transition table (`lower`), check
//! (`check`), expand (`expand`), sharing one error collector (`ctxt`) so
//! that every mistake is reported at once.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![doc(test(attr(deny(warnings))))]

mod ast;
mod attr;
mod check;
mod ctxt;
mod enum_shape;
mod event;
mod expand;
mod fallback;
mod lower;
mod misplaced;
mod prop;
mod state;
mod suggest;
mod symbol;
mod timeout;

use proc_macro::TokenStream;

#[doc = include_str!("../docs/process_manager.md")]
#[proc_macro_attribute]
pub fn process_manager(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::process_manager(args.into(), input.into()).into()
}

#[doc = include_str!("../docs/on.md")]
#[proc_macro_attribute]
pub fn on(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced::handler_attribute("on", input.into()).into()
}

#[doc = include_str!("../docs/timeout.md")]
#[proc_macro_attribute]
pub fn timeout(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced::handler_attribute("timeout", input.into()).into()
}

#[doc = include_str!("../docs/sends.md")]
#[proc_macro_attribute]
pub fn sends(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced::handler_attribute("sends", input.into()).into()
}

#[doc = include_str!("../docs/derive_event.md")]
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    event::derive(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}

#[doc = include_str!("../docs/derive_state.md")]
#[proc_macro_derive(State, attributes(state))]
pub fn derive_state(input: TokenStream) -> TokenStream {
    state::derive(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}

#[doc = include_str!("../docs/derive_timeout.md")]
#[proc_macro_derive(Timeout)]
pub fn derive_timeout(input: TokenStream) -> TokenStream {
    timeout::derive(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}
