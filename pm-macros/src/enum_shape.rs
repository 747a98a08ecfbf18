//! What `#[derive(Event)]`, `#[derive(State)]` and `#[derive(Timeout)]`
//! require of the type they are on: an enum, not generic, and for states
//! and timeouts, unit variants only.

use syn::{Data, DataEnum, DeriveInput, Fields};

use crate::ctxt::Ctxt;

/// The variants of the enum a derive is on. If it is not an enum, reports
/// `not_an_enum` and returns `None`; if it is generic, reports `generic`
/// and goes on, so that the variants' own errors are found at once.
pub(crate) fn enum_data<'a>(
    cx: &Ctxt,
    input: &'a DeriveInput,
    not_an_enum: &str,
    generic: &str,
) -> Option<&'a DataEnum> {
    let Data::Enum(data) = &input.data else {
        cx.error_spanned_by(&input.ident, not_an_enum);
        return None;
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, generic);
    }
    Some(data)
}

/// Reports every variant of `data` that carries data, at the variant;
/// `carries_data` words the error for the variant it is given.
pub(crate) fn require_unit_variants(
    cx: &Ctxt,
    data: &DataEnum,
    carries_data: impl Fn(&syn::Ident) -> String,
) {
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            cx.error_spanned_by(variant, carries_data(&variant.ident));
        }
    }
}
