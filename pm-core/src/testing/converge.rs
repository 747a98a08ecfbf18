//! [`converges`]: run every order of some events and check that each ends in
//! the same outcome, the check converging processes need.

use std::fmt::{self, Debug};

use super::scenario::{outcome_of, Input, Scenario};
use crate::process::ProcessManager;
use crate::store::InstanceStatus;

/// Where one order of events left the instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<P: ProcessManager> {
    /// The events, in the order they were applied.
    pub order: Vec<Input>,
    /// The instance's status, if it exists.
    pub status: Option<InstanceStatus>,
    /// The instance's state, if it started.
    pub state: Option<P>,
    /// Every command the events sent, in the order they were sent (commands
    /// sent by the setup's `given` events are not counted).
    pub commands: Vec<P::Command>,
}

impl<P: ProcessManager + PartialEq> Outcome<P> {
    /// What differs between two outcomes: `status`, `state`, `commands`.
    /// Commands compare as a multiset: the same commands in another order
    /// are the same outcome, since the events came in another order.
    pub fn differences(&self, other: &Self) -> Vec<&'static str> {
        let mut differences = Vec::new();
        if self.status != other.status {
            differences.push("status");
        }
        if self.state != other.state {
            differences.push("state");
        }
        if !same_multiset(&self.commands, &other.commands) {
            differences.push("commands");
        }
        differences
    }
}

/// Two orders of the same events that ended differently.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence<P: ProcessManager> {
    /// The outcome of the first order tried.
    pub first: Outcome<P>,
    /// An outcome that differs from it.
    pub other: Outcome<P>,
    /// What differs: `status`, `state` and/or `commands`.
    pub differences: Vec<&'static str>,
    /// How many orders were tried.
    pub orders: usize,
}

impl<P: ProcessManager + Debug> fmt::Display for Divergence<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "process `{}` does not converge: two of {} orders end with a different {}",
            P::NAME,
            self.orders,
            self.differences.join(" and ")
        )?;
        for (label, outcome) in [("first", &self.first), ("other", &self.other)] {
            writeln!(f, "  {label} order:")?;
            for (step, input) in outcome.order.iter().enumerate() {
                writeln!(f, "    {}. {input}", step + 1)?;
            }
            writeln!(f, "    status:   {:?}", outcome.status)?;
            writeln!(f, "    state:    {:?}", outcome.state)?;
            writeln!(f, "    commands: {:?}", outcome.commands)?;
        }
        Ok(())
    }
}

/// Applies `events` in every order, each time to a fresh scenario from
/// `setup`, and returns the common outcome, or the first two that differ.
/// Outcomes compare the instance's status, its state, and the commands the
/// events sent (as a multiset, see [`Outcome::differences`]).
///
/// n events make n! runs; keep n small (6 events are 720 runs).
// The error is a test failure's report: its size costs nothing.
#[allow(clippy::result_large_err)]
pub fn converges<P>(
    setup: impl Fn() -> Scenario<P>,
    events: impl IntoIterator<Item = Input>,
) -> Result<Outcome<P>, Divergence<P>>
where
    P: ProcessManager + PartialEq,
{
    every_order(setup, events, Compare::Everything)
}

/// Like [`converges`], but compares only the status and state each order
/// ends in: for processes whose commands rightly depend on the order (a
/// payment that came first confirms the order, a timeout that came first
/// cancels it) but whose end does not.
#[allow(clippy::result_large_err)]
pub fn converges_in_state<P>(
    setup: impl Fn() -> Scenario<P>,
    events: impl IntoIterator<Item = Input>,
) -> Result<Outcome<P>, Divergence<P>>
where
    P: ProcessManager + PartialEq,
{
    every_order(setup, events, Compare::StatusAndState)
}

/// What two outcomes must share.
#[derive(Clone, Copy, PartialEq)]
enum Compare {
    Everything,
    StatusAndState,
}

#[allow(clippy::result_large_err)]
fn every_order<P>(
    setup: impl Fn() -> Scenario<P>,
    events: impl IntoIterator<Item = Input>,
    compare: Compare,
) -> Result<Outcome<P>, Divergence<P>>
where
    P: ProcessManager + PartialEq,
{
    let events: Vec<Input> = events.into_iter().collect();
    let orders = permutations(events.len());
    let mut first: Option<Outcome<P>> = None;
    for order in &orders {
        let mut scenario = setup();
        let mut commands = Vec::new();
        for &index in order {
            scenario = scenario.when(events[index].clone());
            commands.extend_from_slice(scenario.commands());
        }
        let (status, state) = outcome_of(&scenario);
        let outcome = Outcome {
            order: order.iter().map(|&index| events[index].clone()).collect(),
            status,
            state,
            commands,
        };
        let Some(expected) = &first else {
            first = Some(outcome);
            continue;
        };
        let mut differences = expected.differences(&outcome);
        if compare == Compare::StatusAndState {
            differences.retain(|difference| *difference != "commands");
        }
        if !differences.is_empty() {
            return Err(Divergence {
                first: expected.clone(),
                other: outcome,
                differences,
                orders: orders.len(),
            });
        }
    }
    Ok(first.unwrap_or(Outcome {
        order: Vec::new(),
        status: None,
        state: None,
        commands: Vec::new(),
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

/// Whether `left` and `right` hold the same items, each as often, in any
/// order (commands are `PartialEq` only, so no sorting or hashing).
fn same_multiset<T: PartialEq>(left: &[T], right: &[T]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let mut matched = vec![false; right.len()];
    left.iter().all(|item| {
        let found = right
            .iter()
            .enumerate()
            .position(|(index, candidate)| !matched[index] && candidate == item);
        match found {
            Some(index) => {
                matched[index] = true;
                true
            }
            None => false,
        }
    })
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
    use super::{permutations, same_multiset};

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

    #[test]
    fn multisets_ignore_order_but_count_repeats() {
        assert!(same_multiset(&[1, 2, 2], &[2, 1, 2]));
        assert!(!same_multiset(&[1, 2, 2], &[1, 1, 2]));
        assert!(!same_multiset(&[1, 2], &[1, 2, 2]));
        assert!(same_multiset::<u8>(&[], &[]));
    }
}
