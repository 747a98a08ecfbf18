// An ordering key whose type implements `Display`.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum ImportEvent {
    Started,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FileRef(u32);

impl std::fmt::Display for FileRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "file-{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ProcessFile {
    file: FileRef,
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
    order(ProcessFile(by = file)),
)]
impl Import {
    #[on(ImportEvent::Started, start, sends(ProcessFile, Audit))]
    fn started(&mut self, cx: &mut Context<Self>) {
        cx.send(ProcessFile { file: FileRef(7) });
        cx.send(Audit { note: "started".to_owned() });
    }
}

fn main() {
    use pm_core::Command;
    let sent = pm_core::testing::Scenario::<Import>::new("import-1".to_owned())
        .when(ImportEvent::Started)
        .commands()
        .to_vec();
    assert_eq!(sent[0].delivery_order(), pm_core::DeliveryOrder::ByKey("file-7".to_owned()));
}
