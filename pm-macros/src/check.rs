//! The macro's own checks (DESIGN section 4, item 4). Each rule is one
//! function, stated above it with its reason; all run, so every mistake is
//! reported in one build. What only rustc can see (missing handlers, wrong
//! payload types, undeclared commands) is left to generated code spanned on
//! the user's tokens.

use std::collections::HashMap;

use syn::{FnArg, Path, ReturnType};

use quote::ToTokens;

use crate::ast::{is_context, path_string, written, Handler, Process};
use crate::attr::Correlate;
use crate::ctxt::Ctxt;
use crate::lower::{overlap, Cover, Overlap, Row, Table};
use crate::prop::{command_variant, enum_of, variant_of};

/// Runs every check, in order.
pub(crate) fn check(cx: &Ctxt, process: &Process<'_>, table: &Table<'_, '_>) {
    check_required_keys(cx, process);
    check_method_names(cx, process);
    check_listed_once(cx, process);
    check_signatures(cx, process);
    check_handler_paths(cx, process);
    check_state_keys(cx, process);
    check_overlapping_covers(cx, &table.rows);
    check_one_correlation_per_event(cx, &table.rows);
    check_one_shape_per_event(cx, &table.rows);
    check_start_handler(cx, process);
    check_command_names(cx, process);
    check_order_entries(cx, process);
}

/// `name`, `id` and `subscribe(..)` have no sensible default: the name keys
/// stored state, the id type parses stream ids, and a process without
/// subscriptions never runs.
fn check_required_keys(cx: &Ctxt, process: &Process<'_>) {
    let attr = &process.attr;
    if attr.name.is_none() {
        cx.error_at(
            attr.span,
            "`#[process_manager]` needs `name = \"..\"`; the name keys stored state, so pick a unique one such as `name = \"booking\"`",
        );
    }
    if attr.id.is_none() {
        cx.error_at(
            attr.span,
            "`#[process_manager]` needs `id = Type`, the instance id type (FromStr + Display + Clone), such as `id = BookingId`",
        );
    }
    if attr.subscribe.is_empty() {
        cx.error_at(
            attr.span,
            "`#[process_manager]` needs `subscribe(..)` with the event enums the process reacts to",
        );
    }
}

/// Rust allows one method per name, and a handler named like another
/// method of the impl would make rustc report the clash against the
/// generated signature. Nothing calls a handler by name (only the engine can
/// make its context), so the handler is the one to rename.
fn check_method_names(cx: &Ctxt, process: &Process<'_>) {
    for handler in process.clashing_handlers() {
        let name = handler.name();
        cx.error_spanned_by(
            name,
            format!(
                "handler `{name}` has the name of another method of `{}`; rename the handler, as in `fn on_{name}`, since nothing calls it by name",
                process.ident
            ),
        );
    }
}

/// A repeated entry is harmless but always a slip (often a copy-paste that
/// meant another enum or command).
fn check_listed_once(cx: &Ctxt, process: &Process<'_>) {
    report_repeats(cx, &process.attr.subscribe, "subscribe(..)");
    for handler in &process.handlers {
        report_repeats(cx, handler.sends(), "sends(..)");
    }
    for helper in &process.helpers {
        report_repeats(cx, &helper.sends, "sends(..)");
    }
}

fn report_repeats(cx: &Ctxt, paths: &[Path], list: &str) {
    let mut seen = Vec::new();
    for path in paths {
        let written = path_string(path);
        if seen.contains(&written) {
            cx.error_spanned_by(
                path,
                format!("`{written}` is listed twice in `{list}`; remove one"),
            );
        } else {
            seen.push(written);
        }
    }
}

