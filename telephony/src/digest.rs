//! Digest authentication (RFC 3261 §22.4 with RFC 2617's MD5 and `qop=auth`): we
//! challenge carriers whose trunk has credentials, and answer buyers' and outbound
//! trunks' challenges.
//!
//! Our nonces are stateless, as RFC 2617 §3.2.1 suggests: a timestamp and a keyed hash of
//! it and of the address it was issued to, so any shard can check any nonce, an old one
//! is recognised as stale, and one issued to another address is worth nothing. What a
//! stateless nonce cannot tell is a replay of a whole Authorization: so `qop=auth` is
//! required, and the highest `nc` accepted per nonce is remembered for the nonce's life
//! (only answers with the right password are remembered, so the memory is the trunks'
//! own call rate times five minutes, and it is capped besides).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};

use crate::wire::{Uri, headers::split_list};

/// How long a nonce we issued stays good.
const NONCE_LIFETIME_SECONDS: u64 = 300;
/// The most nonces whose `nc` is remembered; past it, answers on nonces not yet seen
/// are asked to authenticate again (stale) until old ones expire.
const MAX_TRACKED_NONCES: usize = 65_536;

fn md5_hex(parts: &[&str]) -> String {
    let mut hasher = Md5::new();
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            hasher.update(b":");
        }
        hasher.update(part.as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The `name=value` parameters of a Digest header value, unquoted.
pub fn params(value: &str) -> Option<Vec<(String, String)>> {
    let rest =
        value.trim().strip_prefix("Digest").or_else(|| value.trim().strip_prefix("digest"))?;
    Some(
        split_list(rest)
            .filter_map(|part| {
                let (name, value) = part.split_once('=')?;
                Some((name.trim().to_ascii_lowercase(), value.trim().trim_matches('"').to_owned()))
            })
            .collect(),
    )
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Issues and checks nonces with a key of its own; clones share what they remember.
#[derive(Clone, Debug)]
pub struct Server {
    key: [u8; 16],
    /// Per nonce: the highest `nc` accepted and when the nonce was issued.
    counts: Arc<Mutex<HashMap<String, (u32, u64)>>>,
}

/// Why credentials were not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not on a nonce of ours for this address (none, forged, another source's):
    /// challenge again.
    Unknown,
    /// Right, but with a nonce too old: challenge again with `stale=true`.
    Stale,
    /// On a nonce of ours, but wrong: the password, the username, the realm, the
    /// request it was computed for, a replayed `nc`, or no `qop`. Refused (403).
    Wrong,
}

/// An INVITE's credentials and what they must match.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    /// The Authorization (or Proxy-Authorization) value.
    pub authorization: &'a str,
    pub method: &'a str,
    /// The request-URI the credentials must have been computed for.
    pub request_uri: &'a Uri,
    pub realm: &'a str,
    pub username: &'a str,
    /// The username's password; `None` for a username no trunk has (refused alike).
    pub password: Option<&'a str>,
    pub source: IpAddr,
}

impl Server {
    pub fn new(key: [u8; 16]) -> Server {
        Server { key, counts: Arc::default() }
    }

    fn nonce_at(&self, seconds: u64, source: IpAddr) -> String {
        let stamp = format!("{seconds:x}");
        let key: String = self.key.iter().map(|b| format!("{b:02x}")).collect();
        format!("{stamp}.{}", md5_hex(&[&stamp, &source.to_string(), &key]))
    }

    /// A WWW-Authenticate value for `realm`, with a nonce good for `source` only.
    pub fn challenge(&self, realm: &str, source: IpAddr, stale: bool) -> String {
        let stale = if stale { ", stale=true" } else { "" };
        format!(
            "Digest realm=\"{realm}\", nonce=\"{}\", algorithm=MD5, qop=\"auth\"{stale}",
            self.nonce_at(unix_now(), source)
        )
    }

    /// The username of an Authorization value, to look the password up.
    pub fn username(authorization: &str) -> Option<String> {
        params(authorization).and_then(|p| param(&p, "username").map(str::to_owned))
    }

