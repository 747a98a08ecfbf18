//! `#[derive(Timeout)]`: stable kind names and the variant list the
//! compile-time checks read.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput};

use crate::ctxt::{derive_with, Ctxt};
use crate::enum_shape::{enum_data, require_unit_variants};

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    derive_with(&input, expand, fallback)
}

/// After an error: an impl with every variant listed and unreachable
/// bodies, so that the process using the enum reports only the real error.
fn fallback(input: &DeriveInput) -> TokenStream {
    let Data::Enum(data) = &input.data else {
        return TokenStream::new();
    };
    let enum_ident = &input.ident;
    let infos = data
        .variants
        .iter()
        .map(|variant| variant_info(enum_ident, &variant.ident.to_string()));
    quote! {
        impl ::pm_core::Timeout for #enum_ident {
            const VARIANTS: &'static [::pm_core::__private::VariantInfo] = &[#(#infos),*];

            fn name(&self) -> &'static str {
                ::core::unreachable!()
            }

            fn from_name(_: &str) -> ::core::option::Option<Self> {
                ::core::unreachable!()
            }
        }
    }
}

/// The `VariantInfo` of one kind, with the build error shown when a process
/// has no handler for it.
fn variant_info(enum_ident: &syn::Ident, name: &str) -> TokenStream {
    let unhandled = format!("timeout `{enum_ident}::{name}` has no handler; add a method with `#[timeout({enum_ident}::{name})]`");
    quote!(::pm_core::__private::VariantInfo { name: #name, type_name: #name, unhandled: #unhandled })
}

fn expand(cx: &Ctxt, input: &DeriveInput) -> TokenStream {
    let Some(data) = enum_data(
        cx,
        input,
        "`#[derive(Timeout)]` goes on an enum of unit variants, one per timeout kind",
        "a timeout enum cannot be generic",
    ) else {
        return TokenStream::new();
    };
    let enum_ident = &input.ident;
    require_unit_variants(cx, data, |variant| {
        format!("timeout kind `{enum_ident}::{variant}` carries data; make it a unit variant and keep the data in the process state")
    });
    let idents: Vec<&syn::Ident> = data.variants.iter().map(|variant| &variant.ident).collect();
    let names: Vec<String> = idents.iter().map(ToString::to_string).collect();
    let infos = names.iter().map(|name| variant_info(enum_ident, name));
    quote! {
        impl ::pm_core::Timeout for #enum_ident {
            const VARIANTS: &'static [::pm_core::__private::VariantInfo] = &[#(#infos),*];

            fn name(&self) -> &'static str {
                match *self {
                    #(#enum_ident::#idents => #names,)*
                }
            }

            fn from_name(name: &str) -> ::core::option::Option<Self> {
                match name {
                    #(#names => ::core::option::Option::Some(#enum_ident::#idents),)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}
