//! The guided setup on the Overview: how far the organization has come, and a test call
//! through the SIP edge.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

/// What the organization has set up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupProgress {
    pub inbound_trunks: usize,
    pub outbound_trunks: usize,
    pub campaigns: usize,
    pub buyers: usize,
    pub targets: usize,
    pub ring_tree_entries: usize,
    /// Active tracking numbers, to place a test call to.
    pub numbers: Vec<SetupNumber>,
    /// For links that open a form prefilled: the first buyer, and the first campaign
    /// (the first whose ring tree is empty, if any).
    pub buyer_id: Option<String>,
    pub campaign_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupNumber {
    pub id: String,
    pub number: String,
    pub campaign: String,
}

/// How a test call went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCallResult {
    /// The call's record, when it got that far.
    pub call_id: Option<String>,
    /// Answered by a buyer, then hung up by the test caller.
    pub answered: bool,
    /// What happened, in a sentence.
    pub summary: String,
}

#[server(prefix = "/fn", endpoint = "setup_status")]
pub async fn setup_status() -> Result<SetupProgress, AppError> {
    crate::backend::backend()?.setup_progress().await
}

/// Dials the organization's number `number_id` from Bidline's own test phone through
/// the SIP edge, lets it talk a few seconds once answered, and reports how it went.
#[server(prefix = "/fn", endpoint = "place_test_call")]
pub async fn place_test_call(number_id: String) -> Result<TestCallResult, AppError> {
    crate::backend::backend()?.place_test_call(number_id).await
}
