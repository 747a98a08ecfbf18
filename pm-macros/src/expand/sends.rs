//! One marker type per handler; each command in its `sends(..)` implements
//! `SentBy<marker>`: `cx.send(cmd)` of anything else fails to compile with
//! the message on `SentBy`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::Process;
use crate::prop::command_variant;

pub(super) fn expand_markers(process: &Process<'_>) -> TokenStream {
    let command_enum = process.command_enum();
    process
        .handlers
        .iter()
        .map(|handler| {
            let marker = handler.marker(&process.ident);
            let impls = handler.sends().iter().filter_map(|command| {
                let variant = command_variant(command)?;
                Some(quote_spanned! {command.span()=>
                    impl ::pm_core::SentBy<#marker> for #command {
                        type Command = #command_enum;
                        fn wrap(self) -> #command_enum {
                            #command_enum::#variant(self)
                        }
                    }
                })
            });
            quote! {
                #[doc(hidden)]
                #[allow(non_camel_case_types, unreachable_pub)]
                pub enum #marker {}
                #(#impls)*
            }
        })
        .collect()
}
