//! The reachability analysis of a transition table, at compile time: which
//! states the initial state leads to, which have no way out, which cannot
//! reach a final state, and what the descriptor's advisories say. Only the
//! compiler knows the state enum, so the macro's checks and the descriptor
//! call these `const fn`s; sets of states are bit masks over the enum's
//! variants, in declaration order.

/// The most states a process with states may have (one bit each).
pub const MAX_STATES: usize = 64;

/// One handler's row of the table: the states it applies in (none listed:
/// every state but the final ones, since a final state completes the
/// instance), the states it may lead to (none: it stays), and whether a
/// timeout runs it.
pub type Rule<'a> = (&'a [&'a str], &'a [&'a str], bool);

/// A state enum and the handlers that move between its states.
#[derive(Debug, Clone, Copy)]
pub struct Machine<'a> {
    /// Every state, in declaration order.
    pub states: &'a [&'a str],
    /// The states marked `#[state(final)]`.
    pub finals: &'a [&'a str],
    /// The states marked `#[state(legacy)]`.
    pub legacy: &'a [&'a str],
    /// The `#[default]` state, if marked.
    pub initial: Option<&'a str>,
    /// One rule per handler.
    pub rules: &'a [Rule<'a>],
}

/// What the analysis found, as masks over the states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// The final states.
    pub finals: u64,
    /// States the initial state leads to (itself included); every state
    /// when the initial state is not known.
    pub reachable: u64,
    /// States an instance can be in: the reachable ones, the legacy ones,
    /// and those they lead to.
    pub live: u64,
    /// Live states some handler leads into (an instance can rest there).
    pub entered: u64,
    /// Live states, not final, that no handler or timeout leads out of.
    pub dead_ends: u64,
    /// Live states, not final, that cannot reach a final state and are the
    /// first (in declaration order) of a set of two or more states that
    /// only lead to each other.
    pub traps: u64,
    /// Entered, live states that are not final, where no timeout applies:
    /// only another party's event moves the instance on.
    pub waits_on_events: u64,
    /// Whether every entered, live state that is not final reaches a final
    /// state through timeouts alone.
    pub finishes_by_timeouts: bool,
    /// Each state's successors (handlers and timeouts).
    successors: [u64; MAX_STATES],
}

const fn bit(index: usize) -> u64 {
    1u64 << index
}

/// The index of `name` among `states`.
pub const fn index_of(states: &[&str], name: &str) -> Option<usize> {
    let mut index = 0;
    while index < states.len() {
        if super::str_eq(states[index], name) {
            return Some(index);
        }
        index += 1;
    }
    None
}

/// The mask of `names` among `states` (names that are not states are
/// reported where they are written, and left out here).
pub const fn mask_of(states: &[&str], names: &[&str]) -> u64 {
    let mut mask = 0;
    let mut index = 0;
    while index < names.len() {
        if let Some(state) = index_of(states, names[index]) {
            if state < MAX_STATES {
                mask |= bit(state);
            }
        }
        index += 1;
    }
    mask
}

/// Every state of `states`, as a mask.
const fn all_of(states: &[&str]) -> u64 {
    if states.len() >= MAX_STATES {
        u64::MAX
    } else {
        bit(states.len()) - 1
    }
}

/// Each state's successors through the rules for which `keep` holds
/// (all, or the timeouts only).
const fn successors_of(machine: &Machine<'_>, timeouts_only: bool) -> [u64; MAX_STATES] {
    let finals = mask_of(machine.states, machine.finals);
    let everywhere = all_of(machine.states) & !finals;
    let mut successors = [0u64; MAX_STATES];
    let mut rule = 0;
    while rule < machine.rules.len() {
        let (from, to, timeout) = machine.rules[rule];
        rule += 1;
        if timeouts_only && !timeout {
            continue;
        }
        let from = if from.is_empty() {
            everywhere
        } else {
            mask_of(machine.states, from)
        };
        let to = mask_of(machine.states, to);
        let mut state = 0;
        while state < MAX_STATES {
            if from & bit(state) != 0 {
                successors[state] |= if to == 0 { bit(state) } else { to };
            }
            state += 1;
        }
    }
    successors
}

