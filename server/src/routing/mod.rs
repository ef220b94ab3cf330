//! Call routing: the in-memory snapshot of routing configuration that the hot path reads
//! instead of the database, the screening, eligibility and auction of each call, and the
//! router the SIP edge asks.

pub mod auction;
pub mod dial;
pub mod fan_out;
pub mod loopback;
pub mod rank;
pub mod router;
pub mod rules;
pub mod shield;
pub mod snapshot;
