//! One marker type per handler, named like it, in one module per process;
//! each command in the handler's `sends(..)` implements `SentBy<marker>`:
//! `cx.send(cmd)` of anything else fails to compile with the message on
//! `SentBy`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{path_string, written, Handler, Process};
use crate::expand::router::{field_names, field_trait, payload_trait, taken_type};
use crate::prop::command_variant;

pub(super) fn expand_markers(process: &Process<'_>) -> TokenStream {
    let command_enum = process.command_enum();
    let module = process.marker_module();
    let names = process.handlers.iter().map(|handler| handler.name());
    // `do_not_recommend`: when a handler sends an undeclared command, rustc
    // would otherwise list every other handler's impls after the error.
    let impls = process.handlers.iter().flat_map(|handler| {
        let marker = handler.marker(&module);
        let command_enum = &command_enum;
        handler.sends().iter().filter_map(move |command| {
            let variant = command_variant(command)?;
            Some(quote_spanned! {command.span()=>
                #[diagnostic::do_not_recommend]
                impl ::pm_core::SentBy<#marker> for #command {
                    type Command = #command_enum;
                    fn wrap(self) -> #command_enum {
                        #command_enum::#variant(self)
                    }
                }
            })
        })
    });
    let payload_traits = process.event_handlers().filter_map(expand_payload_trait);
    let field_traits = process.event_handlers().flat_map(expand_field_traits);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, non_snake_case, unreachable_pub, dead_code)]
        mod #module {
            #(pub enum #names {})*
            #(#payload_traits)*
            #(#field_traits)*
        }
        #(#impls)*
    }
}

/// The trait through which a handler's payload is passed: implemented for
/// `T` only, so an event carrying another type fails with this message.
fn expand_payload_trait(handler: &Handler<'_>) -> Option<TokenStream> {
    let ty = handler.payload?;
    let event = handler.path().map(path_string).unwrap_or_default();
    let message = format!(
        "`{event}` carries `{{Self}}`; this handler takes `{}`",
        written(ty)
    );
    let label = format!("`{event}` carries `{{Self}}`");
    let note = format!(
        "take `&{{Self}}` here, or handle the event that carries `{}`",
        written(taken_type(ty))
    );
    Some(identity_trait(
        &payload_trait(handler),
        &message,
        &label,
        &note,
    ))
}

/// One trait per field a handler of `Enum::Variant { .. }` takes, like
/// [`expand_payload_trait`].
fn expand_field_traits(handler: &Handler<'_>) -> Vec<TokenStream> {
    let event = handler.path().map(path_string).unwrap_or_default();
    handler
        .fields
        .iter()
        .zip(field_names(handler))
        .map(|(parameter, field)| {
            let message = format!(
                "field `{field}` of `{event}` is `{{Self}}`; this handler takes `{}`",
                written(&parameter.ty)
            );
            let label = format!("`{field}` is `{{Self}}`");
            let note = format!("take `{field}: &{{Self}}` here");
            identity_trait(&field_trait(handler, field), &message, &label, &note)
        })
        .collect()
}

/// `trait name<T> { fn payload(&self) -> &T }`, implemented for every type
/// that borrows as `T` (`T` itself, `String` as `str`, `Vec<T>` as `[T]`), so
/// a handler may take `&str` for a `String` field; any other type gets this
/// message (`do_not_recommend`: rather than one about `Borrow`).
fn identity_trait(name: &syn::Ident, message: &str, label: &str, note: &str) -> TokenStream {
    quote! {
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        pub trait #name<T: ?::core::marker::Sized> {
            fn payload(&self) -> &T;
        }
        #[diagnostic::do_not_recommend]
        impl<T, U> #name<T> for U
        where
            T: ?::core::marker::Sized,
            U: ?::core::marker::Sized + ::core::borrow::Borrow<T>,
        {
            fn payload(&self) -> &T {
                ::core::borrow::Borrow::borrow(self)
            }
        }
    }
}
