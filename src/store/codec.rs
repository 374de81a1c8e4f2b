//! Record encoding: one version byte, then JSON.
//!
//! JSON with serde defaults lets a later Laris add fields without migrating a store; the
//! version byte leaves room for a different encoding, and makes a store written by a newer
//! Laris fail with a clear message instead of garbage.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The encoding this Laris writes.
pub const VERSION: u8 = 1;

pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = vec![VERSION];
    serde_json::to_writer(&mut out, value).expect("records serialise to JSON");
    out
}

/// Why stored bytes are not a record.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("record encoding version {0} is not known to this laris (it writes {VERSION}); upgrade laris")]
    Version(u8),
    #[error("empty record")]
    Empty,
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        Some((&VERSION, rest)) => Ok(serde_json::from_slice(rest)?),
        Some((v, _)) => Err(CodecError::Version(*v)),
        None => Err(CodecError::Empty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize)]
    struct Old {
        a: i64,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct New {
        a: i64,
        #[serde(default)]
        b: Option<String>,
    }

    #[test]
    fn a_record_written_before_a_field_was_added_still_decodes() {
        let bytes = encode(&Old { a: 7 });
        assert_eq!(decode::<New>(&bytes).unwrap(), New { a: 7, b: None });
    }

    #[test]
    fn an_unknown_version_is_refused_with_advice() {
        let mut bytes = encode(&Old { a: 7 });
        bytes[0] = 9;
        let err = decode::<New>(&bytes).unwrap_err().to_string();
        assert!(err.contains("version 9") && err.contains("upgrade"), "{err}");
    }
}
