//! The wire layer: where a message ends ([`framing`]), the one form its header section is
//! brought to ([`normalize`]), and what it says ([`message`], with [`headers`], [`uri`]
//! and [`via`] for the parts the edge reads).

pub mod framing;
pub mod headers;
pub mod message;
pub mod normalize;
pub mod uri;
pub mod via;

pub use headers::Headers;
pub use message::{Fields, Message, Rejection, Request, Response, parse};
pub use uri::{Host, NameAddr, SipUri, Uri};
pub use via::Via;
