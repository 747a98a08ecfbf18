//! The process graph: a Mermaid `stateDiagram-v2` drawn from a process's
//! [`Descriptor`], so the picture and the compiled transition table are one.

use std::fmt::Write;

use crate::descriptor::{Descriptor, Trigger, ONLY_STATE};

/// Draws the states, the events and timeouts that move between them, and
/// the commands each sends, as Mermaid `stateDiagram-v2` text.
///
/// A handler without `in(..)` is drawn from every state but the final ones;
/// one without `to(..)` as a loop on the state it applies in. Only the
/// states marked `#[state(final)]` are drawn as final.
pub fn mermaid(descriptor: &Descriptor) -> String {
    let mut text = String::from("stateDiagram-v2\n");
    let initial = descriptor
        .state
        .as_ref()
        .map_or(Some(ONLY_STATE), |info| info.initial);
    if let Some(initial) = initial {
        let _ = writeln!(text, "    [*] --> {initial}");
    }
    for transition in descriptor.transitions() {
        let handler = transition.handler;
        let trigger = match handler.trigger {
            Trigger::Event(event) => event.replace("::", "."),
            Trigger::Timeout(kind) => format!("timeout {}", kind.replace("::", ".")),
        };
        let label = if handler.sends.is_empty() {
            trigger
        } else {
            format!("{trigger} / {}", handler.sends.join(", "))
        };
        let _ = writeln!(
            text,
            "    {} --> {}: {label}",
            transition.from, transition.to
        );
    }
    if let Some(info) = &descriptor.state {
        for state in info.finals {
            let _ = writeln!(text, "    {state} --> [*]");
        }
    }
    text
}
