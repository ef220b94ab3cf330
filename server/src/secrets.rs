//! Secrets at rest (trunk passwords): sealed with XChaCha20-Poly1305 under the server's
//! secret key, which comes from configuration and never enters the database.
//!
//! A sealed value is `v1.` and the base64 of a random 24-byte nonce followed by the
//! ciphertext. The associated data names the row and field it belongs to, so a sealed
//! value copied into another row does not open there.
//!
//! The key is installed once at start ([`install`]); [`secret_key_check`] proves at each
//! start that it is the key the stored secrets were sealed with, so a wrong key stops the
//! server instead of quietly sealing new secrets under a second key.

use std::{path::Path, sync::OnceLock};

use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD as BASE64};
use chacha20poly1305::{
    AeadCore, KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, OsRng, Payload},
};

use crate::db::{Db, with_pool};

const PREFIX: &str = "v1.";
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no secret key is installed")]
    NoKey,
    #[error("a sealed secret does not open with this secret key")]
    WrongKey,
    #[error("the secret key must be 32 bytes as 64 hex digits or base64")]
    BadKey,
    #[error("cannot read or create the secret key file {path}: {source}")]
    KeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "this secret key does not open the secrets in the database: \
         start every node with the key they were sealed with (BIDLINE_SECRET_KEY)"
    )]
    Mismatch,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The server's secret key. Prints as `SecretKey(…)`, never its bytes.
#[derive(Clone)]
pub struct SecretKey(chacha20poly1305::Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// 64 hex digits or the base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap()).collect()
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| BASE64.decode(text))
                .map_err(|_| SecretError::BadKey)?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self(key.into()))
    }

    pub fn generate() -> Self {
        Self(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// The key in `path`, or a new one written there (owner-only) when the file is absent.
    pub fn from_file(path: &Path) -> Result<(Self, bool), SecretError> {
        let failed = |source| SecretError::KeyFile { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Self::parse(&text)?, false)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder).map_err(failed)?;
                }
                write_private(path, &key.to_hex()).map_err(failed)?;
                Ok((key, true))
            }
            Err(error) => Err(failed(error)),
        }
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n"
    }

    /// `plain` sealed for `context` (which row and field it belongs to).
    pub fn seal(&self, plain: &str, context: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = XChaCha20Poly1305::new(&self.0)
            .encrypt(&nonce, Payload { msg: plain.as_bytes(), aad: context })
            .expect("sealing a short text cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", BASE64.encode(bytes))
    }

    /// What [`seal`](Self::seal) made for the same `context`.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<String, SecretError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|text| BASE64.decode(text).ok())
            .filter(|bytes| bytes.len() > NONCE_LEN)
            .ok_or(SecretError::WrongKey)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = XChaCha20Poly1305::new(&self.0)
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context })
            .map_err(|_| SecretError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SecretError::WrongKey)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

static KEY: OnceLock<SecretKey> = OnceLock::new();

/// Makes `key` the process's secret key; the first installed key stays.
pub fn install(key: SecretKey) {
    let _ = KEY.set(key);
}

/// The installed key.
pub fn key() -> Result<&'static SecretKey, SecretError> {
    KEY.get().ok_or(SecretError::NoKey)
}

const CHECK_TEXT: &str = "bidline secret key check";
const CHECK_CONTEXT: &[u8] = b"secret_key_check";

/// Seals a known text on the first start and opens it on every later one.
pub async fn secret_key_check(db: &Db, key: &SecretKey) -> Result<(), SecretError> {
    let sealed = key.seal(CHECK_TEXT, CHECK_CONTEXT);
    let stored: String = with_pool!(db, pool => {
        sqlx::query("INSERT INTO secret_key_check (id, sealed) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
            .bind(&sealed)
            .execute(pool)
            .await?;
        sqlx::query_scalar("SELECT sealed FROM secret_key_check WHERE id = 1").fetch_one(pool).await
    })?;
    match key.open(&stored, CHECK_CONTEXT) {
        Ok(text) if text == CHECK_TEXT => Ok(()),
        _ => Err(SecretError::Mismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_in_its_place() {
        let key = SecretKey::generate();
        let sealed = key.seal("hunter2", b"trunk 1 password");
        assert!(sealed.starts_with("v1.") && !sealed.contains("hunter2"));
        assert_ne!(sealed, key.seal("hunter2", b"trunk 1 password"), "a fresh nonce each time");
        assert_eq!(key.open(&sealed, b"trunk 1 password").unwrap(), "hunter2");
        assert!(matches!(key.open(&sealed, b"trunk 2 password"), Err(SecretError::WrongKey)));
        assert!(matches!(
            SecretKey::generate().open(&sealed, b"trunk 1 password"),
            Err(SecretError::WrongKey)
        ));
    }

    #[test]
    fn keys_are_read_as_hex_or_base64_and_never_printed() {
        let hex = "00".repeat(31) + "ff";
        let from_hex = SecretKey::parse(&hex).unwrap();
        let from_base64 = SecretKey::parse(
            &base64::engine::general_purpose::STANDARD
                .encode([[0u8; 31].as_slice(), &[0xff]].concat()),
        )
        .unwrap();
        assert_eq!(from_hex.0, from_base64.0);
        assert!(matches!(SecretKey::parse("short"), Err(SecretError::BadKey)));
        assert_eq!(format!("{from_hex:?}"), "SecretKey(…)");
    }

    #[test]
    fn a_key_file_is_created_once_and_read_back() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("keys/secret.key");
        let (first, created) = SecretKey::from_file(&path).unwrap();
        assert!(created);
        let (again, created) = SecretKey::from_file(&path).unwrap();
        assert!(!created);
        assert_eq!(first.0, again.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
