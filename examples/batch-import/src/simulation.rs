//! The simulation driver: create batches, let the engine and the simulated
//! services work until every batch has completed, then check from the
//! journal that each ended as its files say.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use pm_core::backend::{EventSource, Operations, Store};
use pm_core::{Engine, MemoryStore, ProcessManager};
use pm_postgres::PgBackend;
use sqlx::PgPool;

use crate::events::{BatchEvent, BatchOutcome};
use crate::id::BatchId;
use crate::journal::{Entry, Journal, MemoryJournal, TableJournal};
use crate::plan::{Answer, Plan};
use crate::process::{Batch, FileStatus};
use crate::report::{Report, Tally};
use crate::services::Services;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// How many batches to create.
    pub batches: u32,
    /// The most files a batch holds (each holds 1 to this many).
    pub max_files: u32,
    /// The seed every answer is drawn from.
    pub seed: u64,
    /// How long a batch's files may take.
    pub deadline: Duration,
    /// How long the whole run may take.
    pub give_up_after: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            batches: 20,
            max_files: 5,
            seed: 7,
            deadline: Duration::from_millis(1500),
            give_up_after: Duration::from_secs(90),
        }
    }
}

/// Runs the simulation in memory.
pub async fn run(config: &Config) -> anyhow::Result<Report> {
    let journal = MemoryJournal::default();
    drive(MemoryStore::new(), journal.log.clone(), journal, 0, config).await
}

/// Runs the simulation on Postgres at `url`, the batch process reading the
/// application's own table `batch_import.events`.
pub async fn run_on_postgres(url: &str, config: &Config) -> anyhow::Result<Report> {
    let backend = PgBackend::connect(url)
        .await
        .context("connecting to Postgres")?;
    run_on_backend(backend, config).await
}

/// Runs the simulation on a migrated pool (tests use a fresh database).
pub async fn run_on_pool(pool: PgPool, config: &Config) -> anyhow::Result<Report> {
    run_on_backend(PgBackend::from_pool(pool), config).await
}

async fn run_on_backend(backend: PgBackend, config: &Config) -> anyhow::Result<Report> {
    let journal = TableJournal::create(backend.pool().clone())
        .await
        .context("creating the table batch_import.events")?;
    let source = journal
        .source()
        .await
        .context("reading batch_import.events as an event source")?;
    // A run after an earlier one on the same database goes on numbering.
    let first = created_batches(&journal.entries().await?);
    drive(backend.store(), source, journal, first, config).await
}

fn created_batches(entries: &[Entry]) -> u32 {
    let created = entries
        .iter()
        .filter(|entry| entry.event_type == "BatchEvent.Created")
        .count();
    u32::try_from(created).unwrap_or(u32::MAX)
}

/// Runs the simulation: the engine on `store` reading `source`, the
/// services recording in `journal`, batches numbered from `first`.
pub async fn drive<S, L, J>(
    store: S,
    source: L,
    journal: J,
    first: u32,
    config: &Config,
) -> anyhow::Result<Report>
where
    S: Store + Operations + Clone,
    L: EventSource,
    J: Journal,
{
    let plan = Plan::new(config.seed, config.max_files);
    let services = Services::new(journal.clone(), plan);
    let engine = Engine::new(store.clone(), source)
        .register::<Batch, _>(services.clone())
        .start()
        .context("starting the engine")?;
    let started = Instant::now();
    let batches: Vec<BatchId> = (first..first + config.batches).map(BatchId).collect();
    let outcome = async {
        for &batch in &batches {
            let event = BatchEvent::Created {
                files: plan.files(batch),
                deadline_ms: u64::try_from(config.deadline.as_millis()).unwrap_or(u64::MAX),
            };
            journal
                .record(&batch.to_string(), &event)
                .await
                .with_context(|| format!("creating {batch}"))?;
        }
        wait_for_completions(&store, &journal, &batches, config, started).await
    }
    .await;
    let metrics = engine.metrics(Batch::NAME).unwrap_or_default();
    // Shut down even when waiting failed, so no task outlives the run.
    let shutdown = engine.shutdown().await;
    let entries = outcome?;
    shutdown.context("shutting the engine down")?;
    let (tally, problems) = check(&entries, &batches, &plan, &services.cancelled());
    Ok(Report {
        batches: config.batches,
        seed: config.seed,
        tally,
        commands: metrics.commands_recorded,
        timeouts_fired: metrics.timeouts_fired,
        services: services.stats(),
        elapsed: started.elapsed(),
        problems,
    })
}

