//! Media: what a call's RTP carries, and the ports it arrives on.
//!
//! - [`rtp`]: RTP packets and telling RTCP apart on a shared port;
//! - [`g711`]: µ-law and A-law samples to and from linear PCM;
//! - [`telephone_event`]: DTMF digits as RTP events (RFC 4733);
//! - [`ports`]: the RTP/RTCP port pairs relayed calls use.

pub mod g711;
pub mod ports;
pub mod rtp;
pub mod telephone_event;
