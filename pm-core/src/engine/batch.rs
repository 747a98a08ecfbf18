//! Applies one batch of events and due timeouts to the instances they
//! concern, producing the [`Batch`] to commit. Pure: no I/O, no clock; the
//! engine loop and the testing kit both use it.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::command::{command_id, Command, CommandCause};
use crate::context::{Effects, TimeoutChange};
use crate::event::RecordedEvent;
use crate::log::Position;
use crate::process::{Outcome, ProcessManager, Routed};
use crate::store::{
    Batch, DueTimeout, InstanceRecord, InstanceStatus, InstanceWrite, NewCommand, ParkedEvent,
    ParkedItem, ReleasedItem, TimeoutWrite,
};
use crate::timeout::Timeout;

/// What happened to the events and timeouts of a batch, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BatchCounts {
    /// Events whose handler ran.
    pub(crate) handled: u64,
    /// Events skipped: ignored, not correlated, for a completed instance, or
    /// for an instance that does not exist and a handler that does not start one.
    pub(crate) skipped: u64,
    /// Events and timeouts that parked an instance or were held behind one.
    pub(crate) parked: u64,
    /// Timeouts whose handler ran.
    pub(crate) timeouts_fired: u64,
}

/// The outcome of [`apply_batch`].
#[derive(Debug)]
pub(crate) struct Applied<P: ProcessManager> {
    /// What to commit (without a fence; the caller sets it).
    pub batch: Batch,
    /// The commands issued, typed, with their instance (for the testing kit).
    pub commands: Vec<(String, P::Command)>,
    /// What happened.
    pub counts: BatchCounts,
}

/// One instance as the batch sees it.
struct Slot<P: ProcessManager> {
    id: P::Id,
    loaded_version: i64,
    status: InstanceStatus,
    /// The typed state; `None` before the instance started.
    state: Option<P>,
    /// The state as it will be written.
    json: Value,
    /// Why the stored state could not be read, if it could not.
    unreadable: Option<String>,
    /// The schema version `json` was written with.
    schema_version: i32,
    /// The last event applied to the instance.
    last_position: Position,
    changed: bool,
}

/// Where an event being applied comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Read from the log: applied only if the instance has not seen it.
    Log,
    /// A parked item of a released instance: applied again on purpose.
    Released,
}

struct Applier<'a, P: ProcessManager> {
    source: &'a str,
    now: DateTime<Utc>,
    slots: HashMap<String, Slot<P>>,
    /// Keys of `slots` in the order instances first changed, so the batch
    /// is written in a stable order.
    changed: Vec<String>,
    timeouts: HashMap<(String, String), Option<DateTime<Utc>>>,
    timeout_order: Vec<(String, String)>,
    commands: Vec<NewCommand>,
    typed_commands: Vec<(String, P::Command)>,
    parked: Vec<ParkedEvent>,
    /// Instances parked during this batch (a replay must not unpark them
    /// again).
    reparked: Vec<String>,
    counts: BatchCounts,
}

/// Applies routed events (in log order) and then due timeouts to the loaded
/// instances.
/// What one batch applies: released parked items first (their instances
/// were waiting longest), then new events in log order, then due timeouts.
pub(crate) struct BatchInput<P: ProcessManager> {
    /// Parked items of released instances, oldest first.
    pub(crate) released: Vec<ReleasedItem>,
    /// New events with their routing, in log order.
    pub(crate) events: Vec<(RecordedEvent, Routed<P>)>,
    /// Timeouts now due.
    pub(crate) due: Vec<DueTimeout>,
}

pub(crate) fn apply_batch<P: ProcessManager>(
    source: &str,
    now: DateTime<Utc>,
    input: BatchInput<P>,
    loaded: Vec<InstanceRecord>,
) -> Applied<P> {
    let mut applier = Applier::<P> {
        source,
        now,
        slots: HashMap::with_capacity(loaded.len()),
        changed: Vec::new(),
        timeouts: HashMap::new(),
        timeout_order: Vec::new(),
        commands: Vec::new(),
        typed_commands: Vec::new(),
        parked: Vec::new(),
        reparked: Vec::new(),
        counts: BatchCounts::default(),
    };
    for record in loaded {
        applier.insert_loaded(record);
    }
    let mut replayed = Vec::with_capacity(input.released.len());
    for item in input.released {
        replayed.push(item.id);
        applier.replay(item);
    }
    for (event, routed) in input.events {
        applier.apply_event(event, routed, Origin::Log);
    }
    for timeout in input.due {
        applier.apply_timeout(timeout);
    }
    let mut applied = applier.finish();
    applied.batch.replayed = replayed;
    applied
}

