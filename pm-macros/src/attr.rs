//! Attribute arguments parsed into typed structs: `#[process_manager(..)]`,
//! `#[on(..)]` and `#[timeout(..)]`. Parsers record mistakes in the `Ctxt`
//! and keep going, so one build reports every bad key.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{parenthesized, Ident, LitStr, Path, Token, Type};

use crate::ctxt::Ctxt;
use crate::suggest::unknown_key_message;
use crate::symbol::*;

/// A key that may be given once; a second occurrence is reported.
pub(crate) struct Attr<T> {
    name: Symbol,
    attribute: &'static str,
    value: Option<T>,
}

impl<T> Attr<T> {
    fn none(name: Symbol, attribute: &'static str) -> Self {
        Attr {
            name,
            attribute,
            value: None,
        }
    }

    fn set(&mut self, cx: &Ctxt, tokens: impl ToTokens, value: T) {
        if self.value.is_some() {
            cx.error_spanned_by(
                tokens,
                format!(
                    "duplicate `{}` in `{}`; give it once",
                    self.name, self.attribute
                ),
            );
        } else {
            self.value = Some(value);
        }
    }

    fn get(self) -> Option<T> {
        self.value
    }
}

/// The arguments of `#[process_manager(..)]`.
pub(crate) struct ProcessAttr {
    /// `name = ".."`: the process name.
    pub(crate) name: Option<LitStr>,
    /// `id = Type`: the instance id type.
    pub(crate) id: Option<Type>,
    /// `subscribe(A, B)`: the event enums.
    pub(crate) subscribe: Vec<Path>,
    /// `ignore(A::X, B::Y in(S::A), ..)`: events deliberately not handled,
    /// in every state or in the states listed.
    pub(crate) ignore: Vec<IgnoreEntry>,
    /// `timeouts(T)`: the enum of timeout kinds.
    pub(crate) timeouts: Option<Path>,
    /// `state = field`: the field holding the process's state enum.
    pub(crate) state: Option<Ident>,
    /// `version = N`: the state schema version this build writes.
    pub(crate) version: Option<syn::LitInt>,
    /// `migrate = path`: upgrades stored state of an older version.
    pub(crate) migrate: Option<Path>,
    /// `order(Command(by = field), Other(unordered))`: how commands are
    /// ordered for delivery, where not per instance.
    pub(crate) order: Vec<OrderEntry>,
    /// Where to point errors about the attribute as a whole.
    pub(crate) span: Span,
}

/// One entry of `order(..)`.
pub(crate) struct OrderEntry {
    /// The command type.
    pub(crate) command: Path,
    /// How it is ordered.
    pub(crate) rule: OrderRule,
}

/// How one command type is ordered for delivery.
pub(crate) enum OrderRule {
    /// `by = field`: with the commands whose field has the same value.
    By(Ident),
    /// `unordered`: with no other command.
    Unordered,
}

/// One entry of `ignore(..)`: `Enum::Variant`, optionally followed by
/// `in(State::A, ..)` or `except(State::A, ..)`.
pub(crate) struct IgnoreEntry {
    /// The event or timeout kind.
    pub(crate) path: Path,
    /// The states listed after `in` or `except`; empty: every state.
    pub(crate) states: Vec<Path>,
    /// Whether `states` are the exceptions (`except(..)`) rather than the
    /// states it is ignored in.
    pub(crate) except: bool,
}

impl syn::parse::Parse for IgnoreEntry {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let path: Path = input.parse()?;
        let mut entry = IgnoreEntry {
            path,
            states: Vec::new(),
            except: false,
        };
        let lookahead = input.lookahead1();
        if lookahead.peek(Token![in]) {
            input.parse::<Token![in]>()?;
        } else if input.peek(Ident) && input.fork().parse::<Ident>()? == EXCEPT {
            input.parse::<Ident>()?;
            entry.except = true;
        } else if input.is_empty() || input.peek(Token![,]) {
            return Ok(entry);
        } else {
            return Err(syn::Error::new(
                input.span(),
                "expected `,`, `in(..)` or `except(..)` after an ignored event",
            ));
        }
        let content;
        parenthesized!(content in input);
        entry.states = Punctuated::<Path, Token![,]>::parse_terminated(&content)?
            .into_iter()
            .collect();
        Ok(entry)
    }
}

/// How an event finds its instance.
pub(crate) enum Correlate {
    /// `correlate = field`: a field of the payload.
    Field(Ident),
    /// `correlate = path::to_fn`: a function of the payload returning `Option<Id>`.
    Function(Path),
}

