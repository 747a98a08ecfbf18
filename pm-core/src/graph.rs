//! The process graph: a Mermaid `stateDiagram-v2` drawn from a process's
//! [`Descriptor`], so the picture and the compiled transition table are one.

use std::fmt::Write;

use crate::process::{Descriptor, Trigger};

/// The name of the single state of a process without `state = ..`.
const ONLY_STATE: &str = "Active";

/// Draws the states, the events and timeouts that move between them, and
/// the commands each sends, as Mermaid `stateDiagram-v2` text.
///
/// A handler without `in(..)` is drawn from every state; one without
/// `to(..)` as a loop on the state it applies in. States with no way out
/// are drawn as final.
pub fn mermaid(descriptor: &Descriptor) -> String {
    let states: Vec<&str> = match &descriptor.state {
        Some(info) => info.states.to_vec(),
        None => vec![ONLY_STATE],
    };
    let mut edges: Vec<(&str, &str, String)> = Vec::new();
    for handler in descriptor.handlers {
        let trigger = match handler.trigger {
            Trigger::Event(event) => event.replace("::", "."),
            Trigger::Timeout(kind) => format!("timeout {}", kind.replace("::", ".")),
        };
        let label = if handler.sends.is_empty() {
            trigger
        } else {
            format!("{trigger} / {}", handler.sends.join(", "))
        };
        let from: &[&str] = if handler.from.is_empty() {
            &states
        } else {
            handler.from
        };
        for &source in from {
            let targets: &[&str] = if handler.to.is_empty() {
                &[source]
            } else {
                handler.to
            };
            for &target in targets {
                edges.push((source, target, label.clone()));
            }
        }
    }
    let mut text = String::from("stateDiagram-v2\n");
    let initial = descriptor
        .state
        .as_ref()
        .map_or(Some(ONLY_STATE), |info| info.initial);
    if let Some(initial) = initial {
        let _ = writeln!(text, "    [*] --> {initial}");
    }
    for (source, target, label) in &edges {
        let _ = writeln!(text, "    {source} --> {target}: {label}");
    }
    for state in &states {
        let leaves = edges
            .iter()
            .any(|(source, target, _)| source == state && target != state);
        if !leaves && descriptor.state.is_some() {
            let _ = writeln!(text, "    {state} --> [*]");
        }
    }
    text
}
