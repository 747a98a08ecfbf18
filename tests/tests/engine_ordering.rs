//! Ordering keys (G3): commands with the same key are delivered one at a
//! time in the order issued, whichever instance sent them; a command that
//! keeps failing holds back only its key; unordered commands wait for
//! nothing. On memory and on Postgres.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, fast_options};
use pm_core::backend::{EventSource, Operations, Store};
use pm_core::prelude::*;
use pm_postgres::PgBackend;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Started {
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub enum ImportEvent {
    Started(Started),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessFile {
    pub import: String,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    pub import: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Import;

#[process_manager(
    name = "import",
    id = String,
    subscribe(ImportEvent),
    order(ProcessFile(by = file), Audit(unordered)),
)]
impl Import {
    #[on(ImportEvent::Started, start, sends(ProcessFile, Audit))]
    fn started(&mut self, started: &Started, cx: &mut Context<Self>) {
        for file in &started.files {
            cx.send(ProcessFile {
                import: cx.id().clone(),
                file: file.clone(),
            });
        }
        cx.send(Audit {
            import: cx.id().clone(),
        });
    }
}

/// Records deliveries in order; fails `(import, file)` as often as told.
#[derive(Debug, Clone, Default)]
struct Files {
    delivered: Arc<Mutex<Vec<String>>>,
    failures: Arc<Mutex<HashMap<String, u32>>>,
}

impl Files {
    fn fail(&self, what: &str, times: u32) {
        self.failures.lock().unwrap().insert(what.to_owned(), times);
    }

    fn delivered(&self) -> Vec<String> {
        self.delivered.lock().unwrap().clone()
    }
}

impl Dispatch<ImportCommand> for Files {
    async fn dispatch(&self, command: ImportCommand, _: CommandMeta) -> Result<(), DispatchError> {
        let what = match command {
            ImportCommand::ProcessFile(file) => format!("{}:{}", file.import, file.file),
            ImportCommand::Audit(audit) => format!("{}:audit", audit.import),
        };
        if let Some(left) = self.failures.lock().unwrap().get_mut(&what) {
            if *left > 0 {
                *left -= 1;
                return Err(DispatchError::Transient(format!("{what} is busy")));
            }
        }
        self.delivered.lock().unwrap().push(what);
        Ok(())
    }
}

async fn start_import<L: EventLog>(log: &L, import: &str, files: &[&str]) {
    let event = ImportEvent::Started(Started {
        files: files.iter().map(|file| (*file).to_owned()).collect(),
    });
    log.append(
        import,
        ExpectedVersion::NoStream,
        vec![NewEvent::encode(&event).unwrap()],
    )
    .await
    .unwrap();
}

fn position(delivered: &[String], what: &str) -> usize {
    delivered
        .iter()
        .position(|item| item == what)
        .unwrap_or_else(|| panic!("{what} was not delivered: {delivered:?}"))
}

async fn commands_of_one_key_go_in_order_and_others_go_ahead<S, L>(store: S, log: L)
where
    S: Store + Operations + Clone,
    L: EventLog + EventSource + Clone,
{
    let files = Files::default();
    // The first import's a.csv is refused a few times.
    files.fail("i-1:a.csv", 3);
    let engine = Engine::new(store.clone(), log.clone())
        .with_options(fast_options())
        .register::<Import, _>(files.clone())
        .start()
        .unwrap();
    start_import(&log, "i-1", &["a.csv", "b.csv"]).await;
    eventually("the first import's commands are recorded", || async {
        store.stats("import").await.unwrap().pending_commands > 0
    })
    .await;
    start_import(&log, "i-2", &["a.csv", "c.csv"]).await;
    eventually("every command is delivered", || async {
        files.delivered().len() == 6
    })
    .await;
    engine.shutdown().await.unwrap();
    let delivered = files.delivered();
    // a.csv: the second import's waits for the first import's, which failed.
    assert!(
        position(&delivered, "i-1:a.csv") < position(&delivered, "i-2:a.csv"),
        "{delivered:?}"
    );
    // Other files and the unordered audits are not held back by a.csv.
    for ahead in ["i-1:b.csv", "i-1:audit", "i-2:c.csv", "i-2:audit"] {
        assert!(
            position(&delivered, ahead) < position(&delivered, "i-1:a.csv"),
            "{ahead} waited for a.csv: {delivered:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g3_commands_of_one_key_go_in_order_and_others_go_ahead() {
    commands_of_one_key_go_in_order_and_others_go_ahead(MemoryStore::new(), MemoryLog::new()).await;
}

#[sqlx::test(migrator = "pm_postgres::MIGRATOR")]
async fn g3_commands_of_one_key_go_in_order_and_others_go_ahead_on_postgres(pool: PgPool) {
    let backend = PgBackend::from_pool(pool);
    commands_of_one_key_go_in_order_and_others_go_ahead(backend.store(), backend.log()).await;
}

#[tokio::test]
async fn the_stored_ordering_key_follows_the_declaration() {
    let store = MemoryStore::new();
    let log = MemoryLog::new();
    let engine = Engine::new(store.clone(), log.clone())
        .with_options(fast_options())
        .register_process::<Import>()
        .start()
        .unwrap();
    start_import(&log, "i-1", &["a.csv"]).await;
    eventually("both commands are recorded", || async {
        store.stats("import").await.unwrap().pending_commands == 2
    })
    .await;
    engine.shutdown().await.unwrap();
    let claim = pm_core::backend::Claim {
        lease: uuid::Uuid::new_v4(),
        lease_for: Duration::from_secs(30),
        now: chrono::Utc::now(),
        limit: 10,
    };
    let mut keys: Vec<String> = store
        .claim_commands("import", claim)
        .await
        .unwrap()
        .into_iter()
        .map(|command| command.ordering_key)
        .collect();
    keys.sort();
    assert_eq!(keys.len(), 2);
    assert!(keys[0].starts_with("command:"), "{keys:?}");
    assert_eq!(keys[1], "key:a.csv");
}
