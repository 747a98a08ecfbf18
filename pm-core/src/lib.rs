//! Process managers (sagas) for event-driven Rust services, checked at
//! compile time.
//!
//! Write a plain struct and an `impl` block of handlers; `#[process_manager]`
//! generates the event routing, correlation, command enum and timeouts, and
//! fails the build when a subscribed event or timeout has no handler or a
//! handler sends a command it did not declare. The [`Engine`] runs it on the
//! in-memory store here or on Postgres (`pm-postgres`), committing state,
//! outbox commands, timeouts and checkpoints atomically per batch.
//!
//! The syntax reference is on the macros: [`macro@process_manager`] (its keys
//! and what it generates), [`macro@on`] (event handlers), [`macro@timeout`]
//! (timeout handlers), [`macro@sends`] (helpers that send for handlers), and
//! the derives [`derive@Event`], [`derive@State`] and [`derive@Timeout`].
//! [`testing`] has the `Scenario`, `converges` and `Explorer` test kit.
//!
//! The root holds what process authors and engine users touch; two modules
//! hold the rest: [`descriptor`], the static description of a process that
//! tooling reads, and [`backend`], the contract a storage backend
//! implements (with its conformance suite).
//!
//! ```
//! use pm_core::prelude::*;
//! use pm_core::testing::Scenario;
//! use serde::{Deserialize, Serialize};
//! use std::time::Duration;
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, Event)]
//! enum DoorEvent {
//!     Opened,
//!     Closed,
//! }
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Timeout)]
//! enum DoorTimeout {
//!     LeftOpen,
//! }
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
//! struct SoundAlarm;
//!
//! #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
//! struct Door {
//!     open: bool,
//! }
//!
//! #[process_manager(name = "door", id = String, subscribe(DoorEvent), timeouts(DoorTimeout))]
//! impl Door {
//!     #[on(DoorEvent::Opened, start)]
//!     fn opened(&mut self, cx: &mut Context<Self>) {
//!         self.open = true;
//!         cx.schedule(DoorTimeout::LeftOpen, Duration::from_secs(60));
//!     }
//!
//!     #[on(DoorEvent::Closed)]
//!     fn closed(&mut self, cx: &mut Context<Self>) {
//!         cx.complete();
//!     }
//!
//!     #[timeout(DoorTimeout::LeftOpen, sends(SoundAlarm))]
//!     fn left_open(&mut self, cx: &mut Context<Self>) {
//!         cx.send(SoundAlarm);
//!     }
//! }
//!
//! Scenario::<Door>::new("front".to_owned())
//!     .when(DoorEvent::Opened)
//!     .then_sends_nothing()
//!     .advance(Duration::from_secs(61))
//!     .then_sends([SoundAlarm.into()])
//!     .then_active();
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![doc(test(attr(deny(warnings))))]

pub mod backend;
mod clock;
mod command;
mod context;
pub mod descriptor;
mod dispatch;
mod engine;
mod error;
mod event;
mod graph;
mod log;
mod partition;
mod process;
mod state;
mod store;
mod timeout;

pub mod requirements;
pub mod testing;

pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{command_id, Command, CommandCause, DeliveryOrder, SentBy};
pub use context::{Context, Undeclared};
pub use dispatch::{CommandMeta, Dispatch, DispatchError, RetryPolicy};
pub use engine::{Engine, EngineOptions, MetricsSnapshot, RunningEngine};
pub use error::{BoxError, DecodeError, Error, ErrorChain, Result};
pub use event::{in_family, Event, NewEvent, RecordedEvent};
pub use graph::mermaid;
pub use log::{EventLog, ExpectedVersion, MemoryLog, Position};
pub use process::{ProcessId, ProcessManager, WithoutStates};
pub use state::State;
pub use store::{InstanceStatus, MemoryStore};
pub use timeout::{NoTimeout, Timeout};

pub use pm_macros::{on, process_manager, sends, timeout, Event, State, Timeout};

/// The names a process definition needs: `use pm_core::prelude::*;`.
pub mod prelude {
    pub use crate::{
        process_manager, Command, Context, Dispatch, DispatchError, Engine, Event, ManualClock,
        MemoryLog, MemoryStore, ProcessManager, State, Timeout,
    };
    pub use crate::{CommandMeta, EventLog, ExpectedVersion, NewEvent};
}

/// Used by generated code; not part of the public API.
#[doc(hidden)]
pub mod __private;
