//! The batch process of "Creating a Simple Process Manager" (a batch of
//! files: one command per file, each file's status, completion, and a
//! deadline), runnable as a simulation in memory or on Postgres.
//!
//! - [`process`]: the process manager, [`Batch`].
//! - [`events`], [`commands`], [`id`]: what it hears, says and is keyed by.
//! - [`services`]: the simulated file and batch services, one
//!   [`Dispatch`](pm_core::Dispatch) gateway recording events in a
//!   [`journal`]: a [`MemoryLog`](pm_core::MemoryLog), or on Postgres the
//!   application's own table `batch_import.events`, which the process reads
//!   through [`pm_postgres::EventTable`] (no event store needed).
//! - [`plan`]: each file's fate, from a seed; [`simulation`]: the driver and
//!   the checks; [`report`]: the summary.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod commands;
pub mod events;
pub mod id;
pub mod journal;
pub mod plan;
pub mod process;
pub mod report;
pub mod services;
pub mod simulation;

pub use id::BatchId;
pub use process::{Batch, BatchCommand, BatchTimeout, FileStatus, Stage};
pub use report::Report;
pub use simulation::{run, run_on_pool, run_on_postgres, Config};