/// Handlers are called by generated code with a fixed shape:
/// `(&mut self, [event: &Payload,] cx: &mut Context<Self>)`, synchronous,
/// returning nothing. Saying so here beats a type error in generated code.
fn check_signatures(cx: &Ctxt, process: &Process<'_>) {
    for handler in &process.handlers {
        let sig = &handler.original.sig;
        let name = &sig.ident;
        if let Some(asyncness) = sig.asyncness {
            cx.error_spanned_by(
                asyncness,
                format!("handler `{name}` is `async`; handlers are synchronous and do no I/O, so remove `async` and send a command instead"),
            );
        }
        if !sig.generics.params.is_empty() {
            cx.error_spanned_by(
                &sig.generics,
                format!(
                    "handler `{name}` cannot be generic; remove `{}` and name the event's payload type",
                    written(&sig.generics)
                ),
            );
        }
        if let ReturnType::Type(_, ty) = &sig.output {
            cx.error_spanned_by(
                ty,
                format!(
                    "handler `{name}` returns `{}`, which the engine would drop; remove the return type, send commands with `cx.send(..)` and keep state in `self`",
                    written(ty)
                ),
            );
        }
        match sig.inputs.first() {
            Some(FnArg::Receiver(receiver)) if receiver.reference.is_some() && receiver.mutability.is_some() => {}
            Some(FnArg::Receiver(receiver)) => cx.error_spanned_by(
                receiver,
                format!("handler `{name}` must take `&mut self`, since handlers change the process state"),
            ),
            _ => cx.error_spanned_by(
                name,
                format!("handler `{name}` must take `&mut self` first, since handlers change the process state"),
            ),
        }
        check_parameters(cx, handler);
    }
}

fn check_parameters(cx: &Ctxt, handler: &Handler<'_>) {
    let sig = &handler.original.sig;
    let name = &sig.ident;
    let typed: Vec<&syn::PatType> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(pat_type) => Some(pat_type),
            FnArg::Receiver(_) => None,
        })
        .collect();
    if handler.takes_fields() {
        check_field_parameters(cx, handler, &typed);
        return;
    }
    if !handler.is_event_handler() {
        // A timeout carries no data: anything but the context is extra.
        if let Some(extra) = typed.iter().find(|parameter| !is_context(&parameter.ty)) {
            cx.error_spanned_by(
                extra,
                format!(
                    "timeout handler `{name}` takes only `cx: &mut Context<Self>`; remove `{}`",
                    written(*extra)
                ),
            );
            return;
        }
    }
    let expected = if handler.is_event_handler() {
        "`(&mut self, event: &Payload, cx: &mut Context<Self>)`, or without `event` for unit variants; for a variant with named fields, write `#[on(Enum::Variant { .. })]` and take each field by name"
    } else {
        "`(&mut self, cx: &mut Context<Self>)`"
    };
    let most = if handler.is_event_handler() { 2 } else { 1 };
    if typed.len() > most {
        // Point at a parameter that is neither the payload nor the context.
        let extra = typed
            .iter()
            .skip(1)
            .find(|parameter| !is_context(&parameter.ty))
            .unwrap_or(&typed[most]);
        cx.error_spanned_by(
            extra,
            format!(
                "handler `{name}` takes too many parameters; remove `{}`: expected {expected}",
                written(*extra)
            ),
        );
        return;
    }
    match typed.last() {
        Some(last) if is_context(&last.ty) => {}
        Some(last) if typed.len() == most => cx.error_spanned_by(
            &last.ty,
            format!("the last parameter of handler `{name}` must be `&mut Context<Self>`; expected {expected}"),
        ),
        _ => cx.error_spanned_by(
            name,
            format!("handler `{name}` has no `&mut Context<Self>` parameter; add `cx: &mut Context<Self>` as its last parameter"),
        ),
    }
    if let Some(context) = handler.context {
        check_context_arguments(cx, name, &context.ty);
    }
    if let Some(payload) = handler.payload {
        if !matches!(payload, syn::Type::Reference(reference) if reference.mutability.is_none()) {
            cx.error_spanned_by(
                payload,
                format!(
                    "handler `{name}` must take the event payload by shared reference, as in `event: &{}`",
                    written(payload)
                ),
            );
        }
    }
}

