//! Who the client is: its address and whether it came over HTTPS, for every limit and log
//! line that needs them (admin sign-in, widget events, feedback).
//!
//! Without `server.trusted_proxies` the client is the TCP peer and `X-Forwarded-For` /
//! `X-Forwarded-Proto` are ignored: anyone can send those headers, and believing them would
//! let a guesser pick a fresh address for every try. When the peer is a trusted proxy, the
//! client is the rightmost address in `X-Forwarded-For` that is not itself a trusted proxy
//! (each proxy appends the address it was called from, so everything left of that entry was
//! written by the client and proves nothing). A malformed header counts as no header: the
//! peer is the client.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

use warp::http::HeaderMap;
use warp::Filter;

pub use crate::config::limits::TrustedProxies;
use crate::web::state::AppState;

/// The client of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub ip: IpAddr,
    /// Whether the client's own connection was HTTPS: only a trusted proxy can say so
    /// (`X-Forwarded-Proto: https`), as this service speaks plain HTTP itself.
    pub https: bool,
}

/// Stands for the peer when warp knows none (never over TCP; in some tests).
const NO_PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// The client of a request that came from `peer` with `headers`.
pub fn client_of(proxies: &TrustedProxies, peer: Option<IpAddr>, headers: &HeaderMap) -> Client {
    let peer = peer.map_or(NO_PEER, |p| p.to_canonical());
    if !proxies.contains(peer) {
        return Client {
            ip: peer,
            https: false,
        };
    }
    let ip = forwarded_for(proxies, headers).unwrap_or(peer);
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    Client { ip, https }
}

/// The rightmost address of `X-Forwarded-For` (all its header lines, in order) that is not a
/// trusted proxy; the leftmost when every one is. `None` without the header or when an
/// entry that had to be read is not an address.
fn forwarded_for(proxies: &TrustedProxies, headers: &HeaderMap) -> Option<IpAddr> {
    let mut entries = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        entries.extend(value.to_str().ok()?.split(',').map(str::trim));
    }
    let mut leftmost_proxy = None;
    for entry in entries.iter().rev() {
        let ip = parse_entry(entry)?;
        if !proxies.contains(ip) {
            return Some(ip);
        }
        leftmost_proxy = Some(ip);
    }
    leftmost_proxy
}

/// One `X-Forwarded-For` entry: an address, or an address with a port as some proxies
/// write it (`203.0.113.7:51234`, `[2001:db8::1]:443`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Logs once per process that forwarding headers arrive from a local or private peer that
/// is not trusted: most likely an unlisted reverse proxy, behind which every client shares
/// the proxy's address and its limits. (A public peer sending the header is just a client.)
fn warn_untrusted_forwarding(proxies: &TrustedProxies, peer: IpAddr, headers: &HeaderMap) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let local = match peer {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local(),
    };
    if local
        && !proxies.contains(peer)
        && headers.contains_key("x-forwarded-for")
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            %peer,
            "X-Forwarded-For arrives from {peer}, which is not in server.trusted_proxies: the header is ignored and every client behind it counts as {peer}; if it is your reverse proxy, add \"{peer}\" to server.trusted_proxies"
        );
    }
}

/// The request's [`Client`] under `server.trusted_proxies`.
pub fn client(
    state: &AppState,
) -> impl Filter<Extract = (Client,), Error = std::convert::Infallible> + Clone {
    let proxies = state.settings.server.trusted_proxies.clone();
    // The one place that asks for the TCP peer.
    crate::server::peer().and(warp::header::headers_cloned()).map(
        move |peer: Option<SocketAddr>, headers: HeaderMap| {
            let peer = peer.map(|p| p.ip().to_canonical());
            if let Some(peer) = peer {
                warn_untrusted_forwarding(&proxies, peer, &headers);
            }
            client_of(&proxies, peer, &headers)
        },
    )
}

