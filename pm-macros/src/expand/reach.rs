//! The compile-time proof that a process with states can finish: every
//! state can be reached from the initial one (or is `#[state(legacy)]`),
//! no state but a final one is a dead end, no set of states only leads to
//! itself, and no handler leads out of a final state.
//!
//! Only the compiler knows the state enum, so the analysis is one const
//! (`pm_core::__private::reach::analyze`, kept as a hidden associated const
//! of the process) and each problem is an anonymous const that fails with
//! its message, spanned on where the user names the state: an unreachable
//! state where a handler applies in it, a dead end or a trap where a
//! handler leads into it, a state named nowhere on `state = field`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Path;

use crate::ast::Process;
use crate::expand::exhaustive::state_table;
use crate::prop::variant_of;

/// Where the user names a state.
#[derive(Clone, Copy, PartialEq)]
enum Mention {
    /// In a handler's `in(..)`.
    In,
    /// In a handler's `to(..)`.
    To,
    /// In an `ignore(..)` entry's states.
    Ignore,
}

/// One state name as first written in each place.
struct Named<'p> {
    name: String,
    mentions: Vec<(Mention, &'p Path)>,
}

impl<'p> Named<'p> {
    /// The first mention of one of `kinds`, in order of preference.
    fn first(&self, kinds: &[Mention]) -> Option<&'p Path> {
        kinds.iter().find_map(|kind| {
            self.mentions
                .iter()
                .find(|(mention, _)| mention == kind)
                .map(|(_, path)| *path)
        })
    }
}

