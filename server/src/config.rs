//! The command line and environment: every setting Bidline reads at start.
//!
//! Settings are validated here, before anything starts, so that a bad value ends the
//! process with one line naming the setting and the problem. Nothing in this module may
//! print a secret (the database URL can hold a password).

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf, time::Duration};

use clap::{Parser, Subcommand, ValueEnum};

use crate::db::{DatabaseUrl, url::UrlError};

#[derive(Debug, Parser)]
#[command(name = "bidline", version, about = "Pay-per-call tracking and routing")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address (IP:PORT) the HTTP server listens on; port 0 picks a free one.
    #[arg(
        long = "http",
        env = "BIDLINE_HTTP_ADDR",
        default_value = "127.0.0.1:3000",
        global = true,
        value_name = "ADDR"
    )]
    pub http_addr: SocketAddr,

    /// Address (IP:PORT) of the SIP edge (UDP and TCP), where carriers send calls.
    #[arg(
        long = "sip",
        env = "BIDLINE_SIP_ADDR",
        default_value = "127.0.0.1:5060",
        global = true,
        value_name = "ADDR"
    )]
    pub sip_addr: SocketAddr,

    /// Where carriers and buyers reach the SIP edge, as written into Via, Contact and
    /// our legs' From: HOST[:PORT] (a name, an IPv4 address or a bracketed IPv6 one; the
    /// port defaults to the bound one). Required when --sip binds 0.0.0.0 or [::].
    #[arg(long, env = "BIDLINE_SIP_ADVERTISE", global = true, value_name = "HOST[:PORT]")]
    pub sip_advertise: Option<bidline_telephony::edge::Advertise>,

    /// SIP over UDP: the socket's receive buffer in KiB, where datagrams wait while the
    /// edge is busy (the kernel grants at most its net.core.rmem_max).
    #[arg(long, env = "BIDLINE_SIP_UDP_RECEIVE_BUFFER_KIB", default_value_t = 4096, global = true, value_name = "KIB", value_parser = clap::value_parser!(u32).range(64..=1_048_576))]
    pub sip_udp_receive_buffer_kib: u32,

    /// SIP over TCP: connections open at once, in all.
    #[arg(long, env = "BIDLINE_SIP_MAX_CONNECTIONS", default_value_t = 4096, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub sip_max_connections: u32,

    /// SIP over TCP: connections open at once with one remote address.
    #[arg(long, env = "BIDLINE_SIP_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 64, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub sip_max_connections_per_address: u32,

    /// SIP over TCP: a connection that sends nothing for this many seconds is closed.
    #[arg(long, env = "BIDLINE_SIP_IDLE_SECONDS", default_value_t = 300, global = true, value_name = "S", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub sip_idle_seconds: u64,

    /// Database: sqlite://PATH (file and folder are created) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/bidline.db",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Log lines for people (`pretty`) or for log collectors (`json`).
    #[arg(long, env = "BIDLINE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Folder holding the built site (`pkg/` with the wasm, JS and CSS; public files).
    #[arg(
        long,
        env = "BIDLINE_SITE_ROOT",
        default_value = "site",
        global = true,
        value_name = "DIR"
    )]
    pub site_root: PathBuf,

    /// Mark the session cookie `Secure`: set it when users reach Bidline over HTTPS.
    #[arg(long, env = "BIDLINE_SECURE_COOKIES", global = true)]
    pub secure_cookies: bool,

    /// Call records: when the oldest change not yet written has waited this many
    /// milliseconds, new calls are answered 503 with Retry-After until it catches up.
    #[arg(long, env = "BIDLINE_RECORDS_MAX_LAG_MS", default_value_t = 2_000, global = true, value_name = "MS", value_parser = clap::value_parser!(u64).range(50..=600_000))]
    pub records_max_lag_ms: u64,

    /// Call records: when the changes waiting to be written hold this many MiB, new calls
    /// are answered 503 with Retry-After until it drains.
    #[arg(long, env = "BIDLINE_RECORDS_MAX_BACKLOG_MIB", default_value_t = 64, global = true, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub records_max_backlog_mib: u64,

    /// Call records: where they wait on this node's disk while PostgreSQL cannot be
    /// reached (replayed in order once it can, and at the next start). Unused on SQLite.
    #[arg(
        long,
        env = "BIDLINE_RECORDS_SPOOL",
        default_value = "data/records-spool",
        global = true,
        value_name = "DIR"
    )]
    pub records_spool: PathBuf,

    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM.
    #[arg(
        long = "shutdown-grace",
        env = "BIDLINE_SHUTDOWN_GRACE",
        default_value_t = 10,
        global = true,
        value_name = "SECONDS"
    )]
    pub shutdown_grace_seconds: u64,

    /// The key that seals secrets at rest (trunk passwords): 64 hex digits or the base64
    /// of 32 bytes. Every node sharing a database needs the same key.
    #[arg(
        long,
        env = "BIDLINE_SECRET_KEY",
        global = true,
        value_name = "KEY",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,

    /// Where the secret key is kept when --secret-key is not given; created on first start.
    #[arg(
        long,
        env = "BIDLINE_SECRET_KEY_FILE",
        default_value = "data/secret.key",
        global = true,
        value_name = "PATH"
    )]
    pub secret_key_file: PathBuf,

    /// Let outgoing pings and test pings reach loopback, private and link-local
    /// addresses (for tests and private networks; off by default).
    #[arg(long, env = "BIDLINE_ALLOW_PRIVATE_TARGETS", global = true)]
    pub allow_private_targets: bool,

    /// How long one webhook attempt may take (connect, send, answer), in milliseconds.
    #[arg(long, env = "BIDLINE_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000, global = true, value_name = "MS", value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub webhook_timeout_ms: u64,

    /// The pause after a webhook's first failed attempt, in milliseconds; it doubles
    /// after each failure (at most an hour), with jitter.
    #[arg(long, env = "BIDLINE_WEBHOOK_RETRY_BASE_MS", default_value_t = 10_000, global = true, value_name = "MS", value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub webhook_retry_base_ms: u64,

    /// How long after its first attempt a failing webhook delivery is retried before it
    /// is given up (failed), in seconds.
    #[arg(long, env = "BIDLINE_WEBHOOK_GIVE_UP_SECONDS", default_value_t = 86_400, global = true, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub webhook_give_up_seconds: u64,

    /// Buyer postbacks one client address may send per minute (in bursts of a quarter).
    #[arg(
        long,
        env = "BIDLINE_POSTBACK_REQUESTS_PER_MINUTE",
        default_value_t = NonZeroU32::new(600).expect("not zero"),
        global = true,
        value_name = "N"
    )]
    pub postback_requests_per_minute: NonZeroU32,

    /// DNI requests (lease, renew, release) one visitor address may make per minute.
    #[arg(
        long,
        env = "BIDLINE_DNI_REQUESTS_PER_MINUTE",
        default_value_t = NonZeroU32::new(120).expect("not zero"),
        global = true,
        value_name = "N"
    )]
    pub dni_requests_per_minute: NonZeroU32,

    /// Minutes after a DNI lease ends during which a call to its number is still
    /// attributed to that visit.
    #[arg(
        long,
        env = "BIDLINE_DNI_GRACE_MINUTES",
        default_value_t = 10,
        global = true,
        value_name = "MINUTES"
    )]
    pub dni_grace_minutes: u32,

    /// Keep each visitor's IP address with their lease (by default only the lease's
    /// tags — parameters, pages, geo — are kept).
    #[arg(long, env = "BIDLINE_DNI_KEEP_IP", global = true)]
    pub dni_keep_ip: bool,

    /// Most numbers of one campaign's pools one visitor address (an IPv6 /64) may hold
    /// at once; past it, visits from there are shown the default number. 0: no cap.
    #[arg(
        long,
        env = "BIDLINE_DNI_LEASES_PER_ADDRESS",
        default_value_t = 5,
        global = true,
        value_name = "N"
    )]
    pub dni_leases_per_address: usize,

    /// Days ended DNI leases are kept in `dni_leases` before they are deleted.
    #[arg(
        long,
        env = "BIDLINE_DNI_LEASE_RETENTION_DAYS",
        default_value_t = 30,
        global = true,
        value_name = "DAYS",
        value_parser = clap::value_parser!(u32).range(1..=3650)
    )]
    pub dni_lease_retention_days: u32,

    /// A bearer token `GET /metrics` requires (`Authorization: Bearer T`); without it
    /// the metrics are open to anyone who reaches the port.
    #[arg(long, env = "BIDLINE_METRICS_TOKEN", global = true, value_name = "TOKEN", value_parser = non_empty)]
    pub metrics_token: Option<String>,

    /// A MaxMind DB (GeoLite2 or GeoIP2 City) giving DNI visitors' country, region, city
    /// and postal code; without it visits have no place.
    #[arg(long, env = "BIDLINE_GEOIP_DB", global = true, value_name = "PATH")]
    pub geoip_db: Option<PathBuf>,

    /// Stripe's secret key: billing organizations is on when it is set (with
    /// --stripe-webhook-secret), off otherwise.
    #[arg(
        long,
        env = "STRIPE_SECRET_KEY",
        global = true,
        value_name = "KEY",
        hide_env_values = true
    )]
    pub stripe_secret_key: Option<String>,

    /// The signing secret (whsec_…) of Bidline's webhook endpoint at Stripe
    /// (`https://HOST/stripe/webhook`).
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_SECRET",
        global = true,
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub stripe_webhook_secret: Option<String>,

    /// Where Stripe's API is (a local fake in tests).
    #[arg(
        long,
        env = "BIDLINE_STRIPE_API_BASE",
        default_value = "https://api.stripe.com/",
        global = true,
        value_name = "URL"
    )]
    pub stripe_api_base: url::Url,

    /// The metered prices (comma-separated price ids) an organization subscribes to, one
    /// per meter (bidline_call_minutes, bidline_rtb_pings, bidline_number_days).
    #[arg(
        long,
        env = "BIDLINE_STRIPE_METERED_PRICES",
        value_delimiter = ',',
        global = true,
        value_name = "PRICE"
    )]
    pub stripe_metered_prices: Vec<String>,

    /// A flat (licensed) price added to the subscription once, if the plan has one.
    #[arg(long, env = "BIDLINE_STRIPE_BASE_PRICE", global = true, value_name = "PRICE")]
    pub stripe_base_price: Option<String>,

    /// How long one request to Stripe may take, in milliseconds.
    #[arg(long, env = "BIDLINE_STRIPE_TIMEOUT_MS", default_value_t = 30_000, global = true, value_name = "MS", value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub stripe_timeout_ms: u64,

    /// The pause after a usage report's first failed attempt, in milliseconds; it doubles
    /// after each failure (at most ten minutes).
    #[arg(long, env = "BIDLINE_STRIPE_RETRY_BASE_MS", default_value_t = 2_000, global = true, value_name = "MS", value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub stripe_retry_base_ms: u64,

    /// Days an organization may stay past due before new calls to its numbers are
    /// turned away (SIP 402); 0 turns them away at once.
    #[arg(long, env = "BIDLINE_BILLING_GRACE_DAYS", default_value_t = 7, global = true, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=90))]
    pub billing_grace_days: u32,

    /// Hours after a buyer's invoicing cycle ends before it is invoiced: time for buyers'
    /// postbacks to land.
    #[arg(long, env = "BIDLINE_INVOICE_AFTER_HOURS", default_value_t = 24, global = true, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(0..=720))]
    pub invoice_after_hours: u32,

    /// The address people reach Bidline at (https://bidline.example.com), for the links
    /// Stripe sends them back by; without it, the host they used.
    #[arg(long, env = "BIDLINE_PUBLIC_URL", global = true, value_name = "URL")]
    pub public_url: Option<url::Url>,

    /// Proxies (CIDR, comma-separated) whose X-Forwarded-For gives the visitor's address.
    #[arg(
        long = "trusted-proxy",
        env = "BIDLINE_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = network,
        global = true,
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    #[default]
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Organizations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Run the server with a demo organization whose calls never stop: a simulated
    /// carrier dials its numbers through the SIP edge, simulated buyers on loopback
    /// answer, bid and send postbacks. `demo seed` and `demo remove` manage demo data.
    #[command(args_conflicts_with_subcommands = true)]
    Demo {
        #[command(subcommand)]
        command: Option<DemoCommand>,
        /// Calls the simulated carrier places a minute, on average (random arrivals).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=600))]
        calls_per_minute: u32,
        /// The same seed places the same calls at the same moments (callers, numbers,
        /// talk times); without it, a new draw at every start.
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Subcommand)]
pub enum DemoCommand {
    /// Write N ended calls over the D whole days (UTC) before today into an organization's history, through
    /// the call-record writer (a demo configuration is created first if it has no
    /// campaign); prints {"org_id","calls"}.
    Seed {
        #[arg(long)]
        org_id: uuid::Uuid,
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        calls: u64,
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3_650))]
        days: u32,
        /// The same seed writes the same calls (times, callers, outcomes, money).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Delete the organizations `bidline demo` made, with everything they hold; prints
    /// {"removed": N}.
    Remove,
}

