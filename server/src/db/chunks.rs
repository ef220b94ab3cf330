//! Writing many rows to SQLite in multi-row statements, each statement built while the
//! one before runs: SQLite executes on its worker thread, so building (binding thousands
//! of values) on the runtime's thread costs the writer no time.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// Executes `build(chunk)` for each chunk of `rows`, in order, on `conn`.
pub async fn execute<'a, T>(
    conn: &mut SqliteConnection,
    rows: &'a [T],
    size: usize,
    build: impl Fn(&'a [T]) -> QueryBuilder<'a, Sqlite>,
) -> Result<(), sqlx::Error> {
    let mut chunks = rows.chunks(size);
    let mut next = chunks.next().map(&build);
    while let Some(mut current) = next {
        let upcoming = chunks.next();
        // The statement is sent on its first poll; the next is built while it runs.
        let (done, built) =
            futures::join!(current.build().execute(&mut *conn), async { upcoming.map(&build) });
        done?;
        next = built;
    }
    Ok(())
}
