//! [`Scenario`]: drive one process instance step by step and check what it did.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::executor::block_on;
use serde_json::Value;

use crate::clock::{Clock, ManualClock};
use crate::engine::{load_and_apply, BatchInput};
use crate::event::{Event, RecordedEvent};
use crate::log::Position;
use crate::process::{ProcessManager, Routed};
use crate::store::{
    InstanceRecord, InstanceStatus, MemoryStore, Operations, OwnedPartitions, ParkedEvent, Release,
    Store,
};

/// An event prepared for a scenario: its type name, payload and, optionally,
/// the stream it is on (the scenario's instance id by default).
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    stream: Option<String>,
    event_type: String,
    payload: Value,
}

impl Input {
    /// An event as raw type name and JSON, for testing bad input.
    pub fn raw(event_type: impl Into<String>, payload: Value) -> Self {
        Self {
            stream: None,
            event_type: event_type.into(),
            payload,
        }
    }

    /// Puts the event on `stream` instead of the instance's own stream.
    pub fn on_stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = Some(stream.into());
        self
    }

    /// The event's type name.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The event's JSON payload.
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// The event as recorded at `position` and `now`, on its own stream or
    /// else on `instance`'s.
    pub(crate) fn recorded(
        &self,
        instance: &str,
        sequence: i64,
        now: DateTime<Utc>,
    ) -> RecordedEvent {
        RecordedEvent {
            position: Position {
                transaction: sequence,
                sequence,
            },
            stream_id: self.stream.clone().unwrap_or_else(|| instance.to_owned()),
            stream_version: sequence,
            event_type: self.event_type.clone(),
            payload: self.payload.clone(),
            recorded_at: now,
        }
    }
}

/// `BookingEvent.Placed {"seats":2}`, with ` on stream `s`` when the event
/// is on another stream than the instance's: enough to tell events apart in
/// a test failure.
impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.event_type)?;
        if !self.payload.is_null() {
            write!(f, " {}", self.payload)?;
        }
        if let Some(stream) = &self.stream {
            write!(f, " on stream `{stream}`")?;
        }
        Ok(())
    }
}

impl<E: Event> From<E> for Input {
    fn from(event: E) -> Self {
        // Encoding a test's own event only fails for a broken Serialize
        // implementation; the JSON error shows in the failing test.
        let payload = event
            .encode()
            .unwrap_or_else(|error| Value::String(format!("<event does not encode: {error}>")));
        Self {
            stream: None,
            event_type: event.type_name().to_owned(),
            payload,
        }
    }
}

/// One instance of process `P` driven step by step, on a manual clock.
///
/// ```
/// # use pm_core::prelude::*;
/// # use pm_core::testing::Scenario;
/// # #[allow(dead_code)]
/// # fn check<P: ProcessManager>(id: P::Id, first: impl Event) {
/// Scenario::<P>::new(id)
///     .when(first)
///     .then_active();
/// # }
/// ```
///
/// The `then_*` methods panic with a readable message when the check fails,
/// like `assert!`.
#[derive(Debug)]
pub struct Scenario<P: ProcessManager> {
    id: P::Id,
    key: String,
    clock: ManualClock,
    store: MemoryStore,
    next_sequence: i64,
    stream_versions: HashMap<String, i64>,
    last_commands: Vec<P::Command>,
}

impl<P: ProcessManager> Scenario<P> {
    /// A scenario for instance `id`, with the clock at a fixed start.
    pub fn new(id: P::Id) -> Self {
        Self {
            key: id.to_string(),
            id,
            clock: ManualClock::fixed(),
            store: MemoryStore::new(),
            next_sequence: 0,
            stream_versions: HashMap::new(),
            last_commands: Vec::new(),
        }
    }

    /// Stores `state` for the instance as if an earlier build had written
    /// it with `schema_version`: for testing state migrations.
    pub fn given_stored_state(self, state: Value, schema_version: i32) -> Self {
        let batch = crate::store::Batch {
            process: P::NAME.to_owned(),
            instances: vec![crate::store::InstanceWrite {
                id: self.key.clone(),
                state,
                expected_version: 0,
                status: InstanceStatus::Active,
                schema_version,
                last_position: Position::START,
            }],
            ..crate::store::Batch::default()
        };
        if let Err(error) = block_on(self.store.commit(batch)) {
            panic!(
                "scenario of process `{}` could not store the given state: {error}",
                P::NAME
            );
        }
        self
    }

