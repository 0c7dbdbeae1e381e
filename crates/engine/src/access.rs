//! API tokens: created with a random secret shown once, kept only as a
//! SHA-256 digest, looked up by that digest, revocable, optionally expiring.
//! What a token's role allows is the API's business; the engine stores it.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::store::TokenRecord;

/// Every secret starts with this, so scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "dfl_";

/// Longest token name accepted.
const MAX_NAME_LEN: usize = 64;

/// A token just created: its record and its secret, which is not stored.
#[derive(Debug)]
pub struct CreatedToken {
    pub record: TokenRecord,
    pub secret: String,
}

/// The digest a token's secret is stored and looked up under.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

impl Engine {
    /// Creates a token called `name` with `role`, valid until `expires_at`
    /// (or until revoked).
    pub async fn create_token(
        &self,
        name: &str,
        role: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedToken> {
        let valid_name = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
        if !valid_name {
            return Err(EngineError::InvalidInput(format!(
                "a token name is 1 to {MAX_NAME_LEN} letters, digits, '-', '_', '.' or '@', got {name:?}"
            )));
        }
        let secret = new_secret();
        let record = TokenRecord {
            name: name.to_owned(),
            role: role.to_owned(),
            digest: digest(&secret),
            created_at: Utc::now(),
            expires_at,
            revoked_at: None,
        };
        if !self.queue().insert_token(&record).await? {
            return Err(EngineError::InvalidInput(format!(
                "a token named {name:?} exists already (names stay taken after revocation)"
            )));
        }
        Ok(CreatedToken { record, secret })
    }

    /// The live token whose secret is `secret`: not revoked, not expired.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<TokenRecord>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let now = Utc::now();
        Ok(self
            .queue()
            .token_by_digest(&digest(secret))
            .await?
            .filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|at| at > now)))
    }

    /// Every token, without secrets.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.queue().list_tokens().await
    }

    /// Revokes the token called `name`; false when there is no live one.
    pub async fn revoke_token(&self, name: &str) -> Result<bool> {
        self.queue().revoke_token(name).await
    }
}
