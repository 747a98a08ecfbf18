//! Routing: the enum of decoded subscribed events and the
//! `pm_core::ProcessManager` impl (`route`, `handle`, `on_timeout`), with a
//! nested match over (event, state) when the process declares states.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Path;

use crate::ast::{path_string, Handler, Process};
use crate::attr::Correlate;
use crate::lower::{Group, Row, Table};
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
pub(super) fn expand_process_impl(
    process: &Process<'_>,
    table: &Table<'_, '_>,
    descriptor: TokenStream,
) -> TokenStream {
    let self_ty = &process.original.self_ty;
    let command_enum = process.command_enum();
    let event_enum = process.event_enum();
    let id = process.id_type();
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
    let rows = &table.rows;
    let route = expand_route(process, rows);
    let handle = expand_handle(process, rows);
    let on_timeout = expand_on_timeout(process, rows);
    let versioning = expand_versioning(process);
    let state_name = process.attr.state.as_ref().map(|field| {
        quote_spanned! {field.span()=>
            fn state_name(&self) -> ::core::option::Option<&'static str> {
                ::core::option::Option::Some(::pm_core::State::name(&self.#field))
            }
        }
    });
    let without_states = process
        .attr
        .state
        .is_none()
        .then(|| quote!(impl ::pm_core::WithoutStates for #self_ty {}));
    quote! {
        #without_states

        impl ::pm_core::ProcessManager for #self_ty {
            type Id = #id;
            type Event = #event_enum;
            type Command = #command_enum;
            type Timeout = #timeout;

            const NAME: &'static str = #name;

            #versioning
            #state_name

            fn descriptor() -> &'static ::pm_core::descriptor::Descriptor {
                #descriptor
            }

            fn route(event: &::pm_core::RecordedEvent) -> ::pm_core::__private::Routed<Self> {
                #route
            }

            fn handle(
                &mut self,
                event: &Self::Event,
                id: &Self::Id,
                now: ::pm_core::__private::Now,
            ) -> ::pm_core::__private::Outcome<Self> {
                #handle
            }

            fn on_timeout(
                &mut self,
                kind: Self::Timeout,
                id: &Self::Id,
                now: ::pm_core::__private::Now,
            ) -> ::pm_core::__private::Outcome<Self> {
                #on_timeout
            }
        }
    }
}

/// `STATE_VERSION` and `migrate_state`, when declared.
fn expand_versioning(process: &Process<'_>) -> TokenStream {
    let version = process
        .attr
        .version
        .as_ref()
        .map(|version| quote_spanned!(version.span()=> const STATE_VERSION: i32 = #version;));
    let migrate = process.attr.migrate.as_ref().map(|migrate| {
        quote_spanned! {migrate.span()=>
            fn migrate_state(
                from: i32,
                state: ::pm_core::__private::serde_json::Value,
            ) -> ::core::result::Result<::pm_core::__private::serde_json::Value, ::pm_core::BoxError> {
                #migrate(from, state)
            }
        }
    });
    quote!(#version #migrate)
}

fn subscription_variant(index: usize) -> syn::Ident {
    format_ident!("E{}", index)
}

fn rows_of<'r, 'p, 'a>(
    rows: &'r [Row<'p, 'a>],
    group: Group,
) -> impl Iterator<Item = &'r Row<'p, 'a>> {
    rows.iter().filter(move |row| row.group == group)
}

/// `route`: find the family, decode, correlate.
fn expand_route(process: &Process<'_>, rows: &[Row<'_, '_>]) -> TokenStream {
    let id_name = process
        .attr
        .id
        .as_ref()
        .map(|id| quote!(#id).to_string().replace(' ', ""))
        .unwrap_or_default();
    let event_enum = process.event_enum();
    let families = process.attr.subscribe.iter().enumerate().map(|(index, enum_path)| {
        let variant = subscription_variant(index);
        let rows: Vec<&Row<'_, '_>> = rows_of(rows, Group::Event(index)).collect();
        let fallback_ids = rows.iter().filter_map(|row| {
            let on = row.handlers.first()?.on()?;
            let Some(Correlate::Field(field)) = &on.correlate else {
                return None;
            };
            let variant = row.variant.to_string();
            let field = field.to_string();
            Some(quote!(::core::option::Option::Some(#variant) => ::pm_core::__private::id_from_field(&event.payload, #field)))
        });
        let arms = rows.iter().filter_map(|row| route_arm(row, &id_name));
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
                        return ::pm_core::__private::Routed::Undecodable {
                            id,
                            error: ::std::string::ToString::to_string(&::pm_core::ErrorChain(&error)),
                        };
                    }
                };
                let (id, starts, handler) = match &decoded {
                    #(#arms,)*
                    // Unreachable once the build passes: the generated const
                    // checks fail the build when a variant is neither handled
                    // nor ignored.
                    #[allow(unreachable_patterns)]
                    _ => return ::pm_core::__private::Routed::Ignored,
                };
                return ::pm_core::__private::Routed::Deliver {
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
        ::pm_core::__private::Routed::NotSubscribed
    }
}

/// One arm of the routing match: how one variant finds its instance (or
/// that it is ignored in every state).
fn route_arm(row: &Row<'_, '_>, id_name: &str) -> Option<TokenStream> {
    let path = row.path()?;
    let span = path.span();
    let Some(first) = row.handlers.first() else {
        return Some(
            quote_spanned!(span=> #path { .. } => return ::pm_core::__private::Routed::Ignored),
        );
    };
    let on = first.on()?;
    let starts = row
        .handlers
        .iter()
        .any(|handler| handler.on().is_some_and(|on| on.start.is_some()));
    let method = row
        .handlers
        .iter()
        .map(|handler| handler.name().to_string())
        .collect::<Vec<_>>()
        .join("` or `");
    let arm = match &on.correlate {
        None => quote_spanned! {span=>
            #path { .. } => match ::pm_core::__private::id_from_stream(&event.stream_id, #id_name) {
                ::core::result::Result::Ok(id) => (id, #starts, #method),
                ::core::result::Result::Err(error) => {
                    return ::pm_core::__private::Routed::Undecodable { id: ::core::option::Option::None, error };
                }
            }
        },
        Some(Correlate::Field(field)) if first.takes_fields() => {
            let convert = quote_spanned! {field.span()=>
                ::core::convert::Into::into(::core::clone::Clone::clone(#field))
            };
            quote_spanned!(span=> #path { #field, .. } => (#convert, #starts, #method))
        }
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
                        return ::pm_core::__private::Routed::Uncorrelated {
                            reason: ::std::string::ToString::to_string(#reason),
                        };
                    }
                }
            }
        }
    };
    Some(arm)
}

/// `handle`: pick the handler of a decoded event for the current state.
fn expand_handle(process: &Process<'_>, rows: &[Row<'_, '_>]) -> TokenStream {
    let event_enum = process.event_enum();
    let families = process.attr.subscribe.iter().enumerate().map(|(index, _)| {
        let variant = subscription_variant(index);
        let arms = rows_of(rows, Group::Event(index)).filter_map(|row| {
            let path = row.path()?;
            if row.handlers.is_empty() {
                return None;
            }
            // Every handler of an event takes the payload or none does; a
            // handler without it still matches with `{ .. }`. Handlers of
            // a variant with named fields bind their own fields.
            let binds_payload = row.handlers.iter().any(|handler| handler.payload.is_some());
            let body = dispatch_by_state(process, row, binds_payload);
            Some(if binds_payload {
                quote_spanned!(path.span()=> #path(payload) => #body)
            } else {
                quote_spanned!(path.span()=> #path { .. } => #body)
            })
        });
        quote! {
            #event_enum::#variant(decoded) => match decoded {
                #(#arms,)*
                // Events ignored in every state are never routed to `handle`.
                #[allow(unreachable_patterns)]
                _ => ::pm_core::__private::Outcome::Ignored,
            }
        }
    });
    quote! {
        match event {
            #(#families,)*
        }
    }
}

/// `on_timeout`: pick the handler of a timeout kind for the current state.
fn expand_on_timeout(process: &Process<'_>, rows: &[Row<'_, '_>]) -> TokenStream {
    if process.attr.timeouts.is_none() {
        return quote!(match kind {});
    }
    let arms = rows_of(rows, Group::Timeout).filter_map(|row| {
        let path = row.path()?;
        let body = if row.handlers.is_empty() {
            quote!(::pm_core::__private::Outcome::Ignored)
        } else {
            dispatch_by_state(process, row, false)
        };
        Some(quote_spanned!(path.span()=> #path { .. } => #body))
    });
    quote! {
        match kind {
            #(#arms,)*
            // Unreachable once the build passes (see the const checks).
            #[allow(unreachable_patterns)]
            _ => ::pm_core::__private::Outcome::Ignored,
        }
    }
}

/// Calls the handler of `row` that applies in the current state; states no
/// handler covers are ignored (the const checks prove an `ignore(..)` entry
/// covers them).
fn dispatch_by_state(process: &Process<'_>, row: &Row<'_, '_>, binds_payload: bool) -> TokenStream {
    let Some(field) = &process.attr.state else {
        // Without states an event has one handler.
        return row
            .handlers
            .first()
            .map(|handler| call_handler(process, handler, binds_payload))
            .unwrap_or_else(|| quote!(::pm_core::__private::Outcome::Ignored));
    };
    // States match by name: their paths are type-checked once, by the
    // const checks, so a wrong one is reported once.
    let arms = row.handlers.iter().map(|handler| {
        let states: Vec<String> = handler
            .states()
            .from
            .iter()
            .filter_map(variant_of)
            .map(ToString::to_string)
            .collect();
        let pattern = if states.is_empty() {
            quote!(_)
        } else {
            quote!(#(#states)|*)
        };
        let call = call_handler(process, handler, binds_payload);
        quote!(#pattern => #call)
    });
    let current = quote_spanned!(field.span()=> ::pm_core::State::name(&self.#field));
    quote! {
        match #current {
            #(#arms,)*
            #[allow(unreachable_patterns)]
            _ => ::pm_core::__private::Outcome::Ignored,
        }
    }
}

/// Creates the handler's context, calls it, checks where it left the state,
/// and returns its effects.
fn call_handler(process: &Process<'_>, handler: &Handler<'_>, binds_payload: bool) -> TokenStream {
    let marker = handler.marker(&process.marker_module());
    let method = handler.name();
    let argument = handler
        .payload
        .filter(|_| binds_payload)
        .map(|ty| checked_payload(process, handler, ty));
    let call_span = handler
        .context
        .map_or_else(Span::call_site, |context| context.span());
    let fields = field_names(handler);
    let field_arguments = handler
        .fields
        .iter()
        .zip(&fields)
        .map(|(parameter, field)| checked_field(process, handler, field, &parameter.ty));
    let call =
        quote_spanned!(call_span=> Self::#method(self, #argument #(#field_arguments)* &mut cx));
    let call = match handler.path() {
        Some(path) if handler.takes_fields() => quote! {
            match decoded {
                #path { #(#fields,)* .. } => #call,
                // `decoded` was matched on this variant already.
                #[allow(unreachable_patterns)]
                _ => return ::pm_core::__private::Outcome::Ignored,
            }
        },
        _ => call,
    };
    let transition_check = process
        .attr
        .state
        .as_ref()
        .map(|field| expand_transition_check(field, handler));
    let before = process
        .attr
        .state
        .as_ref()
        .map(|field| quote_spanned!(field.span()=> let __pm_from = ::pm_core::State::name(&self.#field);));
    // Entering a final state completes the instance.
    let completion = process.attr.state.as_ref().map(|field| {
        quote_spanned! {field.span()=>
            if ::pm_core::State::is_final(&self.#field) {
                cx.__complete();
            }
        }
    });
    quote! {{
        let mut cx = ::pm_core::Context::<Self, #marker>::__new(::core::clone::Clone::clone(id), now);
        #before
        #call;
        #transition_check
        #completion
        ::pm_core::__private::Outcome::Handled(cx.__into_effects())
    }}
}

/// The `payload` binding passed as the handler's `&T` parameter through the
/// handler's payload trait (see `expand_markers`), whose message says what
/// the event carries and what the handler takes, pointing at the type the
/// handler declares. A plain argument would give rustc's "arguments to this
/// function are incorrect", as if the user had written the call.
fn checked_payload(process: &Process<'_>, handler: &Handler<'_>, ty: &syn::Type) -> TokenStream {
    let module = process.marker_module();
    let check = payload_trait(handler);
    let taken = taken_type(ty);
    // rustc points at the `_`: give it the span of the type's name.
    let name = taken
        .to_token_stream()
        .into_iter()
        .next()
        .map_or_else(|| ty.span(), |token| token.span());
    let infer = quote_spanned!(name=> _);
    quote_spanned! {ty.span()=>
        <#infer as #module::#check<#taken>>::payload(payload),
    }
}

/// The field names a handler of `Enum::Variant { .. }` takes: its
/// parameters' names (the checks report other patterns).
pub(super) fn field_names<'a>(handler: &Handler<'a>) -> Vec<&'a syn::Ident> {
    handler
        .fields
        .iter()
        .filter_map(|parameter| match &*parameter.pat {
            syn::Pat::Ident(ident) => Some(&ident.ident),
            _ => None,
        })
        .collect()
}

/// The binding of field `field` passed as a handler's `&T` parameter
/// through the field's trait (see `expand_markers`), like [`checked_payload`].
fn checked_field(
    process: &Process<'_>,
    handler: &Handler<'_>,
    field: &syn::Ident,
    ty: &syn::Type,
) -> TokenStream {
    let module = process.marker_module();
    let check = field_trait(handler, field);
    let taken = taken_type(ty);
    let name = taken
        .to_token_stream()
        .into_iter()
        .next()
        .map_or_else(|| ty.span(), |token| token.span());
    let infer = quote_spanned!(name=> _);
    quote_spanned! {ty.span()=>
        <#infer as #module::#check<#taken>>::payload(#field),
    }
}

/// The name of the trait through which field `field` reaches a handler:
/// `<handler>_takes_<field>`.
pub(super) fn field_trait(handler: &Handler<'_>, field: &syn::Ident) -> syn::Ident {
    format_ident!("{}_takes_{}", handler.name(), field)
}

/// `T` of a handler's `&T` parameter.
pub(super) fn taken_type(ty: &syn::Type) -> &syn::Type {
    match ty {
        syn::Type::Reference(reference) => &reference.elem,
        // Reported by the signature checks.
        other => other,
    }
}

/// The name of a handler's payload trait: `<handler>_takes`, so that
/// rustc's "the trait `processed_takes<FileFailed>` is not implemented for
/// `FileProcessed`" reads as what went wrong.
pub(super) fn payload_trait(handler: &Handler<'_>) -> syn::Ident {
    format_ident!("{}_takes", handler.name())
}

/// Rejects a call that left the state outside the handler's `to(..)` (or,
/// without `to(..)`, changed it at all). States compare by name: the paths
/// in `to(..)` are type-checked once, by the const checks.
fn expand_transition_check(field: &syn::Ident, handler: &Handler<'_>) -> TokenStream {
    let name = handler.name().to_string();
    let to: &[Path] = &handler.states().to;
    let after = quote_spanned!(field.span()=> let __pm_to = ::pm_core::State::name(&self.#field););
    if to.is_empty() {
        return quote! {
            #after
            if __pm_to != __pm_from {
                return ::pm_core::__private::Outcome::Rejected(::std::format!(
                    "handler `{}` moved the state from `{}` to `{}` but declares no `to(..)`; add `to({})` if that move is intended",
                    #name, __pm_from, __pm_to, __pm_to
                ));
            }
        };
    }
    let allowed = to.iter().map(path_string).collect::<Vec<_>>().join(", ");
    let names = to.iter().filter_map(variant_of).map(ToString::to_string);
    quote! {
        #after
        if !::pm_core::__private::contains_str(&[#(#names),*], __pm_to) {
            return ::pm_core::__private::Outcome::Rejected(::std::format!(
                "handler `{}` moved the state from `{}` to `{}`, outside its `to({})`",
                #name, __pm_from, __pm_to, #allowed
            ));
        }
    }
}
