//! The testing kit's explorer walks the batch process without finding a
//! problem and takes every declared move.

use batch_import::events::{BatchEvent, FileEvent, FileFailed, FileProcessed};
use batch_import::{Batch, BatchId, FileStatus};
use pm_core::testing::{Explorer, Input};
use pm_core::ProcessManager;

const BATCH: BatchId = BatchId(1);

fn file_event(file: &str, failed: bool) -> Input {
    let event = if failed {
        FileEvent::Failed(FileFailed {
            batch_id: BATCH,
            file: file.to_owned(),
            reason: "malformed row 3".to_owned(),
        })
    } else {
        FileEvent::Processed(FileProcessed {
            batch_id: BATCH,
            file: file.to_owned(),
            rows: 10,
        })
    };
    Input::from(event).on_stream(format!("{BATCH}/{file}"))
}

#[test]
fn the_batch_process_takes_every_declared_move_without_a_problem() {
    let created = |files: &[&str]| BatchEvent::Created {
        files: files.iter().map(|file| (*file).to_owned()).collect(),
        deadline_ms: 60_000,
    };
    let explored = Explorer::<Batch>::new(BATCH)
        .events([
            Input::from(created(&["a.csv", "b.csv"])),
            Input::from(created(&[])),
        ])
        .events([
            file_event("a.csv", false),
            file_event("a.csv", true),
            file_event("b.csv", false),
            file_event("c.csv", true),
        ])
        .depth(4)
        .invariant_in("Done", "a finished batch has no pending file", |batch| {
            !batch
                .files
                .values()
                .any(|status| *status == FileStatus::Pending)
        })
        .assert();
    assert_eq!(
        explored.transitions,
        Batch::descriptor().transitions().len()
    );
}