/// The request's client address under `server.trusted_proxies`.
pub fn address(
    state: &AppState,
) -> impl Filter<Extract = (IpAddr,), Error = std::convert::Infallible> + Clone {
    client(state).map(|c: Client| c.ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                warp::http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn entries_are_addresses_or_networks_and_a_bad_one_is_named_with_the_fix() {
        let p = proxies(&["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "192.168.1.9/24"]);
        assert!(p.contains(ip("127.0.0.1")));
        assert!(!p.contains(ip("127.0.0.2")));
        assert!(p.contains(ip("10.200.3.4")));
        assert!(
            p.contains(ip("::ffff:10.1.1.1")),
            "IPv4-mapped peers count as IPv4"
        );
        assert!(p.contains(ip("fd12::7")));
        assert!(
            p.contains(ip("192.168.1.200")),
            "host bits of a network are dropped"
        );
        assert!(!p.contains(ip("192.168.2.1")));
        for bad in ["localhost", "10.0.0.0/33", "127.0.0.1:8080", "", "10.0.0.0/8,"] {
            let (value, fix) = TrustedProxies::parse(&["127.0.0.1", bad]).unwrap_err();
            assert_eq!(value, bad);
            assert!(fix.contains("CIDR") && fix.contains("10.0.0.0/8"), "{fix}");
        }
    }

    #[test]
    fn without_a_trusted_peer_the_headers_are_ignored() {
        let h = headers(&[("x-forwarded-for", "203.0.113.7"), ("x-forwarded-proto", "https")]);
        let none = TrustedProxies::default();
        assert_eq!(
            client_of(&none, Some(ip("127.0.0.1")), &h),
            Client {
                ip: ip("127.0.0.1"),
                https: false
            }
        );
        let other = proxies(&["10.0.0.1"]);
        assert_eq!(
            client_of(&other, Some(ip("198.51.100.2")), &h).ip,
            ip("198.51.100.2")
        );
        assert_eq!(client_of(&other, None, &h).ip, NO_PEER);
    }

    #[test]
    fn from_a_trusted_proxy_the_rightmost_untrusted_forwarded_address_is_the_client() {
        let p = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        let peer = Some(ip("127.0.0.1"));
        let client = |xff: &str| client_of(&p, peer, &headers(&[("x-forwarded-for", xff)])).ip;
        assert_eq!(client("203.0.113.7"), ip("203.0.113.7"));
        // The client wrote the leftmost entry itself; our proxies appended the rest.
        assert_eq!(client("1.2.3.4, 203.0.113.7, 10.0.0.5"), ip("203.0.113.7"));
        assert_eq!(client("203.0.113.7:51234"), ip("203.0.113.7"));
        assert_eq!(client("[2001:db8::1]:443, 10.1.1.1"), ip("2001:db8::1"));
        assert_eq!(client("::ffff:198.51.100.9"), ip("198.51.100.9"));
        // Only proxies: the farthest one is the client (e.g. a health check inside the network).
        assert_eq!(client("10.0.0.9, 10.0.0.5"), ip("10.0.0.9"));
        // Header lines count in order, as one list.
        let two = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "203.0.113.7"),
        ]);
        assert_eq!(client_of(&p, peer, &two).ip, ip("203.0.113.7"));
    }

    #[test]
    fn a_malformed_or_missing_forwarded_header_leaves_the_peer_as_the_client() {
        let p = proxies(&["127.0.0.1"]);
        let peer = Some(ip("127.0.0.1"));
        let client = |xff: &str| client_of(&p, peer, &headers(&[("x-forwarded-for", xff)])).ip;
        for bad in [
            "",
            "unknown",
            "203.0.113.7, garbage",
            "203.0.113.7,,",
            "300.1.1.1",
            "_hidden",
        ] {
            assert_eq!(client(bad), ip("127.0.0.1"), "{bad:?}");
        }
        // Garbage left of the client's entry is never read: the client wrote it.
        assert_eq!(client("garbage, 203.0.113.7"), ip("203.0.113.7"));
        assert_eq!(client_of(&p, peer, &HeaderMap::new()).ip, ip("127.0.0.1"));
    }

    #[test]
    fn https_is_believed_only_from_a_trusted_proxy() {
        let p = proxies(&["127.0.0.1"]);
        let h = headers(&[("x-forwarded-proto", "HTTPS")]);
        assert!(client_of(&p, Some(ip("127.0.0.1")), &h).https);
        assert!(!client_of(&p, Some(ip("127.0.0.2")), &h).https);
        let h = headers(&[("x-forwarded-proto", "http")]);
        assert!(!client_of(&p, Some(ip("127.0.0.1")), &h).https);
        assert!(!client_of(&p, Some(ip("127.0.0.1")), &HeaderMap::new()).https);
    }
}
