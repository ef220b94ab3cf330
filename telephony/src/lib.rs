//! Bidline's SIP edge, as a library that knows nothing about campaigns.
//!
//! It will accept calls from carrier trunks, ask a router trait where each goes, place
//! and bridge the outbound legs as a B2BUA, and report call events. Its layers will
//! be visible in its file names, each knowing only the one below: wire (framing and
//! parsing) → transport (UDP, TCP) → transaction (RFC 3261 §17) → dialog → b2bua.
//!
//! This crate depends on no other crate of the workspace. Built so far: [`wire`].

pub mod wire;
