//! Digest authentication (RFC 3261 §22.4 with RFC 2617's MD5 and `qop=auth`): we
//! challenge carriers whose trunk has credentials, and answer buyers' and outbound
//! trunks' challenges.
//!
//! Our nonces are stateless, as RFC 2617 §3.2.1 suggests: a timestamp and a keyed hash of
//! it, so any shard can check any nonce and an old one is recognised as stale.

use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};

use crate::wire::headers::split_list;

/// How long a nonce we issued stays good.
const NONCE_LIFETIME_SECONDS: u64 = 300;

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

/// Issues and checks nonces with a key of its own.
#[derive(Clone, Debug)]
pub struct Server {
    key: [u8; 16],
}

/// Why credentials were not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// None given, or not for this realm, or wrong.
    Invalid,
    /// Right, but with a nonce too old: challenge again with `stale=true`.
    Stale,
}

impl Server {
    pub fn new(key: [u8; 16]) -> Server {
        Server { key }
    }

    fn nonce_at(&self, seconds: u64) -> String {
        let stamp = format!("{seconds:x}");
        let key: String = self.key.iter().map(|b| format!("{b:02x}")).collect();
        format!("{stamp}.{}", md5_hex(&[&stamp, &key]))
    }

    /// A WWW-Authenticate value for `realm`.
    pub fn challenge(&self, realm: &str, stale: bool) -> String {
        let stale = if stale { ", stale=true" } else { "" };
        format!(
            "Digest realm=\"{realm}\", nonce=\"{}\", algorithm=MD5, qop=\"auth\"{stale}",
            self.nonce_at(unix_now())
        )
    }

    /// The username of an Authorization value, to look the password up.
    pub fn username(authorization: &str) -> Option<String> {
        params(authorization).and_then(|p| param(&p, "username").map(str::to_owned))
    }

    /// Checks an Authorization value for a request with `method`.
    pub fn verify(
        &self,
        authorization: &str,
        method: &str,
        realm: &str,
        username: &str,
        password: &str,
    ) -> Result<(), Refusal> {
        let params = params(authorization).ok_or(Refusal::Invalid)?;
        let get = |name| param(&params, name).ok_or(Refusal::Invalid);
        if get("username")? != username || get("realm")? != realm {
            return Err(Refusal::Invalid);
        }
        if param(&params, "algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
            return Err(Refusal::Invalid);
        }
        let nonce = get("nonce")?;
        let uri = get("uri")?;
        let ha1 = md5_hex(&[username, realm, password]);
        let ha2 = md5_hex(&[method, uri]);
        let expected = match param(&params, "qop") {
            Some(qop) => md5_hex(&[&ha1, nonce, get("nc")?, get("cnonce")?, qop, &ha2]),
            None => md5_hex(&[&ha1, nonce, &ha2]),
        };
        if !constant_time_eq(expected.as_bytes(), get("response")?.as_bytes()) {
            return Err(Refusal::Invalid);
        }
        let issued =
            nonce.split_once('.').and_then(|(stamp, _)| u64::from_str_radix(stamp, 16).ok());
        match issued {
            Some(at) if self.nonce_at(at) == nonce => {
                if unix_now().saturating_sub(at) > NONCE_LIFETIME_SECONDS {
                    Err(Refusal::Stale)
                } else {
                    Ok(())
                }
            }
            _ => Err(Refusal::Invalid),
        }
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
    answer_with_cnonce(
        challenge,
        method,
        uri,
        username,
        password,
        &format!("{:016x}", rand::random::<u64>()),
    )
}

fn answer_with_cnonce(
    challenge: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
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
        let response = md5_hex(&[&ha1, nonce, "00000001", cnonce, "auth", &ha2]);
        Some(format!(
            "{base}, response=\"{response}\", qop=auth, nc=00000001, cnonce=\"{cnonce}\"{opaque}"
        ))
    } else {
        let response = md5_hex(&[&ha1, nonce, &ha2]);
        Some(format!("{base}, response=\"{response}\"{opaque}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_answer_to_our_challenge_verifies() {
        let server = Server::new([7; 16]);
        let challenge = server.challenge("bidline", false);
        let authorization =
            answer(&challenge, "INVITE", "sip:+1555@edge", "carrier", "s3cret").unwrap();
        assert_eq!(Server::username(&authorization).as_deref(), Some("carrier"));
        assert_eq!(server.verify(&authorization, "INVITE", "bidline", "carrier", "s3cret"), Ok(()));
        assert_eq!(
            server.verify(&authorization, "INVITE", "bidline", "carrier", "wrong"),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            server.verify(&authorization, "BYE", "bidline", "carrier", "s3cret"),
            Err(Refusal::Invalid)
        );
        let other = Server::new([8; 16]);
        assert_eq!(
            other.verify(&authorization, "INVITE", "bidline", "carrier", "s3cret"),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn an_old_nonce_is_stale() {
        let server = Server::new([7; 16]);
        let old = unix_now() - NONCE_LIFETIME_SECONDS - 10;
        let challenge =
            format!("Digest realm=\"r\", nonce=\"{}\", qop=\"auth\"", server.nonce_at(old));
        let authorization = answer(&challenge, "INVITE", "sip:x@y", "u", "p").unwrap();
        assert_eq!(server.verify(&authorization, "INVITE", "r", "u", "p"), Err(Refusal::Stale));
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
        )
        .unwrap();
        assert!(value.contains("response=\"6629fae49393a05397450978507c4ef1\""), "{value}");
        assert!(value.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    }
}