impl<P: ProcessManager> Applier<'_, P> {
    fn insert_loaded(&mut self, record: InstanceRecord) {
        let Ok(id) = record.id.parse::<P::Id>() else {
            // A stored id always came from `P::Id`'s Display; if it no longer
            // parses the id type changed, and the instance cannot be used.
            tracing::error!(process = P::NAME, instance = %record.id, "stored instance id does not parse");
            return;
        };
        let (state, unreadable) = match decode_state::<P>(&record) {
            Ok(state) => (state, None),
            Err(error) => (None, Some(error)),
        };
        self.slots.insert(
            record.id.clone(),
            Slot {
                id,
                loaded_version: record.version,
                status: record.status,
                state,
                json: record.state,
                unreadable,
                schema_version: record.schema_version,
                last_position: record.last_position,
                changed: false,
            },
        );
    }

    /// Applies a released parked item again, or drops it if the operator
    /// skipped it. Its instance is active from its first item on (a
    /// completed one stays completed); a failure parks it anew, and the
    /// items behind are held again. An item without an instance is routed
    /// again: it may find one now.
    fn replay(&mut self, released: ReleasedItem) {
        let ReleasedItem { skip, parked, .. } = released;
        if let Some(key) = &parked.instance {
            if let Some(slot) = self.slots.get_mut(key) {
                if slot.status == InstanceStatus::Parked && !self.reparked.contains(key) {
                    slot.status = InstanceStatus::Active;
                    let key = key.clone();
                    self.mark_changed(&key, &parked.item);
                }
            }
        }
        if skip {
            self.counts.skipped += 1;
            return;
        }
        match parked.item {
            ParkedItem::Event(event) => {
                let routed = P::route(&event);
                self.apply_event(event, routed, Origin::Released);
            }
            // A timeout that failed stays scheduled, and fires again once
            // its instance is active.
            ParkedItem::Timeout { .. } => {}
        }
    }

    fn apply_event(&mut self, event: RecordedEvent, routed: Routed<P>, origin: Origin) {
        match routed {
            Routed::NotSubscribed | Routed::Ignored | Routed::Uncorrelated { .. } => {
                self.counts.skipped += 1;
            }
            Routed::Undecodable { id: None, error } => {
                let error = bounded(error);
                tracing::warn!(process = P::NAME, position = ?event.position, %error, "event parked: no instance can be told");
                self.counts.parked += 1;
                self.parked.push(ParkedEvent {
                    instance: None,
                    item: ParkedItem::Event(event),
                    error: Some(error),
                });
            }
            Routed::Undecodable {
                id: Some(id),
                error,
            } => {
                let key = self.slot_for(id);
                if self.already_applied(&key, &event, origin) {
                    return;
                }
                if self.is_completed(&key) {
                    // A tombstone takes no more events, readable or not.
                    tracing::debug!(process = P::NAME, instance = %key, position = ?event.position, "undecodable event for a completed instance skipped");
                    self.counts.skipped += 1;
                    return;
                }
                self.park(&key, ParkedItem::Event(event), Some(error));
            }
            Routed::Deliver {
                id,
                starts,
                handler,
                event: decoded,
            } => {
                let key = self.slot_for(id);
                if self.already_applied(&key, &event, origin) {
                    return;
                }
                self.deliver(&key, event, starts, handler, &decoded);
            }
        }
    }

    fn is_completed(&self, key: &str) -> bool {
        self.slots
            .get(key)
            .is_some_and(|slot| slot.status == InstanceStatus::Completed)
    }

    /// Whether the instance has seen this log event already (a batch read
    /// again after a commit whose outcome was unknown): then it is skipped,
    /// so no event changes an instance twice.
    fn already_applied(&mut self, key: &str, event: &RecordedEvent, origin: Origin) -> bool {
        let seen = origin == Origin::Log
            && self
                .slots
                .get(key)
                .is_some_and(|slot| event.position <= slot.last_position);
        if seen {
            tracing::debug!(process = P::NAME, instance = key, position = ?event.position, "event skipped: already applied to the instance");
            self.counts.skipped += 1;
        }
        seen
    }

    fn deliver(
        &mut self,
        key: &str,
        event: RecordedEvent,
        starts: bool,
        handler: &'static str,
        decoded: &P::Event,
    ) {
        let Some(slot) = self.slots.get_mut(key) else {
            return;
        };
        match slot.status {
            InstanceStatus::Parked => {
                self.park(key, ParkedItem::Event(event), None);
                return;
            }
            InstanceStatus::Completed => {
                self.counts.skipped += 1;
                return;
            }
            InstanceStatus::Active => {}
        }
        if let Some(error) = slot.unreadable.clone() {
            self.park(key, ParkedItem::Event(event), Some(error));
            return;
        }
        let started = slot.state.is_some();
        let state = match slot.state.take() {
            Some(state) => state,
            None if starts => P::default(),
            None => {
                tracing::debug!(
                    process = P::NAME,
                    instance = key,
                    handler,
                    "event skipped: instance not started"
                );
                self.counts.skipped += 1;
                return;
            }
        };
        let id = slot.id.clone();
        let now = self.now;
        let outcome = run_handler(state, |state| state.handle(decoded, &id, now));
        match outcome {
            Ok((state, Outcome::Handled(effects))) => {
                self.counts.handled += 1;
                let cause = CommandCause::Event {
                    source: self.source,
                    position: event.position,
                };
                self.settle(key, state, effects, cause, ParkedItem::Event(event));
            }
            Ok((state, Outcome::Ignored)) => {
                self.counts.skipped += 1;
                if let Some(slot) = self.slots.get_mut(key) {
                    slot.state = started.then_some(state);
                }
            }
            Ok((_, Outcome::Rejected(reason))) => {
                self.park(key, ParkedItem::Event(event), Some(reason));
            }
            Err(panic) => {
                let error = format!("handler `{handler}` panicked: {panic}");
                self.park(key, ParkedItem::Event(event), Some(error));
            }
        }
    }

    fn apply_timeout(&mut self, due: DueTimeout) {
        let Some(kind) = P::Timeout::from_name(&due.kind) else {
            tracing::error!(process = P::NAME, instance = %due.instance, kind = %due.kind, "timeout of a kind this process no longer has; dropped");
            self.counts.skipped += 1;
            self.set_timeout(&due.instance, &due.kind, None);
            return;
        };
        let key = due.instance.clone();
        // A change made earlier in this batch supersedes the stored timeout.
        if self.timeouts.contains_key(&(key.clone(), due.kind.clone())) {
            return;
        }
        let Some(slot) = self.slots.get_mut(&key) else {
            self.set_timeout(&key, kind.name(), None);
            return;
        };
        match slot.status {
            // Left pending: it fires once an operator releases the instance.
            InstanceStatus::Parked => return,
            InstanceStatus::Completed => {
                self.set_timeout(&key, kind.name(), None);
                return;
            }
            InstanceStatus::Active => {}
        }
        let item = ParkedItem::Timeout {
            kind: due.kind.clone(),
            due_at: due.due_at,
        };
        if let Some(error) = slot.unreadable.clone() {
            self.park(&key, item, Some(error));
            return;
        }
        let Some(state) = slot.state.take() else {
            self.set_timeout(&key, kind.name(), None);
            return;
        };
        let id = slot.id.clone();
        let now = self.now;
        self.set_timeout(&key, kind.name(), None);
        match run_handler(state, |state| state.on_timeout(kind, &id, now)) {
            Ok((state, Outcome::Handled(effects))) => {
                self.counts.timeouts_fired += 1;
                let cause = CommandCause::Timeout {
                    kind: kind.name(),
                    due_at: due.due_at,
                };
                self.settle(&key, state, effects, cause, item);
            }
            Ok((state, Outcome::Ignored)) => {
                self.counts.skipped += 1;
                if let Some(slot) = self.slots.get_mut(&key) {
                    slot.state = Some(state);
                }
            }
            Ok((_, Outcome::Rejected(reason))) => {
                self.timeouts.remove(&(key.clone(), due.kind.clone()));
                self.park(&key, item, Some(reason));
            }
            Err(panic) => {
                // Keep the timeout so that it fires again after a release.
                self.timeouts.remove(&(key.clone(), due.kind.clone()));
                let error = format!("timeout handler for `{}` panicked: {panic}", kind.name());
                self.park(&key, item, Some(error));
            }
        }
    }

    /// Records a successful handler call: new state, commands, timeouts.
    fn settle(
        &mut self,
        key: &str,
        state: P,
        effects: Effects<P>,
        cause: CommandCause<'_>,
        item: ParkedItem,
    ) {
        let json = match serde_json::to_value(&state) {
            Ok(json) => json,
            Err(error) => {
                self.park(key, item, Some(format!("state does not encode: {error}")));
                return;
            }
        };
        let mut commands = Vec::with_capacity(effects.commands.len());
        for (index, command) in effects.commands.into_iter().enumerate() {
            match command.encode() {
                Ok(payload) => commands.push((index, command, payload)),
                Err(error) => {
                    let message = format!(
                        "command `{}` does not encode: {error}",
                        command.command_type()
                    );
                    self.park(key, item, Some(message));
                    return;
                }
            }
        }
        for (index, command, payload) in commands {
            let id = command_id(P::NAME, key, cause, index);
            self.commands.push(NewCommand {
                id,
                instance: key.to_owned(),
                ordering_key: command.delivery_order().key(key, &id),
                command_type: command.command_type().to_owned(),
                payload,
                created_at: self.now,
            });
            self.typed_commands.push((key.to_owned(), command));
        }
        for change in effects.timeouts {
            match change {
                TimeoutChange::Schedule { kind, at } => {
                    self.set_timeout(key, kind.name(), Some(at))
                }
                TimeoutChange::Cancel { kind } => self.set_timeout(key, kind.name(), None),
            }
        }
        if effects.completed {
            for variant in P::Timeout::VARIANTS {
                self.set_timeout(key, variant.name, None);
            }
        }
        if let Some(slot) = self.slots.get_mut(key) {
            slot.state = Some(state);
            slot.json = json;
            slot.schema_version = P::STATE_VERSION;
            if effects.completed {
                slot.status = InstanceStatus::Completed;
            }
        }
        self.mark_changed(key, &item);
    }

    fn park(&mut self, key: &str, item: ParkedItem, error: Option<String>) {
        let error = error.map(bounded);
        self.counts.parked += 1;
        if !self.reparked.iter().any(|parked| parked == key) {
            self.reparked.push(key.to_owned());
        }
        if let Some(slot) = self.slots.get_mut(key) {
            if let Some(error) = &error {
                tracing::warn!(process = P::NAME, instance = key, %error, "instance parked");
            }
            slot.status = InstanceStatus::Parked;
        }
        self.mark_changed(key, &item);
        self.parked.push(ParkedEvent {
            instance: Some(key.to_owned()),
            item,
            error,
        });
    }

    /// The key of `id`'s slot, creating an empty one if the instance is new.
    fn slot_for(&mut self, id: P::Id) -> String {
        let key = id.to_string();
        if !self.slots.contains_key(&key) {
            self.slots.insert(
                key.clone(),
                Slot {
                    id,
                    loaded_version: 0,
                    status: InstanceStatus::Active,
                    state: None,
                    json: Value::Null,
                    unreadable: None,
                    schema_version: P::STATE_VERSION,
                    last_position: Position::START,
                    changed: false,
                },
            );
        }
        key
    }

    /// Marks the instance as written by this batch; an event's position
    /// becomes its last applied one.
    fn mark_changed(&mut self, key: &str, cause: &ParkedItem) {
        if let Some(slot) = self.slots.get_mut(key) {
            if let ParkedItem::Event(event) = cause {
                slot.last_position = slot.last_position.max(event.position);
            }
            if !slot.changed {
                slot.changed = true;
                self.changed.push(key.to_owned());
            }
        }
    }

    fn set_timeout(&mut self, key: &str, kind: &str, due_at: Option<DateTime<Utc>>) {
        let entry = (key.to_owned(), kind.to_owned());
        if self.timeouts.insert(entry.clone(), due_at).is_none() {
            self.timeout_order.push(entry);
        }
    }

    fn finish(mut self) -> Applied<P> {
        let mut instances = Vec::new();
        for key in self.changed {
            if let Some(slot) = self.slots.remove(&key) {
                instances.push(InstanceWrite {
                    id: key,
                    state: slot.json,
                    expected_version: slot.loaded_version,
                    status: slot.status,
                    schema_version: slot.schema_version,
                    last_position: slot.last_position,
                });
            }
        }
        let timeouts = self
            .timeout_order
            .into_iter()
            .filter_map(|entry| {
                let due_at = self.timeouts.remove(&entry)?;
                Some(TimeoutWrite {
                    instance: entry.0,
                    kind: entry.1,
                    due_at,
                })
            })
            .collect();
        Applied {
            batch: Batch {
                process: P::NAME.to_owned(),
                fence: None,
                instances,
                commands: self.commands,
                timeouts,
                parked: self.parked,
                replayed: Vec::new(),
            },
            commands: self.typed_commands,
            counts: self.counts,
        }
    }
}

