//! Signatures on webhooks: `Bidline-Signature: t=<unix seconds>,v1=<hex>` where the hex is
//! HMAC-SHA256, keyed with the endpoint's secret (its UTF-8 bytes), of `<t>.<raw body>`.
//! While a rotated-out secret is still honoured, a second `v1=` signs with it too, so a
//! receiver holding either secret accepts. Receivers should refuse a `t` far from their
//! clock (five minutes is usual), which stops replays.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::accounts::tokens;

pub const HEADER: &str = "Bidline-Signature";

/// A new signing secret: `whsec_` and 40 random letters and digits.
pub fn new_secret() -> String {
    tokens::generate("whsec_")
}

/// The HMAC of `<timestamp>.<body>` under `secret`, ready to finish or verify.
fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("{:x}", mac(secret, timestamp, body).finalize().into_bytes())
}

/// The header's value for `body` sent at `timestamp`, signed with every secret given
/// (the current one first).
pub fn header(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        value.push_str(",v1=");
        value.push_str(&sign(secret, timestamp, body));
    }
    value
}

/// Why a signature is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches the secret")]
    Mismatch,
}

/// What a receiver does: the header must carry a `t` within `tolerance_seconds` of `now`
/// and a `v1` that `secret` produces for `body`. (Bidline's tests check its deliveries
/// with this; the README shows the same in Python.)
pub fn verify(
    value: &str,
    secret: &str,
    body: &[u8],
    now: i64,
    tolerance_seconds: i64,
) -> Result<(), Refused> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.parse::<i64>().map_err(|_| Refused::Malformed)?),
            Some(("v1", signature)) => signatures.push(signature),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Refused::Malformed)?;
    if (now - timestamp).abs() > tolerance_seconds {
        return Err(Refused::Stale);
    }
    // Compared in constant time: HMAC's verify does that on the raw bytes.
    let matches = |signature: &str| {
        let Some(bytes) = decode_hex(signature) else { return false };
        mac(secret, timestamp, body).verify_slice(&bytes).is_ok()
    };
    if signatures.into_iter().any(matches) { Ok(()) } else { Err(Refused::Mismatch) }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"event":"call.completed"}"#;

    #[test]
    fn a_signature_verifies_with_its_secret_only_and_only_while_fresh() {
        let value = header(&["whsec_a"], 1_700_000_000, BODY);
        assert!(value.starts_with("t=1700000000,v1="));
        assert_eq!(verify(&value, "whsec_a", BODY, 1_700_000_100, 300), Ok(()));
        assert_eq!(verify(&value, "whsec_b", BODY, 1_700_000_100, 300), Err(Refused::Mismatch));
        assert_eq!(verify(&value, "whsec_a", b"{}", 1_700_000_100, 300), Err(Refused::Mismatch));
        assert_eq!(verify(&value, "whsec_a", BODY, 1_700_000_301, 300), Err(Refused::Stale));
        assert_eq!(verify("v1=00", "whsec_a", BODY, 0, 300), Err(Refused::Malformed));
    }

    #[test]
    fn during_a_rotation_either_secret_verifies() {
        let value = header(&["whsec_new", "whsec_old"], 1_700_000_000, BODY);
        assert_eq!(value.matches("v1=").count(), 2);
        assert_eq!(verify(&value, "whsec_new", BODY, 1_700_000_000, 300), Ok(()));
        assert_eq!(verify(&value, "whsec_old", BODY, 1_700_000_000, 300), Ok(()));
        assert_eq!(verify(&value, "whsec_other", BODY, 1_700_000_000, 300), Err(Refused::Mismatch));
    }
}
