//! The file service answers in any order: every order ends in the same
//! outcome and sends the same commands (checked with `converges`, which
//! compares state, status and commands).

mod common;

use batch_import::events::BatchOutcome;
use common::*;
use pm_core::testing::converges;
use pm_core::InstanceStatus;

#[test]
fn answers_in_any_of_the_24_orders_complete_the_batch_once_the_same_way() {
    let outcome = converges(
        || batch_of(&["a.csv", "b.csv", "c.csv"]),
        [
            processed("a.csv", 3),
            failed("b.csv"),
            processed("c.csv", 9),
            // A redelivered answer, in any place among the others.
            processed("a.csv", 3),
        ],
    )
    .unwrap_or_else(|divergence| panic!("{divergence}"));
    assert_eq!(outcome.status, Some(InstanceStatus::Completed));
    assert_eq!(
        outcome.commands,
        [complete(
            BatchOutcome::Failed,
            &[("a.csv", rows(3)), ("b.csv", failure()), ("c.csv", rows(9))],
        )]
    );
}

#[test]
fn two_different_answers_for_one_file_do_not_converge_and_the_report_says_which() {
    // The first answer for a file wins, so the order decides here; the
    // divergence names the events with their payloads.
    let divergence = converges(
        || batch_of(&["a.csv"]),
        [processed("a.csv", 3), failed("a.csv")],
    )
    .unwrap_err();
    assert_eq!(divergence.differences, ["state", "commands"]);
    let shown = divergence.to_string();
    assert!(
        shown.contains(r#"FileEvent.Failed {"batch_id":"batch-0001","file":"a.csv","#),
        "{shown}"
    );
}
