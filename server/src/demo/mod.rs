//! Demonstration data: a network that looks lived-in (campaigns, publishers, buyers,
//! targets, numbers) and calls for it, written through the same call-record writer as
//! real calls, so every report and page reads them as it reads real ones; and
//! `bidline demo`, the same network with calls placed live through the SIP edge.

mod buyers;
mod carrier;
mod live;
mod network;
mod seed;
mod traffic;
mod world;

pub use live::{DemoError, EMAIL, Settings, SignIn, Stage, remove, start};
pub use seed::{SeedError, Seeding, seed};

#[cfg(test)]
mod tests;
