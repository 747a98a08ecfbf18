//! [`BatchId`]: the id of a batch, printed as `batch-0007`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The id of a batch and of the process instance that runs it: the batch's
/// stream id, and the field file events correlate by. An instance id needs
/// `FromStr + Display + Clone + Debug`; it serializes as its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BatchId(pub u32);

const PREFIX: &str = "batch-";

impl fmt::Display for BatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{:04}", self.0)
    }
}

/// Why a text is not a batch id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a batch id like `batch-0007`")]
pub struct ParseBatchIdError(String);

impl FromStr for BatchId {
    type Err = ParseBatchIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.strip_prefix(PREFIX)
            .and_then(|number| number.parse().ok())
            .map(BatchId)
            .ok_or_else(|| ParseBatchIdError(text.to_owned()))
    }
}

impl TryFrom<String> for BatchId {
    type Error = ParseBatchIdError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<BatchId> for String {
    fn from(id: BatchId) -> Self {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::BatchId;

    #[test]
    fn ids_read_back_what_they_print() {
        assert_eq!(BatchId(7).to_string(), "batch-0007");
        assert_eq!("batch-0007".parse::<BatchId>(), Ok(BatchId(7)));
        assert!("batch-x".parse::<BatchId>().is_err());
        assert!("7".parse::<BatchId>().is_err());
    }
}
