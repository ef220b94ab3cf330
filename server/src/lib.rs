//! `bidline`: the pay-per-call tracking and routing server. The binary is [`run`]; the
//! library exists so benchmarks reach the routing snapshot.
//!
//! Exit status 0 after a clean stop; 2 with one line on stderr when the configuration
//! is invalid; 1 with one line on stderr when start-up fails (database, port).

pub mod accounts;
mod backend;
pub mod billing;
pub mod caller;
pub mod calls;
mod cli;
mod config;
mod csv;
pub mod db;
pub mod demo;
pub mod dni;
pub mod e164;
mod http;
pub mod invoicing;
mod limits;
pub mod network;
mod outbound;
pub mod ping;
pub mod postbacks;
pub mod reports;
pub mod routing;
pub mod secrets;
mod serve;
mod shutdown;
pub mod tasks;
mod telemetry;
pub mod time;
pub mod webhooks;

use std::{net::SocketAddr, process::ExitCode};

use clap::{Parser, error::ErrorKind};

use crate::config::{Cli, Command, ConfigError};

/// Why Bidline could not start; each variant prints as one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Database(#[from] db::DbError),
    #[error("cannot listen on {addr} (--http / BIDLINE_HTTP_ADDR): {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot load the routing configuration: {0}")]
    Routing(#[source] sqlx::Error),
    #[error("cannot set up the HTTP client for buyer pings: {0}")]
    Pinger(#[source] reqwest::Error),
    #[error("cannot set up the Stripe client: {0}")]
    Stripe(#[source] billing::stripe::StripeError),
    #[error("cannot set up the HTTP client for webhooks: {0}")]
    Webhooks(#[source] reqwest::Error),
    #[error("cannot open the GeoIP database {} (--geoip-db / BIDLINE_GEOIP_DB): {source}", path.display())]
    Geo { path: std::path::PathBuf, source: maxminddb::MaxMindDbError },
    #[error(
        "--sip {0} binds every address, and peers cannot be told to reach an unspecified one: \
         give the address they reach this node at with --sip-advertise HOST[:PORT] \
         (BIDLINE_SIP_ADVERTISE)"
    )]
    SipAdvertise(SocketAddr),
    #[error("cannot listen for SIP on {addr} (--sip / BIDLINE_SIP_ADDR): {source}")]
    Sip {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot report the numbers the migration released: {0}")]
    Released(#[source] sqlx::Error),
    #[error("cannot read the call records: {0}")]
    Calls(#[source] sqlx::Error),
    #[error("{0} (--records-spool / BIDLINE_RECORDS_SPOOL)")]
    Spool(#[source] calls::spool::SpoolError),
    #[error("cannot register this node in the database: {0}")]
    Register(#[source] sqlx::Error),
    #[error("cannot install the SIGINT/SIGTERM handlers: {0}")]
    Signals(#[source] std::io::Error),
    #[error("cannot set up metrics: {0}")]
    Metrics(#[source] metrics_exporter_prometheus::BuildError),
    #[error(transparent)]
    Account(#[from] accounts::AccountError),
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
    #[error("cannot seed demo calls: {0}")]
    Seed(#[from] demo::SeedError),
    #[error("cannot start the demo: {0}")]
    Demo(#[from] demo::DemoError),
}

impl StartError {
    /// 2 for input the operator must correct, 1 for everything else.
    fn exit_code(&self) -> ExitCode {
        match self {
            Self::Config(_)
            | Self::Account(accounts::AccountError::Invalid { .. })
            | Self::Seed(demo::SeedError::NoOrganization(_))
            | Self::Secret(secrets::SecretError::BadKey | secrets::SecretError::Mismatch) => {
                ExitCode::from(2)
            }
            _ => ExitCode::FAILURE,
        }
    }
}

/// Runs the command line: what `bidline` does, and how it exits.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error)
            if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) =>
        {
            error.exit()
        }
        Err(error) => {
            eprintln!("bidline: {}", config::one_line(&error));
            return ExitCode::from(2);
        }
    };
    if let Err(error) = cli.database_url() {
        eprintln!("bidline: {error}");
        return ExitCode::from(2);
    }
    telemetry::init(cli.log_format);

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bidline: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.clone().unwrap_or_default() {
            Command::Serve => serve::run(&cli).await,
            Command::Migrate => cli::migrate(&cli).await,
            Command::Org { command } => cli::org(&cli, command).await,
            Command::User { command } => cli::user(&cli, command).await,
            Command::Demo { command: None, calls_per_minute, seed } => {
                serve::run_demo(&cli, demo::Settings { calls_per_minute, seed }).await
            }
            Command::Demo { command: Some(command), .. } => cli::demo(&cli, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bidline: {}", one_line(&error));
            error.exit_code()
        }
    }
}

/// The error and its causes on one line: `a: b: c`, each cause once.
fn one_line(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line.replace('\n', " ")
}
