//! `#[derive(Event)]`: stable type names, decoding from (type name, JSON),
//! and the variant list the compile-time checks read. A variant is a unit,
//! holds one payload type, or has named fields (stored as a JSON object).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::attr::report_unknown_key;
use crate::ctxt::{derive_with, Ctxt};
use crate::enum_shape::enum_data;
use crate::symbol::{Symbol, EVENT, EVENT_ENUM_KEYS, EVENT_VARIANT_KEYS, FAMILY, NAME};

/// One variant of an event enum.
struct Variant<'a> {
    ident: &'a syn::Ident,
    /// What the variant holds.
    shape: Shape<'a>,
    /// The full stable type name, `family.name`.
    type_name: String,
}

/// What an event variant holds, and so how its payload is stored.
enum Shape<'a> {
    /// Nothing: stored as JSON `null`.
    Unit,
    /// One payload type, `Placed(BookingPlaced)`: stored as the payload.
    Payload(&'a syn::Type),
    /// Named fields, `Placed { id: BookingId }`: stored as an object of
    /// them, with their `#[serde(..)]` attributes.
    Fields(&'a syn::FieldsNamed),
}

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    derive_with(&input, expand, fallback)
}

/// After an error: an impl with every variant listed and unreachable
/// bodies, so that processes subscribing to the enum report only the real
/// error, not that the enum is not an event enum.
fn fallback(input: &DeriveInput) -> TokenStream {
    let Data::Enum(data) = &input.data else {
        return TokenStream::new();
    };
    let enum_ident = &input.ident;
    let family = enum_ident.to_string();
    let infos = data.variants.iter().map(|variant| {
        variant_info(
            enum_ident,
            &variant.ident.to_string(),
            &format!("{family}.{}", variant.ident),
        )
    });
    quote! {
        impl ::pm_core::Event for #enum_ident {
            const FAMILY: &'static str = #family;
            const VARIANTS: &'static [::pm_core::__private::VariantInfo] = &[#(#infos),*];

            fn type_name(&self) -> &'static str {
                ::core::unreachable!()
            }

            fn decode(
                _: &str,
                _: &::pm_core::__private::serde_json::Value,
            ) -> ::core::result::Result<Self, ::pm_core::DecodeError> {
                ::core::unreachable!()
            }

            fn encode(&self) -> ::core::result::Result<::pm_core::__private::serde_json::Value, ::pm_core::__private::serde_json::Error> {
                ::core::unreachable!()
            }
        }
    }
}

