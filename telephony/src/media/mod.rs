//! Media: what a call's RTP carries, read and written without I/O.
//!
//! - [`rtp`]: RTP packets and telling RTCP apart on a shared port;
//! - [`g711`]: µ-law and A-law samples to and from linear PCM;
//! - [`telephone_event`]: DTMF digits as RTP events (RFC 4733).

pub mod g711;
pub mod rtp;
pub mod telephone_event;
