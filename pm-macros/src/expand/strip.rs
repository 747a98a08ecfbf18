//! The user's impl block as re-emitted: `#[on]`/`#[timeout]` removed and
//! each handler's `Context<Self>` completed with its marker type.

use syn::{FnArg, GenericArgument, ImplItem, ItemImpl, PathArguments, Type};

use crate::ast::{is_context, Process};
use crate::symbol::{ON, TIMEOUT};

/// What to put in each handler's `Context<Self, _>`.
pub(crate) enum ContextMarker {
    /// The handler's own marker (normal expansion).
    PerHandler,
    /// A marker that allows any command (after an error, so that the real
    /// error is not buried under undeclared-command errors).
    AnyCommand,
}

/// The impl block with attributes stripped and contexts completed.
pub(crate) fn rewrite_impl(process: &Process<'_>, marker: ContextMarker) -> ItemImpl {
    let mut item = strip_attributes(process.original);
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let Some(handler) = process
            .handlers
            .iter()
            .find(|handler| handler.name() == &method.sig.ident)
        else {
            continue;
        };
        let marker: Type = match marker {
            ContextMarker::PerHandler => {
                let ident = handler.marker(&process.ident);
                syn::parse_quote!(#ident)
            }
            ContextMarker::AnyCommand => syn::parse_quote!(::pm_core::__private::AnySends<Self>),
        };
        for input in &mut method.sig.inputs {
            if let FnArg::Typed(pat_type) = input {
                if is_context(&pat_type.ty) {
                    add_marker(&mut pat_type.ty, marker.clone());
                }
            }
        }
    }
    item
}

/// The impl block without `#[on]`/`#[timeout]` attributes, which rustc
/// would otherwise reject as unknown.
pub(crate) fn strip_attributes(item: &ItemImpl) -> ItemImpl {
    let mut item = item.clone();
    for impl_item in &mut item.items {
        if let ImplItem::Fn(method) = impl_item {
            method
                .attrs
                .retain(|attr| !(attr.path() == ON || attr.path() == TIMEOUT));
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
