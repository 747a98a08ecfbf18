//! `pm`: operator commands for process managers on Postgres.
//!
//! ```text
//! pm status                         processes, workers, partitions, lag, counts, delivery, log horizon
//! pm show <process> <instance>      one instance: state, timeouts, commands, parked items
//! pm parked <process>               events parked or held, with their errors
//! pm release <process> <instance>   apply them again (--skip-failed drops the failed ones)
//! pm dead-letters <process>         commands that gave up
//! pm retry-dead-letters <process>   put them back in the outbox (--id to pick)
//! pm purge-dead-letters <process>   delete them (--id to pick)
//! pm repartition <process> --partitions N   spread its instances over N partitions
//! pm purge-completed <process> --older-than 30d   remove old tombstones and delivered commands
//! pm migrate                        apply the pm schema migrations
//! ```
//!
//! Every line goes through one writer, so a reader that goes away early
//! (`pm status | head`) ends the command quietly instead of a panic.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use pm_core::backend::{ParkedItem, Release};
use pm_core::Position;
use pm_postgres::{
    Admin, DeliveryStatus, LogHorizon, OneLine, PgBackend, ProcessStatus, Selection,
};
use uuid::Uuid;

#[derive(Parser)]
#[command(name = "pm", about = "Operate process managers on Postgres")]
struct Args {
    /// The database (defaults to DATABASE_URL).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Processes, their workers and partitions (owner, epoch, lease,
    /// checkpoint, lag), counts, and what holds readers back.
    Status,
    /// One instance: its state as JSON, status, versions, partition and
    /// owner, timeouts, pending, delivered and dead commands, parked items.
    Show { process: String, instance: String },
    /// Events parked or held for a process.
    Parked { process: String },
    /// Let a parked instance go on: its parked events are applied again, in
    /// order, by the running engine. `--id` releases single items instead
    /// (also events whose instance could not be told).
    Release {
        process: String,
        instance: Option<String>,
        /// Release these parked items (ids from `pm parked`).
        #[arg(long = "id")]
        ids: Vec<i64>,
        /// Drop the events that failed instead of retrying them.
        #[arg(long)]
        skip_failed: bool,
    },
    /// Dead-lettered commands of a process.
    DeadLetters { process: String },
    /// Put dead letters back in the outbox, due now.
    RetryDeadLetters {
        process: String,
        /// Only these ids (default: all).
        #[arg(long = "id")]
        ids: Vec<Uuid>,
    },
    /// Delete dead letters.
    PurgeDeadLetters {
        process: String,
        /// Only these ids (default: all).
        #[arg(long = "id")]
        ids: Vec<Uuid>,
    },
    /// Spread a process's instances over another number of partitions
    /// (safe while it runs: batches computed under the old partitions are
    /// refused, and instances skip events they have already applied).
    Repartition {
        process: String,
        /// The new partition count.
        #[arg(long)]
        partitions: u32,
    },
    /// Remove completed instances and delivered commands older than a period
    /// (the engine does this too, with `EngineOptions::retention`).
    PurgeCompleted {
        process: String,
        /// How old, e.g. `30d` or `12h`.
        #[arg(long, value_parser = humantime::parse_duration)]
        older_than: std::time::Duration,
    },
    /// Apply the pm schema migrations.
    Migrate,
}

