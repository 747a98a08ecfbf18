//! [`Explorer`]: walk a process's transition table breadth-first with
//! sample events and its timeouts, and report what goes wrong on the way,
//! each problem with the shortest path of steps that leads to it.

use std::collections::{BTreeSet, HashSet};
use std::fmt::{self, Debug};

use chrono::{DateTime, Utc};

use super::scenario::Input;
use crate::clock::{Clock, ManualClock};
use crate::context::TimeoutChange;
use crate::descriptor::{Trigger, ONLY_STATE};
use crate::engine::run_handler;
use crate::process::{Outcome, ProcessManager, Routed};
use crate::timeout::Timeout;

/// Explores instance `id` of process `P`: from the state before its first
/// event, every sample event and every pending timeout is applied to every
/// state reached, breadth-first, up to [`depth`](Self::depth) steps, and
/// each event is also delivered twice in a row. It checks that no handler
/// panics, that each leaves the state inside its `to(..)`, that the
/// invariants hold in every state reached, and that every move the table
/// declares is taken by some walk.
///
/// ```
/// use pm_core::prelude::*;
/// use pm_core::testing::Explorer;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Clone, Serialize, Deserialize, Event)]
/// enum TicketEvent { Opened, Closed }
///
/// #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
/// enum Stage {
///     #[default]
///     New,
///     Open,
///     #[state(final)]
///     Closed,
/// }
///
/// #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
/// struct Ticket { stage: Stage }
///
/// #[process_manager(name = "ticket", id = String, subscribe(TicketEvent), state = stage,
///     ignore(TicketEvent::Opened except(New), TicketEvent::Closed except(Open)))]
/// impl Ticket {
///     #[on(TicketEvent::Opened, start, in(New), to(Open))]
///     fn opened(&mut self, _cx: &mut Context<Self>) { self.stage = Stage::Open; }
///
///     #[on(TicketEvent::Closed, in(Open), to(Closed))]
///     fn closed(&mut self, _cx: &mut Context<Self>) { self.stage = Stage::Closed; }
/// }
///
/// let explored = Explorer::<Ticket>::new("t-1".to_owned())
///     .events([TicketEvent::Opened, TicketEvent::Closed])
///     .depth(3)
///     .invariant_in("Closed", "a closed ticket was opened", |ticket| ticket.stage == Stage::Closed)
///     .assert();
/// assert_eq!(explored.transitions, 2);
/// ```
pub struct Explorer<P: ProcessManager> {
    id: P::Id,
    events: Vec<Input>,
    depth: usize,
    invariants: Vec<Invariant<P>>,
}

/// A check every state reached must pass (in one named state, or in all).
struct Invariant<P> {
    state: Option<&'static str>,
    description: String,
    check: Box<dyn Fn(&P) -> bool>,
}

impl<P: ProcessManager> Debug for Explorer<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Explorer")
            .field("id", &self.id)
            .field("events", &self.events)
            .field("depth", &self.depth)
            .field("invariants", &self.invariants.len())
            .finish()
    }
}

/// One step of a walk.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A sample event was applied.
    Event(Input),
    /// A pending timeout fired (its stored name).
    Timeout(&'static str),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Event(input) => write!(f, "{input}"),
            Step::Timeout(kind) => write!(f, "timeout {kind}"),
        }
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum ProblemKind {
    /// A handler panicked.
    Panicked(String),
    /// A handler left the state outside its `to(..)` (the engine would park
    /// the instance with this reason).
    OutsideTo(String),
    /// An invariant did not hold in the state reached.
    Invariant(String),
    /// A sample event is not one the process can take.
    BadSample(String),
    /// A declared move no walk took.
    NeverTaken(String),
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Panicked(message) => write!(f, "a handler panicked: {message}"),
            ProblemKind::OutsideTo(reason) => write!(f, "{reason}"),
            ProblemKind::Invariant(description) => {
                write!(f, "the invariant \"{description}\" does not hold")
            }
            ProblemKind::BadSample(reason) => write!(f, "{reason}"),
            ProblemKind::NeverTaken(transition) => write!(f, "never taken: {transition}"),
        }
    }
}

