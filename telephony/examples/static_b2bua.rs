//! The smallest useful edge: every call goes to the same destinations, in order.
//!
//! ```text
//! static_b2bua --listen 127.0.0.1:5060 --to sip:buyer@127.0.0.1:5080 [--to URI …]
//!              [--ring-timeout SECONDS] [--shards N] [--events]
//! ```
//!
//! It listens on UDP and TCP at `--listen`, answers each INVITE with 100 Trying, rings
//! the `--to` URIs one after another (each for `--ring-timeout`, default 30 s), bridges
//! the first that answers and prints call events with `--events`. Destinations must name
//! an IP address; `;transport=tcp` selects TCP.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bidline_telephony::b2bua::{Decision, Destination, IncomingCall, Router};
use bidline_telephony::edge::{Config, Edge};

struct Static(Vec<Destination>);

impl Router for Static {
    async fn route(&self, _call: &IncomingCall) -> Decision {
        Decision::Connect(self.0.clone())
    }
}

struct Args {
    listen: SocketAddr,
    to: Vec<String>,
    ring_timeout: Duration,
    shards: Option<usize>,
    events: bool,
}

fn args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut listen, mut to, mut ring_timeout, mut shards, mut events) =
        (None, Vec::new(), 30.0, None, false);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => listen = Some(value()?.parse().map_err(|e| format!("--listen: {e}"))?),
            "--to" => to.push(value()?),
            "--ring-timeout" => {
                ring_timeout = value()?.parse().map_err(|e| format!("--ring-timeout: {e}"))?
            }
            "--shards" => shards = Some(value()?.parse().map_err(|e| format!("--shards: {e}"))?),
            "--events" => events = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let listen = listen.ok_or("--listen ADDR is required")?;
    if to.is_empty() {
        return Err("at least one --to URI is required".into());
    }
    Ok(Args { listen, to, ring_timeout: Duration::from_secs_f64(ring_timeout), shards, events })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("static_b2bua: {error}");
            eprintln!(
                "usage: static_b2bua --listen ADDR --to URI [--to URI …] [--ring-timeout S] [--shards N] [--events]"
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
    if let Some(shards) = args.shards {
        config.shards = shards;
    }
    let (edge, mut events) = match Edge::start(config, Static(destinations)).await {
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
