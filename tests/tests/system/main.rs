//! Black-box tests of the whole system: the real `bidline` binary on real sockets,
//! real SQLite files and PostgreSQL databases, and Debian's chromium.

mod api_keys;
mod billing;
mod billing_ui;
mod buyers;
mod calls;
mod calls_ui;
mod campaigns;
mod cli;
mod configuration_ui;
mod dashboard;
mod dni;
mod dni_pools;
mod dni_ui;
mod http;
mod invoicing;
mod isolation;
mod members;
mod migrations;
mod numbers;
mod openapi;
mod outage;
mod pages;
mod pings;
mod postbacks;
mod publishers;
mod records;
mod routing;
mod sessions;
mod shutdown;
mod sip_destinations;
mod targets;
mod tenancy;
mod trunks;
mod webhooks;
mod webhooks_ui;
