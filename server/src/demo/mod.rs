//! Demonstration data: a network that looks lived-in (campaigns, publishers, buyers,
//! targets, numbers) and calls for it, written through the same call-record writer as
//! real calls, so every report and page reads them as it reads real ones.

mod seed;
mod traffic;
mod world;

pub use seed::{SeedError, Seeding, seed};

#[cfg(test)]
mod tests;
