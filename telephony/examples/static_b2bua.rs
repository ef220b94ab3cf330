//! The smallest useful edge: every call goes to the same destinations, in order.
//!
//! ```text
//! static_b2bua --listen 127.0.0.1:5060 --to sip:buyer@127.0.0.1:5080 [--to URI …]
//!              [--allow CIDR …] [--digest USER:PASSWORD] [--ring-timeout SECONDS]
//!              [--shards N] [--events] [--advertise HOST[:PORT]]
//! ```
//!
//! It listens on UDP and TCP at `--listen`, answers each INVITE with 100 Trying, rings
//! the `--to` URIs one after another (each for `--ring-timeout`, default 30 s), bridges
//! the first that answers and prints call events with `--events`. Destinations must name
//! an IP address; `;transport=tcp` selects TCP. Listening on `0.0.0.0` needs
//! `--advertise`, the host (and port) peers are told to reach it at.
//!
//! Like an inbound trunk: with `--allow`, only those source networks may call (others get
//! 403); with `--digest`, callers from anywhere else must authenticate as USER.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bidline_telephony::b2bua::{Admission, Arrival, Decision, Destination, IncomingCall, Router};
use bidline_telephony::edge::{Config, Edge};
use ipnet::IpNet;

struct Static {
    destinations: Vec<Destination>,
    allow: Vec<IpNet>,
    digest: Option<(String, String)>,
}

impl Router for Static {
    fn admit(&self, arrival: &Arrival<'_>) -> Admission {
        let open = self.allow.is_empty() && self.digest.is_none();
        if open || self.allow.iter().any(|net| net.contains(&arrival.source.ip())) {
            return Admission::Accept { trunk: None };
        }
        match &self.digest {
            Some((user, password)) => Admission::Digest {
                realm: "static_b2bua".into(),
                password: (arrival.username == Some(user.as_str())).then(|| password.clone()),
                trunk: None,
            },
            None => Admission::Deny,
        }
    }

    fn knows(&self, source: SocketAddr) -> bool {
        self.allow.is_empty() || self.allow.iter().any(|net| net.contains(&source.ip()))
    }

    async fn route(&self, _call: &IncomingCall) -> Decision {
        Decision::Connect(self.destinations.clone())
    }
}

struct Args {
    listen: SocketAddr,
    to: Vec<String>,
    allow: Vec<IpNet>,
    digest: Option<(String, String)>,
    ring_timeout: Duration,
    shards: Option<usize>,
    events: bool,
    advertise: Option<bidline_telephony::edge::Advertise>,
}

fn args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args {
        listen: "0.0.0.0:0".parse().expect("an address"),
        to: Vec::new(),
        allow: Vec::new(),
        digest: None,
        ring_timeout: Duration::from_secs(30),
        shards: None,
        events: false,
        advertise: None,
    };
    let mut listen = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => listen = Some(value()?.parse().map_err(|e| format!("--listen: {e}"))?),
            "--to" => parsed.to.push(value()?),
            "--allow" => parsed.allow.push(value()?.parse().map_err(|e| format!("--allow: {e}"))?),
            "--digest" => {
                let credentials = value()?;
                let (user, password) =
                    credentials.split_once(':').ok_or("--digest takes USER:PASSWORD")?;
                parsed.digest = Some((user.to_owned(), password.to_owned()));
            }
            "--ring-timeout" => {
                let seconds: f64 = value()?.parse().map_err(|e| format!("--ring-timeout: {e}"))?;
                parsed.ring_timeout = Duration::try_from_secs_f64(seconds)
                    .map_err(|e| format!("--ring-timeout: {e}"))?;
            }
            "--shards" => {
                parsed.shards = Some(value()?.parse().map_err(|e| format!("--shards: {e}"))?)
            }
            "--events" => parsed.events = true,
            "--advertise" => {
                parsed.advertise = Some(value()?.parse().map_err(|e| format!("--advertise: {e}"))?)
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    parsed.listen = listen.ok_or("--listen ADDR is required")?;
    if parsed.to.is_empty() {
        return Err("at least one --to URI is required".into());
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("static_b2bua: {error}");
            eprintln!(
                "usage: static_b2bua --listen ADDR --to URI [--to URI …] [--allow CIDR …] \
                 [--digest USER:PASSWORD] [--ring-timeout S] [--shards N] [--events]"
            );
            return ExitCode::from(2);
        }
    };
    let mut destinations = Vec::new();
    for uri in &args.to {
        let parsed = match uri.parse() {
            Ok(parsed) => parsed,
            Err(error) => {
                eprintln!("static_b2bua: --to {uri}: {error}");
                return ExitCode::from(2);
            }
        };
        match Destination::to_address(parsed, args.ring_timeout) {
            Some(destination) => destinations.push(destination),
            None => {
                eprintln!("static_b2bua: --to {uri}: must be a sip: URI with an IP address");
                return ExitCode::from(2);
            }
        }
    }
    let mut config = Config::new(args.listen);
    config.advertise = args.advertise.clone();
    if let Some(shards) = args.shards {
        config.shards = shards;
    }
    let router = Static { destinations, allow: args.allow, digest: args.digest };
    let (edge, mut events) = match Edge::start(config, router).await {
        Ok(started) => started,
        Err(error) => {
            eprintln!("static_b2bua: cannot listen on {}: {error}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    println!("static_b2bua listening on {} (UDP) and {} (TCP)", edge.udp_addr(), edge.tcp_addr());
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) if args.events => println!("call {} {:?}", event.call, event.kind),
                Some(_) => {}
                None => return ExitCode::SUCCESS,
            },
            _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
        }
    }
}