    /// The instance's stored state as JSON and its schema version.
    pub fn stored_state(&self) -> Option<(Value, i32)> {
        self.record_of_instance()
            .map(|record| (record.state, record.schema_version))
    }

    /// Applies an event that already happened.
    pub fn given(self, event: impl Into<Input>) -> Self {
        self.when(event)
    }

    /// Applies the event under test; `then_sends` checks what it sent.
    pub fn when(mut self, event: impl Into<Input>) -> Self {
        let event = self.record(event.into());
        let routed = P::route(&event);
        self.apply(vec![(event, routed)], Vec::new());
        self
    }

    /// Releases the parked instance as an operator would, and applies its
    /// parked items again (with [`Release::SkipFailed`], without the failed
    /// ones).
    pub fn release(mut self, release: Release) -> Self {
        if let Err(error) = block_on(self.store.release_instance(P::NAME, &self.key, release)) {
            panic!(
                "scenario of process `{}` could not release `{}`: {error}",
                P::NAME,
                self.key
            );
        }
        let released = block_on(
            self.store
                .released_items(P::NAME, &OwnedPartitions::all(), 1),
        )
        .unwrap_or_default();
        self.apply_input(BatchInput {
            released,
            events: Vec::new(),
            due: Vec::new(),
        });
        self
    }

    /// Moves the clock forward and fires every timeout now due.
    pub fn advance(mut self, by: Duration) -> Self {
        self.clock.advance(by);
        let mut commands = Vec::new();
        loop {
            let due = block_on(self.store.due_timeouts(
                P::NAME,
                &OwnedPartitions::all(),
                self.clock.now(),
                1000,
            ));
            let due = due.unwrap_or_default();
            if due.is_empty() {
                break;
            }
            self.apply(Vec::new(), due);
            commands.append(&mut self.last_commands);
        }
        self.last_commands = commands;
        self
    }

    /// Checks that the last step sent exactly `expected`, in order.
    #[track_caller]
    pub fn then_sends(self, expected: impl IntoIterator<Item = P::Command>) -> Self {
        let expected: Vec<P::Command> = expected.into_iter().collect();
        assert!(
            self.last_commands == expected,
            "the last step of process `{}` sent\n  {:?}\nbut the test expected\n  {:?}",
            P::NAME,
            self.last_commands,
            expected
        );
        self
    }

    /// Checks that the last step sent no command.
    #[track_caller]
    pub fn then_sends_nothing(self) -> Self {
        self.then_sends(Vec::new())
    }

    /// Checks the instance's state with `check`, which asserts.
    #[track_caller]
    pub fn then_state(self, check: impl FnOnce(&P)) -> Self {
        match self.state() {
            Some(state) => check(&state),
            None => panic!(
                "instance `{}` of process `{}` has no state",
                self.key,
                P::NAME
            ),
        }
        self
    }

    /// Checks that the instance's state equals `expected`.
    #[track_caller]
    pub fn then_state_is(self, expected: &P) -> Self
    where
        P: PartialEq,
    {
        self.then_state(|state| {
            assert!(
                state == expected,
                "state of process `{}` is\n  {state:?}\nbut the test expected\n  {expected:?}",
                P::NAME
            );
        })
    }

    /// Checks that the instance has completed.
    #[track_caller]
    pub fn then_completed(self) -> Self {
        self.then_status(InstanceStatus::Completed)
    }

    /// Checks that the instance exists and is active.
    #[track_caller]
    pub fn then_active(self) -> Self {
        self.then_status(InstanceStatus::Active)
    }

    /// Checks that the instance is parked.
    #[track_caller]
    pub fn then_parked(self) -> Self {
        self.then_status(InstanceStatus::Parked)
    }

    /// Checks that no instance was created.
    #[track_caller]
    pub fn then_not_started(self) -> Self {
        if let Some(record) = self.record_of_instance() {
            panic!(
                "instance `{}` of process `{}` exists ({:?}) but the test expected none",
                self.key,
                P::NAME,
                record.status
            );
        }
        self
    }

    /// Checks that timeout `kind` is pending and due at `at`.
    #[track_caller]
    pub fn then_timeout_at(self, kind: P::Timeout, at: DateTime<Utc>) -> Self {
        let pending = self.pending_timeout(kind);
        assert!(
            pending == Some(at),
            "timeout `{kind:?}` of instance `{}` is due at {pending:?}, but the test expected {at}",
            self.key
        );
        self
    }