/// A handler of `Enum::Variant { .. }` takes the fields it needs, each as a
/// parameter named after its field and taken by shared reference, then the
/// context: the generated code binds the fields by those names.
fn check_field_parameters(cx: &Ctxt, handler: &Handler<'_>, typed: &[&syn::PatType]) {
    let name = handler.name();
    match typed.last() {
        Some(last) if is_context(&last.ty) => check_context_arguments(cx, name, &last.ty),
        _ => cx.error_spanned_by(
            name,
            format!("handler `{name}` has no `&mut Context<Self>` parameter; add `cx: &mut Context<Self>` as its last parameter"),
        ),
    }
    for parameter in &handler.fields {
        let field = match &*parameter.pat {
            syn::Pat::Ident(ident)
                if ident.by_ref.is_none()
                    && ident.mutability.is_none()
                    && ident.subpat.is_none() =>
            {
                &ident.ident
            }
            other => {
                cx.error_spanned_by(
                    other,
                    format!("handler `{name}` takes fields by name: write the parameter as the field's name, as in `booking_id: &BookingId`"),
                );
                continue;
            }
        };
        if !matches!(&*parameter.ty, syn::Type::Reference(reference) if reference.mutability.is_none())
        {
            cx.error_spanned_by(
                &parameter.ty,
                format!(
                    "handler `{name}` must take field `{field}` by shared reference, as in `{field}: &{}`",
                    written(&parameter.ty)
                ),
            );
        }
    }
}

/// `Context<Self>` gets its second argument from the macro; one written by
/// hand would clash with it.
fn check_context_arguments(cx: &Ctxt, name: &syn::Ident, ty: &syn::Type) {
    let syn::Type::Reference(reference) = ty else {
        return;
    };
    let syn::Type::Path(path) = &*reference.elem else {
        return;
    };
    let Some(last) = path.path.segments.last() else {
        return;
    };
    let count = match &last.arguments {
        syn::PathArguments::AngleBracketed(arguments) => arguments.args.len(),
        _ => 0,
    };
    if count != 1 {
        cx.error_spanned_by(
            ty,
            format!("write the context of handler `{name}` as `&mut Context<Self>`; the macro adds the second argument from `sends(..)`"),
        );
    }
}

/// Routing matches on the subscribed enums, so a handler or ignore entry
/// must name a variant of one of them; a timeout handler must name a
/// variant of the `timeouts(..)` enum.
fn check_handler_paths(cx: &Ctxt, process: &Process<'_>) {
    let subscribed = process
        .attr
        .subscribe
        .iter()
        .map(|path| format!("`{}`", path_string(path)))
        .collect::<Vec<_>>()
        .join(", ");
    let ignored = process
        .attr
        .ignore
        .iter()
        .map(|entry| &entry.path)
        .filter(|path| !process.is_timeout_kind(path));
    let event_paths = process
        .event_handlers()
        .filter_map(Handler::path)
        .chain(ignored);
    for path in event_paths {
        if process.subscription_of(path).is_some() || process.attr.subscribe.is_empty() {
            continue;
        }
        let written = path_string(path);
        match enum_of(path) {
            Some(enum_path) => cx.error_spanned_by(
                path,
                format!(
                    "`{written}` is not in a subscribed enum; add `{}` to `subscribe(..)`, or name a variant of {subscribed}",
                    path_string(&enum_path)
                ),
            ),
            None => cx.error_spanned_by(
                path,
                format!("`{written}` is not an event; name an enum variant, as in `BookingEvent::Placed`"),
            ),
        }
    }
    for handler in process.timeout_handlers() {
        let Some(path) = handler.path() else {
            continue;
        };
        let written = path_string(path);
        match &process.attr.timeouts {
            None => cx.error_spanned_by(
                path,
                format!(
                    "`{}` handles timeout `{written}`, but the process declares no `timeouts(..)`; add `timeouts({})` to `#[process_manager(..)]`",
                    handler.name(),
                    enum_of(path).map_or_else(|| "YourTimeoutEnum".to_owned(), |enum_path| path_string(&enum_path))
                ),
            ),
            Some(timeouts) if !process.is_timeout_kind(path) => cx.error_spanned_by(
                path,
                format!(
                    "`{written}` is not a kind of the timeouts enum `{}`; name one of its variants",
                    path_string(timeouts)
                ),
            ),
            Some(_) => {}
        }
    }
}

