//! A campaign's DNI panel: the book's numbers now and the stored hours.

use bidline_app::{
    dni::{DniHourView, DniView, PoolNumberView},
    errors::AppError,
    roles::Permission,
};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::{caller, internal, member};
use crate::{
    calls::query,
    dni::{book::Lease, store},
    http::AppState,
    network::{campaigns::Campaign, resource},
};

/// The 7-day peak of visitors at once and a quarter more, so a busy hour next week
/// still finds a free number.
fn suggested_size(peak_visitors: i64) -> i64 {
    peak_visitors + (peak_visitors + 3) / 4
}

/// Where the lease's visitor came from.
fn source(lease: &Lease) -> String {
    let referrer_host = || {
        let referrer = lease.tags.get("referrer")?;
        Some(url::Url::parse(referrer).ok()?.host_str()?.to_owned())
    };
    lease.tags.get("utm_source").cloned().or_else(referrer_host).unwrap_or_else(|| "direct".into())
}

pub async fn campaign(state: &AppState, campaign: String) -> Result<DniView, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let id: Uuid = campaign.parse().map_err(|_| AppError::NotFound)?;
    let campaign: Campaign =
        resource::get(&state.db, member.org, id).await.map_err(|error| match error {
            crate::network::NetworkError::NotFound => AppError::NotFound,
            other => internal(other),
        })?;
    let time_zone = query::time_zone(&state.db, member.org).await.map_err(internal)?;
    let zone: Tz = time_zone.parse().unwrap_or(Tz::UTC);
    let local = |at: DateTime<Utc>| at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();

    let (numbers, visitors_now) = state.dni.book.status(&state.routing.current(), id);
    let numbers = numbers
        .into_iter()
        .map(|number| PoolNumberView {
            number: number.held.number.as_str().to_owned(),
            leased_since: number.lease.as_ref().map(|lease| local(lease.leased_at)),
            source: number.lease.as_ref().map(source),
        })
        .collect();
    let now = Utc::now();
    let week =
        store::hours(&state.db, member.org, id, now - Duration::days(7)).await.map_err(internal)?;
    let day_ago = now - Duration::hours(24);
    let peak_visitors =
        week.iter().map(|h| h.peak_visitors).max().unwrap_or(0).max(visitors_now as i64);
    Ok(DniView {
        public_key: campaign.dni_public_key,
        numbers,
        visitors_now: visitors_now as i64,
        exhausted_last_day: week.iter().filter(|h| h.hour >= day_ago).map(|h| h.exhausted).sum(),
        hours: week
            .iter()
            .filter(|h| h.hour >= day_ago)
            .map(|h| DniHourView {
                hour: local(h.hour),
                peak_leased: h.peak_leased,
                peak_visitors: h.peak_visitors,
                leases: h.leases,
                exhausted: h.exhausted,
            })
            .collect(),
        peak_visitors,
        suggested_size: suggested_size(peak_visitors),
        time_zone,
    })
}

#[cfg(test)]
mod tests {
    use super::suggested_size;

    #[test]
    fn the_pool_is_sized_a_quarter_over_the_peak() {
        assert_eq!(suggested_size(0), 0);
        assert_eq!(suggested_size(1), 2);
        assert_eq!(suggested_size(8), 10);
        assert_eq!(suggested_size(100), 125);
    }
}
