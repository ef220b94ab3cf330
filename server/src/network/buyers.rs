//! Buyers: the companies that pay for calls, through their targets (see
//! [`super::targets`]).

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Invalid, Stamp, Status, double_option, name_field, resource::Resource, status_field};
use crate::{
    accounts::{OrgId, normalize_email},
    db::{Tx, with_tx},
    e164::E164,
};

const MAX_CONTACT: usize = 200;

/// A buyer as the API answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Buyer {
    pub id: Uuid,
    pub name: String,
    pub status: Status,
    pub contact: Contact,
    /// Whether the network invoices this buyer through its Stripe account, and how often.
    pub invoicing: Invoicing,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Invoicing {
    pub enabled: bool,
    pub cycle: Cycle,
}

/// How often a buyer is invoiced: for each week (Monday to Monday) or calendar month,
/// in the organization's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cycle {
    Weekly,
    Monthly,
}

impl Cycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        }
    }

    pub fn parse(text: &str) -> Option<Cycle> {
        [Self::Weekly, Self::Monthly].into_iter().find(|cycle| cycle.as_str() == text)
    }
}

impl Default for Invoicing {
    fn default() -> Self {
        Invoicing { enabled: false, cycle: Cycle::Monthly }
    }
}

/// A `POST` (all of it) or `PATCH` (any part) body.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "BuyerInput")]
pub struct Input {
    pub name: Option<String>,
    pub status: Option<String>,
    pub contact: Option<ContactInput>,
    pub invoicing: Option<InvoicingInput>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicingInput {
    pub enabled: Option<bool>,
    pub cycle: Option<String>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default, deserialize_with = "double_option")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
}

#[derive(sqlx::FromRow)]
pub struct Row {
    id: Uuid,
    name: String,
    status: String,
    contact_name: Option<String>,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    invoicing_enabled: bool,
    invoicing_cycle: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Resource for Buyer {
    const KIND: &'static str = "buyer";
    const TABLE: &'static str = "buyers";
    const USED_BY: &'static [(&'static str, &'static str, &'static str)] =
        &[("targets", "buyer_id", "targets"), ("buyer_invoices", "buyer_id", "invoices")];
    type Row = Row;
    type Input = Input;

    fn id(&self) -> Uuid {
        self.id
    }

    fn from_row(row: Row) -> Self {
        Self {
            id: row.id,
            name: row.name,
            // The column's CHECK admits only these two.
            status: Status::parse(&row.status).unwrap_or(Status::Paused),
            contact: Contact {
                name: row.contact_name,
                email: row.contact_email,
                phone: row.contact_phone,
            },
            invoicing: Invoicing {
                enabled: row.invoicing_enabled,
                // The column's CHECK admits only the two.
                cycle: Cycle::parse(&row.invoicing_cycle).unwrap_or(Cycle::Monthly),
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn apply(current: Option<&Self>, input: Input) -> Result<Self, Invalid> {
        let (name, status, contact, invoicing) = apply(current, input)?;
        let Stamp { id, created_at, updated_at } = Stamp::of(current.map(|b| (b.id, b.created_at)));
        Ok(Buyer { id, name, status, contact, invoicing, created_at, updated_at })
    }

    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        buyer: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            let sql = if new {
                "INSERT INTO buyers \
                 (name, status, contact_name, contact_email, contact_phone, updated_at, organization_id, id, \
                 invoicing_enabled, invoicing_cycle, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $6)"
            } else {
                "UPDATE buyers SET name = $1, status = $2, contact_name = $3, contact_email = $4, \
                 contact_phone = $5, updated_at = $6, invoicing_enabled = $9, invoicing_cycle = $10 \
                 WHERE organization_id = $7 AND id = $8"
            };
            with_tx!(tx, tx => {
                sqlx::query(sql)
                    .bind(&buyer.name)
                    .bind(buyer.status.as_str())
                    .bind(&buyer.contact.name)
                    .bind(&buyer.contact.email)
                    .bind(&buyer.contact.phone)
                    .bind(buyer.updated_at)
                    .bind(org)
                    .bind(buyer.id)
                    .bind(buyer.invoicing.enabled)
                    .bind(buyer.invoicing.cycle.as_str())
                    .execute(&mut **tx)
                    .await
                    .map(|done| done.rows_affected())
            })
        })
    }
}

