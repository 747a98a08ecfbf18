//! `#[derive(Timeout)]`: stable kind names and the variant list the
//! compile-time checks read.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

use crate::ctxt::Ctxt;

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let expanded = expand(&cx, &input);
    match cx.check() {
        Some(errors) => errors,
        None => expanded,
    }
}

fn expand(cx: &Ctxt, input: &DeriveInput) -> TokenStream {
    let Data::Enum(data) = &input.data else {
        cx.error_spanned_by(
            &input.ident,
            "`#[derive(Timeout)]` goes on an enum of unit variants, one per timeout kind",
        );
        return TokenStream::new();
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "a timeout enum cannot be generic");
    }
    let enum_ident = &input.ident;
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            cx.error_spanned_by(
                variant,
                format!(
                    "timeout kind `{enum_ident}::{}` carries data; make it a unit variant and keep the data in the process state",
                    variant.ident
                ),
            );
        }
    }
    let idents: Vec<&syn::Ident> = data.variants.iter().map(|variant| &variant.ident).collect();
    let names: Vec<String> = idents.iter().map(ToString::to_string).collect();
    let infos = names.iter().map(|name| {
        let unhandled = format!(
            "timeout `{enum_ident}::{name}` has no handler; add a method with `#[timeout({enum_ident}::{name})]`"
        );
        quote!(::pm_core::__private::VariantInfo { name: #name, type_name: #name, unhandled: #unhandled })
    });
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