    /// Checks an attempt; on success its `nc` is remembered, so it works once.
    pub fn verify(&self, attempt: &Attempt<'_>) -> Result<(), Refusal> {
        let params = params(attempt.authorization).ok_or(Refusal::Unknown)?;
        let get = |name| param(&params, name).ok_or(Refusal::Wrong);
        let nonce = param(&params, "nonce").ok_or(Refusal::Unknown)?;
        let issued = nonce
            .split_once('.')
            .and_then(|(stamp, _)| u64::from_str_radix(stamp, 16).ok())
            .filter(|at| self.nonce_at(*at, attempt.source) == nonce)
            .ok_or(Refusal::Unknown)?;
        let password = attempt.password.ok_or(Refusal::Wrong)?;
        if get("username")? != attempt.username || get("realm")? != attempt.realm {
            return Err(Refusal::Wrong);
        }
        if param(&params, "algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
            return Err(Refusal::Wrong);
        }
        let uri = get("uri")?;
        if !same_resource(uri, attempt.request_uri) {
            return Err(Refusal::Wrong);
        }
        if get("qop")? != "auth" {
            return Err(Refusal::Wrong);
        }
        let nc_text = get("nc")?;
        let nc = u32::from_str_radix(nc_text, 16).map_err(|_| Refusal::Wrong)?;
        let ha1 = md5_hex(&[attempt.username, attempt.realm, password]);
        let ha2 = md5_hex(&[attempt.method, uri]);
        let expected = md5_hex(&[&ha1, nonce, nc_text, get("cnonce")?, "auth", &ha2]);
        if !constant_time_eq(expected.as_bytes(), get("response")?.as_bytes()) {
            return Err(Refusal::Wrong);
        }
        let now = unix_now();
        if now.saturating_sub(issued) > NONCE_LIFETIME_SECONDS {
            return Err(Refusal::Stale);
        }
        self.count(nonce, nc, issued, now)
    }

    /// Accepts `nc` on `nonce` only if it is higher than any accepted before.
    fn count(&self, nonce: &str, nc: u32, issued: u64, now: u64) -> Result<(), Refusal> {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((highest, _)) = counts.get_mut(nonce) {
            if nc <= *highest {
                return Err(Refusal::Wrong);
            }
            *highest = nc;
            return Ok(());
        }
        if counts.len() >= MAX_TRACKED_NONCES {
            counts.retain(|_, (_, at)| now.saturating_sub(*at) <= NONCE_LIFETIME_SECONDS);
            if counts.len() >= MAX_TRACKED_NONCES {
                return Err(Refusal::Stale);
            }
        }
        counts.insert(nonce.to_owned(), (nc, issued));
        Ok(())
    }
}