    /// Checks that timeout `kind` is not pending.
    #[track_caller]
    pub fn then_no_timeout(self, kind: P::Timeout) -> Self {
        if let Some(at) = self.pending_timeout(kind) {
            panic!(
                "timeout `{kind:?}` of instance `{}` is pending (due at {at})",
                self.key
            );
        }
        self
    }

    #[track_caller]
    fn then_status(self, expected: InstanceStatus) -> Self {
        let status = self.status();
        assert!(
            status == Some(expected),
            "instance `{}` of process `{}` is {status:?}, but the test expected {expected:?}{}",
            self.key,
            P::NAME,
            self.parked_reason()
        );
        self
    }

    /// The instance's current state, if it started.
    pub fn state(&self) -> Option<P> {
        let record = self.record_of_instance()?;
        serde_json::from_value(record.state).ok()
    }

    /// The instance's status, if it exists.
    pub fn status(&self) -> Option<InstanceStatus> {
        self.record_of_instance().map(|record| record.status)
    }

    /// The commands the last step sent.
    pub fn commands(&self) -> &[P::Command] {
        &self.last_commands
    }

    /// Everything parked so far.
    pub fn parked(&self) -> Vec<ParkedEvent> {
        block_on(self.store.parked_events(P::NAME))
            .unwrap_or_default()
            .into_iter()
            .map(|entry| entry.parked)
            .collect()
    }

    /// The scenario's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The instance id.
    pub fn id(&self) -> &P::Id {
        &self.id
    }

    fn pending_timeout(&self, kind: P::Timeout) -> Option<DateTime<Utc>> {
        use crate::timeout::Timeout;
        self.store
            .timeouts(P::NAME)
            .into_iter()
            .find(|(instance, name, _)| *instance == self.key && name == kind.name())
            .map(|(_, _, due)| due)
    }

    fn parked_reason(&self) -> String {
        self.parked()
            .into_iter()
            .find_map(|parked| parked.error)
            .map(|error| format!(" (parked: {error})"))
            .unwrap_or_default()
    }

    fn record_of_instance(&self) -> Option<InstanceRecord> {
        block_on(
            self.store
                .load_instances(P::NAME, std::slice::from_ref(&self.key)),
        )
        .ok()?
        .into_iter()
        .next()
    }

    fn record(&mut self, input: Input) -> RecordedEvent {
        self.next_sequence += 1;
        let stream_id = input.stream.unwrap_or_else(|| self.key.clone());
        let version = self.stream_versions.entry(stream_id.clone()).or_insert(0);
        *version += 1;
        RecordedEvent {
            position: Position {
                transaction: self.next_sequence,
                sequence: self.next_sequence,
            },
            stream_id,
            stream_version: *version,
            event_type: input.event_type,
            payload: input.payload,
            recorded_at: self.clock.now(),
        }
    }

    fn apply(
        &mut self,
        events: Vec<(RecordedEvent, Routed<P>)>,
        due: Vec<crate::store::DueTimeout>,
    ) {
        self.apply_input(BatchInput {
            released: Vec::new(),
            events,
            due,
        });
    }

    fn apply_input(&mut self, input: BatchInput<P>) {
        let applied = match block_on(load_and_apply::<P, _>(
            &self.store,
            "scenario",
            self.clock.now(),
            input,
        )) {
            Ok(applied) => applied,
            Err(error) => panic!(
                "scenario of process `{}` could not load its instance: {error}",
                P::NAME
            ),
        };
        // The memory store only refuses a batch whose instances changed
        // since loading, which cannot happen in a single-threaded scenario.
        if let Err(error) = block_on(self.store.commit(applied.batch)) {
            panic!(
                "scenario of process `{}` could not commit: {error}",
                P::NAME
            );
        }
        self.last_commands = applied
            .commands
            .into_iter()
            .map(|(_, command)| command)
            .collect();
    }
}

/// The status and state of an instance, for comparing outcomes.
pub(crate) fn outcome_of<P: ProcessManager>(
    scenario: &Scenario<P>,
) -> (Option<InstanceStatus>, Option<P>) {
    (scenario.status(), scenario.state())
}
