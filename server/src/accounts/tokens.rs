//! Secrets handed to people once (API keys, invitation links) and kept only as digests.
//!
//! They carry ~238 bits of randomness, so a plain SHA-256 is the right digest: nothing
//! can be guessed, and looking a key up by its digest is one indexed read per request.

use rand::{Rng, distr::Alphanumeric};
use sha2::{Digest, Sha256};

const RANDOM_CHARS: usize = 40;

/// `prefix` followed by 40 random letters and digits.
pub fn generate(prefix: &str) -> String {
    let random: String =
        rand::rng().sample_iter(&Alphanumeric).take(RANDOM_CHARS).map(char::from).collect();
    format!("{prefix}{random}")
}

pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_their_digests_stable() {
        let (a, b) = (generate("bl_"), generate("bl_"));
        assert!(a.starts_with("bl_") && a.len() == 43, "{a}");
        assert_ne!(a, b);
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
    }
}
