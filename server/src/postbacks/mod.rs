//! Buyer postbacks: a buyer tells Bidline, after the call, whether it converted and what
//! it pays — how Ringba's and Retreaver's buyers report sales. Each buyer has its own
//! revocable [`keys`]; a [`report`] changes the call, lands in its timeline and fires
//! `call.adjusted` (and `call.converted` when it newly converts) to webhooks.

pub mod keys;
pub mod report;
