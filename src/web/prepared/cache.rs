//! The bounded cache of prepared fragment answers ([`PreparedAnswers`]): whole answers keyed
//! by shop, model generation, path, query and (when links are built on it) the `Host`,
//! each holding its body, ETag and compressed variants ([`Prepared`]).

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};
use warp::http::header::{HeaderValue, InvalidHeaderValue};

use crate::web::encoding::Encoding;

/// The cache's default size (`[server] prepared_cache_mib = 64`): bodies, their compressed
/// variants (estimated when kept) and keys.
pub const CACHE_BYTES: u64 = 64 << 20;

/// A typical answer's weight, for the cache's first sizing only.
const TYPICAL_WEIGHT: u64 = 12 << 10;

/// Brotli quality and window: the best compression, paid once per answer.
const BROTLI_QUALITY: u32 = 11;
const BROTLI_WINDOW: u32 = 22;

/// One prepared answer: the body as the normal route would send it, its ETag, and its gzip
/// and brotli variants, each made on the first request that accepts it.
#[derive(Debug)]
pub struct Prepared {
    pub body: Bytes,
    /// The quoted ETag (`web::fragments::etag_of`), as a header value and as text.
    pub etag: HeaderValue,
    pub content_type: &'static str,
    /// `Cache-Control: private`: the request named a customer.
    pub private: bool,
    /// The links were built on the request's `Host` (`Vary: Host`).
    pub vary_host: bool,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

impl Prepared {
    /// An answer ready to send: `etag` is the body's ETag.
    pub fn new(
        body: String,
        etag: &str,
        content_type: &'static str,
        private: bool,
        vary_host: bool,
    ) -> Result<Prepared, InvalidHeaderValue> {
        Ok(Prepared {
            etag: HeaderValue::from_str(etag)?,
            body: Bytes::from(body),
            content_type,
            private,
            vary_host,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        })
    }

    /// The body in `encoding`: compressed the first time it is asked for, kept after.
    pub fn encoded(&self, encoding: Encoding) -> Bytes {
        match encoding {
            Encoding::Identity => self.body.clone(),
            Encoding::Gzip => self.gzip.get_or_init(|| gzip(&self.body)).clone(),
            Encoding::Brotli => self.brotli.get_or_init(|| brotli(&self.body)).clone(),
        }
    }

    /// What the cache counts for it: the body, and half of it again for both compressed
    /// variants (JSON and HTML compress to well under a quarter each).
    fn weight(&self) -> u64 {
        let body = self.body.len() as u64;
        body + body / 2 + 160
    }
}

fn gzip(body: &[u8]) -> Bytes {
    let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into memory: the only errors an encoder reports are its writer's.
    out.write_all(body).expect("gzip into memory");
    Bytes::from(out.finish().expect("gzip into memory"))
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
        w.write_all(body).expect("brotli into memory");
    }
    Bytes::from(out)
}

/// What an answer is a function of. The encoding is not part of it: one entry holds them
/// all. `host` is the raw `Host` header when the shop's links are built on it, else `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub generation: u64,
    pub shop: Box<str>,
    /// The slot a single-fragment path names; `None` for the batched path.
    pub slot: Option<Box<str>>,
    pub query: Box<str>,
    pub host: Option<Box<str>>,
    /// The answer is what an experiment's control arm sees (the query's `visitor=` is left
    /// out of `query`).
    pub control: bool,
}

/// A [`Key`] borrowed from the request: looked up without allocating. Hashes as the key
/// it equals (same fields, same order, `&str` hashing as `Box<str>`).
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    pub generation: u64,
    pub shop: &'a str,
    pub slot: Option<&'a str>,
    pub query: &'a str,
    pub host: Option<&'a str>,
    pub control: bool,
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.generation.hash(state);
        self.shop.hash(state);
        self.slot.hash(state);
        self.query.hash(state);
        self.host.hash(state);
        self.control.hash(state);
    }
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.generation == key.generation
            && self.shop == &*key.shop
            && self.slot == key.slot.as_deref()
            && self.query == &*key.query
            && self.host == key.host.as_deref()
            && self.control == key.control
    }
}

