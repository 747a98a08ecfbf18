//! The model of a `#[process_manager]` input, borrowed from the syn tree so
//! that every part keeps its span.

use proc_macro2::TokenStream;
use syn::punctuated::Punctuated;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, PatType, Path, Token, Type, TypePath};

use crate::attr::{OnAttr, ProcessAttr, StateSpec, TimeoutAttr};
use crate::ctxt::Ctxt;
use crate::symbol::{CONTEXT, ON, SENDS, TIMEOUT};

/// A process: the attribute's arguments and the handlers of the impl block.
pub(crate) struct Process<'a> {
    /// The impl block as written.
    pub(crate) original: &'a ItemImpl,
    /// The process struct's name (the last segment of the impl's type).
    pub(crate) ident: syn::Ident,
    /// `#[process_manager(..)]`.
    pub(crate) attr: ProcessAttr,
    /// Methods with `#[on(..)]` or `#[timeout(..)]`, in source order.
    pub(crate) handlers: Vec<Handler<'a>>,
    /// Methods with `#[sends(..)]`: helpers that handlers call to send.
    pub(crate) helpers: Vec<Helper<'a>>,
}

/// A helper method that sends commands for the handlers that call it.
pub(crate) struct Helper<'a> {
    /// The method as written.
    pub(crate) original: &'a ImplItemFn,
    /// `#[sends(..)]`: the commands it may send.
    pub(crate) sends: Vec<Path>,
    /// Where `#[sends(..)]` is written.
    pub(crate) attr_span: proc_macro2::Span,
}

/// One handler method.
pub(crate) struct Handler<'a> {
    /// The method as written.
    pub(crate) original: &'a ImplItemFn,
    /// What triggers it.
    pub(crate) trigger: Trigger,
    /// The event payload parameter's type (`&T`), if it takes one (for a
    /// variant with one unnamed field).
    pub(crate) payload: Option<&'a Type>,
    /// The parameters that take fields by name (`id: &BookingId`), for a
    /// variant with named fields (`#[on(Enum::Variant { .. })]`).
    pub(crate) fields: Vec<&'a PatType>,
    /// The `&mut Context<Self>` parameter, if present.
    pub(crate) context: Option<&'a PatType>,
}

/// What triggers a handler.
pub(crate) enum Trigger {
    /// An event: `#[on(..)]`.
    On(OnAttr),
    /// A timeout: `#[timeout(..)]`.
    Timeout(TimeoutAttr),
}

impl<'a> Process<'a> {
    /// Builds the model; returns `None` only when the input is not an
    /// inherent impl block of a named type.
    pub(crate) fn from_syn(
        cx: &Ctxt,
        args: TokenStream,
        item: &'a ItemImpl,
    ) -> Option<Process<'a>> {
        let attr = ProcessAttr::parse(cx, args);
        if let Some((_, trait_path, _)) = &item.trait_ {
            cx.error_spanned_by(
                trait_path,
                "`#[process_manager]` goes on an inherent `impl` block of the process struct, not on a trait impl",
            );
            return None;
        }
        if !item.generics.params.is_empty() {
            cx.error_spanned_by(
                &item.generics,
                "a process struct cannot be generic; use concrete types",
            );
            return None;
        }
        let Type::Path(TypePath { qself: None, path }) = &*item.self_ty else {
            cx.error_spanned_by(
                &item.self_ty,
                "`#[process_manager]` needs an `impl` block of a named struct",
            );
            return None;
        };
        let ident = path.segments.last()?.ident.clone();
        let methods = || {
            item.items.iter().filter_map(|impl_item| match impl_item {
                ImplItem::Fn(method) => Some(method),
                _ => None,
            })
        };
        let handlers = methods()
            .filter_map(|method| Handler::from_syn(cx, method))
            .collect();
        let helpers = methods()
            .filter_map(|method| Helper::from_syn(cx, method))
            .collect();
        Some(Process {
            original: item,
            ident,
            attr,
            handlers,
            helpers,
        })
    }
}

impl<'a> Helper<'a> {
    /// A method with `#[sends(..)]` and no `#[on(..)]`/`#[timeout(..)]`.
    fn from_syn(cx: &Ctxt, method: &'a ImplItemFn) -> Option<Helper<'a>> {
        let attr = method.attrs.iter().find(|attr| attr.path() == SENDS)?;
        let is_handler = method
            .attrs
            .iter()
            .any(|attr| attr.path() == ON || attr.path() == TIMEOUT);
        if is_handler {
            cx.error_spanned_by(
                attr,
                "a handler declares its commands in its own attribute, as in `#[on(.., sends(..))]`; move them there",
            );
            return None;
        }
        let sends = match attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated) {
            Ok(paths) => paths.into_iter().collect(),
            Err(error) => {
                cx.syn_error(error);
                Vec::new()
            }
        };
        let has_context = method.sig.inputs.iter().any(|input| match input {
            FnArg::Typed(pat_type) => is_context(&pat_type.ty),
            FnArg::Receiver(_) => false,
        });
        if !has_context {
            cx.error_spanned_by(
                &method.sig.ident,
                format!(
                    "helper `{}` has `#[sends(..)]` but no `cx: &mut Context<Self>` to send with; add that parameter",
                    method.sig.ident
                ),
            );
        }
        Some(Helper {
            original: method,
            sends,
            attr_span: attr.pound_token.span,
        })
    }