/// Where every command writes its report.
type Out<'a> = &'a mut dyn Write;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut stdout = io::stdout();
    let result = match run(args, &mut stdout).await {
        Ok(()) => stdout.flush().map_err(anyhow::Error::from),
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if reader_gone(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // If stderr is gone too, nobody is left to tell.
            let _ = writeln!(io::stderr(), "Error: {error:?}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `error` is a write to stdout whose reader has gone (`pm status |
/// head`): it has read all it wanted, so the command ends quietly.
fn reader_gone(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<io::Error>()
        .is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe)
}

async fn run(args: Args, out: Out<'_>) -> anyhow::Result<()> {
    // Only `pm migrate` changes the schema; every other command works on
    // the database as it is, and says so if it is not migrated.
    let migrate = matches!(args.command, Command::Migrate);
    let backend = PgBackend::builder(&args.database_url)
        .max_connections(2)
        .migrate(migrate)
        .connect()
        .await
        .context("opening the database")?;
    let admin = Admin::new(backend);
    if let Some(process) = args.command.process() {
        known_process(&admin, process).await?;
    }
    match args.command {
        Command::Status => status(&admin, out).await,
        Command::Show { process, instance } => show(&admin, out, &process, &instance).await,
        Command::Parked { process } => parked(&admin, out, &process).await,
        Command::Release {
            process,
            instance,
            ids,
            skip_failed,
        } => {
            release(
                &admin,
                out,
                &process,
                instance.as_deref(),
                &ids,
                skip_failed,
            )
            .await
        }
        Command::DeadLetters { process } => dead_letters(&admin, out, &process).await,
        Command::RetryDeadLetters { process, ids } => {
            let count = admin
                .retry_dead_letters(&process, &selection(ids))
                .await
                .context("retrying dead letters")?;
            Ok(writeln!(out, "{count} dead letters back in the outbox")?)
        }
        Command::PurgeDeadLetters { process, ids } => {
            let count = admin
                .purge_dead_letters(&process, &selection(ids))
                .await
                .context("purging dead letters")?;
            Ok(writeln!(out, "{count} dead letters deleted")?)
        }
        Command::Repartition {
            process,
            partitions,
        } => {
            admin
                .repartition(&process, partitions)
                .await
                .context("repartitioning")?;
            Ok(writeln!(
                out,
                "`{process}` now has {partitions} partitions; its workers take them up at their next heartbeat"
            )?)
        }
        Command::PurgeCompleted {
            process,
            older_than,
        } => {
            let purged = admin
                .purge_completed(&process, older_than)
                .await
                .context("removing old completed instances")?;
            Ok(writeln!(
                out,
                "removed {} completed instances and {} delivered commands of `{process}`",
                purged.instances, purged.delivered
            )?)
        }
        Command::Migrate => Ok(writeln!(out, "the pm schema is up to date")?),
    }
}

impl Command {
    /// The process the command names, if it names one.
    fn process(&self) -> Option<&str> {
        match self {
            Command::Status | Command::Migrate => None,
            Command::Show { process, .. }
            | Command::Parked { process }
            | Command::Release { process, .. }
            | Command::DeadLetters { process }
            | Command::RetryDeadLetters { process, .. }
            | Command::PurgeDeadLetters { process, .. }
            | Command::Repartition { process, .. }
            | Command::PurgeCompleted { process, .. } => Some(process),
        }
    }
}

/// Fails unless `process` has run against the database, naming those that
/// have.
async fn known_process(admin: &Admin, process: &str) -> anyhow::Result<()> {
    let names = admin.process_names().await.context("listing processes")?;
    if names.iter().any(|name| name == process) {
        return Ok(());
    }
    let known = if names.is_empty() {
        "none has yet".to_owned()
    } else {
        format!("known: {}", names.join(", "))
    };
    anyhow::bail!(
        "no process `{}` has run against this database; {known}",
        OneLine(process)
    )
}

fn no_such_instance(process: &str, instance: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "instance `{}` of `{process}` does not exist",
        OneLine(instance)
    )
}

async fn show(admin: &Admin, out: Out<'_>, process: &str, instance: &str) -> anyhow::Result<()> {
    let view = admin
        .instance_json(process, instance)
        .await
        .context("reading the instance")?
        .ok_or_else(|| no_such_instance(process, instance))?;
    Ok(write!(out, "{view}")?)
}

async fn parked(admin: &Admin, out: Out<'_>, process: &str) -> anyhow::Result<()> {
    for entry in admin
        .parked(process)
        .await
        .context("reading parked events")?
    {
        let parked = &entry.parked;
        let what = match &parked.item {
            ParkedItem::Event(event) => format!(
                "{} at {}:{} (stream {} v{})",
                OneLine(&event.event_type),
                event.position.transaction,
                event.position.sequence,
                OneLine(&event.stream_id),
                event.stream_version
            ),
            ParkedItem::Timeout { kind, due_at } => {
                format!("timeout {} due {due_at}", OneLine(kind))
            }
        };
        let instance = parked.instance.as_deref().unwrap_or("<unknown instance>");
        let error = parked
            .error
            .as_deref()
            .unwrap_or("held behind an earlier failure");
        let released = if entry.released { "\treleased" } else { "" };
        writeln!(
            out,
            "{}\t{}\t{what}\t{}{released}",
            entry.id,
            OneLine(instance),
            OneLine(error)
        )?;
    }
    Ok(())
}

async fn release(
    admin: &Admin,
    out: Out<'_>,
    process: &str,
    instance: Option<&str>,
    ids: &[i64],
    skip_failed: bool,
) -> anyhow::Result<()> {
    let mode = if skip_failed {
        Release::SkipFailed
    } else {
        Release::Retry
    };
    let (count, what) = match (instance, ids.is_empty()) {
        (Some(instance), true) => {
            admin
                .instance_json(process, instance)
                .await
                .context("reading the instance")?
                .ok_or_else(|| no_such_instance(process, instance))?;
            (
                admin
                    .release(process, instance, mode)
                    .await
                    .context("releasing the instance")?,
                format!("`{}` of `{process}`", OneLine(instance)),
            )
        }
        (None, false) => (
            admin
                .release_parked(process, ids, mode)
                .await
                .context("releasing parked items")?,
            format!("the items {ids:?} of `{process}`"),
        ),
        _ => anyhow::bail!("name either an instance or parked items with --id, not both"),
    };
    if count == 0 {
        writeln!(out, "{what} has nothing parked")?;
    } else {
        writeln!(
            out,
            "{count} parked items of {what} released: the engine applies them again (or drops those that failed, with --skip-failed)"
        )?;
    }
    Ok(())
}

async fn dead_letters(admin: &Admin, out: Out<'_>, process: &str) -> anyhow::Result<()> {
    for dead in admin
        .dead_letters(process)
        .await
        .context("reading dead letters")?
    {
        let command = &dead.command;
        writeln!(
            out,
            "{}\t{}\t{}\tattempts {}\t{}",
            command.id,
            OneLine(&command.instance),
            OneLine(&command.command_type),
            command.attempts,
            OneLine(&dead.error)
        )?;
    }
    Ok(())
}

fn selection(ids: Vec<Uuid>) -> Selection {
    if ids.is_empty() {
        Selection::All
    } else {
        Selection::Ids(ids)
    }
}

async fn status(admin: &Admin, out: Out<'_>) -> anyhow::Result<()> {
    let processes = admin.processes().await.context("listing processes")?;
    if processes.is_empty() {
        writeln!(out, "no process has run against this database yet")?;
    }
    for process in &processes {
        print_process(out, process)?;
    }
    let horizon = admin.horizon().await.context("reading the log horizon")?;
    print_horizon(out, &horizon)?;
    Ok(())
}

/// A position as `transaction:sequence`.
fn show_position(position: Position) -> String {
    format!("{}:{}", position.transaction, position.sequence)
}

fn print_process(out: Out<'_>, process: &ProcessStatus) -> io::Result<()> {
    let stats = process.stats;
    let source = process.source.as_deref().unwrap_or("no source yet");
    let lag = process
        .partitions
        .iter()
        .filter_map(|partition| partition.events_beyond)
        .max()
        .map_or_else(String::new, |lag| {
            format!(", {lag} events beyond the lowest")
        });
    let checkpoint = process
        .checkpoint()
        .map_or_else(|| "none".to_owned(), show_position);
    writeln!(
        out,
        "{} (reads {source}): lowest checkpoint {checkpoint}{lag}; instances {} active, {} completed, {} parked; \
         outbox {} pending, {} dead; {} timeouts pending",
        process.name,
        stats.active,
        stats.completed,
        stats.parked,
        stats.pending_commands,
        stats.dead_letters,
        stats.pending_timeouts
    )?;
    print_delivery(out, &process.delivery, stats.pending_commands)?;
    let live = process.workers.iter().filter(|worker| worker.alive).count();
    writeln!(out, "  workers: {live} live")?;
    for worker in &process.workers {
        let state = if worker.alive { "live" } else { "gone" };
        writeln!(
            out,
            "    {} ({state}, id {}): last heartbeat {:.1} s ago",
            worker.name, worker.id, worker.seconds_since_heartbeat
        )?;
    }
    writeln!(out, "  partitions:")?;
    for partition in &process.partitions {
        let owner = match (&partition.owner_name, &partition.owner, partition.leased) {
            (_, _, false) => "no owner".to_owned(),
            (Some(name), _, true) => name.clone(),
            (None, Some(id), true) => id.clone(),
            (None, None, true) => "?".to_owned(),
        };
        let lease = if partition.leased {
            format!("lease {:.1} s left", partition.lease_seconds_left)
        } else {
            format!("lease ran out {:.1} s ago", -partition.lease_seconds_left)
        };
        let lag = partition
            .events_beyond
            .map_or_else(String::new, |lag| format!(", {lag} events beyond"));
        writeln!(
            out,
            "    {:>3}: {owner}, epoch {}, {lease}, checkpoint {}{lag}",
            partition.partition,
            partition.epoch,
            show_position(partition.checkpoint)
        )?;
    }
    let unowned: Vec<String> = process
        .unowned()
        .map(|partition| partition.partition.to_string())
        .collect();
    if !unowned.is_empty() {
        let why = if live == 0 {
            "no worker is running"
        } else {
            "a worker will claim them within its next heartbeats"
        };
        writeln!(
            out,
            "  PROBLEM: partitions {} have no owner, so nothing processes their instances ({why})",
            unowned.join(", ")
        )?;
    }
    Ok(())
}

fn print_delivery(out: Out<'_>, delivery: &DeliveryStatus, pending: u64) -> io::Result<()> {
    let oldest = delivery.oldest_pending_seconds.map_or_else(
        || "nothing pending".to_owned(),
        |seconds| format!("the oldest pending command was issued {seconds:.1} s ago"),
    );
    writeln!(
        out,
        "  delivery: {} delivered in the last minute ({:.2}/s); {oldest}",
        delivery.delivered_last_minute,
        delivery.rate_per_second()
    )?;
    if !delivery.stalled() {
        return Ok(());
    }
    write!(
        out,
        "  PROBLEM: {pending} commands pending, none delivered in the last minute: the dispatcher makes no progress"
    )?;
    if let Some(head) = &delivery.longest_waiting {
        let when = if head.leased {
            "leased (a delivery is in flight)".to_owned()
        } else if head.available_in_seconds > 0.0 {
            format!("next attempt in {:.1} s", head.available_in_seconds)
        } else {
            format!(
                "claimable for {:.1} s but not claimed (is a dispatcher running?)",
                -head.available_in_seconds
            )
        };
        let error = head.last_error.as_deref().map_or_else(
            || "no attempt failed".to_owned(),
            |error| format!("last error: {}", OneLine(error)),
        );
        write!(
            out,
            ". The head waiting longest is {} {} of instance `{}` (ordering key `{}`), issued {:.0} s ago, failed attempts: {}, {when}; {error}",
            OneLine(&head.command_type),
            head.command_id,
            OneLine(&head.instance),
            OneLine(&head.ordering_key),
            head.waiting_seconds,
            head.attempts
        )?;
    }
    writeln!(out)
}

fn print_horizon(out: Out<'_>, horizon: &LogHorizon) -> io::Result<()> {
    let mut holders = Vec::new();
    if let (Some(gid), Some(database), Some(seconds)) = (
        &horizon.prepared_gid,
        &horizon.prepared_database,
        horizon.prepared_seconds,
    ) {
        holders.push(format!(
            "PROBLEM: prepared transaction `{}` in database {}, prepared {seconds:.0} s ago, holds readers back; \
             COMMIT PREPARED or ROLLBACK PREPARED it",
            OneLine(gid),
            OneLine(database)
        ));
    }
    if let (Some(pid), Some(seconds)) = (horizon.oldest_pid, horizon.oldest_transaction_seconds) {
        if seconds > 1.0 {
            holders.push(format!(
                "the oldest open writing transaction (pid {pid}) has been open {seconds:.0} s"
            ));
        }
    }
    if holders.is_empty() {
        return writeln!(
            out,
            "readers see transactions below {}; nothing holds them back",
            horizon.xmin
        );
    }
    writeln!(
        out,
        "readers see transactions below {}, held back by:",
        horizon.xmin
    )?;
    for holder in holders {
        writeln!(out, "  {holder}")?;
    }
    Ok(())
}