/// The longest error text kept with a parked item: a payload that does not
/// decode can be megabytes, and serde quotes it.
const MAX_ERROR_LEN: usize = 2_000;

/// `error`, cut to [`MAX_ERROR_LEN`] bytes (at a character boundary) with a
/// note of how much was left out.
fn bounded(error: String) -> String {
    if error.len() <= MAX_ERROR_LEN {
        return error;
    }
    let mut end = MAX_ERROR_LEN;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} more bytes)", &error[..end], error.len() - end)
}

/// Runs a handler on `state`, catching a panic so that one bad event parks
/// its instance instead of stopping the engine.
pub(crate) fn run_handler<P: ProcessManager>(
    mut state: P,
    handler: impl FnOnce(&mut P) -> Outcome<P>,
) -> Result<(P, Outcome<P>), String> {
    // The state is dropped on a panic, so a half-applied change is never seen.
    catch_unwind(AssertUnwindSafe(move || {
        let effects = handler(&mut state);
        (state, effects)
    }))
    .map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|message| (*message).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic payload".to_owned())
    })
}

/// The typed state of a stored instance: `None` before it started, an
/// error when it cannot be used as is. State of an older schema version is
/// migrated first; state of a newer one is refused (never overwritten).
fn decode_state<P: ProcessManager>(record: &InstanceRecord) -> Result<Option<P>, String> {
    if record.state.is_null() {
        // `null` marks an instance parked before it started, unless the
        // state type itself is written as `null` (a unit struct).
        return Ok(P::deserialize(&Value::Null).ok());
    }
    let stored = record.schema_version;
    let current = P::STATE_VERSION;
    if stored > current {
        return Err(format!(
            "stored state has schema version {stored}, newer than this build's {current}; run a build that knows version {stored}"
        ));
    }
    let migrated;
    let json = if stored < current {
        migrated = P::migrate_state(stored, record.state.clone()).map_err(|error| {
            format!("state of schema version {stored} failed to migrate to {current}: {error}")
        })?;
        &migrated
    } else {
        &record.state
    };
    P::deserialize(json).map(Some).map_err(|error| {
        format!("stored state (schema version {current}) does not decode: {error}")
    })
}

#[cfg(test)]
mod tests {
    use super::{bounded, MAX_ERROR_LEN};

    #[test]
    fn long_errors_are_cut_at_a_character_boundary() {
        assert_eq!(bounded("short".to_owned()), "short");
        // One byte, then two-byte characters: the limit falls inside one,
        // so the cut moves back a byte to the boundary before it.
        let long = format!("a{}", "é".repeat(MAX_ERROR_LEN));
        let cut = bounded(long.clone());
        let kept = MAX_ERROR_LEN - 1;
        assert_eq!(
            cut,
            format!("{}... ({} more bytes)", &long[..kept], long.len() - kept)
        );
    }
}
