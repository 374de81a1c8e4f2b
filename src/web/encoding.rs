//! Which content encoding an answer goes out in: brotli when the client accepts it, else
//! gzip, else none — the one rule the route table (`web::routes`) and the prepared answers
//! (`web::prepared`) both follow.

/// A content encoding of an answer's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The encoding for a request's `Accept-Encoding` header: `br`, else `gzip`, else none.
    pub fn chosen(accept_encoding: Option<&str>) -> Encoding {
        if accepts(accept_encoding, "br") {
            Encoding::Brotli
        } else if accepts(accept_encoding, "gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    /// The `Content-Encoding` value; `None` for identity.
    pub fn header_value(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }
}

/// Whether an `Accept-Encoding` header accepts `encoding` (named exactly, not `q=0`).
pub fn accepts(accept_encoding: Option<&str>, encoding: &str) -> bool {
    accept_encoding.is_some_and(|h| {
        h.split(',').any(|part| {
            let mut it = part.trim().split(';');
            it.next() == Some(encoding) && it.all(|q| q.trim() != "q=0")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_wins_over_gzip_and_q_zero_refuses() {
        assert_eq!(Encoding::chosen(Some("gzip, deflate, br")), Encoding::Brotli);
        assert_eq!(Encoding::chosen(Some("gzip;q=1.0, br;q=0")), Encoding::Gzip);
        assert_eq!(Encoding::chosen(Some("deflate")), Encoding::Identity);
        assert_eq!(Encoding::chosen(None), Encoding::Identity);
        assert_eq!(Encoding::chosen(Some("brotli")), Encoding::Identity);
    }
}