impl KeyRef<'_> {
    pub fn to_owned(self) -> Key {
        Key {
            generation: self.generation,
            shop: self.shop.into(),
            slot: self.slot.map(Into::into),
            query: self.query.into(),
            host: self.host.map(Into::into),
            control: self.control,
        }
    }
}

#[derive(Debug, Clone)]
struct Weight;

impl Weighter<Key, Arc<Prepared>> for Weight {
    fn weight(&self, key: &Key, value: &Arc<Prepared>) -> u64 {
        let key_len = key.shop.len()
            + key.slot.as_deref().map_or(0, str::len)
            + key.query.len()
            + key.host.as_deref().map_or(0, str::len);
        key_len as u64 + value.weight()
    }
}

/// Prepared answers, at most the bytes it was made with ([`CACHE_BYTES`] by default; the
/// service uses `[server] prepared_cache_mib`), least recently and least often used first
/// out. Lookups take a shard's read lock only, never a lock a model swap holds.
pub struct PreparedAnswers {
    cache: Cache<Key, Arc<Prepared>, Weight>,
}

impl Default for PreparedAnswers {
    fn default() -> Self {
        PreparedAnswers::with_capacity(CACHE_BYTES)
    }
}

impl PreparedAnswers {
    /// A cache of at most `bytes`.
    pub fn with_capacity(bytes: u64) -> Self {
        let items = (bytes / TYPICAL_WEIGHT).max(16) as usize;
        PreparedAnswers {
            cache: Cache::with_weighter(items, bytes, Weight),
        }
    }

    pub fn get(&self, key: &KeyRef<'_>) -> Option<Arc<Prepared>> {
        self.cache.get(key)
    }

    pub fn insert(&self, key: KeyRef<'_>, answer: Arc<Prepared>) {
        self.cache.insert(key.to_owned(), answer);
    }

    /// Answers kept, and the bytes counted for them.
    pub fn usage(&self) -> (usize, u64) {
        (self.cache.len(), self.cache.weight())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn prepared(body: &str) -> Prepared {
        Prepared::new(body.into(), "\"0\"", "application/json", false, false).unwrap()
    }

    #[test]
    fn compressed_variants_decode_to_the_body() {
        let body = "{\"fragments\":{\"similar\":\"<section>".repeat(40);
        let p = prepared(&body);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&p.encoded(Encoding::Gzip)[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let mut out = String::new();
        brotli::Decompressor::new(&p.encoded(Encoding::Brotli)[..], 4096)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        assert_eq!(p.encoded(Encoding::Identity), body.as_bytes());
    }

    #[test]
    fn a_borrowed_key_finds_the_owned_one_and_nothing_else() {
        let cache = PreparedAnswers::with_capacity(1 << 20);
        let key = KeyRef {
            generation: 3,
            shop: "lengkuas",
            slot: None,
            query: "product=SRD-100",
            host: Some("127.0.0.1:8080"),
            control: false,
        };
        cache.insert(key, Arc::new(prepared("a")));
        assert_eq!(cache.get(&key).unwrap().body, "a");
        for other in [
            KeyRef { generation: 4, ..key },
            KeyRef { host: None, ..key },
            KeyRef { control: true, ..key },
            KeyRef {
                slot: Some("similar"),
                ..key
            },
            KeyRef {
                query: "product=SRD-200",
                ..key
            },
        ] {
            assert!(cache.get(&other).is_none(), "{other:?}");
        }
    }

    #[test]
    fn the_cache_keeps_to_its_bytes() {
        let cache = PreparedAnswers::with_capacity(256 << 10);
        let body = "x".repeat(8 << 10);
        for i in 0..200 {
            let query = format!("product=P{i}");
            let key = KeyRef {
                generation: 1,
                shop: "s",
                slot: None,
                query: &query,
                host: None,
                control: false,
            };
            cache.insert(key, Arc::new(prepared(&body)));
        }
        let (items, bytes) = cache.usage();
        assert!(bytes <= 256 << 10, "{bytes} bytes in {items} answers");
        assert!(items >= 10, "it keeps what fits: {items}");
    }
}
