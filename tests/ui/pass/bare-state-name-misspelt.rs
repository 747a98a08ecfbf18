// States in `in(..)`, `to(..)` and `ignore(..)` may be bare names, without `use Stage::*`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum BatchEvent {
    Created(BatchCreated),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BatchCreated {
    files: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum FileEvent {
    Processed(FileProcessed),
    Failed(FileFailed),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileProcessed {
    batch: String,
    file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileFailed {
    batch: String,
    file: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, State)]
enum Stage {
    #[default]
    New,
    Processing,
    #[state(final)]
    Done,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ProcessFile {
    file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CompleteBatch {
    failed: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Batch {
    stage: Stage,
    pending: Vec<String>,
    failed: usize,
}

#[process_manager(
    name = "batch",
    id = String,
    subscribe(BatchEvent, FileEvent),
    state = stage,
    ignore(
        BatchEvent::Created except(New),
        FileEvent::Processed except(Processing),
        FileEvent::Failed except(Processing),
    )
)]
impl Batch {
    #[on(BatchEvent::Created, start, in(New), to(Stage::Processing), sends(ProcessFile))]
    fn created(&mut self, created: &BatchCreated, cx: &mut Context<Self>) {
        self.stage = Stage::Processing;
        self.pending = created.files.clone();
        for file in &created.files {
            cx.send(ProcessFile { file: file.clone() });
        }
    }

    #[on(
        FileEvent::Processed,
        correlate = batch,
        in(Processing),
        to(Processing, Done),
        sends(CompleteBatch)
    )]
    fn processed(&mut self, processed: &FileProcessed, cx: &mut Context<Self>) {
        self.pending.retain(|file| *file != processed.file);
        self.finish(cx);
    }

    #[on(
        FileEvent::Failed,
        correlate = batch,
        in(Processing),
        to(Processing, Done),
        sends(CompleteBatch)
    )]
    fn failed(&mut self, failed: &FileFailed, cx: &mut Context<Self>) {
        self.pending.retain(|file| *file != failed.file);
        self.failed += 1;
        self.finish(cx);
    }

    /// Shared by the handlers that may end the batch.
    #[sends(CompleteBatch)]
    fn finish(&mut self, cx: &mut Context<Self>) {
        if self.pending.is_empty() {
            self.stage = Stage::Done;
            cx.send(CompleteBatch {
                failed: self.failed,
            });
        }
    }
}

fn main() {
    use pm_core::testing::{Input, Scenario};
    let processed = |file: &str| {
        Input::from(FileEvent::Processed(FileProcessed {
            batch: "b-1".to_owned(),
            file: file.to_owned(),
        }))
        .on_stream(format!("file-{file}"))
    };
    Scenario::<Batch>::new("b-1".to_owned())
        .when(BatchEvent::Created(BatchCreated {
            files: vec!["a.csv".to_owned()],
        }))
        .then_sends([ProcessFile {
            file: "a.csv".to_owned(),
        }
        .into()])
        .when(processed("a.csv"))
        .then_sends([CompleteBatch { failed: 0 }.into()])
        .then_completed();
}
