//! The testing kit: [`Scenario`] (given / when / then with a manual clock)
//! and [`converges`] (every order of some events ends in one outcome).
//!
//! Both run the real routing, handlers and batch logic of the engine on an
//! in-memory store, synchronously, so tests need no runtime and no waiting.

pub mod conformance;
mod converge;
mod scenario;

pub use converge::{assert_converges, converges, converges_in_state, Divergence, Outcome};
pub use scenario::{Input, Scenario};
