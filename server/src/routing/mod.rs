//! Call routing. For now: the in-memory snapshot of routing configuration that the hot
//! path reads instead of the database.

pub mod snapshot;
