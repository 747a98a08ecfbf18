//! `pm`: operator commands for process managers on Postgres.
//!
//! ```text
//! pm status                         processes, workers, partitions, lag, counts, log horizon
//! pm parked <process>               events parked or held, with their errors
//! pm release <process> <instance>   apply them again (--skip-failed drops the failed ones)
//! pm dead-letters <process>         commands that gave up
//! pm retry-dead-letters <process>   put them back in the outbox (--id to pick)
//! pm purge-dead-letters <process>   delete them (--id to pick)
//! pm repartition <process> --partitions N   spread its instances over N partitions
//! pm purge-completed <process> --older-than 30d   remove old tombstones and delivered commands
//! pm migrate                        apply the pm schema migrations
//! ```

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use pm_core::{ParkedItem, Position, Release};
use pm_postgres::{Admin, PgBackend, ProcessStatus, Selection};
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

/// A position as `transaction:sequence`.
fn show_position(position: Position) -> String {
    format!("{}:{}", position.transaction, position.sequence)
}

fn print_process(process: &ProcessStatus) {
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
    println!(
        "{} (reads {source}): lowest checkpoint {checkpoint}{lag}; instances {} active, {} completed, {} parked; \
         outbox {} pending, {} dead; {} timeouts pending",
        process.name,
        stats.active,
        stats.completed,
        stats.parked,
        stats.pending_commands,
        stats.dead_letters,
        stats.pending_timeouts
    );
    let live = process.workers.iter().filter(|worker| worker.alive).count();
    println!("  workers: {live} live");
    for worker in &process.workers {
        let state = if worker.alive { "live" } else { "gone" };
        println!(
            "    {} ({state}, id {}): last heartbeat {:.1} s ago",
            worker.name, worker.id, worker.seconds_since_heartbeat
        );
    }
    println!("  partitions:");
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
        println!(
            "    {:>3}: {owner}, epoch {}, {lease}, checkpoint {}{lag}",
            partition.partition,
            partition.epoch,
            show_position(partition.checkpoint)
        );
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
        println!(
            "  PROBLEM: partitions {} have no owner, so nothing processes their instances ({why})",
            unowned.join(", ")
        );
    }
}

fn selection(ids: Vec<Uuid>) -> Selection {
    if ids.is_empty() {
        Selection::All
    } else {
        Selection::Ids(ids)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let backend = PgBackend::connect(&args.database_url)
        .await
        .context("opening the database")?;
    let admin = Admin::new(backend);
    match args.command {
        Command::Status => status(&admin).await?,
        Command::Parked { process } => {
            for entry in admin
                .parked(&process)
                .await
                .context("reading parked events")?
            {
                let parked = &entry.parked;
                let what = match &parked.item {
                    ParkedItem::Event(event) => format!(
                        "{} at {}:{} (stream {} v{})",
                        event.event_type,
                        event.position.transaction,
                        event.position.sequence,
                        event.stream_id,
                        event.stream_version
                    ),
                    ParkedItem::Timeout { kind, due_at } => format!("timeout {kind} due {due_at}"),
                };
                let instance = parked.instance.as_deref().unwrap_or("<unknown instance>");
                let error = parked
                    .error
                    .as_deref()
                    .unwrap_or("held behind an earlier failure");
                let released = if entry.released { "\treleased" } else { "" };
                println!("{}\t{instance}\t{what}\t{error}{released}", entry.id);
            }
        }
        Command::Release {
            process,
            instance,
            ids,
            skip_failed,
        } => {
            let mode = if skip_failed {
                Release::SkipFailed
            } else {
                Release::Retry
            };
            let (count, what) = match (instance, ids.is_empty()) {
                (Some(instance), true) => (
                    admin
                        .release(&process, &instance, mode)
                        .await
                        .context("releasing the instance")?,
                    format!("`{instance}` of `{process}`"),
                ),
                (None, false) => (
                    admin
                        .release_parked(&process, &ids, mode)
                        .await
                        .context("releasing parked items")?,
                    format!("the items {ids:?} of `{process}`"),
                ),
                _ => anyhow::bail!("name either an instance or parked items with --id, not both"),
            };
            if count == 0 {
                println!("{what} has nothing parked");
            } else {
                println!("{count} parked items of {what} released: the engine applies them again (or drops those that failed, with --skip-failed)");
            }
        }
        Command::DeadLetters { process } => {
            for dead in admin
                .dead_letters(&process)
                .await
                .context("reading dead letters")?
            {
                let command = &dead.command;
                println!(
                    "{}\t{}\t{}\tattempts {}\t{}",
                    command.id,
                    command.instance,
                    command.command_type,
                    command.attempts,
                    dead.error
                );
            }
        }
        Command::RetryDeadLetters { process, ids } => {
            let count = admin
                .retry_dead_letters(&process, &selection(ids))
                .await
                .context("retrying dead letters")?;
            println!("{count} dead letters back in the outbox");
        }
        Command::PurgeDeadLetters { process, ids } => {
            let count = admin
                .purge_dead_letters(&process, &selection(ids))
                .await
                .context("purging dead letters")?;
            println!("{count} dead letters deleted");
        }
        Command::Repartition {
            process,
            partitions,
        } => {
            admin
                .repartition(&process, partitions)
                .await
                .context("repartitioning")?;
            println!("`{process}` now has {partitions} partitions; its workers take them up at their next heartbeat");
        }
        Command::PurgeCompleted {
            process,
            older_than,
        } => {
            let purged = admin
                .purge_completed(&process, older_than)
                .await
                .context("removing old completed instances")?;
            println!(
                "removed {} completed instances and {} delivered commands of `{process}`",
                purged.instances, purged.delivered
            );
        }
        Command::Migrate => println!("the pm schema is up to date"),
    }
    Ok(())
}

async fn status(admin: &Admin) -> anyhow::Result<()> {
    let processes = admin.processes().await.context("listing processes")?;
    if processes.is_empty() {
        println!("no process has run against this database yet");
    }
    for process in &processes {
        print_process(process);
    }
    let horizon = admin.horizon().await.context("reading the log horizon")?;
    match (horizon.oldest_pid, horizon.oldest_transaction_seconds) {
        (Some(pid), Some(seconds)) if seconds > 1.0 => println!(
            "readers see transactions below {}; the oldest open writing transaction (pid {pid}) has been open {seconds:.0} s",
            horizon.xmin
        ),
        _ => println!("readers see transactions below {}; nothing holds them back", horizon.xmin),
    }
    Ok(())
}