/// The states `start` leads to through `successors`, `start` included.
const fn closure(successors: &[u64; MAX_STATES], start: u64) -> u64 {
    let mut reached = start;
    loop {
        let mut next = reached;
        let mut state = 0;
        while state < MAX_STATES {
            if reached & bit(state) != 0 {
                next |= successors[state];
            }
            state += 1;
        }
        if next == reached {
            return reached;
        }
        reached = next;
    }
}

/// The states where a timeout rule applies.
const fn timed_states(machine: &Machine<'_>) -> u64 {
    let finals = mask_of(machine.states, machine.finals);
    let everywhere = all_of(machine.states) & !finals;
    let mut timed = 0;
    let mut rule = 0;
    while rule < machine.rules.len() {
        let (from, _, timeout) = machine.rules[rule];
        if timeout {
            timed |= if from.is_empty() {
                everywhere
            } else {
                mask_of(machine.states, from)
            };
        }
        rule += 1;
    }
    timed
}

/// Whether every state a rule names is one of `machine`'s states.
const fn names_only_states(machine: &Machine<'_>) -> bool {
    let mut rule = 0;
    while rule < machine.rules.len() {
        let (from, to, _) = machine.rules[rule];
        if mask_of(machine.states, from).count_ones() as usize != from.len()
            || mask_of(machine.states, to).count_ones() as usize != to.len()
        {
            return false;
        }
        rule += 1;
    }
    true
}

/// Analyses `machine` (an enum of more than [`MAX_STATES`] states is
/// refused by its own check, and only its first states are analysed). A
/// rule naming a state the enum does not have is reported where it is
/// written; the analysis then finds nothing, rather than problems that
/// follow from that mistake.
pub const fn analyze(machine: &Machine<'_>) -> Reach {
    let states = machine.states;
    let all = all_of(states);
    if !names_only_states(machine) {
        return Reach {
            finals: mask_of(states, machine.finals),
            reachable: all,
            live: all,
            entered: all,
            dead_ends: 0,
            traps: 0,
            waits_on_events: 0,
            finishes_by_timeouts: false,
            successors: [0; MAX_STATES],
        };
    }
    let finals = mask_of(states, machine.finals);
    let legacy = mask_of(states, machine.legacy);
    let successors = successors_of(machine, false);
    let reachable = match machine.initial {
        Some(initial) => closure(&successors, mask_of(states, &[initial])),
        None => all,
    };
    let live = closure(&successors, reachable | legacy);
    let mut entered = 0;
    let mut dead_ends = 0;
    let mut traps = 0;
    let mut state = 0;
    while state < MAX_STATES {
        if live & bit(state) != 0 {
            entered |= successors[state];
        }
        state += 1;
    }
    let by_timeouts = successors_of(machine, true);
    let timed = timed_states(machine);
    let mut finishes_by_timeouts = true;
    let mut state = 0;
    while state < MAX_STATES {
        let here = bit(state);
        state += 1;
        if live & here == 0 || finals & here != 0 {
            continue;
        }
        if entered & here != 0 && closure(&by_timeouts, here) & finals == 0 {
            finishes_by_timeouts = false;
        }
        let reached = closure(&successors, here);
        if reached & !here == 0 {
            dead_ends |= here;
        } else if reached & finals == 0 && is_first_of_closed_set(&successors, here, reached) {
            traps |= here;
        }
    }
    Reach {
        finals,
        reachable,
        live,
        entered,
        dead_ends,
        traps,
        waits_on_events: entered & live & !finals & !timed,
        finishes_by_timeouts,
        successors,
    }
}

/// Whether every state of `reached` (what `here` leads to) leads back to
/// `here`, and `here` comes first among them: `reached` is a set of states
/// that only lead to each other, reported once.
const fn is_first_of_closed_set(successors: &[u64; MAX_STATES], here: u64, reached: u64) -> bool {
    if reached & (here - 1) != 0 {
        return false;
    }
    let mut state = 0;
    while state < MAX_STATES {
        if reached & bit(state) != 0 && closure(successors, bit(state)) & here == 0 {
            return false;
        }
        state += 1;
    }
    true
}