/// A problem and the shortest path of steps found that leads to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// What went wrong.
    pub kind: ProblemKind,
    /// The steps from the state before the first event (empty for a move
    /// never taken).
    pub path: Vec<Step>,
}

/// What a successful exploration covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explored {
    /// Distinct instance states reached (state, pending timeouts, status).
    pub states: usize,
    /// Steps applied.
    pub steps: usize,
    /// Declared moves, each taken by some walk.
    pub transitions: usize,
}

/// The problems an exploration found, each once, shortest path first.
#[derive(Debug, Clone, PartialEq)]
pub struct Problems {
    /// The process's name.
    pub process: &'static str,
    /// The problems.
    pub problems: Vec<Problem>,
    /// What was covered on the way.
    pub explored: Explored,
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "exploring process `{}` found {} problem(s) ({} states, {} steps):",
            self.process,
            self.problems.len(),
            self.explored.states,
            self.explored.steps
        )?;
        for problem in &self.problems {
            writeln!(f, "  {}", problem.kind)?;
            if !problem.path.is_empty() {
                writeln!(f, "    after:")?;
                for (index, step) in problem.path.iter().enumerate() {
                    writeln!(f, "      {}. {step}", index + 1)?;
                }
            }
        }
        Ok(())
    }
}

/// One instance state reached, and how.
#[derive(Clone)]
struct Node<P: ProcessManager> {
    state: Option<P>,
    completed: bool,
    pending: Vec<P::Timeout>,
    path: Vec<Step>,
}

impl<P: ProcessManager> Node<P> {
    /// What tells two nodes apart: the state's JSON, the status and the
    /// pending timeouts.
    fn key(&self) -> String {
        let state = serde_json::to_string(&self.state)
            .unwrap_or_else(|error| format!("<state does not encode: {error}>"));
        let mut pending: Vec<&str> = self.pending.iter().map(Timeout::name).collect();
        pending.sort_unstable();
        format!("{state}|{}|{}", self.completed, pending.join(","))
    }

    fn state_name(&self) -> &'static str {
        self.state.as_ref().map_or(ONLY_STATE, name_of)
    }

    fn then(&self, step: Step) -> Node<P> {
        let mut path = self.path.clone();
        path.push(step);
        Node {
            state: self.state.clone(),
            completed: self.completed,
            pending: self.pending.clone(),
            path,
        }
    }
}

/// The walk's bookkeeping.
struct Walk<P: ProcessManager> {
    now: DateTime<Utc>,
    key: String,
    sequence: i64,
    steps: usize,
    seen: HashSet<String>,
    taken: BTreeSet<(&'static str, &'static str, &'static str)>,
    problems: Vec<Problem>,
    next: Vec<Node<P>>,
}

impl<P: ProcessManager> Explorer<P> {
    /// An explorer of instance `id`, to depth 6, with no events yet.
    pub fn new(id: P::Id) -> Self {
        Self {
            id,
            events: Vec::new(),
            depth: 6,
            invariants: Vec::new(),
        }
    }

    /// Adds sample events, each applied in every state reached.
    pub fn events<E: Into<Input>>(mut self, events: impl IntoIterator<Item = E>) -> Self {
        self.events.extend(events.into_iter().map(Into::into));
        self
    }

    /// How many steps each walk takes at most.
    pub fn depth(mut self, depth: usize) -> Self {
        self.depth = depth;
        self
    }

    /// Adds a check that must hold in every state reached.
    pub fn invariant(
        mut self,
        description: impl Into<String>,
        check: impl Fn(&P) -> bool + 'static,
    ) -> Self {
        self.invariants.push(Invariant {
            state: None,
            description: description.into(),
            check: Box::new(check),
        });
        self
    }

    /// Adds a check that must hold whenever the instance is in `state` (a
    /// state's name, as in `in(..)`).
    pub fn invariant_in(
        mut self,
        state: &'static str,
        description: impl Into<String>,
        check: impl Fn(&P) -> bool + 'static,
    ) -> Self {
        self.invariants.push(Invariant {
            state: Some(state),
            description: description.into(),
            check: Box::new(check),
        });
        self
    }

