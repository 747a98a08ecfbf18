//! The error collector shared by every phase, so that all mistakes in one
//! macro input are reported together (after serde_derive's `Ctxt`).

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Collects errors; must be finished with [`Ctxt::check`].
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error spanned on `tokens`.
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.syn_error(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error spanned on `span`.
    pub(crate) fn error_at<M: Display>(&self, span: proc_macro2::Span, message: M) {
        self.syn_error(syn::Error::new(span, message));
    }

    /// Records a parse error.
    pub(crate) fn syn_error(&self, error: syn::Error) {
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(error);
        }
    }

    /// Whether an error has been recorded so far.
    pub(crate) fn has_errors(&self) -> bool {
        self.errors
            .borrow()
            .as_ref()
            .is_some_and(|errors| !errors.is_empty())
    }

    /// Finishes collecting: the errors as `compile_error!` invocations, or
    /// `None` when there were none.
    pub(crate) fn check(self) -> Option<TokenStream> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        let mut errors = errors.into_iter();
        let mut combined = errors.next()?;
        for rest in errors {
            combined.combine(rest);
        }
        Some(combined.to_compile_error())
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}

/// Runs a derive: its expansion, or, after an error, the errors plus what
/// `fallback` emits so that code using the type reports only the real error.
pub(crate) fn derive_with(
    input: &syn::DeriveInput,
    expand: fn(&Ctxt, &syn::DeriveInput) -> TokenStream,
    fallback: fn(&syn::DeriveInput) -> TokenStream,
) -> TokenStream {
    let cx = Ctxt::new();
    let expanded = expand(&cx, input);
    match cx.check() {
        Some(errors) => {
            let stub = fallback(input);
            quote::quote!(#errors #stub)
        }
        None => expanded,
    }
}
