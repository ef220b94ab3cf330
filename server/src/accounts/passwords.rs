//! Passwords: the policy a new password must meet, and argon2id hashing.
//!
//! Hashing is deliberately slow, so it runs on the blocking pool, never on the async
//! workers. A sign-in with an unknown email still verifies against a fixed hash
//! ([`verify_unknown`]), so it takes as long as a wrong password does.

use std::sync::LazyLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};

pub const MIN_LENGTH: usize = 10;
/// Long enough for any passphrase, short enough that hashing it costs nothing extra.
pub const MAX_LENGTH: usize = 256;

const COMMON: &str = include_str!("common_passwords.txt");

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("must be at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("must be at most {MAX_LENGTH} characters")]
    TooLong,
    #[error("is one of the most common passwords; choose another")]
    Common,
    #[error("must not contain your email address")]
    ContainsEmail,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Whether `password` may be set for the user with `email`.
pub fn check_policy(password: &str, email: &str) -> Result<(), PolicyError> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(PolicyError::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(PolicyError::TooLong);
    }
    let lower = password.to_lowercase();
    let one_character_repeated = lower.chars().all(|c| lower.starts_with(c));
    if one_character_repeated || is_common(&lower) {
        return Err(PolicyError::Common);
    }
    let local_part = email.split('@').next().unwrap_or_default().to_lowercase();
    if local_part.len() >= 4 && lower.contains(&local_part) {
        return Err(PolicyError::ContainsEmail);
    }
    Ok(())
}

fn is_common(lower: &str) -> bool {
    COMMON.lines().filter(|line| !line.starts_with('#')).any(|line| line == lower)
}

/// A random password that meets the policy, for operator resets: 20 letters and digits.
pub fn generate() -> String {
    use rand::{Rng, distr::Alphanumeric};
    rand::rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect()
}

/// An argon2id PHC string (`$argon2id$v=19$m=…`) with a random salt.
pub async fn hash(password: &str) -> Result<String, HashError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Whether `password` matches the stored `hash`. A malformed hash never matches.
pub async fn verify(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// Spends the time of one verification and fails: for sign-ins with an unknown email.
pub async fn verify_unknown(password: &str) -> bool {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"no user has this password", &salt)
            .expect("hash a constant")
            .to_string()
    });
    let dummy = tokio::task::spawn_blocking(|| DUMMY.clone()).await.unwrap_or_default();
    verify(password, &dummy).await;
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_short_common_and_self_describing_passwords() {
        let email = "dana.ops@network.example";
        assert_eq!(check_policy("short", email), Err(PolicyError::TooShort));
        assert_eq!(check_policy(&"x".repeat(257), email), Err(PolicyError::TooLong));
        assert_eq!(check_policy("Password123", email), Err(PolicyError::Common));
        assert_eq!(check_policy("aaaaaaaaaaaa", email), Err(PolicyError::Common));
        assert_eq!(check_policy("my-Dana.Ops-secret", email), Err(PolicyError::ContainsEmail));
        assert_eq!(check_policy("correct horse battery", email), Ok(()));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hash = hash("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify("correct horse battery", &hash).await);
        assert!(!verify("correct horse battery!", &hash).await);
        assert!(!verify("correct horse battery", "not a hash").await);
        assert!(!verify_unknown("correct horse battery").await);
    }
}