/// The `VariantInfo` of one variant, with the build error shown when a
/// process neither handles nor ignores it.
fn variant_info(enum_ident: &syn::Ident, name: &str, type_name: &str) -> TokenStream {
    let unhandled = format!(
        "`{enum_ident}::{name}` has no handler; add a method with `#[on({enum_ident}::{name})]`, or list `{enum_ident}::{name}` in `ignore(..)`"
    );
    quote!(::pm_core::__private::VariantInfo { name: #name, type_name: #type_name, unhandled: #unhandled })
}

fn expand(cx: &Ctxt, input: &DeriveInput) -> TokenStream {
    let Some(data) = enum_data(
        cx,
        input,
        "`#[derive(Event)]` goes on an enum, one variant per event type",
        "an event enum cannot be generic",
    ) else {
        return TokenStream::new();
    };
    let enum_ident = &input.ident;
    let family = event_attr(cx, &input.attrs, FAMILY, EVENT_ENUM_KEYS)
        .unwrap_or_else(|| enum_ident.to_string());
    let variants: Vec<Variant<'_>> = data
        .variants
        .iter()
        .filter_map(|variant| {
            let shape = match &variant.fields {
                Fields::Unit => Shape::Unit,
                Fields::Unnamed(fields) if fields.unnamed.len() == 1 => Shape::Payload(&fields.unnamed[0].ty),
                Fields::Named(fields) => Shape::Fields(fields),
                Fields::Unnamed(_) => {
                    cx.error_spanned_by(
                        variant,
                        format!(
                            "`{enum_ident}::{}` holds several unnamed fields; hold one payload type, as in `{}(Booking{})`, or name the fields, as in `{} {{ booking_id: BookingId, .. }}`",
                            variant.ident, variant.ident, variant.ident, variant.ident
                        ),
                    );
                    return None;
                }
            };
            let name = event_attr(cx, &variant.attrs, NAME, EVENT_VARIANT_KEYS).unwrap_or_else(|| variant.ident.to_string());
            Some(Variant {
                ident: &variant.ident,
                shape,
                type_name: format!("{family}.{name}"),
            })
        })
        .collect();
    report_repeated_names(cx, &variants);
    let infos = variants
        .iter()
        .map(|variant| variant_info(enum_ident, &variant.ident.to_string(), &variant.type_name));
    let type_name_arms = variants.iter().map(|variant| {
        let ident = variant.ident;
        let type_name = &variant.type_name;
        quote!(#enum_ident::#ident { .. } => #type_name)
    });
    let decode_arms = variants
        .iter()
        .map(|variant| decode_arm(enum_ident, variant));
    let encode_arms = variants
        .iter()
        .map(|variant| encode_arm(enum_ident, variant));
    quote! {
        impl ::pm_core::Event for #enum_ident {
            const FAMILY: &'static str = #family;
            const VARIANTS: &'static [::pm_core::__private::VariantInfo] = &[#(#infos),*];

            fn type_name(&self) -> &'static str {
                match *self {
                    #(#type_name_arms,)*
                }
            }

            fn decode(
                event_type: &str,
                payload: &::pm_core::__private::serde_json::Value,
            ) -> ::core::result::Result<Self, ::pm_core::DecodeError> {
                match event_type {
                    #(#decode_arms,)*
                    _ => ::core::result::Result::Err(::pm_core::DecodeError::UnknownType {
                        type_name: ::std::string::ToString::to_string(event_type),
                        family: #family,
                    }),
                }
            }

            fn encode(&self) -> ::core::result::Result<::pm_core::__private::serde_json::Value, ::pm_core::__private::serde_json::Error> {
                match *self {
                    #(#encode_arms,)*
                }
            }
        }
    }
}

/// Decodes one variant from its JSON payload.
fn decode_arm(enum_ident: &syn::Ident, variant: &Variant<'_>) -> TokenStream {
    let ident = variant.ident;
    let type_name = &variant.type_name;
    let decoded = match variant.shape {
        Shape::Unit => return quote!(#type_name => ::core::result::Result::Ok(#enum_ident::#ident)),
        Shape::Payload(payload) => quote! {
            <#payload as ::pm_core::__private::serde::Deserialize>::deserialize(payload)
                .map(#enum_ident::#ident)
        },
        Shape::Fields(fields) => {
            let names: Vec<_> = fields.named.iter().map(|field| &field.ident).collect();
            let declared = fields.named.iter().map(|field| {
                let (name, ty) = (&field.ident, &field.ty);
                let serde = field
                    .attrs
                    .iter()
                    .filter(|attr| attr.path().is_ident("serde"));
                quote!(#(#serde)* #name: #ty)
            });
            quote! {{
                #[derive(::pm_core::__private::serde::Deserialize)]
                #[serde(crate = "::pm_core::__private::serde")]
                struct Fields {
                    #(#declared,)*
                }
                <Fields as ::pm_core::__private::serde::Deserialize>::deserialize(payload)
                    .map(|Fields { #(#names),* }| #enum_ident::#ident { #(#names),* })
            }}
        }
    };
    quote! {
        #type_name => #decoded
            .map_err(|source| ::pm_core::DecodeError::Payload {
                type_name: ::std::string::ToString::to_string(event_type),
                source,
            })
    }
}

/// Encodes one variant's payload as JSON.
fn encode_arm(enum_ident: &syn::Ident, variant: &Variant<'_>) -> TokenStream {
    let ident = variant.ident;
    match variant.shape {
        Shape::Unit => {
            quote!(#enum_ident::#ident => ::core::result::Result::Ok(::pm_core::__private::serde_json::Value::Null))
        }
        Shape::Payload(_) => {
            quote!(#enum_ident::#ident(ref payload) => ::pm_core::__private::serde_json::to_value(payload))
        }
        Shape::Fields(fields) => {
            let names: Vec<_> = fields.named.iter().map(|field| &field.ident).collect();
            let declared = fields.named.iter().map(|field| {
                let (name, ty) = (&field.ident, &field.ty);
                let serde = field
                    .attrs
                    .iter()
                    .filter(|attr| attr.path().is_ident("serde"));
                quote!(#(#serde)* #name: &'fields #ty)
            });
            // A struct without fields has no use for the lifetime.
            let lifetime = (!names.is_empty()).then(|| quote!(<'fields>));
            quote! {
                #enum_ident::#ident { #(ref #names),* } => {
                    #[derive(::pm_core::__private::serde::Serialize)]
                    #[serde(crate = "::pm_core::__private::serde")]
                    struct Fields #lifetime {
                        #(#declared,)*
                    }
                    ::pm_core::__private::serde_json::to_value(Fields { #(#names),* })
                }
            }
        }
    }
}

/// The value of `#[event(<key> = "..")]` among `attrs` (`#[event(family =
/// "..")]` on the enum, `#[event(name = "..")]` on a variant), reporting any
/// other key (`allowed` lists the valid ones there).
fn event_attr(
    cx: &Ctxt,
    attrs: &[syn::Attribute],
    key: Symbol,
    allowed: &[Symbol],
) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|attr| attr.path() == EVENT) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path == key {
                let value: LitStr = meta.value()?.parse()?;
                check_name_part(cx, &value);
                found = Some(value.value());
            } else {
                report_unknown_key(cx, &meta, "#[event(..)]", allowed)?;
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    found
}

/// Type names are `family.name`; an empty part would make them ambiguous.
fn check_name_part(cx: &Ctxt, value: &LitStr) {
    if value.value().trim().is_empty() {
        cx.error_spanned_by(
            value,
            "the name is empty; type names are stored with every event, so give a stable one",
        );
    }
}

fn report_repeated_names(cx: &Ctxt, variants: &[Variant<'_>]) {
    for (index, variant) in variants.iter().enumerate() {
        if let Some(first) = variants[..index]
            .iter()
            .find(|other| other.type_name == variant.type_name)
        {
            cx.error_spanned_by(
                variant.ident,
                format!(
                    "`{}` and `{}` share the type name `{}`; give one another `#[event(name = \"..\")]`",
                    first.ident, variant.ident, variant.type_name
                ),
            );
        }
    }
}