/// The arguments of `#[on(..)]`.
pub(crate) struct OnAttr {
    /// The event, `Enum::Variant`.
    pub(crate) event: Option<Path>,
    /// `Enum::Variant { .. }`: a variant with named fields, which the
    /// handler takes one by one, by name (kept for its span).
    pub(crate) named_fields: Option<Span>,
    /// `start`: the handler may create the instance (kept for its span).
    pub(crate) start: Option<Ident>,
    /// `correlate = ..`.
    pub(crate) correlate: Option<Correlate>,
    /// `sends(..)`: the commands the handler may send.
    pub(crate) sends: Vec<Path>,
    /// `in(..)` and `to(..)`.
    pub(crate) states: StateSpec,
}

/// The arguments of `#[timeout(..)]`.
pub(crate) struct TimeoutAttr {
    /// The kind, `Enum::Variant`.
    pub(crate) kind: Option<Path>,
    /// `sends(..)`: the commands the handler may send.
    pub(crate) sends: Vec<Path>,
    /// `in(..)` and `to(..)`.
    pub(crate) states: StateSpec,
}

/// Where a handler applies and where it may lead.
#[derive(Default)]
pub(crate) struct StateSpec {
    /// `in(..)`: the states it applies in; empty: every state.
    pub(crate) from: Vec<Path>,
    /// `to(..)`: the states it may leave the instance in; empty: the one
    /// it found.
    pub(crate) to: Vec<Path>,
    /// The `in`/`to` keys as written, for errors about them.
    pub(crate) keys: Vec<Path>,
}

impl StateSpec {
    /// Parses `in(..)` or `to(..)` if `meta` is one; returns whether it was.
    fn parse(
        &mut self,
        cx: &Ctxt,
        meta: &ParseNestedMeta<'_>,
        attribute: &'static str,
    ) -> syn::Result<bool> {
        let list = if meta.path == IN {
            &mut self.from
        } else if meta.path == TO {
            &mut self.to
        } else {
            return Ok(false);
        };
        if !list.is_empty() {
            cx.error_spanned_by(
                &meta.path,
                format!(
                    "duplicate `{}` in `{attribute}`; list every state in one",
                    meta.path.to_token_stream()
                ),
            );
        }
        list.extend(parse_paths(meta)?);
        self.keys.push(meta.path.clone());
        Ok(true)
    }
}

impl ProcessAttr {
    /// Parses the attribute's arguments.
    pub(crate) fn parse(cx: &Ctxt, args: TokenStream) -> ProcessAttr {
        const ATTRIBUTE: &str = "#[process_manager(..)]";
        // The whole `#[process_manager(..)]` attribute: on stable, the span
        // of the arguments would be only their first token.
        let span = Span::call_site();
        let mut name = Attr::none(NAME, ATTRIBUTE);
        let mut id = Attr::none(ID, ATTRIBUTE);
        let mut subscribe = Attr::none(SUBSCRIBE, ATTRIBUTE);
        let mut ignore = Attr::none(IGNORE, ATTRIBUTE);
        let mut timeouts = Attr::none(TIMEOUTS, ATTRIBUTE);
        let mut state = Attr::none(STATE, ATTRIBUTE);
        let mut version = Attr::none(VERSION, ATTRIBUTE);
        let mut migrate = Attr::none(MIGRATE, ATTRIBUTE);
        let mut order = Attr::none(ORDER, ATTRIBUTE);
        let parser = syn::meta::parser(|meta| {
            if meta.path == NAME {
                let value: LitStr = meta.value()?.parse()?;
                if value.value().trim().is_empty() {
                    cx.error_spanned_by(&value, "the process name is empty; give a unique name such as `name = \"booking\"`");
                }
                name.set(cx, &meta.path, value);
            } else if meta.path == ID {
                id.set(cx, &meta.path, meta.value()?.parse::<Type>()?);
            } else if meta.path == SUBSCRIBE {
                subscribe.set(cx, &meta.path, parse_paths(&meta)?);
            } else if meta.path == IGNORE {
                let content;
                parenthesized!(content in meta.input);
                let entries = Punctuated::<IgnoreEntry, Token![,]>::parse_terminated(&content)?;
                ignore.set(cx, &meta.path, entries.into_iter().collect());
            } else if meta.path == STATE {
                state.set(cx, &meta.path, meta.value()?.parse::<Ident>()?);
            } else if meta.path == VERSION {
                let value: syn::LitInt = meta.value()?.parse()?;
                match value.base10_parse::<i32>() {
                    Ok(number) if number >= 1 => version.set(cx, &meta.path, value),
                    _ => cx.error_spanned_by(
                        &value,
                        "`version` is the state schema version: a whole number from 1 up",
                    ),
                }
            } else if meta.path == MIGRATE {
                migrate.set(cx, &meta.path, meta.value()?.parse::<Path>()?);
            } else if meta.path == ORDER {
                let mut entries = Vec::new();
                meta.parse_nested_meta(|entry| {
                    if let Some(rule) = parse_order_rule(cx, &entry)? {
                        entries.push(OrderEntry {
                            command: entry.path.clone(),
                            rule,
                        });
                    }
                    Ok(())
                })?;
                order.set(cx, &meta.path, entries);
            } else if meta.path == TIMEOUTS {
                let mut kinds = parse_paths(&meta)?;
                if kinds.len() > 1 {
                    cx.error_spanned_by(
                        &kinds[1],
                        "`timeouts(..)` takes one enum; make each kind a variant of it",
                    );
                }
                if let Some(first) = (!kinds.is_empty()).then(|| kinds.remove(0)) {
                    timeouts.set(cx, &meta.path, first);
                }
            } else {
                report_unknown_key(cx, &meta, ATTRIBUTE, PROCESS_KEYS)?;
            }
            Ok(())
        });
        if let Err(error) = parser.parse2(args) {
            cx.syn_error(error);
        }
        ProcessAttr {
            name: name.get(),
            id: id.get(),
            subscribe: subscribe.get().unwrap_or_default(),
            ignore: ignore.get().unwrap_or_default(),
            timeouts: timeouts.get(),
            state: state.get(),
            version: version.get(),
            migrate: migrate.get(),
            order: order.get().unwrap_or_default(),
            span,
        }
    }
}

