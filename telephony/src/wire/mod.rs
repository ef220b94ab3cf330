//! The wire layer: where a message ends ([`framing`]) and the one form its header
//! section is brought to before parsing ([`normalize`]). Message parsing (rsip, and our
//! own where rsip cannot: IPv6 references, `tel:` URIs, unknown methods) builds on these.

pub mod framing;
pub mod normalize;
