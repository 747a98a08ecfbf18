//! The Postgres backend of pm-core (work in progress: see the README).
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub use pm_core;