impl Reach {
    /// The states `state` (an index) leads to, itself included.
    pub const fn reached_from(&self, state: usize) -> u64 {
        closure(&self.successors, bit(state))
    }
}

/// Whether the state at `index` is in `mask`.
pub const fn has(mask: u64, index: usize) -> bool {
    index < MAX_STATES && mask & bit(index) != 0
}

/// How many states `mask` holds.
pub const fn count(mask: u64) -> usize {
    mask.count_ones() as usize
}

/// The names of the states in `mask`, in declaration order, as an array of
/// exactly [`count`]`(mask)` names.
pub const fn names<const N: usize>(states: &[&'static str], mask: u64) -> [&'static str; N] {
    let mut names = [""; N];
    let mut filled = 0;
    let mut index = 0;
    while index < states.len() && filled < N {
        if has(mask, index) {
            names[filled] = states[index];
            filled += 1;
        }
        index += 1;
    }
    names
}

/// Joins `parts`, then the states of `mask` as `` `Enum::A`, `Enum::B` ``
/// (at compile time, like [`concat`](super::concat)).
pub const fn concat_states(
    parts: &[&str],
    enum_name: &str,
    states: &[&str],
    mask: u64,
) -> ([u8; super::MESSAGE_CAPACITY], usize) {
    let (mut buffer, mut length) = super::concat(parts);
    let mut index = 0;
    let mut first = true;
    while index < states.len() {
        if has(mask, index) {
            let separator = if first { "`" } else { ", `" };
            (buffer, length) = super::append(buffer, length, separator.as_bytes());
            (buffer, length) = super::append(buffer, length, enum_name.as_bytes());
            (buffer, length) = super::append(buffer, length, "::".as_bytes());
            (buffer, length) = super::append(buffer, length, states[index].as_bytes());
            (buffer, length) = super::append(buffer, length, "`".as_bytes());
            first = false;
        }
        index += 1;
    }
    (buffer, length)
}

/// A build-error message, as a [`concat`](super::concat) buffer.
pub type Message = ([u8; super::MESSAGE_CAPACITY], usize);

/// The error for state `index`, which the initial state does not lead to.
pub const fn unreachable_message(
    enum_name: &str,
    states: &[&str],
    initial: &str,
    index: usize,
) -> Message {
    let state = states[index];
    super::concat(&[
        "state `", enum_name, "::", state,
        "` cannot be reached: no handler or timeout leads to it from the initial state `",
        enum_name, "::", initial, "`; add `", state,
        "` to the `to(..)` of the handler that should lead there, remove the state, or mark it `#[state(legacy)]` if it is kept only so that stored instances of an older version still load",
    ])
}

/// The error for state `index`, which is not final and has no way out.
pub const fn dead_end_message(enum_name: &str, states: &[&str], index: usize) -> Message {
    let state = states[index];
    super::concat(&[
        "state `", enum_name, "::", state,
        "` is a dead end: it is not final, and no handler or timeout leads out of it; add a handler with `in(",
        state, ")` whose `to(..)` leads on, or mark `", enum_name, "::", state,
        "` `#[state(final)]` if the process ends there",
    ])
}

/// The error for the states state `index` leads to, none of them final,
/// which lead only to each other.
pub const fn trap_message(
    enum_name: &str,
    states: &[&str],
    reach: &Reach,
    index: usize,
) -> Message {
    let trapped = reach.reached_from(index);
    let (mut buffer, mut length) = concat_states(
        &["no final state can be reached from "],
        enum_name,
        states,
        trapped,
    );
    (buffer, length) = super::append(
        buffer,
        length,
        b": their handlers and timeouts lead only to each other; add a `to(..)` from one of them to a final state",
    );
    if reach.finals == 0 {
        (buffer, length) = super::append(buffer, length, b" (`");
        (buffer, length) = super::append(buffer, length, enum_name.as_bytes());
        (buffer, length) = super::append(buffer, length, b"` marks none `#[state(final)]`)");
    } else {
        let (finals, finals_length) = concat_states(&[" ("], enum_name, states, reach.finals);
        (buffer, length) = super::append(buffer, length, finals.split_at(finals_length).0);
        (buffer, length) = super::append(buffer, length, b")");
    }
    super::append(buffer, length, b", or mark one of them `#[state(final)]`")
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: &[&str] = &["New", "Open", "Ping", "Pong", "Done", "Old", "Stuck"];

    fn machine(rules: &'static [Rule<'static>]) -> Reach {
        analyze(&Machine {
            states: STATES,
            finals: &["Done"],
            legacy: &["Old"],
            initial: Some("New"),
            rules,
        })
    }

    fn mask(names: &[&str]) -> u64 {
        mask_of(STATES, names)
    }

    #[test]
    fn reachability_follows_the_rules_from_the_initial_state() {
        let reach = machine(&[
            (&["New"], &["Open"], false),
            (&["Open"], &["Done", "Ping"], false),
            (&["Ping"], &["Pong"], false),
            (&["Pong"], &["Ping"], true),
            (&["Old"], &["Stuck"], false),
        ]);
        assert_eq!(
            reach.reachable,
            mask(&["New", "Open", "Ping", "Pong", "Done"])
        );
        assert_eq!(reach.live, reach.reachable | mask(&["Old", "Stuck"]));
        assert_eq!(reach.dead_ends, mask(&["Stuck"]));
        assert_eq!(reach.traps, mask(&["Ping"]));
        assert_eq!(reach.reached_from(2), mask(&["Ping", "Pong"]));
        assert_eq!(reach.waits_on_events, mask(&["Open", "Ping", "Stuck"]));
        assert!(!reach.finishes_by_timeouts);
    }

    #[test]
    fn a_rule_without_in_applies_in_every_state_but_the_final_ones() {
        let reach = machine(&[(&["New"], &["Open"], false), (&[], &["Done"], true)]);
        assert_eq!(reach.dead_ends, 0);
        assert_eq!(reach.traps, 0);
        assert_eq!(reach.waits_on_events, 0);
        assert!(reach.finishes_by_timeouts);
        // Unreachable and not legacy: neither checked nor counted.
        assert!(!has(reach.reachable, 6));
    }

    #[test]
    fn a_rule_naming_a_state_the_enum_lacks_silences_the_analysis() {
        let reach = machine(&[(&["New"], &["Opn"], false)]);
        assert_eq!(reach.dead_ends, 0);
        assert_eq!(reach.reachable, mask(STATES));
    }

    #[test]
    fn a_state_that_only_loops_is_a_dead_end() {
        let reach = machine(&[(&["New"], &["Open"], false), (&["Open"], &[], false)]);
        // A legacy state must be able to finish too.
        assert_eq!(reach.dead_ends, mask(&["Open", "Old"]));
    }

    #[test]
    fn messages_name_the_states_and_the_fix() {
        let text =
            |(bytes, length): Message| super::super::message(bytes.split_at(length).0).to_owned();
        let reach = machine(&[
            (&["New"], &["Ping"], false),
            (&["Ping"], &["Pong"], false),
            (&["Pong"], &["Ping"], false),
        ]);
        assert_eq!(
            text(trap_message("Stage", STATES, &reach, 2)),
            "no final state can be reached from `Stage::Ping`, `Stage::Pong`: their handlers and timeouts lead only to each other; add a `to(..)` from one of them to a final state (`Stage::Done`), or mark one of them `#[state(final)]`"
        );
        assert!(text(dead_end_message("Stage", STATES, 6))
            .starts_with("state `Stage::Stuck` is a dead end"));
        assert!(
            text(unreachable_message("Stage", STATES, "New", 1)).contains(
                "leads to it from the initial state `Stage::New`; add `Open` to the `to(..)`"
            )
        );
    }

    #[test]
    fn names_lists_a_mask_in_declaration_order() {
        let found: [&str; 2] = names(STATES, mask(&["Pong", "New"]));
        assert_eq!(found, ["New", "Pong"]);
        let (bytes, length) = concat_states(&["in "], "Stage", STATES, mask(&["Ping", "Pong"]));
        assert_eq!(
            super::super::message(bytes.split_at(length).0),
            "in `Stage::Ping`, `Stage::Pong`"
        );
    }
}