/// The rule of one `order(..)` entry, `Command(by = field)` or
/// `Command(unordered)`; `None` after reporting a malformed one.
fn parse_order_rule(
    cx: &Ctxt,
    entry: &syn::meta::ParseNestedMeta<'_>,
) -> syn::Result<Option<OrderRule>> {
    const ENTRY: &str = "order(..)";
    if !entry.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &entry.path,
            "say how this command is ordered: `Command(by = field)` or `Command(unordered)`",
        );
        skip_value(entry)?;
        return Ok(None);
    }
    let mut rule = Attr::none(BY, ENTRY);
    let mut unknown = false;
    entry.parse_nested_meta(|key| {
        if key.path == BY {
            rule.set(cx, &key.path, OrderRule::By(key.value()?.parse::<Ident>()?));
        } else if key.path == UNORDERED {
            rule.set(cx, &key.path, OrderRule::Unordered);
        } else {
            unknown = true;
            report_unknown_key(cx, &key, ENTRY, ORDER_KEYS)?;
        }
        Ok(())
    })?;
    let rule = rule.get();
    if rule.is_none() && !unknown {
        cx.error_spanned_by(
            &entry.path,
            "say how this command is ordered: `by = field` or `unordered`",
        );
    }
    Ok(rule)
}

impl OnAttr {
    /// Parses `#[on(..)]`.
    pub(crate) fn parse(cx: &Ctxt, attr: &syn::Attribute) -> OnAttr {
        const ATTRIBUTE: &str = "#[on(..)]";
        let mut event = Attr::none(EVENT, ATTRIBUTE);
        let mut start = Attr::none(START, ATTRIBUTE);
        let mut correlate = Attr::none(CORRELATE, ATTRIBUTE);
        let mut sends = Attr::none(SENDS, ATTRIBUTE);
        let mut states = StateSpec::default();
        let mut named_fields = None;
        let result = attr.parse_nested_meta(|meta| {
            if states.parse(cx, &meta, ATTRIBUTE)? {
                return Ok(());
            }
            if meta.input.peek(syn::token::Brace) {
                named_fields = Some(parse_rest_pattern(cx, &meta)?);
            }
            if is_bare_path(&meta) && meta.path.segments.len() > 1 {
                if event.value.is_some() {
                    cx.error_spanned_by(
                        &meta.path,
                        "an `#[on(..)]` names one event; write a second handler for this one",
                    );
                } else {
                    event.set(cx, &meta.path, meta.path.clone());
                }
            } else if meta.path == START {
                if !is_bare_path(&meta) {
                    cx.error_spanned_by(&meta.path, "`start` takes no value; write just `start`");
                    skip_value(&meta)?;
                }
                if let Some(ident) = meta.path.get_ident() {
                    start.set(cx, &meta.path, ident.clone());
                }
            } else if meta.path == CORRELATE {
                let path: Path = meta.value()?.parse()?;
                let value = match path.get_ident() {
                    Some(field) => Correlate::Field(field.clone()),
                    None => Correlate::Function(path),
                };
                correlate.set(cx, &meta.path, value);
            } else if meta.path == SENDS {
                sends.set(cx, &meta.path, parse_paths(&meta)?);
            } else if is_bare_path(&meta) && event.value.is_none() && starts_uppercase(&meta.path) {
                // `#[on(Placed)]` after `use BookingEvent::*`: the routing
                // needs the enum to find the event's family.
                cx.error_spanned_by(
                    &meta.path,
                    format!(
                        "write the event with its enum, as in `BookingEvent::{}`",
                        meta.path.to_token_stream()
                    ),
                );
                event.set(cx, &meta.path, meta.path.clone());
            } else {
                report_unknown_key(cx, &meta, ATTRIBUTE, ON_KEYS)?;
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
        let event = event.get().filter(|path| path.segments.len() > 1);
        if event.is_none() && !cx.has_errors() {
            cx.error_spanned_by(
                attr,
                "`#[on(..)]` needs the event first, as in `#[on(BookingEvent::Placed)]`",
            );
        }
        OnAttr {
            event,
            named_fields,
            start: start.get(),
            correlate: correlate.get(),
            sends: sends.get().unwrap_or_default(),
            states,
        }
    }
}

impl TimeoutAttr {
    /// Parses `#[timeout(..)]`.
    pub(crate) fn parse(cx: &Ctxt, attr: &syn::Attribute) -> TimeoutAttr {
        const ATTRIBUTE: &str = "#[timeout(..)]";
        let mut kind = Attr::none(TIMEOUT, ATTRIBUTE);
        let mut sends = Attr::none(SENDS, ATTRIBUTE);
        let mut states = StateSpec::default();
        let result = attr.parse_nested_meta(|meta| {
            if states.parse(cx, &meta, ATTRIBUTE)? {
                return Ok(());
            }
            if is_bare_path(&meta) && meta.path.segments.len() > 1 {
                kind.set(cx, &meta.path, meta.path.clone());
            } else if meta.path == SENDS {
                sends.set(cx, &meta.path, parse_paths(&meta)?);
            } else {
                report_unknown_key(cx, &meta, ATTRIBUTE, TIMEOUT_KEYS)?;
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
        let kind = kind.get();
        if kind.is_none() && !cx.has_errors() {
            cx.error_spanned_by(attr, "`#[timeout(..)]` needs the timeout kind first, as in `#[timeout(BookingTimeout::PaymentDue)]`");
        }
        TimeoutAttr {
            kind,
            sends: sends.get().unwrap_or_default(),
            states,
        }
    }
}

/// `{ .. }` after an event: the only pattern `#[on(..)]` takes, since the
/// handler's parameters name the fields. Returns where it is written.
fn parse_rest_pattern(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Span> {
    let content;
    let brace = syn::braced!(content in meta.input);
    if !(content.peek(Token![..]) && content.fork().parse::<Token![..]>().is_ok()) {
        let listed: TokenStream = content.fork().parse()?;
        cx.error_spanned_by(
            &listed,
            format!(
                "write `{} {{ .. }}`: the handler takes the fields it needs as parameters named after them",
                meta.path.to_token_stream().to_string().replace(' ', "")
            ),
        );
    }
    content.parse::<TokenStream>()?;
    Ok(brace.span.join())
}

/// Whether the entry is a path with neither `= value` nor `(..)` after it.
fn is_bare_path(meta: &ParseNestedMeta<'_>) -> bool {
    !(meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren))
}

/// Parses `(A, B::C, ..)`.
fn parse_paths(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<Path>> {
    let content;
    parenthesized!(content in meta.input);
    let paths = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
    Ok(paths.into_iter().collect())
}

/// Records an unknown key and skips its value, so parsing can go on.
pub(crate) fn report_unknown_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    attribute: &str,
    known: &[Symbol],
) -> syn::Result<()> {
    let word = meta.path.to_token_stream().to_string().replace(' ', "");
    cx.error_spanned_by(&meta.path, unknown_key_message(&word, attribute, known));
    skip_value(meta)
}

fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

/// Whether a single-segment path looks like a type or variant name.
fn starts_uppercase(path: &Path) -> bool {
    path.get_ident()
        .and_then(|ident| ident.to_string().chars().next())
        .is_some_and(char::is_uppercase)
}
