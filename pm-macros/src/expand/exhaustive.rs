//! The compile-time check that every variant of every subscribed enum (and
//! of the timeouts enum) is handled or ignored, in every state when the
//! process declares states.
//!
//! The macro cannot see the enums' variants or states, so it asks the
//! compiler: the derives publish each variant's name and a ready-made error
//! message (`VARIANTS`), and one const item per variant index fails
//! evaluation with a message naming the variant (and the state it is
//! missing in) when it is not covered. A const per index, rather than one
//! loop, makes every missing variant its own error; all are spanned on the
//! enum's entry in `subscribe(..)` or `timeouts(..)`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Path;

use crate::ast::{path_string, Process};
use crate::lower::{lower, Group, Row};
use crate::prop::variant_of;

/// The most variants an enum may have and still be checked one by one.
const MAX_VARIANTS: usize = 64;

/// Every const check of the process.
pub(crate) fn expand_exhaustive_checks(process: &Process<'_>) -> TokenStream {
    let rows = lower(process);
    let states = states_expr(process);
    let state_enum = match &process.attr.state {
        Some(field) => {
            let table = state_table(process, field);
            quote_spanned!(field.span()=> #table.name)
        }
        None => quote!(""),
    };
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
        let covers = covers_of(&rows, Group::Event(index));
        let kind = Kind::Event;
        checks.extend(expand_enum_check(
            enum_path,
            &covers,
            &states,
            &state_enum,
            kind,
        ));
    }
    if let Some(timeouts) = &process.attr.timeouts {
        let covers = covers_of(&rows, Group::Timeout);
        checks.extend(expand_enum_check(
            timeouts,
            &covers,
            &states,
            &state_enum,
            Kind::Timeout,
        ));
    }
    checks.extend(expand_state_path_checks(process));
    checks
}

#[derive(Clone, Copy)]
enum Kind {
    Event,
    Timeout,
}

/// The states as a const expression: the state enum's variants, or none.
fn states_expr(process: &Process<'_>) -> TokenStream {
    match &process.attr.state {
        Some(field) => {
            let table = state_table(process, field);
            quote_spanned!(field.span()=> #table.variants)
        }
        None => quote!(&[]),
    }
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

fn expand_enum_check(
    enum_path: &Path,
    covers: &[TokenStream],
    states: &TokenStream,
    state_enum: &TokenStream,
    kind: Kind,
) -> TokenStream {
    let span = enum_path.span();
    let written = path_string(enum_path);
    let (trait_path, what, fix) = match kind {
        Kind::Event => (
            quote_spanned!(span=> ::pm_core::Event),
            "",
            "` to the `in(..)` of one of its handlers, or `",
        ),
        Kind::Timeout => (
            quote_spanned!(span=> ::pm_core::Timeout),
            "timeout ",
            "` to the `in(..)` of its `#[timeout(..)]`, or `",
        ),
    };
    // Named so that rustc's label reads as the rule that failed.
    let rule = match kind {
        Kind::Event => quote::format_ident!("EVERY_EVENT_IS_HANDLED_OR_IGNORED", span = span),
        Kind::Timeout => quote::format_ident!("EVERY_TIMEOUT_IS_HANDLED_OR_IGNORED", span = span),
    };
    let mut checks = TokenStream::new();
    for index in 0..MAX_VARIANTS {
        checks.extend(quote_spanned! {span=>
            const _: () = { #[allow(dead_code)] const #rule: () = {
                const VARIANTS: &[::pm_core::__private::VariantInfo] = <#enum_path as #trait_path>::VARIANTS;
                const STATES: &[&str] = #states;
                const STATE_ENUM: &str = #state_enum;
                const COVERS: &[(&str, &[&str], bool)] = &[#(#covers),*];
                if #index < VARIANTS.len() {
                    let variant = VARIANTS[#index].name;
                    match ::pm_core::__private::coverage(variant, COVERS, STATES) {
                        ::pm_core::__private::Coverage::Full => {}
                        ::pm_core::__private::Coverage::NoHandler => {
                            ::core::panic!("{}", VARIANTS[#index].unhandled);
                        }
                        ::pm_core::__private::Coverage::MissingState(state) => {
                            let state = STATES[state];
                            let (bytes, length) = ::pm_core::__private::concat(&[
                                #what, "`", #written, "::", variant, "` has no handler in state `",
                                STATE_ENUM, "::", state, "`; add `", STATE_ENUM, "::", state, #fix,
                                #written, "::", variant, " in(", STATE_ENUM, "::", state, ")` to `ignore(..)`",
                            ]);
                            ::core::panic!("{}", ::pm_core::__private::message(bytes.split_at(length).0));
                        }
                    }
                }
            }; };
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

/// Every state path in `in(..)`, `to(..)` and `ignore(.. in(..))` must be a
/// variant of the state field's enum: a pattern per path, spanned on it,
/// lets rustc say so at the user's token.
fn expand_state_path_checks(process: &Process<'_>) -> TokenStream {
    let Some(field) = &process.attr.state else {
        return TokenStream::new();
    };
    let self_ty = &process.original.self_ty;
    let handler_states = process
        .handlers
        .iter()
        .flat_map(|handler| handler.states().from.iter().chain(&handler.states().to));
    let ignore_states = process.attr.ignore.iter().flat_map(|entry| &entry.states);
    let patterns = handler_states
        .chain(ignore_states)
        .map(|path| quote_spanned!(path.span()=> let _ = ::core::matches!(process.#field, #path);));
    quote! {
        const _: fn(&#self_ty) = |process: &#self_ty| {
            let _ = &process.#field;
            #(#patterns)*
        };
    }
}
