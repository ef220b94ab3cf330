//! Call routing: the in-memory snapshot of routing configuration that the hot path reads
//! instead of the database, the fan-out of buyer pings and the ranking of candidates.

pub mod fan_out;
pub mod rank;
pub mod snapshot;
