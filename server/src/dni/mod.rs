//! Dynamic number insertion: website visitors lease tracking numbers from their
//! campaign's pools ([`book`]), the leases are kept ([`store`]) and a call to a leased
//! number takes its visit's tags ([`tags`]). The HTTP side is `http::dni`.

pub mod book;
pub mod geo;
pub mod share;
pub mod store;
pub mod tags;

use std::num::NonZeroU32;
use std::sync::Arc;

use self::{book::Book, geo::Geo};
use crate::limits::{Limits, TrustedProxies};

/// The DNI service as the HTTP handlers reach it.
#[derive(Clone)]
pub struct Dni {
    pub book: Arc<Book>,
    pub limits: Limits,
    /// Visitors' places, when the operator gives a GeoIP database.
    pub geo: Option<Arc<Geo>>,
    /// Keep visitors' addresses with their leases (off by default: geo is kept instead).
    pub keep_ip: bool,
}

impl Dni {
    /// `per_minute` requests per visitor address, in bursts of up to a quarter of it.
    pub fn new(
        book: Arc<Book>,
        per_minute: NonZeroU32,
        trusted_proxies: TrustedProxies,
        keep_ip: bool,
        geo: Option<Geo>,
    ) -> Self {
        let limits = Limits::new(per_minute, trusted_proxies);
        Self { book, limits, geo: geo.map(Arc::new), keep_ip }
    }
}