    /// The method's name.
    pub(crate) fn name(&self) -> &syn::Ident {
        &self.original.sig.ident
    }
}

impl<'a> Handler<'a> {
    fn from_syn(cx: &Ctxt, method: &'a ImplItemFn) -> Option<Handler<'a>> {
        let mut triggers = method.attrs.iter().filter_map(|attr| {
            if attr.path() == ON {
                Some(Trigger::On(OnAttr::parse(cx, attr)))
            } else if attr.path() == TIMEOUT {
                Some(Trigger::Timeout(TimeoutAttr::parse(cx, attr)))
            } else {
                None
            }
        });
        let trigger = triggers.next()?;
        if triggers.next().is_some() {
            cx.error_spanned_by(
                &method.sig.ident,
                format!(
                    "`{}` has more than one `#[on(..)]`/`#[timeout(..)]`; give each event or timeout its own handler",
                    method.sig.ident
                ),
            );
        }
        let typed = method.sig.inputs.iter().filter_map(|input| match input {
            FnArg::Typed(pat_type) => Some(pat_type),
            FnArg::Receiver(_) => None,
        });
        let takes_fields = matches!(&trigger, Trigger::On(on) if on.named_fields.is_some());
        if takes_fields {
            let all: Vec<&PatType> = typed.collect();
            let context = all.last().copied().filter(|last| is_context(&last.ty));
            let fields = all
                .into_iter()
                .filter(|parameter| !is_context(&parameter.ty))
                .collect();
            return Some(Handler {
                original: method,
                trigger,
                payload: None,
                fields,
                context,
            });
        }
        let mut typed = typed;
        let (payload, context) = match (typed.next(), typed.next()) {
            (Some(only), None) if is_context(&only.ty) => (None, Some(only)),
            (Some(only), None) => (Some(&*only.ty), None),
            (Some(first), Some(second)) if is_context(&second.ty) => {
                (Some(&*first.ty), Some(second))
            }
            (Some(first), Some(_)) => (Some(&*first.ty), None),
            (None, _) => (None, None),
        };
        Some(Handler {
            original: method,
            trigger,
            payload,
            fields: Vec::new(),
            context,
        })
    }

    /// Whether the handler's event is written `Enum::Variant { .. }`.
    pub(crate) fn takes_fields(&self) -> bool {
        self.on().is_some_and(|on| on.named_fields.is_some())
    }

    /// The method's name.
    pub(crate) fn name(&self) -> &syn::Ident {
        &self.original.sig.ident
    }

    /// The event or timeout path, if the attribute named one.
    pub(crate) fn path(&self) -> Option<&Path> {
        match &self.trigger {
            Trigger::On(on) => on.event.as_ref(),
            Trigger::Timeout(timeout) => timeout.kind.as_ref(),
        }
    }

    /// The commands this handler declares.
    pub(crate) fn sends(&self) -> &[Path] {
        match &self.trigger {
            Trigger::On(on) => &on.sends,
            Trigger::Timeout(timeout) => &timeout.sends,
        }
    }

    /// Whether this is an event handler.
    pub(crate) fn is_event_handler(&self) -> bool {
        matches!(self.trigger, Trigger::On(_))
    }

    /// The handler's `in(..)` and `to(..)`.
    pub(crate) fn states(&self) -> &StateSpec {
        match &self.trigger {
            Trigger::On(on) => &on.states,
            Trigger::Timeout(timeout) => &timeout.states,
        }
    }

    /// The `#[on(..)]` arguments, for event handlers.
    pub(crate) fn on(&self) -> Option<&OnAttr> {
        match &self.trigger {
            Trigger::On(on) => Some(on),
            Trigger::Timeout(_) => None,
        }
    }
}

/// Whether `ty` is `&mut Context<..>` (by the last path segment's name).
pub(crate) fn is_context(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    let Type::Path(TypePath { path, .. }) = &*reference.elem else {
        return false;
    };
    reference.mutability.is_some()
        && path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == CONTEXT)
}

/// `Enum::Variant` as written, without spaces.
pub(crate) fn path_string(path: &Path) -> String {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    let joined = segments.join("::");
    if path.leading_colon.is_some() {
        format!("::{joined}")
    } else {
        joined
    }
}

/// Tokens as a user would write them (`id: &String`, not `id : & String`),
/// for messages.
pub(crate) fn written(tokens: &impl quote::ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let mut tidy = text
        .replace(" : ", ": ")
        .replace(" :: ", "::")
        .replace("& ", "&")
        .replace(" ,", ",")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" <", "<");
    tidy.retain(|character| character != '\n');
    tidy
}

#[cfg(test)]
mod tests {
    use super::written;

    #[test]
    fn written_tokens_read_like_source() {
        let parameter: syn::FnArg = syn::parse_quote!(id: &String);
        assert_eq!(written(&parameter), "id: &String");
        let generics: syn::Generics = syn::parse_quote!(<P: Debug, Q>);
        assert_eq!(written(&generics), "<P: Debug, Q>");
        let ty: syn::Type = syn::parse_quote!(Vec<u8>);
        assert_eq!(written(&ty), "Vec<u8>");
    }
}
