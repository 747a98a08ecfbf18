//! Errors of pm-postgres's own operations (connecting, migrating). Store
//! and log operations report `pm_core::Error`.

/// Why connecting or migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be reached.
    #[error("could not connect to {url}")]
    Connect {
        /// The URL, without password.
        url: String,
        /// What sqlx reported.
        #[source]
        source: sqlx::Error,
    },
    /// The migrations failed.
    #[error("could not apply the pm schema migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// Maps a sqlx error to a backend error with what was being done.
pub(crate) fn database(context: &'static str) -> impl FnOnce(sqlx::Error) -> pm_core::Error {
    move |source| pm_core::Error::backend(context, source)
}
