//! The tokens a TikTok Shop source obtained by refreshing, kept across restarts and
//! replicas. TikTok may rotate the refresh token at every refresh; once it has, the one in
//! the configuration may no longer work, so the new pair is written to the shop's store
//! ([`crate::store::ShopStore::put_credentials`]) before it is used, sealed:
//! ChaCha20-Poly1305 under a key derived from the app secret (HMAC-SHA256 of the secret
//! and a fixed label), with a random nonce each time. Whoever reads the store without the
//! configuration learns nothing and can forge nothing; a changed app secret makes the sealed
//! pair unreadable, and the configured tokens are used again.
//!
//! A sealed pair remembers which configured refresh token it descends from (its SHA-256):
//! when the operator puts a new refresh token in the configuration (the shop was
//! authorised again), the configured pair wins over the stored one.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the label of the key derivation says; a new format gets a new label.
const KEY_LABEL: &[u8] = b"laris tiktok_shop credentials v1";
const NONCE_LEN: usize = 12;

/// A refreshed token pair as the store keeps it, once opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    /// Hex SHA-256 of the configured refresh token this pair descends from ([`origin`]).
    pub origin: String,
    pub access: String,
    pub refresh: String,
    pub obtained_at: DateTime<Utc>,
}

/// Why a sealed pair cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("the stored credentials are too short to be sealed tokens ({0} bytes)")]
    Short(usize),
    #[error("the stored credentials do not open with this app_secret (it changed since they were sealed, or they were altered)")]
    Refused,
    #[error("the stored credentials opened but are not a token pair: {0}")]
    Format(String),
}

/// Seals and opens token pairs with a key derived from one app secret.
pub struct Vault {
    cipher: ChaCha20Poly1305,
}

impl Vault {
    pub fn new(app_secret: &str) -> Vault {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app_secret.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(KEY_LABEL);
        let key = mac.finalize().into_bytes();
        Vault {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// A random nonce, then the sealed JSON of `tokens`.
    pub fn seal(&self, tokens: &StoredTokens) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let plain = serde_json::to_vec(tokens).expect("a token pair serialises");
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
            .expect("ChaCha20-Poly1305 seals any message this size");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, bytes: &[u8]) -> Result<StoredTokens, VaultError> {
        if bytes.len() <= NONCE_LEN {
            return Err(VaultError::Short(bytes.len()));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| VaultError::Refused)?;
        serde_json::from_slice(&plain).map_err(|e| VaultError::Format(e.to_string()))
    }
}

/// The origin of tokens refreshed from a configured refresh token (none configured: the
/// digest of nothing).
pub fn origin(configured_refresh: Option<&str>) -> String {
    hex::encode(Sha256::digest(configured_refresh.unwrap_or("").as_bytes()))
}

/// The name the store keeps a source's tokens under: the token host, the app and the shop,
/// digested, so that reordering `[[shops.sources]]` keeps it and no id is spelled out.
pub fn credential_name(auth_url: &str, app_key: &str, shop_cipher: &str) -> String {
    let mut h = Sha256::new();
    for part in [auth_url, app_key, shop_cipher] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    format!("tiktok_shop-{}", &hex::encode(h.finalize())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> StoredTokens {
        StoredTokens {
            origin: origin(Some("RT_first")),
            access: "AT_2".into(),
            refresh: "RT_2".into(),
            obtained_at: "2026-12-06T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_sealed_pair_opens_with_the_same_secret_only() {
        let sealed = Vault::new("secret-1").seal(&pair());
        assert_eq!(Vault::new("secret-1").open(&sealed).unwrap(), pair());
        assert_eq!(Vault::new("secret-2").open(&sealed), Err(VaultError::Refused));
    }

    #[test]
    fn the_tokens_are_not_readable_in_the_sealed_bytes_and_each_seal_differs() {
        let vault = Vault::new("secret-1");
        let a = vault.seal(&pair());
        let b = vault.seal(&pair());
        assert_ne!(a, b, "a fresh nonce each time");
        let text = String::from_utf8_lossy(&a);
        assert!(!text.contains("RT_2") && !text.contains("AT_2"));
    }

    #[test]
    fn altered_or_cut_bytes_are_refused_not_misread() {
        let vault = Vault::new("s");
        let mut sealed = vault.seal(&pair());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(vault.open(&sealed), Err(VaultError::Refused));
        assert_eq!(vault.open(&[1, 2, 3]), Err(VaultError::Short(3)));
    }

    #[test]
    fn names_depend_on_the_app_and_shop_and_origins_on_the_refresh_token() {
        let a = credential_name("https://auth.tiktok-shops.com", "app", "ROW_1");
        assert!(a.starts_with("tiktok_shop-") && a.len() == "tiktok_shop-".len() + 16);
        assert_ne!(
            a,
            credential_name("https://auth.tiktok-shops.com", "app", "ROW_2")
        );
        assert_ne!(
            a,
            credential_name("https://auth.tiktok-shops.co", "mapp", "ROW_1")
        );
        assert_ne!(origin(Some("RT_1")), origin(Some("RT_2")));
        assert_eq!(origin(None), origin(Some("")));
    }
}
