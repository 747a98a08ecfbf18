//! Code generation for `#[process_manager]`: one function per generated
//! item, joined here.

mod command;
mod descriptor;
pub(crate) mod exhaustive;
mod reach;
pub(crate) mod router;
mod sends;
mod states;
mod strip;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Process;
use crate::check;
use crate::ctxt::Ctxt;
use crate::fallback;
use crate::lower::{lower, Table};

pub(crate) use command::expand_command_enum;
pub(crate) use exhaustive::{expand_exhaustive_checks, state_table};
pub(crate) use strip::{rewrite_impl, strip_attributes, ContextMarker};

/// The whole attribute macro: parse, lower, check, then expand or fall
/// back.
pub(crate) fn process_manager(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: syn::ItemImpl = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => return fallback::unparseable(input),
    };
    let cx = Ctxt::new();
    let Some(process) = Process::from_syn(&cx, args, &item) else {
        let errors = cx.check().unwrap_or_default();
        let item = strip_attributes(&item);
        return quote!(#item #errors);
    };
    let table = lower(&process);
    check::check(&cx, &process, &table);
    match cx.check() {
        Some(errors) => fallback::expand(&process, &table, errors),
        None => expand(&process, &table),
    }
}

fn expand(process: &Process<'_>, table: &Table<'_, '_>) -> TokenStream {
    let impl_block = rewrite_impl(process, ContextMarker::PerHandler);
    let markers = sends::expand_markers(process);
    let commands = command::expand_command_enum(process);
    let events = router::expand_event_enum(process);
    let descriptor = descriptor::expand_descriptor(process, table);
    let process_impl = router::expand_process_impl(process, table, descriptor);
    let checks = expand_exhaustive_checks(process, table);
    quote! {
        #impl_block
        #markers
        #commands
        #events
        #process_impl
        #checks
    }
}