/// Every check of this module, when the process declares `state = field`.
pub(crate) fn expand_reach_checks(process: &Process<'_>) -> TokenStream {
    let Some(field) = &process.attr.state else {
        return TokenStream::new();
    };
    let self_ty = &process.original.self_ty;
    let reach_const = reach_const(field.span());
    let table = state_table(process, field);
    let rules = process.handlers.iter().map(|handler| {
        let names = |paths: &[Path]| -> Vec<String> {
            paths
                .iter()
                .filter_map(variant_of)
                .map(ToString::to_string)
                .collect()
        };
        let from = names(&handler.states().from);
        let to = names(&handler.states().to);
        let timeout = !handler.is_event_handler();
        quote!((&[#(#from),*], &[#(#to),*], #timeout))
    });
    let reach = quote!(::pm_core::__private::reach);
    let analysis = quote! {
        impl #self_ty {
            #[doc(hidden)]
            const #reach_const: #reach::Reach = {
                const TABLE: ::pm_core::__private::StateTable = #table;
                #reach::analyze(&#reach::Machine {
                    states: TABLE.variants,
                    finals: TABLE.finals,
                    legacy: TABLE.legacy,
                    initial: TABLE.initial,
                    rules: &[#(#rules),*],
                })
            };
        }
    };
    let context = Context {
        self_ty: quote!(#self_ty),
        reach_const,
        table,
    };
    let named = named_states(process);
    let mut checks = analysis;
    checks.extend(expand_count_check(&context, field.span()));
    for state in &named {
        let name = &state.name;
        let unreachable_at = state.first(&[Mention::In, Mention::To, Mention::Ignore]);
        let dead_end_at = state.first(&[Mention::To, Mention::In, Mention::Ignore]);
        if let Some(at) = unreachable_at {
            checks.extend(context.check(
                at.span(),
                quote!(#reach::index_of(STATES, #name)),
                Problem::Unreachable,
            ));
        }
        if let Some(at) = dead_end_at {
            checks.extend(context.check(
                at.span(),
                quote!(#reach::index_of(STATES, #name)),
                Problem::NoWayToFinish,
            ));
        }
    }
    let names: Vec<&String> = named.iter().map(|state| &state.name).collect();
    for index in 0..MAX_STATES {
        let unnamed = quote! {
            if #index < STATES.len() && !::pm_core::__private::contains_str(&[#(#names),*], STATES[#index]) {
                ::core::option::Option::Some(#index)
            } else {
                ::core::option::Option::None
            }
        };
        checks.extend(context.check(field.span(), unnamed, Problem::Any));
    }
    checks.extend(expand_final_state_checks(process, &context));
    checks
}

/// The hidden associated const of the process that holds the analysis.
pub(super) fn reach_const(span: Span) -> syn::Ident {
    format_ident!("__PM_REACH", span = span)
}

/// The most states checked one by one (`pm_core::__private::reach::MAX_STATES`).
const MAX_STATES: usize = 64;

/// What one generated check looks for.
#[derive(Clone, Copy)]
enum Problem {
    /// The state cannot be reached.
    Unreachable,
    /// The state is a dead end or the first of a trap.
    NoWayToFinish,
    /// Any of these.
    Any,
}

/// The tokens every check reads.
struct Context {
    self_ty: TokenStream,
    reach_const: syn::Ident,
    table: TokenStream,
}

impl Context {
    /// A const that fails, spanned at `span`, when the state at index
    /// `index` (an `Option<usize>` expression) has `problem`.
    fn check(&self, span: Span, index: TokenStream, problem: Problem) -> TokenStream {
        let Context {
            self_ty,
            reach_const,
            table,
        } = self;
        let reach = quote_spanned!(span=> ::pm_core::__private::reach);
        let unreachable = quote_spanned! {span=>
            if !#reach::has(REACH.reachable, index)
                && !#reach::has(#reach::mask_of(STATES, TABLE.legacy), index)
            {
                let initial = match TABLE.initial {
                    ::core::option::Option::Some(initial) => initial,
                    ::core::option::Option::None => "",
                };
                let (bytes, length) = #reach::unreachable_message(TABLE.name, STATES, initial, index);
                ::core::panic!("{}", ::pm_core::__private::message(bytes.split_at(length).0));
            }
        };
        let no_way = quote_spanned! {span=>
            if #reach::has(REACH.dead_ends, index) {
                let (bytes, length) = #reach::dead_end_message(TABLE.name, STATES, index);
                ::core::panic!("{}", ::pm_core::__private::message(bytes.split_at(length).0));
            }
            if #reach::has(REACH.traps, index) {
                let (bytes, length) = #reach::trap_message(TABLE.name, STATES, &REACH, index);
                ::core::panic!("{}", ::pm_core::__private::message(bytes.split_at(length).0));
            }
        };
        let body = match problem {
            Problem::Unreachable => unreachable,
            Problem::NoWayToFinish => no_way,
            Problem::Any => quote_spanned!(span=> #unreachable #no_way),
        };
        quote_spanned! {span=>
            const _: () = {
                const TABLE: ::pm_core::__private::StateTable = #table;
                const STATES: &[&str] = TABLE.variants;
                const REACH: #reach::Reach = <#self_ty>::#reach_const;
                if let (false, ::core::option::Option::Some(index)) = (TABLE.stand_in, #index) {
                    #body
                }
            };
        }
    }
}

/// A state enum with more states than the analysis has bits.
fn expand_count_check(context: &Context, span: Span) -> TokenStream {
    let table = &context.table;
    let message = format!(
        "the state enum has more than {MAX_STATES} states, more than a process can check; split the process"
    );
    quote_spanned! {span=>
        const _: () = {
            const TABLE: ::pm_core::__private::StateTable = #table;
            if TABLE.variants.len() > ::pm_core::__private::reach::MAX_STATES {
                ::core::panic!(#message);
            }
        };
    }
}

/// A handler that names a final state in `in(..)` and leads elsewhere:
/// entering a final state completes the instance, so it never runs there.
fn expand_final_state_checks(process: &Process<'_>, context: &Context) -> TokenStream {
    let table = &context.table;
    let mut checks = TokenStream::new();
    for handler in &process.handlers {
        let states = handler.states();
        for from in &states.from {
            let Some(name) = variant_of(from).map(ToString::to_string) else {
                continue;
            };
            let elsewhere: Vec<String> = states
                .to
                .iter()
                .filter_map(variant_of)
                .map(ToString::to_string)
                .filter(|to| *to != name)
                .collect();
            if elsewhere.is_empty() {
                continue;
            }
            let targets = elsewhere
                .iter()
                .map(|to| format!("`{to}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let before = format!("handler `{}` leads out of final state `", handler.name());
            let after = format!(
                "` (to {targets}), but entering a final state completes the instance, so no handler runs there; remove `{name}` from its `in(..)`, or remove `#[state(final)]` from `"
            );
            checks.extend(quote_spanned! {from.span()=>
                const _: () = {
                    const TABLE: ::pm_core::__private::StateTable = #table;
                    if ::pm_core::__private::contains_str(TABLE.finals, #name) {
                        let (bytes, length) = ::pm_core::__private::concat(&[
                            #before, TABLE.name, "::", #name, #after, TABLE.name, "::", #name, "`",
                        ]);
                        ::core::panic!("{}", ::pm_core::__private::message(bytes.split_at(length).0));
                    }
                };
            });
        }
    }
    checks
}

/// Every state name the process writes, first written first.
fn named_states<'p>(process: &'p Process<'_>) -> Vec<Named<'p>> {
    let mut named: Vec<Named<'p>> = Vec::new();
    let mut add = |kind: Mention, path: &'p Path| {
        let Some(name) = variant_of(path).map(ToString::to_string) else {
            return;
        };
        match named.iter_mut().find(|state| state.name == name) {
            Some(state) => state.mentions.push((kind, path)),
            None => named.push(Named {
                name,
                mentions: vec![(kind, path)],
            }),
        }
    };
    for handler in &process.handlers {
        for path in &handler.states().from {
            add(Mention::In, path);
        }
        for path in &handler.states().to {
            add(Mention::To, path);
        }
    }
    for entry in &process.attr.ignore {
        for path in &entry.states {
            add(Mention::Ignore, path);
        }
    }
    named
}
