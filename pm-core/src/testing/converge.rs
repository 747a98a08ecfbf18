//! [`converges`]: run every order of some events and check that each ends in
//! the same outcome, the check converging processes need.

use std::fmt::{self, Debug};

use super::scenario::{outcome_of, Input, Scenario};
use crate::process::ProcessManager;
use crate::store::InstanceStatus;

/// Where one order of events left the instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<P> {
    /// The event types, in the order they were applied.
    pub order: Vec<String>,
    /// The instance's status, if it exists.
    pub status: Option<InstanceStatus>,
    /// The instance's state, if it started.
    pub state: Option<P>,
}

/// Two orders of the same events that ended differently.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence<P> {
    /// The outcome of the first order tried.
    pub first: Outcome<P>,
    /// An outcome that differs from it.
    pub other: Outcome<P>,
    /// How many orders were tried.
    pub orders: usize,
}

impl<P: Debug> fmt::Display for Divergence<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the process does not converge:")?;
        for outcome in [&self.first, &self.other] {
            writeln!(
                f,
                "  {} -> {:?} {:?}",
                outcome.order.join(", "),
                outcome.status,
                outcome.state
            )?;
        }
        Ok(())
    }
}

/// Applies `events` in every order, each time to a fresh scenario from
/// `setup`, and returns the common outcome, or the first two that differ.
/// Outcomes compare the instance's status and state.
///
/// n events make n! runs; keep n small (6 events are 720 runs).
pub fn converges<P>(
    setup: impl Fn() -> Scenario<P>,
    events: impl IntoIterator<Item = Input>,
) -> Result<Outcome<P>, Divergence<P>>
where
    P: ProcessManager + PartialEq,
{
    let events: Vec<Input> = events.into_iter().collect();
    let orders = permutations(events.len());
    let mut first: Option<Outcome<P>> = None;
    for order in &orders {
        let mut scenario = setup();
        for &index in order {
            scenario = scenario.when(events[index].clone());
        }
        let (status, state) = outcome_of(&scenario);
        let outcome = Outcome {
            order: order
                .iter()
                .map(|&index| events[index].event_type().to_owned())
                .collect(),
            status,
            state,
        };
        match &first {
            None => first = Some(outcome),
            Some(expected)
                if expected.status == outcome.status && expected.state == outcome.state => {}
            Some(expected) => {
                return Err(Divergence {
                    first: expected.clone(),
                    other: outcome,
                    orders: orders.len(),
                })
            }
        }
    }
    Ok(first.unwrap_or(Outcome {
        order: Vec::new(),
        status: None,
        state: None,
    }))
}

/// Like [`converges`], but panics with both outcomes when orders diverge.
#[track_caller]
pub fn assert_converges<P>(
    setup: impl Fn() -> Scenario<P>,
    events: impl IntoIterator<Item = Input>,
) -> Outcome<P>
where
    P: ProcessManager + PartialEq,
{
    match converges(setup, events) {
        Ok(outcome) => outcome,
        Err(divergence) => panic!("{divergence}"),
    }
}

/// Every order of `0..n`, in lexicographic order.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    let mut all = Vec::new();
    let mut current: Vec<usize> = (0..n).collect();
    loop {
        all.push(current.clone());
        // Next lexicographic permutation.
        let Some(pivot) = (1..n).rev().find(|&i| current[i - 1] < current[i]) else {
            return all;
        };
        let pivot = pivot - 1;
        let Some(successor) = (pivot + 1..n).rev().find(|&j| current[j] > current[pivot]) else {
            return all;
        };
        current.swap(pivot, successor);
        current[pivot + 1..].reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::permutations;

    #[test]
    fn permutations_of_three_are_the_six_orders() {
        let all = permutations(3);
        assert_eq!(
            all,
            vec![
                vec![0, 1, 2],
                vec![0, 2, 1],
                vec![1, 0, 2],
                vec![1, 2, 0],
                vec![2, 0, 1],
                vec![2, 1, 0]
            ]
        );
    }

    #[test]
    fn permutations_of_none_is_one_empty_order() {
        assert_eq!(permutations(0), vec![Vec::<usize>::new()]);
    }
}