    /// Explores; the problems found, if any.
    // The error is a test failure's report: its size costs nothing.
    #[allow(clippy::result_large_err)]
    pub fn run(&self) -> Result<Explored, Problems> {
        let mut walk = Walk {
            now: ManualClock::fixed().now(),
            key: self.id.to_string(),
            sequence: 0,
            steps: 0,
            seen: HashSet::new(),
            taken: BTreeSet::new(),
            problems: Vec::new(),
            next: Vec::new(),
        };
        let root = Node {
            state: None,
            completed: false,
            pending: Vec::new(),
            path: Vec::new(),
        };
        walk.seen.insert(root.key());
        let mut frontier = vec![root];
        for _ in 0..self.depth {
            for node in &frontier {
                self.expand(&mut walk, node);
            }
            frontier = std::mem::take(&mut walk.next);
            if frontier.is_empty() {
                break;
            }
        }
        let declared = P::descriptor().transitions();
        let mut transitions = 0;
        for transition in &declared {
            let handler = transition.handler.method;
            if walk
                .taken
                .contains(&(handler, transition.from, transition.to))
            {
                transitions += 1;
            } else {
                let trigger = match transition.handler.trigger {
                    Trigger::Event(event) => event.to_owned(),
                    Trigger::Timeout(kind) => format!("timeout {kind}"),
                };
                let text = format!(
                    "`{} --> {}` by `{handler}` ({trigger}); add a sample event that leads there, or a greater depth",
                    transition.from, transition.to
                );
                walk.problems.push(Problem {
                    kind: ProblemKind::NeverTaken(text),
                    path: Vec::new(),
                });
            }
        }
        let explored = Explored {
            states: walk.seen.len(),
            steps: walk.steps,
            transitions,
        };
        if walk.problems.is_empty() {
            Ok(explored)
        } else {
            Err(Problems {
                process: P::NAME,
                problems: walk.problems,
                explored,
            })
        }
    }

    /// Explores, and panics with the problems found, if any.
    #[track_caller]
    pub fn assert(&self) -> Explored {
        match self.run() {
            Ok(explored) => explored,
            Err(problems) => panic!("{problems}"),
        }
    }

    /// Applies every event (once, then again) and every pending timeout to
    /// `node`.
    fn expand(&self, walk: &mut Walk<P>, node: &Node<P>) {
        if node.completed {
            // A completed instance skips everything.
            return;
        }
        for input in &self.events {
            if let Some(once) = self.apply_event(walk, node, input) {
                self.apply_event(walk, &once, input);
            }
        }
        for &kind in &node.pending {
            self.fire(walk, node, kind);
        }
    }

    /// Applies `input` to `node`; the node it leads to, if the event was
    /// handled.
    fn apply_event(&self, walk: &mut Walk<P>, node: &Node<P>, input: &Input) -> Option<Node<P>> {
        walk.steps += 1;
        walk.sequence += 1;
        let next = node.then(Step::Event(input.clone()));
        let recorded = input.recorded(&walk.key, walk.sequence, walk.now);
        let (id, starts, handlers, event) = match P::route(&recorded) {
            Routed::Deliver {
                id,
                starts,
                handler,
                event,
            } => (id, starts, handler, event),
            Routed::Ignored | Routed::Uncorrelated { .. } => return None,
            Routed::NotSubscribed => {
                let reason =
                    format!("sample event `{input}` is not in an enum the process subscribes to");
                walk.report(ProblemKind::BadSample(reason), &next);
                return None;
            }
            Routed::Undecodable { error, .. } => {
                let reason = format!("sample event `{input}` does not decode: {error}");
                walk.report(ProblemKind::BadSample(reason), &next);
                return None;
            }
        };
        if id.to_string() != walk.key {
            return None;
        }
        let state = match &node.state {
            Some(state) => state.clone(),
            None if starts => P::default(),
            None => return None,
        };
        let from = name_of(&state);
        let handler = handler_in::<P>(handlers, from);
        let outcome = run_handler(state, |state| state.handle(&event, &id, walk.now));
        self.settle(walk, next, outcome, handler, from)
    }

