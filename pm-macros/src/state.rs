//! `#[derive(State)]`: the state names the transition checks and the
//! process graph read, with the initial (`#[default]`), final
//! (`#[state(final)]`) and legacy (`#[state(legacy)]`) states.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput};

use crate::attr::report_unknown_key;
use crate::ctxt::{derive_with, Ctxt};
use crate::enum_shape::{enum_data, require_unit_variants};
use crate::symbol::{FINAL, LEGACY, STATE, STATE_VARIANT_KEYS};

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    derive_with(&input, expand, fallback)
}

/// After an error: an impl naming every state, with an unreachable body, so
/// that the process using the enum reports only the real error.
fn fallback(input: &DeriveInput) -> TokenStream {
    let Data::Enum(data) = &input.data else {
        return TokenStream::new();
    };
    let enum_ident = &input.ident;
    let enum_name = enum_ident.to_string();
    let names = data
        .variants
        .iter()
        .map(|variant| variant.ident.to_string());
    quote! {
        impl ::pm_core::State for #enum_ident {
            const NAME: &'static str = #enum_name;
            const VARIANTS: &'static [&'static str] = &[#(#names),*];
            const INITIAL: ::core::option::Option<&'static str> = ::core::option::Option::None;
            const STAND_IN: bool = true;

            fn name(&self) -> &'static str {
                ::core::unreachable!()
            }
        }
    }
}

/// What `#[state(..)]` says of one variant.
#[derive(Default)]
struct Marks {
    is_final: bool,
    legacy: bool,
}

fn expand(cx: &Ctxt, input: &DeriveInput) -> TokenStream {
    let Some(data) = enum_data(
        cx,
        input,
        "`#[derive(State)]` goes on an enum of unit variants, one per state",
        "a state enum cannot be generic",
    ) else {
        return TokenStream::new();
    };
    let enum_ident = &input.ident;
    require_unit_variants(cx, data, |variant| {
        format!("state `{enum_ident}::{variant}` carries data; make it a unit variant and keep the data in other fields of the process")
    });
    let idents: Vec<&syn::Ident> = data.variants.iter().map(|variant| &variant.ident).collect();
    let names: Vec<String> = idents.iter().map(ToString::to_string).collect();
    let marks: Vec<Marks> = data
        .variants
        .iter()
        .map(|variant| parse_marks(cx, variant))
        .collect();
    let finals = names
        .iter()
        .zip(&marks)
        .filter(|(_, marks)| marks.is_final)
        .map(|(name, _)| name);
    let legacy = names
        .iter()
        .zip(&marks)
        .filter(|(_, marks)| marks.legacy)
        .map(|(name, _)| name);
    let initial = data
        .variants
        .iter()
        .find(|variant| {
            variant
                .attrs
                .iter()
                .any(|attr| attr.path().is_ident("default"))
        })
        .map(|variant| variant.ident.to_string());
    let initial = match initial {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    let enum_name = enum_ident.to_string();
    quote! {
        impl ::pm_core::State for #enum_ident {
            const NAME: &'static str = #enum_name;
            const VARIANTS: &'static [&'static str] = &[#(#names),*];
            const INITIAL: ::core::option::Option<&'static str> = #initial;
            const FINAL: &'static [&'static str] = &[#(#finals),*];
            const LEGACY: &'static [&'static str] = &[#(#legacy),*];

            fn name(&self) -> &'static str {
                match *self {
                    #(#enum_ident::#idents => #names,)*
                }
            }
        }
    }
}

/// `#[state(final)]` and `#[state(legacy)]` on one variant.
fn parse_marks(cx: &Ctxt, variant: &syn::Variant) -> Marks {
    let mut marks = Marks::default();
    for attr in variant.attrs.iter().filter(|attr| attr.path() == STATE) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path == FINAL {
                marks.is_final = true;
            } else if meta.path == LEGACY {
                marks.legacy = true;
            } else {
                report_unknown_key(cx, &meta, "#[state(..)]", STATE_VARIANT_KEYS)?;
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    marks
}