/// `input` applied to `current` (or to an empty buyer), checked field by field.
fn apply(
    current: Option<&Buyer>,
    input: Input,
) -> Result<(String, Status, Contact, Invoicing), Invalid> {
    let mut invalid = Invalid::default();
    let name = name_field(current.map(|buyer| buyer.name.as_str()), input.name, &mut invalid);
    let status =
        status_field(current.map(|buyer| buyer.status), input.status.as_deref(), &mut invalid);
    let mut contact = current.map(|buyer| buyer.contact.clone()).unwrap_or_default();
    if let Some(change) = input.contact {
        let mut text =
            |field: &'static str, value: Option<Option<String>>, slot: &mut Option<String>| {
                if let Some(value) = value {
                    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
                    if value.as_ref().is_some_and(|v| v.chars().count() > MAX_CONTACT) {
                        invalid.add(field, format!("must be at most {MAX_CONTACT} characters"));
                    }
                    *slot = value;
                }
            };
        let phone_given = change.phone.is_some();
        text("contact.name", change.name, &mut contact.name);
        text("contact.phone", change.phone, &mut contact.phone);
        text("contact.email", change.email, &mut contact.email);
        // Checked when given (a number stored before this check does not block edits),
        // and kept as E.164 whatever its spelling.
        if let Some(phone) = contact.phone.as_deref().filter(|_| phone_given) {
            match E164::parse(phone) {
                Ok(number) => contact.phone = Some(number.as_str().to_owned()),
                Err(why) => invalid.add("contact.phone", why),
            }
        }
    }
    if let Some(email) = &contact.email {
        match normalize_email(email) {
            Ok(normalized) => contact.email = Some(normalized),
            Err(_) => invalid.add("contact.email", "is not an email address"),
        }
    }
    let mut invoicing = current.map(|buyer| buyer.invoicing).unwrap_or_default();
    if let Some(change) = input.invoicing {
        if let Some(enabled) = change.enabled {
            invoicing.enabled = enabled;
        }
        if let Some(cycle) = change.cycle {
            match Cycle::parse(cycle.trim()) {
                Some(cycle) => invoicing.cycle = cycle,
                None => invalid.add("invoicing.cycle", "must be weekly or monthly"),
            }
        }
    }
    if invoicing.enabled && contact.email.is_none() {
        invalid
            .add("contact.email", "is where Stripe sends invoices: required while invoicing is on");
    }
    invalid.into_result()?;
    Ok((name, status, contact, invoicing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> Input {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_new_buyer_needs_a_name_and_gets_every_problem_at_once() {
        let Err(invalid) = apply(
            None,
            input(serde_json::json!({"status": "sleeping", "contact": {"email": "nope"}})),
        ) else {
            panic!("accepted")
        };
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["contact.email", "name", "status"]
        );
    }

    #[test]
    fn a_contact_phone_must_be_a_phone_number() {
        let Err(invalid) = apply(
            None,
            input(serde_json::json!({"name": "Acme", "contact": {"phone": "call me"}})),
        ) else {
            panic!("accepted")
        };
        assert_eq!(invalid.0["contact.phone"], "is not a phone number");
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name_and_null_clears() {
        let (name, status, contact, invoicing) = apply(
            None,
            input(serde_json::json!({"name": " Acme Insurance ", "contact": {"email": "Buy@Acme.example", "phone": "(212) 555-0100"}})),
        )
        .unwrap();
        assert_eq!((name.as_str(), status), ("Acme Insurance", Status::Active));
        assert_eq!(contact.email.as_deref(), Some("buy@acme.example"));
        assert_eq!(contact.phone.as_deref(), Some("+12125550100"));
        let buyer = Buyer {
            id: Uuid::now_v7(),
            name,
            status,
            contact,
            invoicing,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let (name, status, contact, _) = apply(
            Some(&buyer),
            input(serde_json::json!({"status": "paused", "contact": {"phone": null}})),
        )
        .unwrap();
        assert_eq!((name.as_str(), status), ("Acme Insurance", Status::Paused));
        assert_eq!(contact.phone, None);
        assert_eq!(contact.email.as_deref(), Some("buy@acme.example"));
    }
}