#[derive(Clone, Debug, PartialEq, Eq, Subcommand)]
pub enum OrgCommand {
    /// Create an organization and its owner; prints {"org_id","user_id","api_key"} (an admin key).
    Create {
        #[arg(long)]
        name: String,
        /// A new user is created for a new email; an existing user must give their password.
        #[arg(long)]
        owner_email: String,
        #[arg(long, env = "BIDLINE_OWNER_PASSWORD", hide_env_values = true)]
        owner_password: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Subcommand)]
pub enum UserCommand {
    /// Set a user's password; prints {"user_id","password"}.
    ResetPassword {
        #[arg(long)]
        email: String,
        /// The new password; without it a random one is generated.
        #[arg(long, env = "BIDLINE_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    DatabaseUrl(#[from] UrlError),
    #[error("invalid billing configuration: {0}")]
    Billing(&'static str),
}

impl Cli {
    pub fn database_url(&self) -> Result<DatabaseUrl, ConfigError> {
        Ok(DatabaseUrl::parse(&self.database_url)?)
    }

    /// Stripe's settings when billing is on; both secrets or neither, and a plan to sell.
    pub fn stripe(&self) -> Result<Option<crate::billing::StripeSettings>, ConfigError> {
        let (secret_key, webhook_secret) = match (
            &self.stripe_secret_key,
            &self.stripe_webhook_secret,
        ) {
            (None, None) => return Ok(None),
            (Some(key), Some(secret)) => (key.clone(), secret.clone()),
            (Some(_), None) => {
                return Err(ConfigError::Billing(
                    "STRIPE_SECRET_KEY is set without STRIPE_WEBHOOK_SECRET (--stripe-webhook-secret)",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::Billing(
                    "STRIPE_WEBHOOK_SECRET is set without STRIPE_SECRET_KEY (--stripe-secret-key)",
                ));
            }
        };
        let metered_prices: Vec<String> = self
            .stripe_metered_prices
            .iter()
            .map(|price| price.trim().to_owned())
            .filter(|price| !price.is_empty())
            .collect();
        if metered_prices.is_empty() && self.stripe_base_price.is_none() {
            return Err(ConfigError::Billing(
                "Stripe is configured without a price to subscribe to (--stripe-metered-prices, --stripe-base-price)",
            ));
        }
        Ok(Some(crate::billing::StripeSettings {
            secret_key,
            webhook_secret,
            metered_prices,
            base_price: self.stripe_base_price.clone(),
            retry_base: Duration::from_millis(self.stripe_retry_base_ms),
        }))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }

    pub fn record_limits(&self) -> crate::calls::writer::Limits {
        crate::calls::writer::Limits {
            lag: Duration::from_millis(self.records_max_lag_ms),
            bytes: (self.records_max_backlog_mib as usize).saturating_mul(1 << 20),
        }
    }
}

/// Turns clap's multi-line error report into the one line an operator needs.
pub fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let first = rendered.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// A value that says something (an empty token would protect nothing).
fn non_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() { Err("must not be empty".to_owned()) } else { Ok(text.to_owned()) }
}

/// A network in CIDR notation, or one address.
fn network(text: &str) -> Result<ipnet::IpNet, String> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an address nor a network (CIDR)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_address_is_one_line_naming_the_flag() {
        let error = Cli::try_parse_from(["bidline", "serve", "--http", "nonsense"]).unwrap_err();
        let line = one_line(&error);
        assert!(line.contains("--http"), "{line}");
        assert!(line.contains("nonsense"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn billing_needs_both_stripe_secrets_and_a_price() {
        let cli = |args: &[&str]| Cli::try_parse_from([&["bidline"], args].concat()).unwrap();
        assert!(cli(&[]).stripe().unwrap().is_none());
        let half = cli(&["--stripe-secret-key", "sk_test_x"]).stripe().unwrap_err().to_string();
        assert!(half.contains("STRIPE_WEBHOOK_SECRET"), "{half}");
        let no_price = cli(&["--stripe-secret-key", "sk_x", "--stripe-webhook-secret", "whsec_x"]);
        assert!(no_price.stripe().unwrap_err().to_string().contains("price"));
        let on = cli(&[
            "--stripe-secret-key",
            "sk_x",
            "--stripe-webhook-secret",
            "whsec_x",
            "--stripe-metered-prices",
            "price_a, price_b",
        ]);
        let settings = on.stripe().unwrap().unwrap();
        assert_eq!(settings.metered_prices, ["price_a", "price_b"]);
        assert!(!format!("{settings:?}").contains("sk_x"));
    }

    #[test]
    fn serve_is_the_default_command() {
        let cli = Cli::try_parse_from(["bidline", "--http", "127.0.0.1:0"]).unwrap();
        assert_eq!(cli.command, None);
    }
}
