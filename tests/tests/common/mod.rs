//! Shared fixtures of the engine tests: a small `task` process, a recording
//! gateway with scripted failures, and a wait-for-condition helper.
#![allow(dead_code)]

pub mod door;
pub mod pg;
pub mod tally;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pm_core::backend::{EventSource, Store};
use pm_core::prelude::*;
use pm_core::{EngineOptions, RetryPolicy, RunningEngine};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Noted {
    pub task: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub enum TaskEvent {
    Opened(Opened),
    Noted(Noted),
    Closed,
    Exploded,
    Archived,
}

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
pub enum TaskTimeout {
    Reminder,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notify {
    pub task: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remind {
    pub task: String,
}

/// The reminder fires this long after a task is opened.
pub const REMINDER_AFTER: Duration = Duration::from_secs(600);

/// A task: opened (start), noted any number of times, closed (complete).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub title: String,
    pub notes: Vec<String>,
}

#[process_manager(
    name = "task",
    id = String,
    subscribe(TaskEvent),
    ignore(TaskEvent::Archived),
    timeouts(TaskTimeout)
)]
impl Task {
    #[on(TaskEvent::Opened, start, sends(Notify))]
    fn opened(&mut self, event: &Opened, cx: &mut Context<Self>) {
        self.title = event.title.clone();
        cx.send(Notify {
            task: cx.id().clone(),
            text: format!("opened {}", event.title),
        });
        cx.schedule(TaskTimeout::Reminder, REMINDER_AFTER);
    }

    #[on(TaskEvent::Noted, correlate = task, sends(Notify))]
    fn noted(&mut self, event: &Noted, cx: &mut Context<Self>) {
        self.notes.push(event.text.clone());
        cx.send(Notify {
            task: event.task.clone(),
            text: event.text.clone(),
        });
    }

    #[on(TaskEvent::Closed)]
    fn closed(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[on(TaskEvent::Exploded)]
    fn exploded(&mut self, _cx: &mut Context<Self>) {
        panic!("task exploded on purpose");
    }

    #[timeout(TaskTimeout::Reminder, sends(Remind))]
    fn reminder(&mut self, cx: &mut Context<Self>) {
        cx.send(Remind {
            task: cx.id().clone(),
        });
    }
}

/// One delivery the gateway saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub command: TaskCommand,
    pub meta: CommandMeta,
}

/// A gateway that records every delivery and fails on cue.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    /// Every attempt, failed or not, in arrival order.
    attempts: Arc<Mutex<Vec<CommandMeta>>>,
    /// Failures to return, by the text of `Notify` commands, in order.
    failures: Arc<Mutex<HashMap<String, VecDeque<DispatchError>>>>,
}

impl Recorder {
    /// Fails deliveries of the `Notify` with `text` with these errors first.
    pub fn fail(&self, text: &str, errors: impl IntoIterator<Item = DispatchError>) {
        self.failures
            .lock()
            .unwrap()
            .entry(text.to_owned())
            .or_default()
            .extend(errors);
    }

    /// Every attempt's metadata, failed ones included.
    pub fn attempts(&self) -> Vec<CommandMeta> {
        self.attempts.lock().unwrap().clone()
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }

    /// The successful deliveries, as the texts of `Notify` and
    /// `remind:<task>` for `Remind`.
    pub fn texts(&self) -> Vec<String> {
        self.deliveries()
            .into_iter()
            .map(|delivery| match delivery.command {
                TaskCommand::Notify(notify) => notify.text,
                TaskCommand::Remind(remind) => format!("remind:{}", remind.task),
            })
            .collect()
    }
}

impl Dispatch<TaskCommand> for Recorder {
    async fn dispatch(&self, command: TaskCommand, meta: CommandMeta) -> Result<(), DispatchError> {
        self.attempts.lock().unwrap().push(meta.clone());
        if let TaskCommand::Notify(notify) = &command {
            let scripted = self
                .failures
                .lock()
                .unwrap()
                .get_mut(&notify.text)
                .and_then(VecDeque::pop_front);
            if let Some(error) = scripted {
                return Err(error);
            }
        }
        self.deliveries
            .lock()
            .unwrap()
            .push(Delivery { command, meta });
        Ok(())
    }
}