/// Whether a digest `uri` names the request-URI (RFC 2617 §3.2.2.5): the same URI, or
/// its host and port without the user part, as sipp and some gateways write it. A
/// response computed for another number, host or port is refused.
fn same_resource(uri: &str, request_uri: &Uri) -> bool {
    let Ok(uri) = uri.parse::<Uri>() else { return false };
    if &uri == request_uri {
        return true;
    }
    match (&uri, request_uri) {
        (Uri::Sip(given), Uri::Sip(request)) => {
            given.user.is_none()
                && given.secure == request.secure
                && given.host == request.host
                && given.port == request.port
        }
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The Authorization value answering `challenge` (a WWW- or Proxy-Authenticate value)
/// for a request with `method` to `uri`; `None` when the challenge is not MD5 Digest.
pub fn answer(
    challenge: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
) -> Option<String> {
    answer_counted(challenge, method, uri, username, password, 1)
}

/// [`answer`] with the nonce count `nc`: a server may hand several requests the same
/// nonce, and accepts each count once, rising.
pub fn answer_counted(
    challenge: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    nc: u32,
) -> Option<String> {
    let cnonce = format!("{:016x}", rand::random::<u64>());
    answer_with_cnonce(challenge, method, uri, username, password, &cnonce, nc)
}

fn answer_with_cnonce(
    challenge: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Option<String> {
    let params = params(challenge)?;
    if param(&params, "algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
        return None;
    }
    let realm = param(&params, "realm")?;
    let nonce = param(&params, "nonce")?;
    let ha1 = md5_hex(&[username, realm, password]);
    let ha2 = md5_hex(&[method, uri]);
    let opaque = param(&params, "opaque").map(|o| format!(", opaque=\"{o}\"")).unwrap_or_default();
    let offers_auth =
        param(&params, "qop").is_some_and(|q| q.split(',').any(|q| q.trim() == "auth"));
    let base = format!(
        "Digest username=\"{username}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm=MD5"
    );
    if offers_auth {
        let nc = format!("{nc:08x}");
        let response = md5_hex(&[&ha1, nonce, &nc, cnonce, "auth", &ha2]);
        Some(format!(
            "{base}, response=\"{response}\", qop=auth, nc={nc}, cnonce=\"{cnonce}\"{opaque}"
        ))
    } else {
        let response = md5_hex(&[&ha1, nonce, &ha2]);
        Some(format!("{base}, response=\"{response}\"{opaque}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7));

    fn attempt<'a>(authorization: &'a str, uri: &'a Uri, password: Option<&'a str>) -> Attempt<'a> {
        Attempt {
            authorization,
            method: "INVITE",
            request_uri: uri,
            realm: "bidline",
            username: "carrier",
            password,
            source: SOURCE,
        }
    }

    #[test]
    fn our_answer_to_our_challenge_verifies_once() {
        let server = Server::new([7; 16]);
        let uri: Uri = "sip:+1555@edge".parse().unwrap();
        let challenge = server.challenge("bidline", SOURCE, false);
        let authorization =
            answer(&challenge, "INVITE", "sip:+1555@edge", "carrier", "s3cret").unwrap();
        assert_eq!(Server::username(&authorization).as_deref(), Some("carrier"));
        assert_eq!(
            server.verify(&attempt(&authorization, &uri, Some("wrong"))),
            Err(Refusal::Wrong)
        );
        assert_eq!(server.verify(&attempt(&authorization, &uri, None)), Err(Refusal::Wrong));
        let bye = Attempt { method: "BYE", ..attempt(&authorization, &uri, Some("s3cret")) };
        assert_eq!(server.verify(&bye), Err(Refusal::Wrong));
        assert_eq!(server.verify(&attempt(&authorization, &uri, Some("s3cret"))), Ok(()));
        assert_eq!(
            server.verify(&attempt(&authorization, &uri, Some("s3cret"))),
            Err(Refusal::Wrong),
            "the same nc again is a replay"
        );
        let other = Server::new([8; 16]);
        assert_eq!(
            other.verify(&attempt(&authorization, &uri, Some("s3cret"))),
            Err(Refusal::Unknown)
        );
    }

    #[test]
    fn credentials_hold_only_for_their_source_and_request_uri() {
        let server = Server::new([7; 16]);
        let uri: Uri = "sip:+1555@edge".parse().unwrap();
        let challenge = server.challenge("bidline", SOURCE, false);
        let authorization =
            answer(&challenge, "INVITE", "sip:+1555@edge", "carrier", "s3cret").unwrap();
        let elsewhere = Attempt {
            source: "198.51.100.9".parse().unwrap(),
            ..attempt(&authorization, &uri, Some("s3cret"))
        };
        assert_eq!(server.verify(&elsewhere), Err(Refusal::Unknown));
        let other_number: Uri = "sip:+1666@edge".parse().unwrap();
        assert_eq!(
            server.verify(&attempt(&authorization, &other_number, Some("s3cret"))),
            Err(Refusal::Wrong)
        );
        assert!(same_resource("sip:edge:5060", &"sip:+1555@edge:5060".parse().unwrap()));
        assert!(!same_resource("sip:edge:5061", &"sip:+1555@edge:5060".parse().unwrap()));
        assert!(!same_resource("sip:other:5060", &"sip:+1555@edge:5060".parse().unwrap()));
    }

    #[test]
    fn an_old_nonce_is_stale_and_no_qop_is_refused() {
        let server = Server::new([7; 16]);
        let uri: Uri = "sip:x@y".parse().unwrap();
        let old = unix_now() - NONCE_LIFETIME_SECONDS - 10;
        let challenge = format!(
            "Digest realm=\"bidline\", nonce=\"{}\", qop=\"auth\"",
            server.nonce_at(old, SOURCE)
        );
        let authorization = answer(&challenge, "INVITE", "sip:x@y", "carrier", "p").unwrap();
        assert_eq!(server.verify(&attempt(&authorization, &uri, Some("p"))), Err(Refusal::Stale));

        let fresh =
            format!("Digest realm=\"bidline\", nonce=\"{}\"", server.nonce_at(unix_now(), SOURCE));
        let without_qop = answer(&fresh, "INVITE", "sip:x@y", "carrier", "p").unwrap();
        assert_eq!(server.verify(&attempt(&without_qop, &uri, Some("p"))), Err(Refusal::Wrong));
    }

    #[test]
    fn answers_the_rfc_2617_example() {
        let challenge = "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
                         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
        let value = answer_with_cnonce(
            challenge,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle Of Life",
            "0a4f113b",
            1,
        )
        .unwrap();
        assert!(value.contains("response=\"6629fae49393a05397450978507c4ef1\""), "{value}");
        assert!(value.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    }
}
