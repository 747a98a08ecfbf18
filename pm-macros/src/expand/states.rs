//! Compile-time checks of the states a process names: every state in
//! `in(..)`, `to(..)` and `ignore(..)` exists, and no (state, event) pair is
//! covered twice. Only the compiler knows the state enum's variants, so
//! these checks are generated code spanned on the user's tokens.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Path;

use crate::ast::Process;
use crate::check::overlapping_covers;
use crate::expand::exhaustive::state_table;
use crate::lower::Row;
use crate::prop::variant_of;

/// The state enum's variant names and name as const expressions (none and
/// `""` without `state = field`).
pub(crate) struct StateExprs {
    /// `&[&str]`: the states.
    pub(crate) names: TokenStream,
    /// `&str`: the enum's name.
    pub(crate) enum_name: TokenStream,
}

impl StateExprs {
    pub(crate) fn of(process: &Process<'_>) -> Self {
        match &process.attr.state {
            Some(field) => {
                let table = state_table(process, field);
                StateExprs {
                    names: quote_spanned!(field.span()=> #table.variants),
                    enum_name: quote_spanned!(field.span()=> #table.name),
                }
            }
            None => StateExprs {
                names: quote!(&[]),
                enum_name: quote!(""),
            },
        }
    }
}

/// Two covers of one variant that may share a state: an error if they do,
/// in the first state they share, unless either names a state the enum
/// does not have (that is reported where it is written).
pub(crate) fn expand_overlap_checks(
    process: &Process<'_>,
    rows: &[Row<'_, '_>],
    states: &StateExprs,
) -> TokenStream {
    if process.attr.state.is_none() {
        // `in(..)` without `state = field` is reported by the checks.
        return TokenStream::new();
    }
    let StateExprs { names, enum_name } = states;
    rows.iter()
        .flat_map(overlapping_covers)
        .filter_map(|overlapping| {
            let candidates = overlapping.states?;
            let listed = &overlapping.listed;
            let (before, after) = (&overlapping.before_state, &overlapping.after_state);
            let panic = panic_over(
                overlapping.at,
                quote!(::pm_core::__private::message(bytes.split_at(length).0)),
            );
            Some(quote_spanned! {overlapping.at.span()=>
                const _: () = {
                    const STATES: &[&str] = #names;
                    const STATE_ENUM: &str = #enum_name;
                    if let ::core::option::Option::Some(state) = ::pm_core::__private::first_shared_state(
                        &[#(#candidates),*],
                        &[#(#listed),*],
                        STATES,
                    ) {
                        let (bytes, length) = ::pm_core::__private::concat(&[
                            #before, " in state `", STATE_ENUM, "::", state, "`", #after,
                        ]);
                        #panic
                    }
                };
            })
        })
        .collect()
}

/// Every state in `in(..)`, `to(..)` and `ignore(.. in(..))` must be a
/// variant of the state field's enum. A qualified path (`Stage::New`) is
/// checked as a pattern, spanned on it, so rustc says so at the user's token
/// (and suggests a near name); a bare name (`New`) is checked by name, since
/// as a pattern it would be a new binding unless imported, and handlers
/// match states by name anyway, so bare names need no `use Stage::*`.
pub(crate) fn expand_state_path_checks(process: &Process<'_>, states: &StateExprs) -> TokenStream {
    let Some(field) = &process.attr.state else {
        return TokenStream::new();
    };
    let self_ty = &process.original.self_ty;
    let handler_states = process
        .handlers
        .iter()
        .flat_map(|handler| handler.states().from.iter().chain(&handler.states().to));
    let ignore_states = process.attr.ignore.iter().flat_map(|entry| &entry.states);
    let all: Vec<&Path> = handler_states.chain(ignore_states).collect();
    let patterns = all
        .iter()
        .filter(|path| path.segments.len() > 1)
        .map(|path| quote_spanned!(path.span()=> let _ = ::core::matches!(process.#field, #path);));
    let mut bare_seen: Vec<String> = Vec::new();
    let StateExprs { names, enum_name } = states;
    let bare_checks = all
        .iter()
        .filter(|path| path.segments.len() == 1)
        .filter_map(|path| {
            let name = variant_of(path)?.to_string();
            if bare_seen.contains(&name) {
                return None;
            }
            bare_seen.push(name.clone());
            let before = format!("`{name}` is not a state of `");
            Some(quote_spanned! {path.span()=>
                const _: () = {
                    const STATES: &[&str] = #names;
                    if !::pm_core::__private::contains_str(STATES, #name) {
                        let (bytes, length) = ::pm_core::__private::concat_list(
                            &[#before, #enum_name, "`; its states are "],
                            STATES,
                        );
                        ::core::panic!("{}", ::pm_core::__private::message(bytes.split_at(length).0));
                    }
                };
            })
        })
        .collect::<Vec<_>>();
    quote! {
        const _: fn(&#self_ty) = |process: &#self_ty| {
            let _ = &process.#field;
            #(#patterns)*
        };
        #(#bare_checks)*
    }
}

/// `::core::panic!("{}", message);`, spanning `tokens` from their first to
/// their last token, so that rustc underlines all of them (on stable a
/// span cannot be joined, but an invocation spans its path to its
/// parentheses).
pub(crate) fn panic_over(tokens: &impl ToTokens, message: TokenStream) -> TokenStream {
    let mut all = tokens.to_token_stream().into_iter();
    let first = all
        .next()
        .map_or_else(Span::call_site, |token| token.span());
    let last = all.last().map_or(first, |token| token.span());
    let mut arguments = Group::new(Delimiter::Parenthesis, quote!("{}", #message));
    arguments.set_span(last);
    quote_spanned!(first=> ::core::panic! #arguments;)
}