/// `in(..)`, `to(..)` and state-qualified ignores name variants of the
/// state enum, which only `state = field` says where to find; `migrate`
/// upgrades state to `version`, so it needs a version above 1.
fn check_state_keys(cx: &Ctxt, process: &Process<'_>) {
    let attr = &process.attr;
    if attr.state.is_none() {
        let hint = "needs `state = field` in `#[process_manager(..)]`, naming the field that holds the process's state enum";
        for handler in &process.handlers {
            for key in &handler.states().keys {
                let key_name = key.to_token_stream().to_string();
                cx.error_spanned_by(
                    key,
                    format!("`{key_name}(..)` on handler `{}` {hint}", handler.name()),
                );
            }
        }
        for entry in attr.ignore.iter().filter(|entry| !entry.states.is_empty()) {
            cx.error_spanned_by(
                &entry.path,
                format!(
                    "ignoring `{}` in some states {hint}",
                    path_string(&entry.path)
                ),
            );
        }
    }
    let version = attr
        .version
        .as_ref()
        .and_then(|version| version.base10_parse::<i32>().ok());
    if let (Some(migrate), None | Some(1)) = (&attr.migrate, version) {
        cx.error_spanned_by(
            migrate,
            "`migrate` upgrades stored state to the current `version`; set `version = 2` (or higher) next to it",
        );
    }
}

/// One (state, event) pair runs at most one handler, and is either handled
/// or ignored: two covers would make the routing ambiguous or one of them
/// stale. Overlaps in states the macro can name are checked by the
/// compiler instead (`expand_overlap_checks`), which knows the states: a
/// misspelt state must not read as an overlap.
fn check_overlapping_covers(cx: &Ctxt, rows: &[Row<'_, '_>]) {
    for row in rows {
        for overlapping in overlapping_covers(row) {
            if overlapping.states.is_none() {
                cx.error_spanned_by(
                    overlapping.at,
                    format!("{}{}", overlapping.before_state, overlapping.after_state),
                );
            }
        }
    }
}

/// Two covers of one variant that overlap, and the error that says so.
pub(crate) struct Overlapping<'p> {
    /// Where to report it: the later cover's path.
    pub(crate) at: &'p Path,
    /// The states they may share (variant names); `None`: certainly some.
    pub(crate) states: Option<Vec<String>>,
    /// The states either cover lists (variant names).
    pub(crate) listed: Vec<String>,
    /// The message up to where ` in state `Enum::State`` goes.
    pub(crate) before_state: String,
    /// The rest of the message.
    pub(crate) after_state: String,
}

/// Every later cover of `row` that overlaps an earlier one (the first such
/// earlier one).
pub(crate) fn overlapping_covers<'p>(row: &Row<'p, '_>) -> Vec<Overlapping<'p>> {
    let Some(path) = row.path() else {
        return Vec::new();
    };
    let written = path_string(path);
    let covers = row.covers();
    let mut found = Vec::new();
    for (index, later) in covers.iter().enumerate() {
        let earlier = covers[..index].iter().find_map(|earlier| {
            match overlap(earlier.states(), later.states()) {
                Overlap::Disjoint => None,
                Overlap::Unnamed => Some((earlier, None)),
                Overlap::Named(states) => Some((earlier, Some(states))),
            }
        });
        let Some((earlier, states)) = earlier else {
            continue;
        };
        let listed = earlier
            .states()
            .listed()
            .iter()
            .chain(later.states().listed())
            .filter_map(variant_of)
            .map(ToString::to_string)
            .collect();
        let (at, before_state, after_state) = match (earlier, later) {
            (Cover::Handler(first), Cover::Handler(second)) => (
                second.path().unwrap_or(path),
                format!("second handler for `{written}`"),
                format!("; the first is `{}`", first.name()),
            ),
            (Cover::Handler(handler), Cover::Ignore(entry)) => (
                &entry.path,
                format!(
                    "`{written}` is handled by `{}` and also listed in `ignore(..)`",
                    handler.name()
                ),
                "; remove one".to_owned(),
            ),
            (Cover::Ignore(_), Cover::Ignore(entry)) => (
                &entry.path,
                format!("`{written}` is listed twice in `ignore(..)`"),
                "; remove one".to_owned(),
            ),
            // Handlers come before ignore entries in `covers`.
            (Cover::Ignore(_), Cover::Handler(_)) => continue,
        };
        found.push(Overlapping {
            at,
            states,
            listed,
            before_state,
            after_state,
        });
    }
    found
}