/// Options for tests: small batches, fast polls and retries.
pub fn fast_options() -> EngineOptions {
    EngineOptions {
        batch_size: 100,
        poll_interval: Duration::from_millis(20),
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
        },
        ..EngineOptions::default()
    }
}

/// An engine running the task process on `store` and `log`.
pub fn start_engine<S, L>(
    store: &S,
    log: &L,
    clock: ManualClock,
    gateway: &Recorder,
) -> RunningEngine
where
    S: Store + Clone,
    L: EventSource + Clone,
{
    Engine::new(store.clone(), log.clone())
        .with_clock(clock)
        .with_options(fast_options())
        .register::<Task, _>(gateway.clone())
        .start()
        .expect("the engine starts")
}

/// Appends one typed event to `stream`.
pub async fn append<L: EventLog>(log: &L, stream: &str, event: TaskEvent) {
    log.append(
        stream,
        ExpectedVersion::Any,
        vec![NewEvent::encode(&event).unwrap()],
    )
    .await
    .unwrap();
}

/// Appends one door event to `stream`.
pub async fn append_door<L: EventLog>(log: &L, stream: &str, event: door::DoorEvent) {
    let event = NewEvent::encode(&event).unwrap();
    log.append(stream, ExpectedVersion::Any, vec![event])
        .await
        .unwrap();
}

/// Appends a raw event (for bad input).
pub async fn append_raw<L: EventLog>(
    log: &L,
    stream: &str,
    event_type: &str,
    payload: serde_json::Value,
) {
    let event = NewEvent {
        event_type: event_type.to_owned(),
        payload,
    };
    log.append(stream, ExpectedVersion::Any, vec![event])
        .await
        .unwrap();
}

pub fn opened(title: &str) -> TaskEvent {
    TaskEvent::Opened(Opened {
        title: title.to_owned(),
    })
}

pub fn noted(task: &str, text: &str) -> TaskEvent {
    TaskEvent::Noted(Noted {
        task: task.to_owned(),
        text: text.to_owned(),
    })
}

/// Waits until `condition` holds, polling; panics with `what` after a
/// generous deadline. Never asserts on how long it took.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The stored state of task `id`.
pub async fn task_state<S: Store>(
    store: &S,
    id: &str,
) -> Option<(pm_core::InstanceStatus, Option<Task>)> {
    store
        .load_instances("task", &[id.to_owned()])
        .await
        .unwrap()
        .into_iter()
        .next()
        .map(|record| (record.status, serde_json::from_value(record.state).ok()))
}

/// The pauses between consecutive instants, in milliseconds.
pub fn pauses_between(times: &[u128]) -> Vec<u128> {
    times.windows(2).map(|pair| pair[1] - pair[0]).collect()
}

/// Asserts that the pauses measured between `what` are the expected ones
/// (milliseconds, within 5 ms each: a paused tokio clock advances in steps
/// of the test's own sleeps).
pub fn assert_pauses(what: &str, pauses: &[u128], expected: &[u128]) {
    let close = pauses.len() == expected.len()
        && pauses
            .iter()
            .zip(expected)
            .all(|(pause, expected)| pause.abs_diff(*expected) <= 5);
    assert!(
        close,
        "pauses between {what} {pauses:?} ms, expected {expected:?} ms"
    );
}

/// Ends the test process if the guard is not dropped within `limit` of real
/// time. A test on a paused tokio clock needs it: a loop that spins without
/// sleeping keeps the clock from ever advancing, and the test would hang
/// instead of failing.
pub struct HangGuard {
    _dropped: std::sync::mpsc::Sender<()>,
}

impl HangGuard {
    pub fn new(test: &'static str, limit: Duration) -> Self {
        let (dropped, wait) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
                eprintln!("{test} did not finish within {limit:?} of real time: the loop under test never sleeps");
                std::process::exit(101);
            }
        });
        Self { _dropped: dropped }
    }
}
