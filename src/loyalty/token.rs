//! Customer tokens: how a shop's site tells the widget who is looking, without a login.
//!
//! Exactly `v1.{b64}.{exp}.{sig}`: `b64` is the customer id in base64url without padding,
//! `exp` the expiry in Unix seconds, `sig` the lowercase hex HMAC-SHA256 with the shop's
//! `customer_secret` over `v1.{b64}.{exp}`. Verification compares the signature in
//! constant time; any failure means "anonymous", never someone else's data.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::domain::CustomerId;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    #[error("malformed customer token: expected v1.{{b64}}.{{exp}}.{{sig}}")]
    Malformed,
    #[error("customer token signature does not match")]
    BadSignature,
    #[error("customer token expired")]
    Expired,
}

fn signature(payload: &str, secret: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(payload.as_bytes());
    mac
}

/// Makes a token for `customer` that expires at `exp` (Unix seconds).
pub fn make(customer: &str, secret: &[u8], exp: i64) -> String {
    let payload = format!("v1.{}.{exp}", URL_SAFE_NO_PAD.encode(customer.as_bytes()));
    let sig = hex::encode(signature(&payload, secret).finalize().into_bytes());
    format!("{payload}.{sig}")
}

/// The customer a token names, when it is well-formed, signed with `secret` and not expired.
pub fn verify(token: &str, secret: &[u8], now: i64) -> Result<CustomerId, TokenError> {
    if token.len() > 1024 || secret.is_empty() {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some("v1"), Some(b64), Some(exp), Some(sig), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Malformed);
    };
    if sig.len() != 64 || !sig.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(TokenError::Malformed);
    }
    let exp_secs: i64 = exp.parse().map_err(|_| TokenError::Malformed)?;
    let sig_bytes = hex::decode(sig).map_err(|_| TokenError::Malformed)?;
    signature(&format!("v1.{b64}.{exp}"), secret)
        .verify_slice(&sig_bytes)
        .map_err(|_| TokenError::BadSignature)?;
    if exp_secs <= now {
        return Err(TokenError::Expired);
    }
    let id = URL_SAFE_NO_PAD.decode(b64).map_err(|_| TokenError::Malformed)?;
    let id = String::from_utf8(id).map_err(|_| TokenError::Malformed)?;
    if id.is_empty() {
        return Err(TokenError::Malformed);
    }
    Ok(CustomerId(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"shop-secret-for-tests";

    #[test]
    fn a_token_made_with_the_secret_names_its_customer() {
        let t = make("777001", SECRET, 2_000_000_000);
        assert!(t.starts_with("v1.Nzc3MDAx.2000000000."));
        assert_eq!(verify(&t, SECRET, 1_900_000_000), Ok(CustomerId("777001".into())));
    }

    #[test]
    fn the_signature_matches_an_independent_hmac_computation() {
        // python3 -c "import hmac,hashlib; print(hmac.new(b'k', b'v1.YQ.10', hashlib.sha256).hexdigest())"
        assert_eq!(
            make("a", b"k", 10),
            "v1.YQ.10.418dd71930655c82a1b8da579f622e1608c76b8b998a0649519d4b1b0310ec9c"
        );
    }

    #[test]
    fn forged_expired_and_malformed_tokens_are_refused() {
        let t = make("777001", SECRET, 2_000_000_000);
        // Someone else's id with the original signature.
        let forged = t.replacen("Nzc3MDAx", &URL_SAFE_NO_PAD.encode("777002"), 1);
        assert_eq!(verify(&forged, SECRET, 0), Err(TokenError::BadSignature));
        assert_eq!(verify(&t, b"other-secret", 0), Err(TokenError::BadSignature));
        assert_eq!(verify(&t, SECRET, 2_000_000_000), Err(TokenError::Expired));
        let later = t.replacen("2000000000", "2100000000", 1);
        assert_eq!(
            verify(&later, SECRET, 0),
            Err(TokenError::BadSignature),
            "expiry is signed"
        );
        for bad in [
            "",
            "v1",
            "v2.Nzc3MDAx.1.00",
            "v1.Nzc3MDAx.x.00",
            "v1.a.b.c.d",
            "v1.Nzc3MDAx.1.ZZ",
        ] {
            assert_eq!(verify(bad, SECRET, 0), Err(TokenError::Malformed), "{bad:?}");
        }
        let upper = format!("{}{}", &t[..t.len() - 64], t[t.len() - 64..].to_uppercase());
        assert_eq!(
            verify(&upper, SECRET, 0),
            Err(TokenError::Malformed),
            "signature is lowercase hex"
        );
    }
}