    /// Fires the pending timeout `kind` of `node`.
    fn fire(&self, walk: &mut Walk<P>, node: &Node<P>, kind: P::Timeout) {
        walk.steps += 1;
        let mut next = node.then(Step::Timeout(kind.name()));
        next.pending.retain(|pending| *pending != kind);
        let Some(state) = next.state.clone() else {
            return;
        };
        let from = next.state_name();
        let handler = timeout_handler_in::<P>(kind, from);
        let outcome = run_handler(state, |state| state.on_timeout(kind, &self.id, walk.now));
        self.settle(walk, next, outcome, handler, from);
    }

    /// Records what a handler call came to; the node it leads to, if it
    /// was handled.
    fn settle(
        &self,
        walk: &mut Walk<P>,
        mut next: Node<P>,
        outcome: Result<(P, Outcome<P>), String>,
        handler: Option<&'static str>,
        from: &'static str,
    ) -> Option<Node<P>> {
        let (state, effects) = match outcome {
            Ok((state, Outcome::Handled(effects))) => (state, effects),
            Ok((_, Outcome::Ignored)) => return None,
            Ok((_, Outcome::Rejected(reason))) => {
                walk.report(ProblemKind::OutsideTo(reason), &next);
                return None;
            }
            Err(panic) => {
                let handler = handler.unwrap_or("?");
                let message = format!("handler `{handler}` in state `{from}`: {panic}");
                walk.report(ProblemKind::Panicked(message), &next);
                return None;
            }
        };
        for change in effects.timeouts {
            match change {
                TimeoutChange::Schedule { kind, .. } => {
                    if !next.pending.contains(&kind) {
                        next.pending.push(kind);
                    }
                }
                TimeoutChange::Cancel { kind } => next.pending.retain(|pending| *pending != kind),
            }
        }
        if effects.completed {
            next.completed = true;
            next.pending.clear();
        }
        let to = name_of(&state);
        if let Some(handler) = handler {
            walk.taken.insert((handler, from, to));
        }
        for invariant in &self.invariants {
            let applies = invariant.state.is_none_or(|name| name == to);
            if applies && !(invariant.check)(&state) {
                let kind = ProblemKind::Invariant(invariant.description.clone());
                walk.report(kind, &next);
            }
        }
        next.state = Some(state);
        if walk.seen.insert(next.key()) {
            walk.next.push(next.clone());
        }
        Some(next)
    }
}

/// The name of `state`'s state ([`ONLY_STATE`] without states).
fn name_of<P: ProcessManager>(state: &P) -> &'static str {
    state.state_name().unwrap_or(ONLY_STATE)
}

impl<P: ProcessManager> Walk<P> {
    /// Records a problem once: the first path found is a shortest one.
    fn report(&mut self, kind: ProblemKind, node: &Node<P>) {
        if self.problems.iter().all(|problem| problem.kind != kind) {
            self.problems.push(Problem {
                kind,
                path: node.path.clone(),
            });
        }
    }
}

/// Which of the routed `handlers` (`` a` or `b ``) applies in `state`.
fn handler_in<P: ProcessManager>(handlers: &'static str, state: &str) -> Option<&'static str> {
    let descriptor = P::descriptor();
    handlers.split("` or `").find(|method| {
        descriptor
            .handlers
            .iter()
            .any(|handler| handler.method == *method && applies_in(descriptor, handler, state))
    })
}

/// The timeout handler of `kind` that applies in `state`.
fn timeout_handler_in<P: ProcessManager>(kind: P::Timeout, state: &str) -> Option<&'static str> {
    let descriptor = P::descriptor();
    let variant = P::Timeout::VARIANTS
        .iter()
        .find(|variant| variant.type_name == kind.name())?
        .name;
    descriptor
        .handlers
        .iter()
        .find(|handler| {
            let Trigger::Timeout(path) = handler.trigger else {
                return false;
            };
            path.rsplit("::").next() == Some(variant) && applies_in(descriptor, handler, state)
        })
        .map(|handler| handler.method)
}

fn applies_in(
    descriptor: &crate::descriptor::Descriptor,
    handler: &crate::descriptor::HandlerInfo,
    state: &str,
) -> bool {
    if handler.from.is_empty() {
        !descriptor.is_final(state)
    } else {
        handler.from.contains(&state)
    }
}
