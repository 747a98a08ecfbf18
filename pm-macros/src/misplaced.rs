//! `#[on]`, `#[timeout]` and `#[sends]` used outside a `#[process_manager]`
//! impl block. Inside one, the process macro reads and removes them before
//! they expand; these exist to carry their documentation and to say where
//! they belong when used anywhere else.

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The item unchanged, plus an error saying where `#[name]` belongs.
pub(crate) fn handler_attribute(name: &str, item: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        Span::call_site(),
        format!("`#[{name}(..)]` goes on a method of an `impl` block marked `#[process_manager(..)]`, which reads it"),
    )
    .to_compile_error();
    quote!(#error #item)
}
