//! The testing kit: [`Scenario`] (given / when / then with a manual clock)
//! and [`converges`] (every order of some events ends in one outcome).
//!
//! Both run the real routing, handlers and batch logic of the engine on an
//! in-memory store, synchronously, so tests need no runtime and no waiting.
//! [`FaultyStore`] injects lost commit replies and paused commits into a
//! running engine; [`conformance`] is the suite every store must pass.

pub mod conformance;
mod converge;
mod faulty;
mod scenario;

pub use converge::{assert_converges, converges, converges_in_state, Divergence, Outcome};
pub use faulty::FaultyStore;
pub use scenario::{Input, Scenario};
