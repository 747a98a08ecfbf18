//! `pm`: operator commands for process managers on Postgres.
//!
//! ```text
//! pm status                         processes, checkpoints, lag, counts, log horizon
//! pm parked <process>               events parked or held, with their errors
//! pm release <process> <instance>   apply them again (--skip-failed drops the failed ones)
//! pm dead-letters <process>         commands that gave up
//! pm retry-dead-letters <process>   put them back in the outbox (--id to pick)
//! pm purge-dead-letters <process>   delete them (--id to pick)
//! pm migrate                        apply the pm schema migrations
//! ```

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use pm_core::{ParkedItem, Release};
use pm_postgres::{Admin, PgBackend, Selection};
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
    /// Processes, checkpoints, lag and counts, and what holds readers back.
    Status,
    /// Events parked or held for a process.
    Parked { process: String },
    /// Let a parked instance go on: its parked events are applied again, in
    /// order, by the running engine.
    Release {
        process: String,
        instance: String,
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
    /// Apply the pm schema migrations.
    Migrate,
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
            for parked in admin
                .parked(&process)
                .await
                .context("reading parked events")?
            {
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
                println!("{instance}\t{what}\t{error}");
            }
        }
        Command::Release {
            process,
            instance,
            skip_failed,
        } => {
            let mode = if skip_failed {
                Release::SkipFailed
            } else {
                Release::Retry
            };
            let count = admin
                .release(&process, &instance, mode)
                .await
                .context("releasing the instance")?;
            if count == 0 {
                println!("`{instance}` of `{process}` has nothing parked");
            } else {
                println!(
                    "{count} parked items of `{instance}` will be applied again by the engine"
                );
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
        Command::Migrate => println!("the pm schema is up to date"),
    }
    Ok(())
}

async fn status(admin: &Admin) -> anyhow::Result<()> {
    let processes = admin.processes().await.context("listing processes")?;
    if processes.is_empty() {
        println!("no process has run against this database yet");
    }
    for process in processes {
        let stats = process.stats;
        let checkpoint = process.checkpoint.map_or_else(
            || "none".to_owned(),
            |position| format!("{}:{}", position.transaction, position.sequence),
        );
        println!(
            "{}: checkpoint {checkpoint}, {} events beyond it; instances {} active, {} completed, {} parked; \
             outbox {} pending, {} dead; {} timeouts pending",
            process.name,
            process.events_beyond_checkpoint,
            stats.active,
            stats.completed,
            stats.parked,
            stats.pending_commands,
            stats.dead_letters,
            stats.pending_timeouts
        );
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
