//! The in-memory outbox of one process: pending commands in ordering
//! groups, each group's head claimable by availability (G3), as the
//! Postgres outbox keeps them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::{Claim, DeadLetter, FailedDelivery, NewCommand, OutboxCommand};

/// Pending commands of one process.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    /// Pending commands by the order they were recorded.
    commands: BTreeMap<u64, OutboxCommand>,
    next_seq: u64,
    /// The position in `commands` of each pending command.
    seqs: HashMap<Uuid, u64>,
    /// Every command id ever recorded, so a replayed batch adds nothing.
    recorded: HashSet<Uuid>,
    /// The ordering groups with commands pending, by ordering key.
    groups: HashMap<String, Group>,
    /// Each group's head: (when it can be claimed, its seq, its key).
    heads: BTreeSet<(DateTime<Utc>, u64, String)>,
}

/// The pending commands of one ordering key; only the first is claimable.
#[derive(Debug)]
struct Group {
    queue: VecDeque<u64>,
    available_at: DateTime<Utc>,
    lease: Option<Uuid>,
}

impl Outbox {
    /// Records a new command behind the others of its ordering key, unless
    /// it was recorded before.
    pub(super) fn record(&mut self, command: NewCommand) {
        if !self.recorded.insert(command.id) {
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.seqs.insert(command.id, seq);
        let key = command.ordering_key.clone();
        let available_at = command.created_at;
        self.commands.insert(
            seq,
            OutboxCommand {
                id: command.id,
                instance: command.instance,
                ordering_key: command.ordering_key,
                command_type: command.command_type,
                payload: command.payload,
                attempts: 0,
                created_at: command.created_at,
            },
        );
        match self.groups.get_mut(&key) {
            Some(group) => group.queue.push_back(seq),
            None => {
                self.heads.insert((available_at, seq, key.clone()));
                self.groups.insert(
                    key,
                    Group {
                        queue: VecDeque::from([seq]),
                        available_at,
                        lease: None,
                    },
                );
            }
        }
    }

    /// Claims the heads available at `claim.now`, earliest first.
    pub(super) fn claim(&mut self, claim: &Claim) -> Vec<OutboxCommand> {
        let available: Vec<(DateTime<Utc>, u64, String)> = self
            .heads
            .iter()
            .take_while(|(at, _, _)| *at <= claim.now)
            .take(claim.limit)
            .cloned()
            .collect();
        let lease_until = later(claim.now, claim.lease_for);
        let mut claimed = Vec::with_capacity(available.len());
        for (at, seq, key) in available {
            self.heads.remove(&(at, seq, key.clone()));
            if let Some(group) = self.groups.get_mut(&key) {
                group.lease = Some(claim.lease);
                group.available_at = lease_until;
            }
            self.heads.insert((lease_until, seq, key));
            if let Some(command) = self.commands.get(&seq) {
                claimed.push(command.clone());
            }
        }
        claimed
    }

    /// Removes delivered commands that `lease` still holds; returns how many.
    pub(super) fn complete(&mut self, lease: Uuid, ids: &[Uuid]) -> usize {
        ids.iter()
            .filter(|id| self.take_head(lease, **id).is_some())
            .count()
    }

    /// Reschedules or dead-letters failed deliveries that `lease` still
    /// holds; returns the new dead letters.
    pub(super) fn fail(&mut self, lease: Uuid, failures: &[FailedDelivery]) -> Vec<DeadLetter> {
        let mut dead = Vec::new();
        for failure in failures {
            let Some((seq, key)) = self.head_held(lease, failure.id) else {
                continue;
            };
            if let Some(command) = self.commands.get_mut(&seq) {
                command.attempts += 1;
            }
            match failure.retry_at {
                Some(retry_at) => self.make_available(&key, seq, retry_at),
                None => {
                    if let Some(command) = self.take_head(lease, failure.id) {
                        dead.push(DeadLetter {
                            command,
                            error: failure.error.clone(),
                        });
                    }
                }
            }
        }
        dead
    }

    /// When the next head becomes claimable.
    pub(super) fn next_available(&self) -> Option<DateTime<Utc>> {
        self.heads.first().map(|(at, _, _)| *at)
    }

    /// How many commands are pending.
    pub(super) fn len(&self) -> usize {
        self.commands.len()
    }

    /// The seq and key of command `id` if it heads its group under `lease`.
    fn head_held(&self, lease: Uuid, id: Uuid) -> Option<(u64, String)> {
        let seq = *self.seqs.get(&id)?;
        let key = &self.commands.get(&seq)?.ordering_key;
        let group = self.groups.get(key)?;
        (group.lease == Some(lease) && group.queue.front() == Some(&seq))
            .then(|| (seq, key.clone()))
    }

    /// Removes head `id` held by `lease`; the next command of its group
    /// becomes the head, available at once.
    fn take_head(&mut self, lease: Uuid, id: Uuid) -> Option<OutboxCommand> {
        let (seq, key) = self.head_held(lease, id)?;
        let group = self.groups.get_mut(&key)?;
        self.heads.remove(&(group.available_at, seq, key.clone()));
        group.queue.pop_front();
        let next = group.queue.front().copied();
        self.seqs.remove(&id);
        let command = self.commands.remove(&seq);
        match next.and_then(|next| Some((next, self.commands.get(&next)?.created_at))) {
            Some((next, created_at)) => self.make_available(&key, next, created_at),
            None => {
                self.groups.remove(&key);
            }
        }
        command
    }

    /// Makes head `seq` of group `key` claimable at `at`, without a lease.
    fn make_available(&mut self, key: &str, seq: u64, at: DateTime<Utc>) {
        if let Some(group) = self.groups.get_mut(key) {
            self.heads
                .remove(&(group.available_at, seq, key.to_owned()));
            group.available_at = at;
            group.lease = None;
            self.heads.insert((at, seq, key.to_owned()));
        }
    }
}

fn later(now: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX)
}
