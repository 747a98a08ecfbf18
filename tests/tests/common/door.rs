//! A door with states, a timeout and a state migration: the fixture of the
//! state tests on memory and on Postgres.

use std::time::Duration;

use pm_core::prelude::*;
use pm_core::BoxError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
pub enum Phase {
    #[default]
    New,
    Closed,
    Open,
    #[state(final)]
    Removed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Painted {
    pub color: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub enum DoorEvent {
    Installed,
    Opened,
    Closed,
    Slammed,
    Painted(Painted),
    Removed,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
pub enum DoorTimeout {
    Check,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub door: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Door {
    pub phase: Phase,
    pub color: String,
}

/// Version 1 stored the color as `colour`.
pub fn migrate_door(from: i32, mut state: Value) -> Result<Value, BoxError> {
    match from {
        1 => {
            let colour = state
                .get_mut("colour")
                .map(Value::take)
                .ok_or("version 1 state has no `colour`")?;
            state["color"] = colour;
            Ok(state)
        }
        other => Err(format!("no migration from version {other}").into()),
    }
}

#[process_manager(
    name = "door",
    id = String,
    subscribe(DoorEvent),
    timeouts(DoorTimeout),
    state = phase,
    version = 2,
    migrate = migrate_door,
    ignore(
        DoorEvent::Installed except(Phase::New),
        DoorEvent::Opened in(Phase::New, Phase::Open, Phase::Removed),
        DoorEvent::Closed in(Phase::New, Phase::Closed, Phase::Removed),
        DoorEvent::Removed except(Phase::Closed),
        DoorTimeout::Check in(Phase::New, Phase::Closed, Phase::Removed),
    )
)]
impl Door {
    #[on(DoorEvent::Installed, start, in(Phase::New), to(Phase::Closed))]
    fn installed(&mut self, _cx: &mut Context<Self>) {
        self.phase = Phase::Closed;
    }

    #[on(DoorEvent::Opened, in(Phase::Closed), to(Phase::Open))]
    fn opened(&mut self, cx: &mut Context<Self>) {
        self.phase = Phase::Open;
        cx.schedule(DoorTimeout::Check, Duration::from_secs(60));
    }

    #[on(DoorEvent::Closed, in(Phase::Open), to(Phase::Closed))]
    fn closed(&mut self, cx: &mut Context<Self>) {
        self.phase = Phase::Closed;
        cx.cancel(DoorTimeout::Check);
    }

    /// A bug on purpose: declares no `to(..)` yet resets the phase.
    #[on(DoorEvent::Slammed)]
    fn slammed(&mut self, _cx: &mut Context<Self>) {
        self.phase = Phase::New;
    }

    #[on(DoorEvent::Painted)]
    fn painted(&mut self, event: &Painted, _cx: &mut Context<Self>) {
        self.color = event.color.clone();
    }

    #[on(DoorEvent::Removed, in(Phase::Closed), to(Phase::Removed))]
    fn removed(&mut self, _cx: &mut Context<Self>) {
        self.phase = Phase::Removed;
    }

    #[timeout(DoorTimeout::Check, in(Phase::Open), sends(Alarm))]
    fn check(&mut self, cx: &mut Context<Self>) {
        cx.send(Alarm {
            door: cx.id().clone(),
        });
    }
}
