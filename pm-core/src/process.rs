//! The [`ProcessManager`] trait that `#[process_manager]` implements.

use std::fmt::{Debug, Display};
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::command::Command;
use crate::context::Effects;
use crate::descriptor::Descriptor;
use crate::error::BoxError;
use crate::event::RecordedEvent;
use crate::timeout::Timeout;

/// The id of a process instance: parsed from a stream id or a payload field,
/// printed when stored.
pub trait ProcessId: FromStr + Display + Clone + Debug + Send + Sync + 'static {}

impl<T: FromStr + Display + Clone + Debug + Send + Sync + 'static> ProcessId for T {}

/// A process manager: state per instance plus handlers that react to events
/// and timeouts. Implemented by `#[process_manager]`; not meant to be written
/// by hand.
pub trait ProcessManager:
    Default + Clone + Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The instance id type.
    type Id: ProcessId;
    /// The decoded form of any event this process subscribes to.
    type Event: Debug + Send + Sync + 'static;
    /// The generated enum of every command the handlers may send.
    type Command: Command;
    /// The enum of timeout kinds ([`NoTimeout`](crate::NoTimeout) when none).
    type Timeout: Timeout;

    /// The process name, unique among processes sharing a store.
    const NAME: &'static str;

    /// The schema version of the state this build writes (`version = ..`).
    const STATE_VERSION: i32 = 1;

    /// Everything the macro knows about this process, for tooling.
    fn descriptor() -> &'static Descriptor;

    /// Decodes and correlates one recorded event.
    fn route(event: &RecordedEvent) -> Routed<Self>;

    /// Runs the handler for a routed event, if one applies in the current state.
    fn handle(&mut self, event: &Self::Event, id: &Self::Id, now: Now) -> Outcome<Self>;

    /// Runs the handler for a due timeout, if one applies in the current state.
    fn on_timeout(&mut self, kind: Self::Timeout, id: &Self::Id, now: Now) -> Outcome<Self>;

    /// The name of the instance's current state, for processes with
    /// `state = ..` (generated); `None` without states.
    fn state_name(&self) -> Option<&'static str> {
        None
    }

    /// Upgrades stored state of schema version `from` to
    /// [`STATE_VERSION`](Self::STATE_VERSION) (`migrate = ..`). Handlers never
    /// see state of another version.
    fn migrate_state(from: i32, state: serde_json::Value) -> Result<serde_json::Value, BoxError> {
        let _ = state;
        Err(format!(
            "process `{}` declares no `migrate` function to upgrade state of schema version {from}",
            Self::NAME
        )
        .into())
    }
}

/// A process without `state = ..`, which completes by calling
/// [`Context::complete`](crate::Context::complete); implemented by
/// `#[process_manager]`. A process with states completes by entering a
/// state marked `#[state(final)]` instead, so that the build can check
/// every instance can get there.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has states, so it completes by entering a final state, not with `cx.complete()`",
    label = "remove this call",
    note = "move to a state marked `#[state(final)]` and list it in the handler's `to(..)`; entering it completes the instance"
)]
pub trait WithoutStates: ProcessManager {}

/// What a handler call came to.
#[derive(Debug)]
pub enum Outcome<P: ProcessManager> {
    /// A handler ran; these are its effects.
    Handled(Effects<P>),
    /// The event (or timeout) is ignored in the instance's current state.
    Ignored,
    /// The handler left the state outside its declared `to(..)`; the
    /// instance is parked with this reason and the change discarded.
    Rejected(String),
}

/// The engine clock's time, as handed to handlers.
pub type Now = chrono::DateTime<chrono::Utc>;

/// Where a recorded event goes.
#[derive(Debug)]
pub enum Routed<P: ProcessManager> {
    /// The event is not in any subscribed family.
    NotSubscribed,
    /// The event's variant is listed in `ignore(..)`.
    Ignored,
    /// No instance id could be derived from the event.
    Uncorrelated {
        /// Why correlation failed.
        reason: String,
    },
    /// The event goes to handler `handler` of instance `id`.
    Deliver {
        /// The instance.
        id: P::Id,
        /// Whether the handler may create the instance.
        starts: bool,
        /// The handler method's name.
        handler: &'static str,
        /// The decoded event.
        event: P::Event,
    },
    /// The event is in a subscribed family but could not be decoded.
    Undecodable {
        /// The instance, when it could still be told (from the stream id or
        /// the raw payload); the event parks it.
        id: Option<P::Id>,
        /// Why decoding failed.
        error: String,
    },
}
