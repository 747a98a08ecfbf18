// `order(..)` names only commands the handlers send.
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
    #[on(ImportEvent::Started, start, sends(ProcessFile, Audit))]
    fn started(&mut self, cx: &mut Context<Self>) {
        cx.send(ProcessFile { file: "a.csv".to_owned() });
        cx.send(Audit { note: "started".to_owned() });
    }
}

fn main() {
    use pm_core::Command;
    let sent = pm_core::testing::Scenario::<Import>::new("import-1".to_owned())
        .when(ImportEvent::Started)
        .commands()
        .to_vec();
    assert_eq!(sent[0].delivery_order(), pm_core::DeliveryOrder::ByKey("a.csv".to_owned()));
}
