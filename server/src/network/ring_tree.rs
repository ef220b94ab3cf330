//! A campaign's ring tree: the targets its calls may go to, each with a priority (lower
//! rings first), a weight (the share among equal priorities) and an on/off switch.
//! Written whole (`PUT`), in one transaction, and recorded in the campaign's history.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Invalid, NetworkError, exists,
    history::{self, Action, Change},
};
use crate::{
    accounts::{OrgId, audit::By},
    db::{Db, with_pool, with_tx},
};

const MAX_ENTRIES: usize = 200;
const MAX_PRIORITY: i64 = 1000;
const MAX_WEIGHT: i64 = 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow, schemars::JsonSchema)]
#[schemars(rename = "RingTreeEntry")]
pub struct Entry {
    pub target_id: Uuid,
    pub priority: i64,
    pub weight: i64,
    pub enabled: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RingTreeEntryInput")]
pub struct EntryInput {
    pub target_id: Uuid,
    pub priority: Option<i64>,
    pub weight: Option<i64>,
    pub enabled: Option<bool>,
}

/// The campaign's ring tree in the order it was written; `NotFound` when the campaign
/// is not the organization's.
pub async fn get(db: &Db, org: OrgId, campaign: Uuid) -> Result<Vec<Entry>, NetworkError> {
    if !exists(db, "campaigns", org, campaign).await? {
        return Err(NetworkError::NotFound);
    }
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT target_id, priority, weight, enabled FROM ring_tree_entries \
             WHERE organization_id = $1 AND campaign_id = $2 ORDER BY position",
        )
        .bind(org)
        .bind(campaign)
        .fetch_all(pool)
        .await
    })?)
}

/// Checks `inputs` (priority 1 and weight 1 unless given, enabled unless not).
fn parse(inputs: Vec<EntryInput>, invalid: &mut Invalid) -> Vec<Entry> {
    if inputs.len() > MAX_ENTRIES {
        invalid.add("ring_tree", format!("at most {MAX_ENTRIES} targets"));
    }
    let mut entries: Vec<Entry> = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        if entries.iter().any(|e| e.target_id == input.target_id) {
            invalid.add(format!("ring_tree[{i}].target_id"), "is already in the ring tree");
        }
        let priority = input.priority.unwrap_or(1);
        if !(0..=MAX_PRIORITY).contains(&priority) {
            invalid.add(
                format!("ring_tree[{i}].priority"),
                format!("must be between 0 and {MAX_PRIORITY}"),
            );
        }
        let weight = input.weight.unwrap_or(1);
        if !(1..=MAX_WEIGHT).contains(&weight) {
            invalid.add(
                format!("ring_tree[{i}].weight"),
                format!("must be between 1 and {MAX_WEIGHT}"),
            );
        }
        entries.push(Entry {
            target_id: input.target_id,
            priority,
            weight,
            enabled: input.enabled.unwrap_or(true),
        });
    }
    entries
}

/// Replaces the campaign's ring tree with `inputs`; answers the new one.
pub async fn put(
    db: &Db,
    org: OrgId,
    campaign: Uuid,
    inputs: Vec<EntryInput>,
    by: By,
) -> Result<Vec<Entry>, NetworkError> {
    let before = get(db, org, campaign).await?;
    let mut invalid = Invalid::default();
    let entries = parse(inputs, &mut invalid);
    for (i, entry) in entries.iter().enumerate() {
        if !invalid.0.contains_key(&format!("ring_tree[{i}].target_id"))
            && !exists(db, "targets", org, entry.target_id).await?
        {
            invalid
                .add(format!("ring_tree[{i}].target_id"), "is not a target of this organization");
        }
    }
    invalid.into_result()?;

    let (before_json, after_json) =
        (serde_json::json!({ "ring_tree": before }), serde_json::json!({ "ring_tree": entries }));
    let change = Change {
        org,
        kind: "campaign",
        object: campaign,
        by,
        action: Action::Updated,
        before: Some(&before_json),
        after: Some(&after_json),
    };
    let mut tx = db.begin().await?;
    with_tx!(&mut tx, tx => {
        sqlx::query("DELETE FROM ring_tree_entries WHERE organization_id = $1 AND campaign_id = $2")
            .bind(org)
            .bind(campaign)
            .execute(&mut **tx)
            .await?;
        for (position, entry) in entries.iter().enumerate() {
            sqlx::query(
                "INSERT INTO ring_tree_entries \
                 (organization_id, campaign_id, target_id, position, priority, weight, enabled) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(org)
            .bind(campaign)
            .bind(entry.target_id)
            .bind(position as i64)
            .bind(entry.priority)
            .bind(entry.weight)
            .bind(entry.enabled)
            .execute(&mut **tx)
            .await?;
        }
    });
    history::record(&mut tx, &change).await?;
    tx.commit().await?;
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(target_id: Uuid, priority: Option<i64>, weight: Option<i64>) -> EntryInput {
        EntryInput { target_id, priority, weight, enabled: None }
    }

    #[test]
    fn entries_default_to_priority_one_weight_one_enabled_and_appear_once() {
        let target = Uuid::now_v7();
        let mut invalid = Invalid::default();
        let entries = parse(vec![entry(target, None, None)], &mut invalid);
        assert!(invalid.0.is_empty());
        assert_eq!(entries, [Entry { target_id: target, priority: 1, weight: 1, enabled: true }]);
        parse(vec![entry(target, Some(-1), Some(0)), entry(target, None, None)], &mut invalid);
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["ring_tree[0].priority", "ring_tree[0].weight", "ring_tree[1].target_id"]
        );
    }
}
