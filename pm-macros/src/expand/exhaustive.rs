//! The compile-time check that every variant of every subscribed enum (and
//! of the timeouts enum) is handled or ignored, in every state when the
//! process declares states.
//!
//! The macro cannot see the enums' variants or states, so it asks the
//! compiler: the derives publish each variant's name and a ready-made error
//! message (`VARIANTS`), and one anonymous const per variant index fails
//! evaluation with a message naming the variant (and the state it is
//! missing in) when it is not covered. A const per index, rather than one
//! loop, makes every missing variant its own error; all are spanned on the
//! enum's entry in `subscribe(..)` or `timeouts(..)`. The consts are
//! anonymous (`const _`), so rustc's label names nothing the user did not
//! write.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Path;

use crate::ast::{path_string, Process};
use crate::expand::reach::expand_reach_checks;
use crate::expand::states::{expand_overlap_checks, expand_state_path_checks, StateExprs};
use crate::lower::{Group, Row, Table};
use crate::prop::variant_of;

/// The most variants an enum may have and still be checked one by one.
const MAX_VARIANTS: usize = 64;

/// Every const check of the process.
pub(crate) fn expand_exhaustive_checks(
    process: &Process<'_>,
    table: &Table<'_, '_>,
) -> TokenStream {
    let rows = &table.rows;
    let states = StateExprs::of(process);
    let mut checks = TokenStream::new();
    for (index, enum_path) in process.attr.subscribe.iter().enumerate() {
        // A repeated entry is reported by the checks; its handlers are
        // grouped under the first one.
        let repeated = process.attr.subscribe[..index]
            .iter()
            .any(|earlier| path_string(earlier) == path_string(enum_path));
        if repeated {
            continue;
        }
        let group = Group::Event(index);
        checks.extend(expand_enum_check(enum_path, rows, group, &states));
    }
    if let Some(timeouts) = &process.attr.timeouts {
        checks.extend(expand_enum_check(timeouts, rows, Group::Timeout, &states));
    }
    checks.extend(expand_overlap_checks(process, rows, &states));
    checks.extend(expand_state_path_checks(process, &states));
    checks.extend(expand_reach_checks(process));
    checks
}

/// `StateTable` of the state field, spanned on the field's name so that a
/// field whose type is not a state enum is reported there.
pub(crate) fn state_table(process: &Process<'_>, field: &syn::Ident) -> TokenStream {
    let self_ty = &process.original.self_ty;
    quote_spanned!(field.span()=> ::pm_core::__private::state_table(|process: &#self_ty| &process.#field))
}

/// `("Variant", &["State", ..], except)` per handler and ignore entry of a group.
fn covers_of(rows: &[Row<'_, '_>], group: Group) -> Vec<TokenStream> {
    rows.iter()
        .filter(|row| row.group == group)
        .flat_map(|row| {
            let variant = row.variant.to_string();
            row.covers().into_iter().map(move |cover| {
                let set = cover.states();
                let except = set.is_except();
                let states = set
                    .listed()
                    .iter()
                    .filter_map(variant_of)
                    .map(ToString::to_string);
                quote!((#variant, &[#(#states),*], #except))
            })
        })
        .collect()
}

/// `("Variant", "`a` or `b`")` per variant of a group that has handlers,
/// for the fix in a missing-state message.
fn handlers_of(rows: &[Row<'_, '_>], group: Group) -> Vec<TokenStream> {
    rows.iter()
        .filter(|row| row.group == group && !row.handlers.is_empty())
        .map(|row| {
            let variant = row.variant.to_string();
            let names = row
                .handlers
                .iter()
                .map(|handler| format!("`{}`", handler.name()))
                .collect::<Vec<_>>()
                .join(" or ");
            quote!((#variant, #names))
        })
        .collect()
}

fn expand_enum_check(
    enum_path: &Path,
    rows: &[Row<'_, '_>],
    group: Group,
    states: &StateExprs,
) -> TokenStream {
    let span = enum_path.span();
    let written = path_string(enum_path);
    let covers = covers_of(rows, group);
    let handlers = handlers_of(rows, group);
    let (trait_path, what, attribute) = match group {
        Group::Event(_) => (quote_spanned!(span=> ::pm_core::Event), "", "on"),
        Group::Timeout => (
            quote_spanned!(span=> ::pm_core::Timeout),
            "timeout ",
            "timeout",
        ),
    };
    let StateExprs {
        names: state_names,
        enum_name: state_enum,
    } = states;
    let mut checks = TokenStream::new();
    for index in 0..MAX_VARIANTS {
        checks.extend(quote_spanned! {span=>
            const _: () = {
                const VARIANTS: &[::pm_core::__private::VariantInfo] = <#enum_path as #trait_path>::VARIANTS;
                const STATES: &[&str] = #state_names;
                const STATE_ENUM: &str = #state_enum;
                const COVERS: &[(&str, &[&str], bool)] = &[#(#covers),*];
                const HANDLERS: &[(&str, &str)] = &[#(#handlers),*];
                if #index < VARIANTS.len() {
                    let variant = VARIANTS[#index].name;
                    match ::pm_core::__private::coverage(variant, COVERS, STATES) {
                        ::pm_core::__private::Coverage::Full => {}
                        ::pm_core::__private::Coverage::NoHandler => {
                            ::core::panic!("{}", VARIANTS[#index].unhandled);
                        }
                        ::pm_core::__private::Coverage::MissingState(state) => {
                            let state = STATES[state];
                            let handlers = ::pm_core::__private::handlers_of(variant, HANDLERS);
                            let (bytes, length) = if handlers.is_empty() {
                                ::pm_core::__private::concat(&[
                                    #what, "`", #written, "::", variant, "` has no handler in state `",
                                    STATE_ENUM, "::", state, "`; add a method with `#[", #attribute, "(",
                                    #written, "::", variant, ", in(", STATE_ENUM, "::", state,
                                    "))]`, or let `ignore(..)` cover that state too",
                                ])
                            } else {
                                ::pm_core::__private::concat(&[
                                    #what, "`", #written, "::", variant, "` has no handler in state `",
                                    STATE_ENUM, "::", state, "`; add `", STATE_ENUM, "::", state,
                                    "` to the `in(..)` of ", handlers, ", or `", #written, "::", variant,
                                    " in(", STATE_ENUM, "::", state, ")` to `ignore(..)`",
                                ])
                            };
                            ::core::panic!("{}", ::pm_core::__private::message(bytes.split_at(length).0));
                        }
                    }
                }
            };
        });
    }
    let too_many = format!(
        "`{written}` has more than {MAX_VARIANTS} variants, more than a process can check; split the enum"
    );
    checks.extend(quote_spanned! {span=>
        const _: () = {
            if <#enum_path as #trait_path>::VARIANTS.len() > #MAX_VARIANTS {
                ::core::panic!(#too_many);
            }
        };
    });
    checks
}
