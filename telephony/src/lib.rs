//! Bidline's SIP edge, as a library that knows nothing about campaigns.
//!
//! It accepts calls from carrier trunks, asks a [`b2bua::Router`] who may call and where
//! each call goes, places and bridges the outbound legs as a back-to-back user agent, and
//! reports [`b2bua::CallEvent`]s. Its layers are visible in its file names, each knowing
//! only the ones below:
//!
//! - [`wire`]: framing by Content-Length, normalising, parsing and printing messages;
//! - [`transport`]: UDP and TCP sockets, stateless answers to what cannot be parsed;
//! - [`transaction`]: RFC 3261 §17's four state machines, without I/O;
//! - [`dialog`]: requests inside a dialog, the 2xx resent until ACKed;
//! - [`b2bua`]: one call's state machine (inbound leg, outbound legs, relays, session
//!   timer), without I/O;
//! - [`edge`]: the running whole: transports feeding shards that own the calls.
//!
//! [`media`] reads and writes what RTP carries (packets, G.711 samples, DTMF events) and
//! hands out the port pairs it arrives on.
//! [`digest`] authenticates carriers and answers buyers' challenges; [`phone`] is a plain
//! SIP phone for calls Bidline places to itself (the demo, the dashboard's test call).
//! `examples/static_b2bua.rs` is the smallest complete use: every call to fixed URIs.
//!
//! This crate depends on no other crate of the workspace.

pub mod b2bua;
pub mod dialog;
pub mod digest;
pub mod edge;
pub mod media;
pub mod phone;
pub mod transaction;
pub mod transport;
pub mod wire;
