//! Job secrets: values submitted with a job that a resumed step needs again (a
//! clone token) but that nobody may read back. They are sealed with
//! ChaCha20-Poly1305 under a key that lives outside the database, with the job
//! id and the secret's name as associated data, so a sealed value copied to
//! another job or name does not open.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use uuid::Uuid;

use crate::error::{EngineError, Result};

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// The 32-byte key secrets are sealed with. Its `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey(Key);

impl SecretKey {
    /// Parses a key written as 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = hex::decode(text.trim()).map_err(|_| {
            EngineError::Config("the secrets key must be 64 hex characters (32 bytes)".into())
        })?;
        let bytes: [u8; KEY_LEN] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            EngineError::Config(format!(
                "the secrets key must be 32 bytes (64 hex characters), got {} bytes",
                bytes.len()
            ))
        })?;
        Ok(Self(Key::from(bytes)))
    }

    /// A fresh random key, as hex (what a new installation stores).
    pub fn generate_hex() -> String {
        let mut bytes = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    pub(crate) fn seal(&self, job_id: Uuid, name: &str, plaintext: &str) -> SealedSecret {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = associated_data(job_id, name);
        let ciphertext = ChaCha20Poly1305::new(&self.0)
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("ChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        SealedSecret {
            name: name.to_owned(),
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    pub(crate) fn open(&self, job_id: Uuid, sealed: &SealedSecret) -> Result<String> {
        let undecryptable = || {
            EngineError::Config(format!(
                "job secret {:?} cannot be decrypted with the configured secrets key \
                 (was the key changed since the job was submitted?)",
                sealed.name
            ))
        };
        let nonce: [u8; NONCE_LEN] = sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| undecryptable())?;
        let aad = associated_data(job_id, &sealed.name);
        let plaintext = ChaCha20Poly1305::new(&self.0)
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| undecryptable())?;
        String::from_utf8(plaintext).map_err(|_| undecryptable())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

fn associated_data(job_id: Uuid, name: &str) -> Vec<u8> {
    let mut aad = job_id.as_bytes().to_vec();
    aad.extend_from_slice(name.as_bytes());
    aad
}

/// A secret as stored: only the key opens it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub name: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret({:?}, ***)", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secret_opens_only_for_its_job_and_name() {
        let key = SecretKey::from_hex(&SecretKey::generate_hex()).unwrap();
        let job = Uuid::now_v7();
        let sealed = key.seal(job, "github_token", "ghp_secret");
        assert!(!sealed.ciphertext.windows(10).any(|w| w == b"ghp_secret"));
        assert_eq!(key.open(job, &sealed).unwrap(), "ghp_secret");
        assert!(key.open(Uuid::now_v7(), &sealed).is_err());
        let renamed = SealedSecret {
            name: "other".into(),
            ..sealed.clone()
        };
        assert!(key.open(job, &renamed).is_err());
        let other_key = SecretKey::from_hex(&SecretKey::generate_hex()).unwrap();
        assert!(other_key.open(job, &sealed).is_err());
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
    }

    #[test]
    fn key_must_be_32_hex_bytes() {
        assert!(SecretKey::from_hex("abcd").is_err());
        assert!(SecretKey::from_hex(&"zz".repeat(32)).is_err());
    }
}
