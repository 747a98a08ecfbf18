//! Errors of pm-core.

use crate::log::Position;

/// A boxed error from a storage backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An event or command that could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The type name is in a known family but names no variant of it.
    #[error("unknown type `{type_name}`; `{family}` has no such variant")]
    UnknownType {
        /// The type name that was read.
        type_name: String,
        /// The family it claims to belong to.
        family: &'static str,
    },
    /// The payload does not match the variant's type.
    #[error("payload of `{type_name}` does not decode")]
    Payload {
        /// The type name that was read.
        type_name: String,
        /// What serde reported.
        #[source]
        source: serde_json::Error,
    },
}

/// Errors of the engine, stores and logs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An append found the stream at another version than expected.
    #[error("stream `{stream_id}` is at version {actual}, not the expected {expected}")]
    Conflict {
        /// The stream appended to.
        stream_id: String,
        /// The version the caller expected.
        expected: String,
        /// The version the stream is at.
        actual: i64,
    },
    /// A batch commit found an instance changed since it was loaded.
    #[error("instance `{instance}` of process `{process}` changed since it was loaded (expected version {expected})")]
    StaleInstance {
        /// The process.
        process: String,
        /// The instance.
        instance: String,
        /// The version the batch expected.
        expected: i64,
    },
    /// A commit's fence found a partition's checkpoint elsewhere than where
    /// the batch started reading: an earlier commit (perhaps one whose reply
    /// was lost) moved it. Nothing of the batch was written.
    #[error("partition {partition} of process `{process}` is at checkpoint {stored:?}, not {expected:?} where the batch started; nothing was written")]
    CheckpointMoved {
        /// The process.
        process: String,
        /// The partition.
        partition: u32,
        /// The checkpoint the batch started from.
        expected: Position,
        /// The checkpoint stored.
        stored: Position,
    },
    /// A commit's fence found that the worker no longer owns a partition at
    /// the epoch it claimed it (its lease ran out and another worker claimed
    /// it, or it was released). Nothing of the batch was written.
    #[error("worker `{worker}` no longer owns partition {partition} of process `{process}` at epoch {epoch}; nothing was written")]
    PartitionLost {
        /// The process.
        process: String,
        /// The partition.
        partition: u32,
        /// The worker that committed.
        worker: String,
        /// The epoch it held.
        epoch: i64,
    },
    /// A process's partitions were created reading one source and an engine
    /// reads another: their checkpoints would mean nothing.
    #[error("process `{process}` has read source `{stored}`, not `{requested}`; checkpoints of one source do not apply to another")]
    SourceChanged {
        /// The process.
        process: String,
        /// The source its partitions read.
        stored: String,
        /// The source the engine reads.
        requested: String,
    },
    /// A value could not be encoded as JSON.
    #[error("could not encode {what}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// What serde reported.
        #[source]
        source: serde_json::Error,
    },
    /// A storage backend failed.
    #[error("{context}")]
    Backend {
        /// What was being done.
        context: String,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// The store does not offer this operation.
    #[error("this store does not support {what}")]
    Unsupported {
        /// The operation.
        what: &'static str,
    },
    /// Two registered processes share a name.
    #[error("two processes are named `{name}`; process names must be unique")]
    DuplicateProcess {
        /// The shared name.
        name: &'static str,
    },
    /// A task of the engine stopped unexpectedly.
    #[error("task `{task}` of process `{process}` failed")]
    Task {
        /// The process.
        process: String,
        /// The task.
        task: &'static str,
        /// Why.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// Wraps a backend error with what was being done.
    pub fn backend(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// The result type of pm-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Displays an error with its causes, `what failed: why: why`, for logs
/// (`%error` alone would drop the causes).
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Error, ErrorChain};

    #[test]
    fn the_chain_shows_every_cause() {
        let error = Error::backend("commit of a batch failed", "connection reset by peer");
        assert_eq!(
            ErrorChain(&error).to_string(),
            "commit of a batch failed: connection reset by peer"
        );
    }
}
