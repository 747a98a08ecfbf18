//! The tokio engine: one loop per process that reads events and due
//! timeouts in batches and commits each batch atomically, and one dispatcher
//! per process that delivers the recorded commands.
//!
//! Each loop is a worker of its process: it holds a fair share of the
//! process's partitions under leases (`ownership.rs`), and every commit is
//! fenced by the epochs and checkpoints it holds, so engines in several
//! processes (or several engines on one [`MemoryStore`](crate::MemoryStore))
//! share a process without applying an event twice.
//!
//! ```no_run
//! # use pm_core::prelude::*;
//! # #[allow(dead_code)]
//! # async fn run<P: ProcessManager, D: Dispatch<P::Command>>(gateway: D) -> Result<(), pm_core::Error> {
//! let engine = Engine::new(MemoryStore::new(), MemoryLog::new())
//!     .register::<P, _>(gateway)
//!     .start()?;
//! // ... append events to the log ...
//! engine.shutdown().await?;
//! # Ok(()) }
//! ```

mod batch;
mod dispatcher;
mod metrics;
mod ownership;
mod retention;
mod run;
mod sweeps;

pub use metrics::MetricsSnapshot;

pub(crate) use metrics::ProcessMetrics;

pub(crate) use batch::{apply_batch, run_handler, BatchInput};
pub(crate) use run::load_and_apply;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::dispatch::{Dispatch, RetryPolicy};
use crate::error::{Error, Result};
use crate::log::EventSource;
use crate::process::ProcessManager;
use crate::store::Store;

/// Tuning of the engine's loops.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Events read (and due timeouts taken) per batch.
    pub batch_size: usize,
    /// How often the loops look for work when nothing woke them.
    pub poll_interval: Duration,
    /// Commands claimed per dispatcher round.
    pub claim_limit: usize,
    /// Deliveries in flight at once per process.
    pub dispatch_concurrency: usize,
    /// How long a claim reserves its commands; after that another
    /// dispatcher may deliver them again.
    pub lease_for: Duration,
    /// How failed deliveries are retried.
    pub retry: RetryPolicy,
    /// The longest wait between attempts after a store error.
    pub max_error_backoff: Duration,
    /// How many partitions a process's instances are spread over, the unit
    /// workers own. Used when a process first runs; after that the stored
    /// count holds (`pm partitions` changes it).
    pub partitions: u32,
    /// How long a worker's hold on its partitions (and its heartbeat) lasts
    /// without renewal; a worker that dies loses its partitions after this
    /// long. Renewed three times per lease.
    pub partition_lease: Duration,
    /// How long completed instances (tombstones) and the ledger of
    /// delivered commands are kept; the engine removes older ones in
    /// bounded batches. `None` keeps them. A later event for a removed
    /// instance finds none: a `start` event starts a new one, any other is
    /// skipped.
    pub retention: Option<Duration>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            batch_size: 2000,
            poll_interval: Duration::from_millis(500),
            claim_limit: 500,
            dispatch_concurrency: 64,
            lease_for: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            max_error_backoff: Duration::from_secs(10),
            partitions: 16,
            partition_lease: Duration::from_secs(10),
            retention: Some(Duration::from_secs(30 * 24 * 3600)),
        }
    }
}

/// What every task of a running engine shares.
pub(crate) struct Shared<S, L> {
    pub(crate) store: Arc<S>,
    pub(crate) log: Arc<L>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) options: EngineOptions,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl<S, L> Clone for Shared<S, L> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            log: Arc::clone(&self.log),
            clock: Arc::clone(&self.clock),
            options: self.options.clone(),
            shutdown: self.shutdown.clone(),
        }
    }
}

type TaskHandle = (&'static str, &'static str, JoinHandle<Result<()>>);
type Spawner<S, L> = Box<dyn FnOnce(Shared<S, L>) -> Vec<TaskHandle> + Send>;

struct Registration<S, L> {
    name: &'static str,
    metrics: Arc<ProcessMetrics>,
    runs_process: bool,
    runs_dispatcher: bool,
    spawn: Spawner<S, L>,
}

