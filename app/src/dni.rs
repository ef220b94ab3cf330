//! A campaign's DNI as its page shows it: the tag to paste, each pool number with who
//! holds it, the visits hour by hour, and how many numbers the pool needs.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

/// One pool number now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolNumberView {
    pub number: String,
    /// When its visitor leased it (in the organization's zone); `None` when free.
    pub leased_since: Option<String>,
    /// Where its visitor came from: `utm_source`, else the referrer's host, else `direct`.
    pub source: Option<String>,
}

/// One hour of the campaign's visits (in the organization's zone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DniHourView {
    pub hour: String,
    pub peak_leased: i64,
    pub peak_visitors: i64,
    pub leases: i64,
    pub exhausted: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DniView {
    pub public_key: String,
    pub numbers: Vec<PoolNumberView>,
    /// Visits holding a lease now, those shown the default number included.
    pub visitors_now: i64,
    /// The last 24 hours with visits, oldest first.
    pub hours: Vec<DniHourView>,
    /// Most visitors at once over the last 7 days.
    pub peak_visitors: i64,
    /// Visitors shown the default number in the last 24 hours (no number was free).
    pub exhausted_last_day: i64,
    /// Numbers the pool should have: the 7-day peak and a quarter more.
    pub suggested_size: i64,
    pub time_zone: String,
}

#[server(prefix = "/fn", endpoint = "campaign_dni")]
pub async fn campaign_dni(campaign_id: String) -> Result<DniView, AppError> {
    crate::backend::backend()?.campaign_dni(campaign_id).await
}