/// Waits until every batch has a completion in the journal and no command
/// is left to deliver; returns the journal then.
async fn wait_for_completions<S: Store + Operations, J: Journal>(
    store: &S,
    journal: &J,
    batches: &[BatchId],
    config: &Config,
    started: Instant,
) -> anyhow::Result<Vec<Entry>> {
    loop {
        let entries = journal.entries().await.context("reading the journal")?;
        let completed = completions(&entries)
            .keys()
            .filter(|batch| batches.contains(batch))
            .count();
        let stats = store
            .stats(Batch::NAME)
            .await
            .context("reading the process's counts")?;
        if completed == batches.len() && stats.pending_commands == 0 {
            return Ok(entries);
        }
        if started.elapsed() > config.give_up_after {
            bail!(
                "only {completed} of {} batches completed within {:?} ({} active, {} parked, {} commands pending)",
                batches.len(),
                config.give_up_after,
                stats.active,
                stats.parked,
                stats.pending_commands
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A batch's recorded completions.
type Completion = (BatchOutcome, BTreeMap<String, FileStatus>);

/// Every completion in the journal, by batch (several if recorded twice).
fn completions(entries: &[Entry]) -> BTreeMap<BatchId, Vec<Completion>> {
    let mut completions: BTreeMap<BatchId, Vec<Completion>> = BTreeMap::new();
    for entry in entries {
        let Some(batch) = entry.stream.strip_suffix("/completed") else {
            continue;
        };
        let (Ok(batch), Ok(event)) = (
            batch.parse::<BatchId>(),
            <BatchEvent as pm_core::Event>::decode(&entry.event_type, &entry.payload),
        ) else {
            continue;
        };
        if let BatchEvent::Completed { outcome, files } = event {
            completions.entry(batch).or_default().push((outcome, files));
        }
    }
    completions
}

/// Checks each batch against its plan: completed once, each file as the
/// file service answered it (or timed out, if the deadline came first), the
/// outcome the one its files make, and exactly the timed-out files
/// cancelled. Returns the tally and what failed.
fn check(
    entries: &[Entry],
    batches: &[BatchId],
    plan: &Plan,
    cancelled: &std::collections::BTreeSet<(BatchId, String)>,
) -> (Tally, Vec<String>) {
    let completions = completions(entries);
    let mut tally = Tally::default();
    let mut problems = Vec::new();
    for &batch in batches {
        let Some(recorded) = completions.get(&batch) else {
            problems.push(format!("{batch} never completed"));
            continue;
        };
        if recorded.len() != 1 {
            problems.push(format!("{batch} completed {} times", recorded.len()));
        }
        let (outcome, files) = &recorded[0];
        let names: Vec<&String> = files.keys().collect();
        let planned = plan.files(batch);
        if names != planned.iter().collect::<Vec<_>>() {
            problems.push(format!(
                "{batch} completed with files {names:?}, not {planned:?}"
            ));
        }
        for (file, status) in files {
            tally.files += 1;
            let expected = match plan.answer(batch, file) {
                Answer::Processed(rows) => FileStatus::Processed { rows },
                Answer::Failed => FileStatus::Failed {
                    reason: "malformed row 3".to_owned(),
                },
                Answer::Silent => FileStatus::TimedOut,
            };
            let raced = *status == FileStatus::TimedOut && expected != FileStatus::TimedOut;
            if raced {
                tally.overtaken_by_deadline += 1;
            } else if *status != expected {
                problems.push(format!(
                    "{batch}: `{file}` ended {status:?}, not {expected:?}"
                ));
            }
            let was_cancelled = cancelled.contains(&(batch, file.clone()));
            if was_cancelled != (*status == FileStatus::TimedOut) {
                problems.push(format!(
                    "{batch}: `{file}` ended {status:?} but was {}cancelled",
                    if was_cancelled { "" } else { "not " }
                ));
            }
        }
        let made = outcome_of(files);
        if *outcome != made {
            problems.push(format!(
                "{batch} ended {outcome:?}, but its files make {made:?}"
            ));
        }
        match outcome {
            BatchOutcome::Succeeded => tally.succeeded += 1,
            BatchOutcome::Failed => tally.failed += 1,
            BatchOutcome::TimedOut => tally.timed_out += 1,
        }
    }
    (tally, problems)
}

/// The outcome a batch's final file statuses make.
fn outcome_of(files: &BTreeMap<String, FileStatus>) -> BatchOutcome {
    let any = |wanted: fn(&FileStatus) -> bool| files.values().any(wanted);
    if any(|status| *status == FileStatus::TimedOut) {
        BatchOutcome::TimedOut
    } else if any(|status| matches!(status, FileStatus::Failed { .. })) {
        BatchOutcome::Failed
    } else {
        BatchOutcome::Succeeded
    }
}