/// The gateway of a registration that delivers nothing.
enum NoDispatch {}

impl<C: Send + 'static> Dispatch<C> for NoDispatch {
    async fn dispatch(
        &self,
        _: C,
        _: crate::dispatch::CommandMeta,
    ) -> Result<(), crate::dispatch::DispatchError> {
        match *self {}
    }
}

/// An engine being configured; [`start`](Engine::start) runs it.
pub struct Engine<S, L> {
    store: Arc<S>,
    log: Arc<L>,
    clock: Arc<dyn Clock>,
    options: EngineOptions,
    processes: Vec<Registration<S, L>>,
}

impl<S, L> std::fmt::Debug for Engine<S, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.processes.iter().map(|process| process.name).collect();
        f.debug_struct("Engine")
            .field("processes", &names)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<S: Store, L: EventSource> Engine<S, L> {
    /// An engine over a store and an event source, on the system clock.
    pub fn new(store: S, log: L) -> Self {
        Self {
            store: Arc::new(store),
            log: Arc::new(log),
            clock: Arc::new(SystemClock),
            options: EngineOptions::default(),
            processes: Vec::new(),
        }
    }

    /// Uses `clock` for handlers' `now()`, timeouts and retries.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces the tuning options.
    pub fn with_options(mut self, options: EngineOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs process `P`, delivering its commands through `dispatcher`.
    pub fn register<P, D>(self, dispatcher: D) -> Self
    where
        P: ProcessManager,
        D: Dispatch<P::Command>,
    {
        self.add::<P, D>(true, Some(Arc::new(dispatcher)))
    }

    /// Runs only the event loop of `P`: its commands wait in the outbox for
    /// a dispatcher elsewhere ([`register_dispatcher`](Self::register_dispatcher)).
    pub fn register_process<P: ProcessManager>(self) -> Self {
        self.add::<P, NoDispatch>(true, None)
    }

    /// Runs only the delivery of `P`'s commands, for a worker dedicated to
    /// dispatching.
    pub fn register_dispatcher<P, D>(self, dispatcher: D) -> Self
    where
        P: ProcessManager,
        D: Dispatch<P::Command>,
    {
        self.add::<P, D>(false, Some(Arc::new(dispatcher)))
    }

    fn add<P, D>(mut self, runs_process: bool, dispatcher: Option<Arc<D>>) -> Self
    where
        P: ProcessManager,
        D: Dispatch<P::Command>,
    {
        // Both halves of one process count into the same metrics.
        let metrics = self
            .processes
            .iter()
            .find(|registration| registration.name == P::NAME)
            .map_or_else(
                || Arc::new(ProcessMetrics::new(P::NAME)),
                |registration| Arc::clone(&registration.metrics),
            );
        let task_metrics = Arc::clone(&metrics);
        self.processes.push(Registration {
            name: P::NAME,
            metrics,
            runs_process,
            runs_dispatcher: dispatcher.is_some(),
            spawn: Box::new(move |shared: Shared<S, L>| {
                let mut tasks = Vec::new();
                if runs_process {
                    let task =
                        run::run_process::<P, S, L>(shared.clone(), Arc::clone(&task_metrics));
                    tasks.push((P::NAME, "process", tokio::spawn(task)));
                }
                if let Some(dispatcher) = dispatcher {
                    let task =
                        dispatcher::run_dispatcher::<P, S, L, D>(shared, dispatcher, task_metrics);
                    tasks.push((P::NAME, "dispatcher", tokio::spawn(task)));
                }
                tasks
            }),
        });
        self
    }

    /// Starts every registered process on the current tokio runtime.
    ///
    /// Fails if two registered processes share a name (a process loop and a
    /// dispatcher of one process may be registered separately).
    pub fn start(self) -> Result<RunningEngine> {
        for (index, registration) in self.processes.iter().enumerate() {
            let clash = self.processes[..index].iter().any(|earlier| {
                earlier.name == registration.name
                    && ((earlier.runs_process && registration.runs_process)
                        || (earlier.runs_dispatcher && registration.runs_dispatcher))
            });
            if clash {
                return Err(Error::DuplicateProcess {
                    name: registration.name,
                });
            }
        }
        let (stop, shutdown) = watch::channel(false);
        let shared = Shared {
            store: self.store,
            log: self.log,
            clock: self.clock,
            options: self.options,
            shutdown,
        };
        let mut metrics = HashMap::new();
        let mut tasks = Vec::new();
        for registration in self.processes {
            metrics.insert(registration.name, registration.metrics);
            tasks.extend((registration.spawn)(shared.clone()));
        }
        Ok(RunningEngine {
            stop,
            tasks,
            metrics,
        })
    }
}

/// A running engine. Dropping it stops it as [`shutdown`](Self::shutdown)
/// does, without waiting: each loop ends after the batch or delivery round
/// it is in (a worker gives up its partitions), and errors are only logged.
#[derive(Debug)]
#[must_use = "dropping a RunningEngine stops it; keep it while it should run, and call `shutdown` to wait for its loops and see their errors"]
pub struct RunningEngine {
    stop: watch::Sender<bool>,
    tasks: Vec<TaskHandle>,
    metrics: HashMap<&'static str, Arc<ProcessMetrics>>,
}

impl RunningEngine {
    /// The counters of process `name`, if it is registered.
    pub fn metrics(&self, name: &str) -> Option<MetricsSnapshot> {
        self.metrics.get(name).map(|metrics| metrics.snapshot())
    }

    /// Stops every loop after the batch or delivery round it is in, and
    /// waits for them.
    pub async fn shutdown(mut self) -> Result<()> {
        self.stop.send_replace(true);
        let mut first_error = None;
        for (process, task, handle) in std::mem::take(&mut self.tasks) {
            let outcome = match handle.await {
                Ok(outcome) => outcome,
                Err(join_error) => Err(Error::Task {
                    process: process.to_owned(),
                    task,
                    source: Box::new(join_error),
                }),
            };
            if let Err(error) = outcome {
                tracing::error!(process, task, error = %crate::error::ErrorChain(&error), "engine task failed");
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for RunningEngine {
    fn drop(&mut self) {
        // Without this the loops would see the stop signal's sender gone,
        // not a request to stop.
        self.stop.send_replace(true);
    }
}

/// Waits `delay` unless shutdown is requested first; returns whether the
/// engine is shutting down.
pub(crate) async fn pause_unless_shutdown(
    shutdown: &mut watch::Receiver<bool>,
    delay: Duration,
) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = shutdown.changed() => true,
        () = tokio::time::sleep(delay) => *shutdown.borrow(),
    }
}

/// The wait after `failures` consecutive store errors: doubling from 50 ms,
/// capped.
pub(crate) fn error_backoff(failures: u32, max: Duration) -> Duration {
    Duration::from_millis(50)
        .saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(max)
}

/// Sleeps until `woken` changes, the engine clock reaches `due`, `deadline`
/// passes, the poll interval passes, or shutdown is requested: the idle wait
/// of every loop. A `due` already past is left to the poll interval (it
/// waits behind work another worker holds).
pub(crate) async fn idle<S, L>(
    shared: &Shared<S, L>,
    shutdown: &mut watch::Receiver<bool>,
    woken: &mut watch::Receiver<u64>,
    due: Option<chrono::DateTime<chrono::Utc>>,
    deadline: Option<tokio::time::Instant>,
) {
    let now = shared.clock.now();
    let due = async {
        match due {
            Some(at) if at > now => shared.clock.sleep_until(at).await,
            _ => std::future::pending().await,
        }
    };
    let deadline = async {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = shutdown.changed() => {}
        () = changed_or_pending(woken) => {}
        () = due => {}
        () = deadline => {}
        () = tokio::time::sleep(shared.options.poll_interval) => {}
    }
}

/// Resolves when `receiver` sees a new value; never, once its sender is
/// gone (a source whose wake-ups stopped is still polled, not spun on).
pub(crate) async fn changed_or_pending(receiver: &mut watch::Receiver<u64>) {
    if receiver.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}
