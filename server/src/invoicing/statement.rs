//! A buyer's statement: the calls on one invoice, at `/statements/{token}` (linked from
//! the invoice; the token is the credential), as a page or as CSV.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::{
    csv,
    db::{Db, with_pool},
};

pub struct Statement {
    pub buyer: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub zone: Tz,
    pub total_cents: i64,
    pub calls: Vec<StatementCall>,
}

#[derive(sqlx::FromRow)]
pub struct StatementCall {
    pub id: Uuid,
    pub campaign: String,
    pub started_at: DateTime<Utc>,
    pub caller: Option<String>,
    pub talk_ms: Option<i64>,
    pub revenue_cents: i64,
}

pub async fn find(db: &Db, token: &str) -> Result<Option<Statement>, sqlx::Error> {
    type Head = (Uuid, String, DateTime<Utc>, DateTime<Utc>, i64, String);
    with_pool!(db, pool => {
        let head: Option<Head> = sqlx::query_as(
            "SELECT i.id, b.name, i.period_start, i.period_end, i.total_cents, o.time_zone \
             FROM buyer_invoices i JOIN buyers b ON b.id = i.buyer_id \
             JOIN organizations o ON o.id = i.organization_id WHERE i.statement_token = $1",
        )
        .bind(token)
        .fetch_optional(pool)
        .await?;
        let Some((invoice, buyer, period_start, period_end, total_cents, zone)) = head else {
            return Ok(None);
        };
        let calls: Vec<StatementCall> = sqlx::query_as(
            "SELECT c.id, i.campaign_name AS campaign, c.started_at, c.caller, c.talk_ms, i.revenue_cents \
             FROM buyer_invoice_calls i JOIN calls c ON c.id = i.call_id \
             WHERE i.invoice_id = $1 ORDER BY c.started_at",
        )
        .bind(invoice)
        .fetch_all(pool)
        .await?;
        let zone = zone.parse().unwrap_or(chrono_tz::UTC);
        Ok(Some(Statement { buyer, period_start, period_end, zone, total_cents, calls }))
    })
}

fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Statement {
    fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone).format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// The calls as CSV: one row a call, times in the organization's zone; every cell
    /// made safe for spreadsheets (see [`crate::csv`]).
    pub fn csv(&self) -> String {
        let started = format!("started_at ({})", self.zone.name());
        let mut out = csv::row([
            "call_id",
            started.as_str(),
            "campaign",
            "caller",
            "talk_seconds",
            "revenue",
        ]);
        for call in &self.calls {
            out.push_str(&csv::row([
                call.id.to_string(),
                self.local(call.started_at),
                call.campaign.clone(),
                call.caller.clone().unwrap_or_default(),
                (call.talk_ms.unwrap_or(0) / 1000).to_string(),
                dollars(call.revenue_cents),
            ]));
        }
        out
    }

    /// The calls as a page.
    pub fn html(&self, csv_link: &str) -> String {
        let rows: String = self
            .calls
            .iter()
            .map(|call| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td></tr>",
                    self.local(call.started_at),
                    escape(&call.campaign),
                    escape(call.caller.as_deref().unwrap_or("withheld")),
                    call.talk_ms.unwrap_or(0) / 1000,
                    dollars(call.revenue_cents)
                )
            })
            .collect();
        format!(
            "<!doctype html><html lang=en><meta charset=utf-8><title>Statement · {buyer}</title>\
             <style>body{{font:15px system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}\
             td,th{{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}}.num{{text-align:right}}</style>\
             <h1>Calls invoiced to {buyer}</h1>\
             <p>{from} to {to} ({zone}) · {count} calls · {total} USD · <a href=\"{csv_link}\">CSV</a></p>\
             <table id=calls><thead><tr><th>Started</th><th>Campaign</th><th>Caller</th>\
             <th class=num>Talk (s)</th><th class=num>Revenue (USD)</th></tr></thead><tbody>{rows}</tbody></table>",
            buyer = escape(&self.buyer),
            from = self.local(self.period_start),
            to = self.local(self.period_end),
            zone = self.zone.name(),
            count = self.calls.len(),
            total = dollars(self.total_cents),
        )
    }
}
