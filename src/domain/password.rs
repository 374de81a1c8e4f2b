//! Admin passwords: argon2id hashes in PHC string form, parsed once (the config and the
//! password files hold them), made and checked here. No web or store code.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use thiserror::Error;

/// The user name that sees every shop.
pub const ADMIN_USER: &str = "admin";
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, Error)]
pub enum PasswordError {
    #[error("the password has {chars} characters: use at least {MIN_PASSWORD_CHARS}")]
    TooShort { chars: usize },
    #[error("not an argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash): {0}")]
    BadHash(String),
    #[error("hashing the password failed: {0}")]
    Hashing(String),
}

/// An argon2id password hash in PHC string format, checked to be usable for verifying.
#[derive(Clone, PartialEq, Eq)]
pub struct PhcHash(String);

impl PhcHash {
    pub fn parse(raw: &str) -> Result<PhcHash, PasswordError> {
        let raw = raw.trim();
        let parsed = PasswordHash::new(raw).map_err(|e| PasswordError::BadHash(e.to_string()))?;
        if parsed.algorithm != argon2::Algorithm::Argon2id.ident() {
            return Err(PasswordError::BadHash(format!(
                "it is a {} hash",
                parsed.algorithm
            )));
        }
        if parsed.hash.is_none() {
            return Err(PasswordError::BadHash("the hash part is missing".into()));
        }
        argon2::Params::try_from(&parsed)
            .map_err(|e| PasswordError::BadHash(format!("its parameters: {e}")))?;
        Ok(PhcHash(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shows the algorithm only: a hash in a log helps someone guessing the password offline.
impl std::fmt::Debug for PhcHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhcHash($argon2id$…)")
    }
}

/// Hashes a new password with argon2id, its default parameters and a random salt.
pub fn hash_password(plain: &str) -> Result<PhcHash, PasswordError> {
    let chars = plain.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort { chars });
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    PhcHash::parse(&hash.to_string())
}

/// Whether `plain` is the password `phc` was made from (argon2 compares in constant time).
pub fn verify_password(plain: &str, phc: &PhcHash) -> bool {
    match PasswordHash::new(&phc.0) {
        Ok(parsed) => Argon2::default()
            .verify_password(plain.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash with tiny argon2 parameters, for tests: verifying it is instant even in a debug
/// build, and it goes through the same parsing and checking as a real one.
#[cfg(test)]
pub(crate) fn cheap_hash(plain: &str) -> PhcHash {
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let argon = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    PhcHash::parse(&argon.hash_password(plain.as_bytes(), &salt).unwrap().to_string()).unwrap()
}
