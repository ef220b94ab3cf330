//! Times as Bidline shows them: RFC 3339, UTC, millisecond precision (`…T09:30:00.125Z`).

use chrono::{DateTime, SecondsFormat, Utc};

pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
