//! Events and commands of one batch, for the scenario and convergence tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use batch_import::commands::{CancelFile, CompleteBatch, ProcessFile};
use batch_import::events::{BatchEvent, BatchOutcome, FileEvent, FileFailed, FileProcessed};
use batch_import::{Batch, BatchCommand, BatchId, FileStatus};
use pm_core::testing::{Input, Scenario};

pub const BATCH: BatchId = BatchId(1);
pub const DEADLINE_MS: u64 = 60_000;

pub fn created(files: &[&str]) -> BatchEvent {
    BatchEvent::Created {
        files: files.iter().map(|file| (*file).to_owned()).collect(),
        deadline_ms: DEADLINE_MS,
    }
}

/// A fresh batch of `files`, created.
pub fn batch_of(files: &[&str]) -> Scenario<Batch> {
    Scenario::new(BATCH).given(created(files))
}

/// The file service processed `file`, on the file's own stream.
pub fn processed(file: &str, rows: u32) -> Input {
    Input::from(FileEvent::Processed(FileProcessed {
        batch_id: BATCH,
        file: file.to_owned(),
        rows,
    }))
    .on_stream(format!("{BATCH}/{file}"))
}

/// The file service failed `file`.
pub fn failed(file: &str) -> Input {
    Input::from(FileEvent::Failed(FileFailed {
        batch_id: BATCH,
        file: file.to_owned(),
        reason: "malformed row 3".to_owned(),
    }))
    .on_stream(format!("{BATCH}/{file}"))
}

pub fn process(file: &str) -> BatchCommand {
    ProcessFile {
        batch_id: BATCH,
        file: file.to_owned(),
    }
    .into()
}

pub fn cancel(file: &str) -> BatchCommand {
    CancelFile {
        batch_id: BATCH,
        file: file.to_owned(),
    }
    .into()
}

pub fn complete(outcome: BatchOutcome, files: &[(&str, FileStatus)]) -> BatchCommand {
    CompleteBatch {
        batch_id: BATCH,
        outcome,
        files: files
            .iter()
            .map(|(file, status)| ((*file).to_owned(), status.clone()))
            .collect::<BTreeMap<_, _>>(),
    }
    .into()
}

pub fn rows(rows: u32) -> FileStatus {
    FileStatus::Processed { rows }
}

pub fn failure() -> FileStatus {
    FileStatus::Failed {
        reason: "malformed row 3".to_owned(),
    }
}
