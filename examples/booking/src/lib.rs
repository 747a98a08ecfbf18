//! The booking process of the design (§9), runnable as a simulation.
//!
//! A booking is placed; the process reserves tickets, then confirms the
//! booking at the tickets' price or denies it; a confirmed booking waits for
//! payment until a deadline; paid, it is settled and the tickets sold; unpaid,
//! the payment is cancelled, the booking expires and the tickets are
//! released.
//!
//! - [`process`]: the process manager, [`BookingProcess`].
//! - [`events`], [`commands`], [`id`]: what it hears, says and is keyed by.
//! - [`services`]: simulated Booking, Tickets and Payment services, one
//!   [`Dispatch`](pm_core::Dispatch) gateway appending to any
//!   [`EventLog`](pm_core::EventLog).
//! - [`plan`]: each booking's fate, drawn from a seed.
//! - [`simulation`]: the driver; [`invariants`] and [`history`]: the checks
//!   of the log afterwards; [`report`]: the summary.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod commands;
pub mod events;
pub mod history;
pub mod id;
pub mod invariants;
pub mod plan;
pub mod process;
mod progress;
pub mod report;
pub mod services;
pub mod simulation;
pub mod telemetry;

pub use id::BookingId;
pub use process::{BookingProcess, BookingProcessCommand, BookingTimeout, Stage};
pub use report::Report;
pub use simulation::{run, Config};