/// Routing finds an event's instance before it knows the instance's state,
/// so every handler of one event must correlate it the same way.
fn check_one_correlation_per_event(cx: &Ctxt, rows: &[Row<'_, '_>]) {
    for row in rows {
        let Some(first) = row.handlers.first() else {
            continue;
        };
        let describe =
            |handler: &Handler<'_>| match handler.on().and_then(|on| on.correlate.as_ref()) {
                None => "by stream id".to_owned(),
                Some(Correlate::Field(field)) => format!("by field `{field}`"),
                Some(Correlate::Function(function)) => format!("by `{}`", path_string(function)),
            };
        for other in &row.handlers[1..] {
            if describe(other) != describe(first) {
                cx.error_spanned_by(
                    other.path(),
                    format!(
                        "handlers of `{}` correlate differently: `{}` {}, `{}` {}; an event finds its instance one way, so give them the same `correlate`",
                        row.path().map(path_string).unwrap_or_default(),
                        first.name(),
                        describe(first),
                        other.name(),
                        describe(other)
                    ),
                );
            }
        }
    }
}

/// Routing binds an event's payload one way, so every handler of one event
/// writes it the same way (`Enum::Variant` or `Enum::Variant { .. }`), and
/// a variant with named fields has no payload to pass to a correlation
/// function.
fn check_one_shape_per_event(cx: &Ctxt, rows: &[Row<'_, '_>]) {
    for row in rows {
        let Some(first) = row.handlers.first() else {
            continue;
        };
        for other in &row.handlers[1..] {
            if other.takes_fields() != first.takes_fields() {
                let (with, without) = if first.takes_fields() {
                    (first, other)
                } else {
                    (other, first)
                };
                cx.error_spanned_by(
                    other.path(),
                    format!(
                        "`{}` takes the fields by name but `{}` does not; write the event the same way on both, with `{{ .. }}` if the variant has named fields",
                        with.name(),
                        without.name()
                    ),
                );
            }
        }
        for handler in &row.handlers {
            let Some(on) = handler.on() else {
                continue;
            };
            if let (Some(_), Some(Correlate::Function(function))) = (on.named_fields, &on.correlate)
            {
                cx.error_spanned_by(
                    function,
                    "a variant with named fields has no payload to pass to a correlation function; correlate by one of its fields, as in `correlate = booking_id`",
                );
            }
        }
    }
}

/// Only `start` handlers create instances; without one the process would
/// silently skip every event.
fn check_start_handler(cx: &Ctxt, process: &Process<'_>) {
    if process.has_start_handler() {
        return;
    }
    let Some(path) = process.event_handlers().find_map(Handler::path) else {
        return;
    };
    cx.error_spanned_by(
        path,
        format!(
            "no handler is marked `start`, so no instance can ever be created; add `start` to the `#[on(..)]` that begins the process, such as `#[on({}, start)]`",
            path_string(path)
        ),
    );
}

/// The command enum names its variants after the command types' last path
/// segment, so two types of the same name from different modules collide.
fn check_command_names(cx: &Ctxt, process: &Process<'_>) {
    let mut by_name: HashMap<String, String> = HashMap::new();
    for path in process.all_commands() {
        let Some(variant) = command_variant(path) else {
            continue;
        };
        let written = path_string(path);
        match by_name.get(&variant.to_string()) {
            Some(other) if *other != written => cx.error_spanned_by(
                path,
                format!("two commands are named `{variant}` (`{other}` and `{written}`); rename one of the types"),
            ),
            _ => {
                by_name.insert(variant.to_string(), written);
            }
        }
    }
}

