//! The user's impl block as re-emitted: `#[on]`/`#[timeout]`/`#[sends]`
//! removed, each handler's `Context<Self>` completed with its marker type,
//! and each `#[sends(..)]` helper made generic over its caller's marker.

use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, PathArguments, Type};

use crate::ast::{is_context, Helper, Process};
use crate::symbol::{ON, SENDS, TIMEOUT};

/// What to put in each handler's `Context<Self, _>`.
pub(crate) enum ContextMarker {
    /// The handler's own marker (normal expansion).
    PerHandler,
    /// A marker that allows any command (after an error, so that the real
    /// error is not buried under undeclared-command errors).
    AnyCommand,
}

/// The impl block with attributes stripped and contexts completed. After
/// an error (`AnyCommand`), a handler named like another method is left
/// out, so that the user's calls to that method still compile and only the
/// clash is reported.
pub(crate) fn rewrite_impl(process: &Process<'_>, marker: ContextMarker) -> ItemImpl {
    let mut item = strip_attributes(process.original);
    let module = process.marker_module();
    let clashing = process.clashing_handlers();
    let mut items = Vec::with_capacity(item.items.len());
    for (original, mut impl_item) in process.original.items.iter().zip(item.items) {
        let ImplItem::Fn(method) = &mut impl_item else {
            items.push(impl_item);
            continue;
        };
        let is_this = |candidate: &syn::ImplItemFn| match original {
            ImplItem::Fn(original) => std::ptr::eq(candidate, original),
            _ => false,
        };
        if let Some(handler) = process
            .handlers
            .iter()
            .find(|handler| is_this(handler.original))
        {
            let marker: Type = match marker {
                ContextMarker::PerHandler => {
                    let marker = handler.marker(&module);
                    syn::parse_quote!(#marker)
                }
                ContextMarker::AnyCommand => {
                    if clashing.iter().any(|clash| is_this(clash.original)) {
                        continue;
                    }
                    syn::parse_quote!(::pm_core::__private::AnySends<Self>)
                }
            };
            complete_contexts(method, &marker);
        } else if let Some(helper) = process
            .helpers
            .iter()
            .find(|helper| is_this(helper.original))
        {
            make_generic_over_caller(method, helper);
        }
        items.push(impl_item);
    }
    item.items = items;
    item
}

/// `&mut Context<Self>` parameters -> `&mut Context<Self, marker>`.
fn complete_contexts(method: &mut ImplItemFn, marker: &Type) {
    for input in &mut method.sig.inputs {
        if let FnArg::Typed(pat_type) = input {
            if is_context(&pat_type.ty) {
                add_marker(&mut pat_type.ty, marker.clone());
            }
        }
    }
}

/// A `#[sends(A, B)]` helper `fn finish(&mut self, cx: &mut Context<Self>)`
/// becomes generic over its caller's marker, named like the helper so that
/// a message about it reads as the helper (`SentBy<finish>`):
/// `fn finish<finish>(&mut self, cx: &mut Context<Self, finish>) where
/// A: SentBy<finish, ..>, B: SentBy<finish, ..>`. A handler calling it must
/// then declare `A` and `B` itself; the bounds are spanned on the helper's
/// `sends(..)` entries.
fn make_generic_over_caller(method: &mut ImplItemFn, helper: &Helper<'_>) {
    let name = helper.name().clone();
    let param: syn::TypeParam = syn::parse_quote!(#name);
    method
        .sig
        .generics
        .params
        .push(syn::GenericParam::Type(param));
    let marker: Type = syn::parse_quote!(#name);
    complete_contexts(method, &marker);
    let where_clause = method
        .sig
        .generics
        .where_clause
        .get_or_insert_with(|| syn::WhereClause {
            where_token: syn::Token![where](helper.attr_span),
            predicates: syn::punctuated::Punctuated::new(),
        });
    for command in &helper.sends {
        where_clause.predicates.push(syn::parse_quote_spanned! {command.span()=>
            #command: ::pm_core::SentBy<#name, Command = <Self as ::pm_core::ProcessManager>::Command>
        });
    }
    method
        .attrs
        .push(syn::parse_quote!(#[allow(non_camel_case_types)]));
}

/// The impl block without `#[on]`/`#[timeout]`/`#[sends]` attributes,
/// which rustc would otherwise reject as unknown.
pub(crate) fn strip_attributes(item: &ItemImpl) -> ItemImpl {
    let mut item = item.clone();
    for impl_item in &mut item.items {
        if let ImplItem::Fn(method) = impl_item {
            method.attrs.retain(|attr| {
                !(attr.path() == ON || attr.path() == TIMEOUT || attr.path() == SENDS)
            });
        }
    }
    item
}

/// `&mut Context<Self>` -> `&mut Context<Self, marker>`; other shapes are
/// left alone (the checks have reported them).
fn add_marker(ty: &mut Type, marker: Type) {
    let Type::Reference(reference) = ty else {
        return;
    };
    let Type::Path(path) = &mut *reference.elem else {
        return;
    };
    let Some(last) = path.path.segments.last_mut() else {
        return;
    };
    if let PathArguments::AngleBracketed(arguments) = &mut last.arguments {
        // Keep the process type and put the marker second, replacing one
        // written by hand (the checks report that).
        while arguments.args.len() > 1 {
            arguments.args.pop();
        }
        if arguments.args.len() == 1 {
            arguments.args.push(GenericArgument::Type(marker));
        }
    }
}
