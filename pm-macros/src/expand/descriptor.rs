//! The static `pm_core::descriptor::Descriptor` of a process, for tooling.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::{path_string, Handler, Process};
use crate::attr::Correlate;
use crate::expand::reach::reach_const;
use crate::expand::state_table;
use crate::lower::Table;
use crate::prop::{command_variant, variant_of};

pub(super) fn expand_descriptor(process: &Process<'_>, table: &Table<'_, '_>) -> TokenStream {
    let attr = &process.attr;
    let name = attr
        .name
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_default();
    let id_type = attr
        .id
        .as_ref()
        .map(|id| quote!(#id).to_string().replace(' ', ""))
        .unwrap_or_default();
    let subscriptions = attr.subscribe.iter().map(|path| {
        let written = path_string(path);
        quote! {
            ::pm_core::descriptor::Subscription {
                event_enum: #written,
                family: <#path as ::pm_core::Event>::FAMILY,
            }
        }
    });
    let handlers = table.handlers.iter().copied().map(expand_handler_info);
    let ignored = table.ignores.iter().map(|entry| {
        let trigger = path_string(&entry.path);
        let states = state_names(&entry.states);
        let except = entry.except;
        quote!(::pm_core::descriptor::IgnoredInfo { trigger: #trigger, states: &[#(#states),*], except: #except })
    });
    let (state, advisories) = match &attr.state {
        Some(field) => {
            let field_name = field.to_string();
            let table = state_table(process, field);
            let self_ty = &process.original.self_ty;
            let reach = quote!(::pm_core::__private::reach);
            let reach_const = reach_const(field.span());
            let advisories = quote! {
                const TABLE: ::pm_core::__private::StateTable = #table;
                const REACH: #reach::Reach = <#self_ty>::#reach_const;
                const WAITING: usize = #reach::count(REACH.waits_on_events);
                const WAITS: [&str; WAITING] = #reach::names::<WAITING>(TABLE.variants, REACH.waits_on_events);
            };
            let state = quote! {
                ::core::option::Option::Some(::pm_core::descriptor::StateInfo {
                    field: #field_name,
                    enum_name: TABLE.name,
                    states: TABLE.variants,
                    initial: TABLE.initial,
                    finals: TABLE.finals,
                    legacy: TABLE.legacy,
                    advisories: ::pm_core::descriptor::Advisories {
                        waits_on_events: &WAITS,
                        finishes_by_timeouts: REACH.finishes_by_timeouts,
                    },
                })
            };
            (state, advisories)
        }
        None => (quote!(::core::option::Option::None), TokenStream::new()),
    };
    let timeout_type = match &attr.timeouts {
        Some(path) => {
            let written = path_string(path);
            quote!(::core::option::Option::Some(#written))
        }
        None => quote!(::core::option::Option::None),
    };
    let commands = process
        .all_commands()
        .into_iter()
        .filter_map(command_variant)
        .map(ToString::to_string);
    quote! {
        #advisories
        static DESCRIPTOR: ::pm_core::descriptor::Descriptor = ::pm_core::descriptor::Descriptor {
            name: #name,
            id_type: #id_type,
            subscriptions: &[#(#subscriptions),*],
            state: #state,
            handlers: &[#(#handlers),*],
            ignored: &[#(#ignored),*],
            timeout_type: #timeout_type,
            commands: &[#(#commands),*],
        };
        &DESCRIPTOR
    }
}

fn expand_handler_info(handler: &Handler<'_>) -> TokenStream {
    let method = handler.name().to_string();
    let path = handler.path().map(path_string).unwrap_or_default();
    let (trigger, starts, correlation) = match handler.on() {
        Some(on) => {
            let correlation = match &on.correlate {
                None => quote!(::pm_core::descriptor::Correlation::StreamId),
                Some(Correlate::Field(field)) => {
                    let field = field.to_string();
                    quote!(::pm_core::descriptor::Correlation::Field(#field))
                }
                Some(Correlate::Function(function)) => {
                    let function = path_string(function);
                    quote!(::pm_core::descriptor::Correlation::Function(#function))
                }
            };
            (
                quote!(::pm_core::descriptor::Trigger::Event(#path)),
                on.start.is_some(),
                correlation,
            )
        }
        None => (
            quote!(::pm_core::descriptor::Trigger::Timeout(#path)),
            false,
            quote!(::pm_core::descriptor::Correlation::Instance),
        ),
    };
    let sends = handler
        .sends()
        .iter()
        .filter_map(command_variant)
        .map(ToString::to_string);
    let from = state_names(&handler.states().from);
    let to = state_names(&handler.states().to);
    quote! {
        ::pm_core::descriptor::HandlerInfo {
            method: #method,
            trigger: #trigger,
            starts: #starts,
            correlation: #correlation,
            sends: &[#(#sends),*],
            from: &[#(#from),*],
            to: &[#(#to),*],
        }
    }
}

/// State variant names of `State::Variant` paths.
fn state_names(paths: &[syn::Path]) -> Vec<String> {
    paths
        .iter()
        .filter_map(variant_of)
        .map(ToString::to_string)
        .collect()
}