/// `order(..)` says how a command the process sends is delivered, once: an
/// entry for a command no handler sends would silently do nothing.
fn check_order_entries(cx: &Ctxt, process: &Process<'_>) {
    let sent: Vec<String> = process
        .all_commands()
        .into_iter()
        .filter_map(command_variant)
        .map(ToString::to_string)
        .collect();
    let mut seen: Vec<String> = Vec::new();
    for entry in &process.attr.order {
        let Some(name) = command_variant(&entry.command).map(ToString::to_string) else {
            continue;
        };
        if !sent.contains(&name) {
            cx.error_spanned_by(
                &entry.command,
                format!("`order(..)` names `{name}`, which no handler sends; add it to a handler's `sends(..)` or remove it from `order(..)`"),
            );
        } else if seen.contains(&name) {
            cx.error_spanned_by(
                &entry.command,
                format!("`{name}` is listed twice in `order(..)`; keep one"),
            );
        }
        seen.push(name);
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use crate::ast::Process;
    use crate::ctxt::Ctxt;

    /// The messages the checks report for `args` on `body`.
    fn messages(args: TokenStream, body: TokenStream) -> Vec<String> {
        let item: syn::ItemImpl = syn::parse2(body).expect("test input is an impl block");
        let cx = Ctxt::new();
        if let Some(process) = Process::from_syn(&cx, args, &item) {
            super::check(&cx, &process, &crate::lower::lower(&process));
        }
        let errors = cx
            .check()
            .map(|tokens| tokens.to_string())
            .unwrap_or_default();
        errors
            .split("compile_error !")
            .filter_map(|chunk| {
                let start = chunk.find('"')?;
                let end = chunk.rfind('"')?;
                (end > start).then(|| chunk[start + 1..end].replace("\\\"", "\""))
            })
            .collect()
    }

    #[test]
    fn a_valid_process_has_no_errors() {
        let errors = messages(
            quote!(
                name = "booking",
                id = BookingId,
                subscribe(BookingEvent),
                ignore(BookingEvent::Settled)
            ),
            quote! {
                impl Booking {
                    #[on(BookingEvent::Placed, start, sends(Reserve))]
                    fn placed(&mut self, event: &Placed, cx: &mut Context<Self>) {}
                    #[on(BookingEvent::Expired)]
                    fn expired(&mut self, cx: &mut Context<Self>) {}
                }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn every_mistake_is_reported() {
        let errors = messages(
            quote!(
                name = "booking",
                id = BookingId,
                subscribe(BookingEvent),
                ignore(BookingEvent::Placed)
            ),
            quote! {
                impl Booking {
                    #[on(BookingEvent::Placed, sends(Reserve))]
                    fn placed(&mut self, event: &Placed, cx: &mut Context<Self>) {}
                    #[on(BookingEvent::Placed)]
                    fn placed_again(&mut self, cx: &mut Context<Self>) {}
                    #[on(OrderEvent::Paid)]
                    fn paid(&self) {}
                }
            },
        );
        let expected = [
            "handler `paid` must take `&mut self`",
            "handler `paid` has no `&mut Context<Self>` parameter",
            "`OrderEvent::Paid` is not in a subscribed enum",
            "second handler for `BookingEvent::Placed`; the first is `placed`",
            "`BookingEvent::Placed` is handled by `placed` and also listed in `ignore(..)`",
            "no handler is marked `start`",
        ];
        for fragment in expected {
            assert!(
                errors.iter().any(|error| error.contains(fragment)),
                "missing `{fragment}` in {errors:#?}"
            );
        }
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    }

    #[test]
    fn misspelt_key_suggests_the_right_one() {
        let errors = messages(
            quote!(name = "booking", id = BookingId, subscribe(BookingEvent)),
            quote! {
                impl Booking {
                    #[on(BookingEvent::Placed, start, send(Reserve))]
                    fn placed(&mut self, cx: &mut Context<Self>) {}
                }
            },
        );
        assert_eq!(
            errors,
            ["unknown key `send` in `#[on(..)]`; expected one of `start`, `correlate`, `sends`, `in`, `to` (did you mean `sends`?)"]
        );
    }
}
