// `order(..)` names a command that no handler sends.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum ImportEvent {
    Started,
}


#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ProcessFile {
    file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Audit {
    note: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Import;

#[process_manager(
    name = "import",
    id = String,
    subscribe(ImportEvent),
    order(ProcessFile(by = file), Audit(unordered)),
)]
impl Import {
    #[on(ImportEvent::Started, start, sends(ProcessFile))]
    fn started(&mut self, cx: &mut Context<Self>) {
        cx.send(ProcessFile { file: "a.csv".to_owned() });
    }
}

fn main() {}
