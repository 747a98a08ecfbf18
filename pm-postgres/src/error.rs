//! Errors of pm-postgres's own operations (connecting, migrating, setting
//! up a table source). Store and log operations report `pm_core::Error`.

/// Why connecting, migrating or setting up a table source failed.
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
    /// A backend connected without migrating found a migration not applied.
    #[error("the pm schema of this database lacks migration {version} ({description}); apply the migrations first (`pm migrate`, `pm_postgres::migrate`, or `PgBackend::connect`, which applies them)")]
    NotMigrated {
        /// The first migration not applied.
        version: i64,
        /// What it does.
        description: String,
    },
    /// A statement of the backend itself failed.
    #[error("{context}")]
    Database {
        /// What was being done.
        context: &'static str,
        /// What sqlx reported.
        #[source]
        source: sqlx::Error,
    },
    /// A table or column name given to a table source cannot be used.
    #[error("the {role} name `{name}` cannot be used: {reason}")]
    InvalidIdentifier {
        /// What the name is for (`table`, `position column`, ..).
        role: &'static str,
        /// The name as given.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// Two mappings for one stored type name.
    #[error("the stored type `{stored}` is mapped twice, to `{first}` and to `{second}`")]
    DuplicateTypeMapping {
        /// The stored type name.
        stored: String,
        /// The event type of the first mapping.
        first: String,
        /// The event type of the second.
        second: String,
    },
    /// A mapping names a variant its event enum does not have.
    #[error("`{family}` has no variant `{variant}` to map the stored type `{stored}` to; its variants are {known}")]
    UnknownVariant {
        /// The stored type name.
        stored: String,
        /// The event enum's family.
        family: &'static str,
        /// The variant asked for.
        variant: String,
        /// The variants it has.
        known: String,
    },
    /// The table cannot be read as the source describes it (missing table
    /// or column, or a column of the wrong type).
    #[error("the events table {table} cannot be read as an event source; check its name and columns (it needs `transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id()`)")]
    TableUnusable {
        /// The table, as quoted in SQL.
        table: String,
        /// What Postgres reported.
        #[source]
        source: sqlx::Error,
    },
}

/// Maps a sqlx error to a backend error with what was being done.
pub(crate) fn database(context: &'static str) -> impl FnOnce(sqlx::Error) -> pm_core::Error {
    move |source| pm_core::Error::backend(context, source)
}

/// `value`, or, with `context`, the error sqlx reports when a NULL is read
/// as not null: for rows whose columns are set only for some kinds of row.
pub(crate) fn not_null<T>(
    value: Option<T>,
    column: &str,
    context: &'static str,
) -> pm_core::Result<T> {
    value
        .ok_or_else(|| sqlx::Error::ColumnDecode {
            index: format!("{column:?}"),
            source: Box::new(sqlx::error::UnexpectedNullError),
        })
        .map_err(database(context))
}
