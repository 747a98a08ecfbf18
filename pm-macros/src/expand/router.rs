//! Routing: the enum of decoded subscribed events and the
//! `pm_core::ProcessManager` impl (`route`, `handle`, `on_timeout`).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Path;

use crate::ast::{path_string, Handler, Process};
use crate::attr::Correlate;
use crate::prop::variant_of;

/// The hidden enum with one variant per subscribed event enum.
pub(super) fn expand_event_enum(process: &Process<'_>) -> TokenStream {
    let name = process.event_enum();
    let variants = process
        .attr
        .subscribe
        .iter()
        .enumerate()
        .map(|(index, path)| {
            let variant = subscription_variant(index);
            quote!(#variant(#path))
        });
    quote! {
        #[doc(hidden)]
        #[derive(::core::fmt::Debug)]
        #[allow(private_interfaces, unreachable_pub, clippy::large_enum_variant)]
        pub enum #name {
            #(#variants,)*
        }
    }
}

/// The `ProcessManager` impl.
pub(super) fn expand_process_impl(process: &Process<'_>, descriptor: TokenStream) -> TokenStream {
    let self_ty = &process.original.self_ty;
    let command_enum = process.command_enum();
    let event_enum = process.event_enum();
    let id = process
        .attr
        .id
        .as_ref()
        .map_or_else(|| quote!(::std::string::String), |id| quote!(#id));
    let name = process
        .attr
        .name
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_default();
    let timeout = process
        .attr
        .timeouts
        .as_ref()
        .map_or_else(|| quote!(::pm_core::NoTimeout), |path| quote!(#path));
    let route = expand_route(process);
    let handle = expand_handle(process);
    let on_timeout = expand_on_timeout(process);
    quote! {
        impl ::pm_core::ProcessManager for #self_ty {
            type Id = #id;
            type Event = #event_enum;
            type Command = #command_enum;
            type Timeout = #timeout;

            const NAME: &'static str = #name;

            fn descriptor() -> &'static ::pm_core::Descriptor {
                #descriptor
            }

            fn route(event: &::pm_core::RecordedEvent) -> ::pm_core::Routed<Self> {
                #route
            }

            fn handle(
                &mut self,
                event: &Self::Event,
                id: &Self::Id,
                now: ::pm_core::Now,
            ) -> ::pm_core::Effects<Self> {
                #handle
            }

            fn on_timeout(
                &mut self,
                kind: Self::Timeout,
                id: &Self::Id,
                now: ::pm_core::Now,
            ) -> ::pm_core::Effects<Self> {
                #on_timeout
            }
        }
    }
}

fn subscription_variant(index: usize) -> syn::Ident {
    format_ident!("E{}", index)
}

/// `route`: find the family, decode, correlate.
fn expand_route(process: &Process<'_>) -> TokenStream {
    let id_name = process
        .attr
        .id
        .as_ref()
        .map(|id| quote!(#id).to_string().replace(' ', ""))
        .unwrap_or_default();
    let event_enum = process.event_enum();
    let families = process.attr.subscribe.iter().enumerate().map(|(index, enum_path)| {
        let variant = subscription_variant(index);
        let handlers: Vec<&Handler<'_>> = process
            .event_handlers()
            .filter(|handler| handler.path().and_then(|path| process.subscription_of(path)) == Some(index))
            .collect();
        let ignored: Vec<&Path> = process
            .attr
            .ignore
            .iter()
            .filter(|path| process.subscription_of(path) == Some(index))
            .collect();
        let fallback_ids = handlers.iter().filter_map(|handler| {
            let on = handler.on()?;
            let Some(Correlate::Field(field)) = &on.correlate else {
                return None;
            };
            let variant = variant_of(handler.path()?)?.to_string();
            let field = field.to_string();
            Some(quote!(::core::option::Option::Some(#variant) => ::pm_core::__private::id_from_field(&event.payload, #field)))
        });
        let handler_arms = handlers.iter().filter_map(|handler| route_arm(handler, &id_name));
        let ignore_arms = ignored.iter().map(|path| {
            quote_spanned!(path.span()=> #path { .. } => return ::pm_core::Routed::Ignored)
        });
        quote! {
            if <#enum_path as ::pm_core::Event>::is_family(&event.event_type) {
                let decoded = match <#enum_path as ::pm_core::Event>::decode(&event.event_type, &event.payload) {
                    ::core::result::Result::Ok(decoded) => decoded,
                    ::core::result::Result::Err(error) => {
                        // The event cannot reach a handler, but it can still
                        // park its own instance when the id can be told.
                        let id = match <#enum_path as ::pm_core::Event>::variant_of(&event.event_type) {
                            #(#fallback_ids,)*
                            _ => ::pm_core::__private::id_from_stream(&event.stream_id, #id_name).ok(),
                        };
                        return ::pm_core::Routed::Undecodable {
                            id,
                            error: ::pm_core::__private::error_chain(&error),
                        };
                    }
                };
                let (id, starts, handler) = match &decoded {
                    #(#handler_arms,)*
                    #(#ignore_arms,)*
                    // Unreachable once the build passes: the generated const
                    // checks fail the build when a variant is neither handled
                    // nor ignored.
                    #[allow(unreachable_patterns)]
                    _ => return ::pm_core::Routed::Ignored,
                };
                return ::pm_core::Routed::Deliver {
                    id,
                    starts,
                    handler,
                    event: #event_enum::#variant(decoded),
                };
            }
        }
    });
    quote! {
        #(#families)*
        ::pm_core::Routed::NotSubscribed
    }
}

/// One arm of the routing match: the correlation of one handler.
fn route_arm(handler: &Handler<'_>, id_name: &str) -> Option<TokenStream> {
    let path = handler.path()?;
    let on = handler.on()?;
    let starts = on.start.is_some();
    let method = handler.name().to_string();
    let span = path.span();
    let arm = match &on.correlate {
        None => quote_spanned! {span=>
            #path { .. } => match ::pm_core::__private::id_from_stream(&event.stream_id, #id_name) {
                ::core::result::Result::Ok(id) => (id, #starts, #method),
                ::core::result::Result::Err(error) => {
                    return ::pm_core::Routed::Undecodable { id: ::core::option::Option::None, error };
                }
            }
        },
        Some(Correlate::Field(field)) => {
            let convert = quote_spanned! {field.span()=>
                ::core::convert::Into::into(::core::clone::Clone::clone(&payload.#field))
            };
            quote_spanned!(span=> #path(payload) => (#convert, #starts, #method))
        }
        Some(Correlate::Function(function)) => {
            let reason = format!(
                "`{}` found no instance id in the event",
                path_string(function)
            );
            quote_spanned! {span=>
                #path(payload) => match #function(payload) {
                    ::core::option::Option::Some(id) => (id, #starts, #method),
                    ::core::option::Option::None => {
                        return ::pm_core::Routed::Uncorrelated {
                            reason: ::std::string::ToString::to_string(#reason),
                        };
                    }
                }
            }
        }
    };
    Some(arm)
}

/// `handle`: call the handler of a decoded event with its own context.
fn expand_handle(process: &Process<'_>) -> TokenStream {
    let event_enum = process.event_enum();
    let families = process.attr.subscribe.iter().enumerate().map(|(index, _)| {
        let variant = subscription_variant(index);
        let arms = process
            .event_handlers()
            .filter(|handler| {
                handler
                    .path()
                    .and_then(|path| process.subscription_of(path))
                    == Some(index)
            })
            .filter_map(|handler| {
                let path = handler.path()?;
                let call = call_handler(
                    process,
                    handler,
                    handler.payload.map(|ty| (ty, quote!(payload))),
                );
                Some(match handler.payload {
                    Some(_) => quote_spanned!(path.span()=> #path(payload) => #call),
                    None => quote_spanned!(path.span()=> #path { .. } => #call),
                })
            });
        quote! {
            #event_enum::#variant(decoded) => match decoded {
                #(#arms,)*
                // Ignored events are never routed to `handle`.
                #[allow(unreachable_patterns)]
                _ => ::pm_core::Effects::default(),
            }
        }
    });
    quote! {
        match event {
            #(#families,)*
        }
    }
}

/// `on_timeout`: call the handler of a timeout kind.
fn expand_on_timeout(process: &Process<'_>) -> TokenStream {
    let arms: Vec<TokenStream> = process
        .timeout_handlers()
        .filter(|handler| {
            handler
                .path()
                .is_some_and(|path| process.is_timeout_kind(path))
        })
        .filter_map(|handler| {
            let path = handler.path()?;
            let call = call_handler(process, handler, None);
            Some(quote_spanned!(path.span()=> #path { .. } => #call))
        })
        .collect();
    if process.attr.timeouts.is_none() {
        return quote!(match kind {});
    }
    quote! {
        match kind {
            #(#arms,)*
            // Unreachable once the build passes (see the const checks).
            #[allow(unreachable_patterns)]
            _ => ::pm_core::Effects::default(),
        }
    }
}

/// Creates the handler's context, calls it, and returns its effects. The
/// payload argument is spanned on the parameter's declared type, so a
/// mismatch points at the user's signature.
fn call_handler(
    process: &Process<'_>,
    handler: &Handler<'_>,
    payload: Option<(&syn::Type, TokenStream)>,
) -> TokenStream {
    let marker = handler.marker(&process.ident);
    let method = handler.name();
    let argument = payload.map(|(ty, expression)| {
        let span = ty.span();
        quote_spanned!(span=> #expression,)
    });
    let call_span = handler
        .context
        .map_or_else(Span::call_site, |context| context.span());
    let call = quote_spanned!(call_span=> Self::#method(self, #argument &mut cx));
    quote! {{
        let mut cx = ::pm_core::Context::<Self, #marker>::__new(::core::clone::Clone::clone(id), now);
        #call;
        cx.__into_effects()
    }}
}
