//! The batch process, event by event, on the testing kit's manual clock.

mod common;

use std::time::Duration;

use batch_import::events::BatchOutcome;
use batch_import::{Batch, BatchTimeout, FileStatus, Stage};
use common::*;
use pm_core::testing::Scenario;

#[test]
fn a_created_batch_asks_for_each_file_and_sets_its_deadline() {
    let scenario = Scenario::<Batch>::new(BATCH)
        .when(created(&["a.csv", "b.csv"]))
        .then_sends([process("a.csv"), process("b.csv")])
        .then_state(|batch| {
            assert_eq!(batch.stage, Stage::Processing);
            assert_eq!(batch.files["a.csv"], FileStatus::Pending);
        });
    let due = scenario.now() + chrono::Duration::milliseconds(DEADLINE_MS as i64);
    scenario.then_timeout_at(BatchTimeout::Deadline, due);
}

#[test]
fn the_last_file_completes_the_batch_and_drops_the_deadline() {
    batch_of(&["a.csv", "b.csv"])
        .when(processed("a.csv", 10))
        .then_sends_nothing()
        .then_active()
        .when(processed("b.csv", 20))
        .then_sends([complete(
            BatchOutcome::Succeeded,
            &[("a.csv", rows(10)), ("b.csv", rows(20))],
        )])
        .then_completed()
        .then_no_timeout(BatchTimeout::Deadline);
}

#[test]
fn a_failed_file_fails_the_batch_once_every_file_finished() {
    batch_of(&["a.csv", "b.csv"])
        .when(failed("a.csv"))
        .then_sends_nothing()
        .when(processed("b.csv", 5))
        .then_sends([complete(
            BatchOutcome::Failed,
            &[("a.csv", failure()), ("b.csv", rows(5))],
        )])
        .then_completed();
}

#[test]
fn the_deadline_cancels_the_pending_files_and_times_the_batch_out() {
    batch_of(&["a.csv", "b.csv", "c.csv"])
        .when(processed("a.csv", 1))
        .advance(Duration::from_millis(DEADLINE_MS))
        .then_sends([
            cancel("b.csv"),
            cancel("c.csv"),
            complete(
                BatchOutcome::TimedOut,
                &[
                    ("a.csv", rows(1)),
                    ("b.csv", FileStatus::TimedOut),
                    ("c.csv", FileStatus::TimedOut),
                ],
            ),
        ])
        .then_completed()
        // A late answer finds the batch completed: nothing happens.
        .when(processed("b.csv", 2))
        .then_sends_nothing()
        .then_state(|batch| assert_eq!(batch.files["b.csv"], FileStatus::TimedOut));
}

#[test]
fn the_deadline_does_not_fire_before_it_is_due() {
    batch_of(&["a.csv"])
        .advance(Duration::from_millis(DEADLINE_MS - 1))
        .then_sends_nothing()
        .then_active();
}

#[test]
fn a_repeated_answer_or_one_for_another_file_changes_nothing() {
    batch_of(&["a.csv", "b.csv"])
        .when(processed("a.csv", 10))
        .when(failed("a.csv"))
        .then_sends_nothing()
        .when(processed("zzz.csv", 1))
        .then_sends_nothing()
        .then_state(|batch| {
            assert_eq!(batch.files["a.csv"], rows(10));
            assert!(!batch.files.contains_key("zzz.csv"));
        });
}

#[test]
fn an_empty_batch_succeeds_at_once() {
    Scenario::<Batch>::new(BATCH)
        .when(created(&[]))
        .then_sends([complete(BatchOutcome::Succeeded, &[])])
        .then_completed()
        .then_no_timeout(BatchTimeout::Deadline);
}

#[test]
fn a_file_event_for_a_batch_that_was_never_created_starts_nothing() {
    Scenario::<Batch>::new(BATCH)
        .when(processed("a.csv", 1))
        .then_sends_nothing()
        .then_not_started();
}
