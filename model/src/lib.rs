//! Types the server and the dashboard both speak. The server's call path reads them (a
//! buyer's ping report, a member's role), so they live here rather than in the UI crate:
//! the hot path never links the dashboard.

pub mod ping;
pub mod reports;
pub mod roles;
