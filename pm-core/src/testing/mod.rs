//! The testing kit: [`Scenario`] (given / when / then with a manual clock),
//! [`converges`] (every order of some events ends in one outcome) and
//! [`Explorer`] (a breadth-first walk of the transition table).
//!
//! Both run the real routing, handlers and batch logic of the engine on an
//! in-memory store, synchronously, so tests need no runtime and no waiting.
//! [`FaultyStore`] injects lost commit replies, paused and refused commits,
//! held acknowledgements and failed claims into a running engine; the
//! suite every store must pass is
//! [`backend::conformance`](crate::backend::conformance).

mod converge;
mod explore;
mod faulty;
mod scenario;

pub use converge::{assert_converges, converges, converges_in_state, Divergence, Outcome};
pub use explore::{Explored, Explorer, Problem, ProblemKind, Problems, Step};
pub use faulty::FaultyStore;
pub use scenario::{Input, Scenario};
