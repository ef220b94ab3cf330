//! Reports: calls summed by up to two dimensions over a range of time in a zone, read from
//! the rollups the call-record writer keeps (`calls::rollups`) or, where they cannot
//! answer, from the calls themselves.

pub mod call_log;
pub mod engine;
pub mod keys;
pub mod metrics;
pub mod request;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use self::{keys::Names, metrics::Metrics, request::Request};
use crate::{accounts::OrgId, calls::rollups::Sums, db::Db};

/// One row: its keys and its metrics.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ReportRow")]
pub struct Row {
    pub keys: Map<String, Value>,
    #[serde(flatten)]
    pub metrics: Metrics,
}

#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Every call the report covers, not only the rows shown.
    pub totals: Metrics,
    /// Every change to a call this node recorded before this time is in the report (now,
    /// less how long the oldest change still waiting for the call-record writer has
    /// waited).
    #[serde(serialize_with = "crate::time::serialize")]
    #[schemars(with = "String")]
    pub data_as_of: DateTime<Utc>,
}

impl Report {
    /// The rows as CSV (the totals left out): the key fields of `groups`, then every metric.
    pub fn csv(&self, groups: &[request::Group]) -> String {
        let fields = keys::fields(groups);
        let mut out = crate::csv::row(
            fields
                .iter()
                .map(String::as_str)
                .chain(bidline_model::reports::METRICS.iter().map(|m| m.name)),
        );
        for row in &self.rows {
            let keys = fields.iter().map(|f| match row.keys.get(f) {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            });
            let values = row.metrics.values().map(|v| v.to_string());
            out.push_str(&crate::csv::row(keys.chain(values)));
        }
        out
    }
}

/// Runs `request` for `org`; `data_as_of` is what the call-record writer has written up to.
pub async fn run(
    db: &Db,
    org: OrgId,
    request: &Request,
    data_as_of: DateTime<Utc>,
) -> Result<Report, sqlx::Error> {
    let answer = engine::answer(db, org, request).await?;
    let names = Names::load(db, org, &request.groups).await?;
    let mut totals = Sums::default();
    let mut rows: Vec<(Vec<String>, Row)> = answer
        .rows
        .into_iter()
        .map(|(values, sums)| {
            totals.add(&sums, 1);
            let row =
                Row { keys: names.keys(&request.groups, &values), metrics: Metrics::from(&sums) };
            (values, row)
        })
        .collect();
    rows.sort_by(|a, b| order(request, a, b));
    rows.truncate(request.limit);
    Ok(Report {
        rows: rows.into_iter().map(|(_, row)| row).collect(),
        totals: Metrics::from(&totals),
        data_as_of,
    })
}

/// By `sort` if given (then by keys); else by time, then most calls first, then keys.
fn order(
    request: &Request,
    (a_keys, a): &(Vec<String>, Row),
    (b_keys, b): &(Vec<String>, Row),
) -> Ordering {
    let by_keys = a_keys.cmp(b_keys);
    if let Some(sort) = &request.sort {
        let ordering = match (a.metrics.get(&sort.by), b.metrics.get(&sort.by)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => {
                let key =
                    |row: &Row| row.keys.get(&sort.by).map(|v| v.to_string()).unwrap_or_default();
                key(a).cmp(&key(b))
            }
        };
        let ordering = if sort.descending { ordering.reverse() } else { ordering };
        return ordering.then(by_keys);
    }
    let time = request.groups.iter().position(|g| matches!(g, request::Group::Time(_)));
    let by_time = time.map_or(Ordering::Equal, |i| a_keys[i].cmp(&b_keys[i]));
    by_time.then(b.metrics.calls.cmp(&a.metrics.calls)).then(by_keys)
}
