//! The `tally` process: every event adds its number to its instance and
//! sends one command, so state and commands can be checked against the log
//! (each event applied exactly once: G1, each command recorded once: G2).

use pm_core::backend::EventSource;
use pm_core::prelude::*;
use pm_core::Position;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counted {
    pub n: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub enum TallyEvent {
    Counted(Counted),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub tally: String,
    pub n: u64,
}

/// How many events an instance applied, and the sum of their numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub count: u64,
    pub sum: u64,
}

#[process_manager(name = "tally", id = String, subscribe(TallyEvent))]
impl Tally {
    #[on(TallyEvent::Counted, start, sends(Record))]
    fn counted(&mut self, counted: &Counted, cx: &mut Context<Self>) {
        self.count += 1;
        self.sum += counted.n;
        cx.send(Record {
            tally: cx.id().clone(),
            n: counted.n,
        });
    }
}

/// A gateway that accepts every command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Accept;

impl Dispatch<TallyCommand> for Accept {
    async fn dispatch(&self, _: TallyCommand, _: CommandMeta) -> Result<(), DispatchError> {
        Ok(())
    }
}

/// Appends event number `n` to tally `stream`.
pub async fn count<L: EventLog>(log: &L, stream: &str, n: u64) {
    let event = NewEvent::encode(&TallyEvent::Counted(Counted { n })).unwrap();
    log.append(stream, ExpectedVersion::Any, vec![event])
        .await
        .unwrap();
}

/// Every tally whose state in `store` does not match the events of `log`
/// (count and sum), described.
pub async fn mismatches_in_memory(store: &MemoryStore, log: &MemoryLog) -> Vec<String> {
    use std::collections::BTreeMap;
    let events = log.read(Position::START, &[], usize::MAX).await.unwrap();
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for event in &events.events {
        let TallyEvent::Counted(counted) =
            pm_core::Event::decode(&event.event_type, &event.payload).unwrap();
        let entry = expected.entry(event.stream_id.clone()).or_default();
        entry.0 += 1;
        entry.1 += counted.n;
    }
    let mut found: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for record in store.instances("tally") {
        let state: Tally = serde_json::from_value(record.state).unwrap();
        found.insert(record.id, (state.count, state.sum));
    }
    expected
        .iter()
        .filter(|(id, counted)| found.get(*id) != Some(counted))
        .map(|(id, (count, sum))| {
            format!(
                "{id}: the log has {count} events summing to {sum}; the state has {:?}",
                found.get(id)
            )
        })
        .collect()
}

/// Waits until every partition of the tally process has read the whole
/// in-memory log.
pub async fn wait_until_consumed_in_memory(store: &MemoryStore, log: &MemoryLog) {
    let end = i64::try_from(log.len()).unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let partitions = store.partitions("tally");
        if !partitions.is_empty()
            && partitions
                .iter()
                .all(|partition| partition.checkpoint.sequence >= end)
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the tally partitions did not reach the end of the log: {partitions:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A gateway that accepts every command and records, per tally, the
/// numbers of the commands delivered, in delivery order.
#[derive(Debug, Clone, Default)]
pub struct RecordingAccept {
    delivered: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, Vec<u64>>>>,
}

impl RecordingAccept {
    /// The numbers delivered per tally.
    pub fn delivered(&self) -> std::collections::BTreeMap<String, Vec<u64>> {
        self.delivered.lock().unwrap().clone()
    }

    /// How many deliveries succeeded.
    pub fn count(&self) -> usize {
        self.delivered.lock().unwrap().values().map(Vec::len).sum()
    }
}

impl Dispatch<TallyCommand> for RecordingAccept {
    async fn dispatch(&self, command: TallyCommand, _: CommandMeta) -> Result<(), DispatchError> {
        let TallyCommand::Record(record) = command;
        self.delivered
            .lock()
            .unwrap()
            .entry(record.tally)
            .or_default()
            .push(record.n);
        Ok(())
    }
}
