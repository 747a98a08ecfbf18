//! Order payment example
