//! [`Context`]: what a handler may do besides changing its own state.

use std::marker::PhantomData;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::command::SentBy;
use crate::process::{ProcessManager, WithoutStates};

/// The handler's view of the engine: send commands, schedule timeouts,
/// complete the instance. Nothing here does I/O; the engine applies the
/// effects when it commits the batch.
///
/// `S` is a marker type `#[process_manager]` generates for each handler; it
/// lets the compiler check that a handler only sends what it declares. Write
/// `&mut Context<Self>` in handler signatures and let the macro fill it in.
#[derive(Debug)]
pub struct Context<P: ProcessManager, S = Undeclared> {
    id: P::Id,
    now: DateTime<Utc>,
    effects: Effects<P>,
    handler: PhantomData<fn() -> S>,
}

/// The marker of a context whose handler declared no commands.
#[derive(Debug)]
pub enum Undeclared {}

/// Everything a handler asked for, in the order it asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Effects<P: ProcessManager> {
    /// Commands to record in the outbox.
    pub commands: Vec<P::Command>,
    /// Timeouts scheduled or cancelled.
    pub timeouts: Vec<TimeoutChange<P::Timeout>>,
    /// Whether the handler completed the instance.
    pub completed: bool,
}

impl<P: ProcessManager> Default for Effects<P> {
    fn default() -> Self {
        Self {
            commands: Vec::new(),
            timeouts: Vec::new(),
            completed: false,
        }
    }
}

/// A change to an instance's timeouts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeoutChange<T> {
    /// Fire `kind` at `at` (replacing a pending timeout of that kind).
    Schedule {
        /// The kind of timeout.
        kind: T,
        /// When it is due.
        at: DateTime<Utc>,
    },
    /// Drop the pending timeout of `kind`, if any.
    Cancel {
        /// The kind of timeout.
        kind: T,
    },
}

impl<P: ProcessManager, S> Context<P, S> {
    #[doc(hidden)]
    /// Used by generated code to create the context of one handler call.
    pub fn __new(id: P::Id, now: DateTime<Utc>) -> Self {
        Self {
            id,
            now,
            effects: Effects::default(),
            handler: PhantomData,
        }
    }

    #[doc(hidden)]
    /// Used by generated code to collect what the handler asked for.
    pub fn __into_effects(self) -> Effects<P> {
        self.effects
    }

    /// Records a command to send once this event is committed.
    ///
    /// The command's type must be listed in the handler's `sends(..)`.
    pub fn send<C>(&mut self, command: C)
    where
        C: SentBy<S, Command = P::Command>,
    {
        self.effects.commands.push(command.wrap());
    }

    /// Schedules the timeout `kind` to fire `after` from now.
    pub fn schedule(&mut self, kind: P::Timeout, after: Duration) {
        let after = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX);
        let at = self
            .now
            .checked_add_signed(after)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.schedule_at(kind, at);
    }

    /// Schedules the timeout `kind` to fire at `at`.
    pub fn schedule_at(&mut self, kind: P::Timeout, at: DateTime<Utc>) {
        self.effects
            .timeouts
            .push(TimeoutChange::Schedule { kind, at });
    }

    /// Cancels the pending timeout `kind`, if there is one.
    pub fn cancel(&mut self, kind: P::Timeout) {
        self.effects.timeouts.push(TimeoutChange::Cancel { kind });
    }

    /// Completes the instance: its pending timeouts are dropped and later
    /// events for it are skipped. Only for processes without `state = ..`;
    /// a process with states completes by entering a `#[state(final)]`
    /// state.
    pub fn complete(&mut self)
    where
        P: WithoutStates,
    {
        self.effects.completed = true;
    }

    #[doc(hidden)]
    /// Used by generated code: the handler entered a final state.
    pub fn __complete(&mut self) {
        self.effects.completed = true;
    }

    /// The id of the instance being handled.
    pub fn id(&self) -> &P::Id {
        &self.id
    }

    /// The engine clock's time when the event or timeout was handled.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
}
